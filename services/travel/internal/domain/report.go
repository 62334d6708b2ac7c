package domain

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Flags on claims worth a second look (used as intended).
const (
	FlagAfterDropOut = "AFTER_DROP_OUT"
	FlagFrequent     = "FREQUENT"
	FlagCostOutlier  = "COST_OUTLIER"
)

// ReportRules configure the reports.
type ReportRules struct {
	// TargetDays is the service-level target from submission to payment.
	TargetDays int
	// WarnDays: unpaid claims due within this many days are at risk.
	WarnDays int
	// FrequentPerWeek: more trips than this by one person in one ISO week
	// is unusual.
	FrequentPerWeek int
	// OutlierFactor: a cost above this many times the median of the same
	// route (with at least OutlierMinClaims claims) is far above it.
	OutlierFactor    float64
	OutlierMinClaims int
}

// DefaultReportRules: 14 days, warn 3 days ahead, 10 trips a week (a return
// trip every working day), 3 × the median over at least 5 claims.
var DefaultReportRules = ReportRules{TargetDays: 14, WarnDays: 3, FrequentPerWeek: 10, OutlierFactor: 3, OutlierMinClaims: 5}

// Percentile returns the p-th percentile (0..100) of sorted values by
// linear interpolation between closest ranks.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(rank-float64(lo))
}

// LeadTime is one row of the lead-time report.
type LeadTime struct {
	LanCode      string
	Month        string
	Paid         int64
	P50, P90     float64
	WithinTarget int64
}

// AtRisk is an unpaid claim close to its target.
type AtRisk struct {
	Claim    Claim
	DueDate  string
	DaysLeft int
}

// LeadTimes groups paid claims by län and month paid and lists the unpaid,
// undecided-or-approved claims due within the warning window of now.
func LeadTimes(claims []Claim, r ReportRules, now time.Time) ([]LeadTime, []AtRisk) {
	type key struct{ lan, month string }
	days := map[key][]float64{}
	var risk []AtRisk
	for _, c := range claims {
		switch c.State {
		case StatePaid:
			k := key{c.LanCode, c.PayTime.UTC().Format("2006-01")}
			days[k] = append(days[k], c.PayTime.Sub(c.SubmitTime).Hours()/24)
		case StatePending, StateInReview, StateApproved:
			due := c.SubmitTime.UTC().AddDate(0, 0, r.TargetDays)
			left := int(math.Floor(due.Sub(now).Hours() / 24))
			if left <= r.WarnDays {
				risk = append(risk, AtRisk{Claim: c, DueDate: due.Format(DateLayout), DaysLeft: left})
			}
		}
	}
	rows := make([]LeadTime, 0, len(days))
	for k, d := range days {
		slices.Sort(d)
		row := LeadTime{LanCode: k.lan, Month: k.month, Paid: int64(len(d)), P50: Percentile(d, 50), P90: Percentile(d, 90)}
		for _, x := range d {
			if x <= float64(r.TargetDays) {
				row.WithinTarget++
			}
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].LanCode != rows[j].LanCode {
			return rows[i].LanCode < rows[j].LanCode
		}
		return rows[i].Month < rows[j].Month
	})
	sort.SliceStable(risk, func(i, j int) bool { return risk[i].DaysLeft < risk[j].DaysLeft })
	return rows, risk
}

// Usage is one län's row of the usage report.
type Usage struct {
	LanCode                              string
	Claims, Approved, ApprovedOre        int64
	Flagged, AfterDropOut, Frequent, Out int64
}

// Flagged is a claim with its flags.
type Flagged struct {
	Claim Claim
	Flags []string
}

// UsageReport flags claims: trips after a reported end of participation
// (ends maps certificate to end date), people travelling unusually often,
// and costs far above the median of the same route (either direction).
func UsageReport(claims []Claim, ends map[string]string, r ReportRules) ([]Usage, []Flagged) {
	type week struct {
		dossier string
		y, w    int
	}
	perWeek := map[week]int{}
	costs := map[[2]string][]float64{}
	routeOf := func(c Claim) [2]string {
		a, b := c.FromKommunCode, c.ToKommunCode
		if b < a {
			a, b = b, a
		}
		return [2]string{a, b}
	}
	weekOf := func(c Claim) week {
		t, _ := time.Parse(DateLayout, c.TripDate)
		y, w := t.ISOWeek()
		return week{c.Dossier, y, w}
	}
	for _, c := range claims {
		if c.State == StateRejected {
			continue
		}
		perWeek[weekOf(c)]++
		costs[routeOf(c)] = append(costs[routeOf(c)], float64(c.CostOre))
	}
	medians := map[[2]string]float64{}
	for k, v := range costs {
		if len(v) >= r.OutlierMinClaims {
			slices.Sort(v)
			medians[k] = Percentile(v, 50)
		}
	}
	rows := map[string]*Usage{}
	var flagged []Flagged
	for _, c := range claims {
		u := rows[c.LanCode]
		if u == nil {
			u = &Usage{LanCode: c.LanCode}
			rows[c.LanCode] = u
		}
		u.Claims++
		if c.State == StateApproved || c.State == StatePaid {
			u.Approved++
			u.ApprovedOre += c.CostOre
		}
		if c.State == StateRejected {
			continue
		}
		var flags []string
		if end, ok := ends[c.Certificate]; ok && end < c.TripDate {
			flags = append(flags, FlagAfterDropOut)
			u.AfterDropOut++
		}
		if perWeek[weekOf(c)] > r.FrequentPerWeek {
			flags = append(flags, FlagFrequent)
			u.Frequent++
		}
		if m, ok := medians[routeOf(c)]; ok && m > 0 && float64(c.CostOre) > r.OutlierFactor*m {
			flags = append(flags, FlagCostOutlier)
			u.Out++
		}
		if len(flags) > 0 {
			u.Flagged++
			flagged = append(flagged, Flagged{Claim: c, Flags: flags})
		}
	}
	out := make([]Usage, 0, len(rows))
	for _, u := range rows {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LanCode < out[j].LanCode })
	return out, flagged
}
