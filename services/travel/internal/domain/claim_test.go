package domain

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/badrequest/badrequesttest"
)

func validClaim() Claim {
	return Claim{Dossier: "12-345678/1", TripDate: "2026-03-10", FromKommunCode: "0180", ToKommunCode: "0186",
		Activity: "a", Certificate: "c", DistanceKm: 10, CostOre: 100, TicketType: 1}
}

func TestClaimNormalize(t *testing.T) {
	badrequesttest.Run(t, validClaim, func(c *Claim) error { return c.Normalize("2026-03-16") }, []badrequesttest.Case[Claim]{
		{Name: "valid", Change: func(*Claim) {}},
		{Name: "bad dossier", Change: func(c *Claim) { c.Dossier = "1-1" }, Fields: []string{"dossier_number"}},
		{Name: "future", Change: func(c *Claim) { c.TripDate = "2026-03-17" }, Fields: []string{"trip_date"}},
		{Name: "not a date", Change: func(c *Claim) { c.TripDate = "2026-02-30" }, Fields: []string{"trip_date"}},
		{Name: "unknown kommuner", Change: func(c *Claim) { c.FromKommunCode, c.ToKommunCode = "0000", "x" }, Fields: []string{"from_kommun_code", "to_kommun_code"}},
		{Name: "negative cost", Change: func(c *Claim) { c.CostOre = -1 }, Fields: []string{"cost_ore"}},
		{Name: "negative distance", Change: func(c *Claim) { c.DistanceKm = -1 }, Fields: []string{"distance_km"}},
		{Name: "no ticket type", Change: func(c *Claim) { c.TicketType = 0 }, Fields: []string{"ticket_type"}},
		{Name: "no certificate", Change: func(c *Claim) { c.Certificate, c.Activity = "", "" }, Fields: []string{"activity", "certificate"}},
	}, func(t *testing.T, c Claim, err error) {
		if err == nil && (c.Dossier != "12-345678" || c.LanCode != "01") {
			t.Errorf("normalized to %+v", c)
		}
		if err != nil && strings.Contains(err.Error(), "345678") {
			t.Error("the error quotes the dossier number")
		}
	})
}

func TestCheck(t *testing.T) {
	ok := &RegistryAnswer{Valid: true}
	base := Facts{Submitted: "2026-03-16", RouteApproved: true, Registry: ok}
	tests := []struct {
		name    string
		change  func(*Claim, *Facts)
		state   string
		reasons []string
	}{
		{"all pass", func(*Claim, *Facts) {}, StateApproved, nil},
		{"registry unreachable", func(_ *Claim, f *Facts) { f.Registry = nil }, StatePending, []string{ReasonRegistryUnreachable}},
		{"unreachable and too short", func(c *Claim, f *Facts) { f.Registry = nil; c.DistanceKm = 1 }, StatePending,
			[]string{ReasonRegistryUnreachable, ReasonTooShort}},
		{"registry reasons", func(_ *Claim, f *Facts) {
			f.Registry = &RegistryAnswer{Reasons: []string{"WRONG_ACTIVITY", "NOT_VALID_ON_DATE"}}
		}, StateInReview, []string{"WRONG_ACTIVITY", "NOT_VALID_ON_DATE"}},
		{"invalid without reason", func(_ *Claim, f *Facts) { f.Registry = &RegistryAnswer{} }, StateInReview, []string{ReasonCertificateNotFound}},
		{"ended before", func(_ *Claim, f *Facts) { f.ParticipationEnd = "2026-03-09" }, StateInReview, []string{ReasonParticipationEnded}},
		{"ended that day", func(_ *Claim, f *Facts) { f.ParticipationEnd = "2026-03-10" }, StateApproved, nil},
		{"ended twice over", func(_ *Claim, f *Facts) {
			f.ParticipationEnd = "2026-03-01"
			f.Registry = &RegistryAnswer{Reasons: []string{ReasonParticipationEnded}}
		}, StateInReview, []string{ReasonParticipationEnded}},
		{"exactly 2 km", func(c *Claim, _ *Facts) { c.DistanceKm = 2 }, StateApproved, nil},
		{"no route", func(_ *Claim, f *Facts) { f.RouteApproved = false }, StateInReview, []string{ReasonNoRoute}},
		{"same kommun needs no route", func(c *Claim, f *Facts) { f.RouteApproved = false; c.ToKommunCode = c.FromKommunCode }, StateApproved, nil},
		{"duplicate", func(_ *Claim, f *Facts) { f.Duplicate = true }, StateInReview, []string{ReasonDuplicateTrip}},
		{"at the maximum", func(c *Claim, _ *Facts) { c.CostOre = 50000 }, StateApproved, nil},
		{"above the maximum", func(c *Claim, _ *Facts) { c.CostOre = 50001 }, StateInReview, []string{ReasonCostAboveMaximum}},
		{"on the last day", func(_ *Claim, f *Facts) { f.Submitted = "2026-06-08" }, StateApproved, nil},
		{"a day late", func(_ *Claim, f *Facts) { f.Submitted = "2026-06-09" }, StateInReview, []string{ReasonSubmittedLate}},
	}
	for _, tt := range tests {
		c, f := validClaim(), base
		tt.change(&c, &f)
		state, reasons := Check(c, f, DefaultRules)
		if state != tt.state || !slices.Equal(reasons, tt.reasons) {
			t.Errorf("%s: %s %v, want %s %v", tt.name, state, reasons, tt.state, tt.reasons)
		}
	}
}

func TestRevoke(t *testing.T) {
	tests := []struct {
		from   string
		fields []string
		to     string
	}{
		{"2026-06-01", nil, "2026-05-31"},
		{"2026-12-31", nil, "2026-12-30"},
		{"2026-01-01", []string{"revoked_from"}, ""},
		{"2027-01-01", []string{"revoked_from"}, ""},
		{"2026-13-01", []string{"revoked_from"}, ""},
	}
	for _, tt := range tests {
		r := Route{ValidFrom: "2026-01-01", ValidTo: "2026-12-31"}
		err := r.Revoke(tt.from)
		if got := badrequest.Fields(err); !slices.Equal(got, tt.fields) {
			t.Errorf("Revoke(%s): fields %v, want %v", tt.from, got, tt.fields)
		}
		if err == nil && (r.ValidTo != tt.to || r.RevokedFrom != tt.from) {
			t.Errorf("Revoke(%s) = %+v", tt.from, r)
		}
		if err == nil {
			if got := badrequest.Fields(r.Revoke("2026-03-01")); !slices.Equal(got, []string{"name"}) {
				t.Errorf("revoked twice: %v", got)
			}
		}
	}
}

func TestCheckDecision(t *testing.T) {
	c := Consultation{ID: "c1", State: ConsultationOpen, Proposals: make([]Route, 2),
		Responses: []Response{{ID: "r1", ConsultationID: "c1"}, {ID: "r2", ConsultationID: "c1"}}}
	all := []Feedback{{"consultations/c1/responses/r1", "a"}, {"consultations/c1/responses/r2", "b"}}
	tests := []struct {
		name     string
		c        Consultation
		approved []int32
		feedback []Feedback
		fields   []string
	}{
		{"ok", c, []int32{1}, all, nil},
		{"none approved", c, nil, all, nil},
		{"missing feedback", c, nil, all[:1], []string{"feedback"}},
		{"empty feedback", c, nil, []Feedback{all[0], {all[1].Response, " "}}, []string{"feedback[1].text"}},
		{"foreign response", c, nil, append(all, Feedback{"consultations/c2/responses/r1", "x"}), []string{"feedback[2].response"}},
		{"bad index", c, []int32{2, 0, 0}, all, []string{"approved[0]", "approved[2]"}},
		{"decided", Consultation{State: ConsultationDecided}, nil, nil, []string{"name"}},
	}
	for _, tt := range tests {
		if got := badrequest.Fields(tt.c.CheckDecision(tt.approved, tt.feedback)); !slices.Equal(got, tt.fields) {
			t.Errorf("%s: fields %v, want %v", tt.name, got, tt.fields)
		}
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 10}
	for p, want := range map[float64]float64{0: 1, 50: 3, 90: 7.6, 100: 10} {
		if got := Percentile(v, p); got < want-1e-9 || got > want+1e-9 {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}

func TestWritePain001(t *testing.T) {
	run := PaymentRun{ID: "01a2-run", CompleteTime: time.Date(2026, 3, 20, 8, 0, 0, 0, time.UTC)}
	payments := []Payment{{ClaimID: "c-1", AmountOre: 1250, Dossier: "12-345678", TripDate: "2026-03-10"},
		{ClaimID: "c-2", AmountOre: 5, Dossier: "98-765432", TripDate: "2026-03-11"}}
	write := func() string {
		var buf bytes.Buffer
		i := 0
		err := WritePain001(&buf, run, DefaultDebtor, 2, 1255, func() (Payment, bool, error) {
			if i == len(payments) {
				return Payment{}, false, nil
			}
			i++
			return payments[i-1], true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	doc := write()
	if doc != write() {
		t.Fatal("the file is not reproducible")
	}
	for _, want := range []string{`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10">`, "<MsgId>01a2run</MsgId>",
		"<CtrlSum>12.55</CtrlSum>", `<InstdAmt Ccy="SEK">12.50</InstdAmt>`, `<InstdAmt Ccy="SEK">0.05</InstdAmt>`,
		"<EndToEndId>c1</EndToEndId>", "<Id>98-765432</Id>", "<ReqdExctnDt><Dt>2026-03-20</Dt></ReqdExctnDt>"} {
		if !strings.Contains(doc, want) {
			t.Errorf("missing %s in\n%s", want, doc)
		}
	}
	if err := xml.Unmarshal([]byte(doc), new(struct{})); err != nil {
		t.Fatal(err)
	}
}
