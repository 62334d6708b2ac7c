package embedded

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/auth"
)

// registerOrganiser registers pr's organisation as a study association
// through the REST edge, as activities need a registered organiser.
func registerOrganiser(t *testing.T, p *Platform, pr auth.Principal) {
	t.Helper()
	code, body := p.as(t, &pr).Do("POST", "/v1/organisers", map[string]any{
		"orgNumber": pr.Org, "displayName": "Organiser " + pr.Org, "kind": "ORGANISER_KIND_STUDY_ASSOCIATION",
		"contacts": []map[string]any{
			{"role": "CONTACT_ROLE_REGIONAL", "displayName": "Regional kontakt", "email": "tia@example.se", "lanCodes": []string{"01", "03"}},
			{"role": "CONTACT_ROLE_PARTICIPANTS", "displayName": "Deltagarkontakt", "phone": "010-123 45 67"},
		},
	})
	if code != http.StatusOK {
		t.Fatalf("register organiser: HTTP %d %v", code, body)
	}
}

func day(days int) string { return time.Now().AddDate(0, 0, days).Format("2006-01-02") }

// raw fetches path as c and returns the status, content type and body.
func (c client) raw(path, accept string) (int, string, string) {
	c.T.Helper()
	code, contentType, b := c.Read("GET", path, nil, "Accept", accept)
	return code, contentType, string(b)
}

// TestActivityRegistry follows the registry's main flows through the REST
// edge: organiser, agreement, activity, certificate, drop-out, the coverage
// picture (with the target group and routes learnt from events), the public
// catalogue and Folkbildningsrådet's report.
func TestActivityRegistry(t *testing.T) {
	p := start(t)
	org := DemoStudyAssociation
	organiser := p.as(t, &org)
	board := p.as(t, &DemoCountyBoard)
	otherBoard := p.as(t, &DemoOtherCountyBoard)
	mv := p.as(t, &DemoMigrationsverket)
	fbr := p.as(t, &DemoFolkbildning)
	anyone := p.as(t, nil)

	// Bad organisation number: 400 naming the field, nothing stored.
	code, body := fbr.Do("POST", "/v1/organisers", map[string]any{"orgNumber": "8020038885", "displayName": "X", "kind": "ORGANISER_KIND_NON_PROFIT"})
	if code != http.StatusBadRequest || !contains(violatedFields(body), "organiser.orgNumber") {
		t.Fatalf("bad org number: HTTP %d %v", code, body)
	}
	registerOrganiser(t, p, org)
	code, contacts := board.Do("GET", "/v1/lan/01/organiserContacts", nil)
	if cs, _ := contacts["contacts"].([]any); code != http.StatusOK || len(cs) != 2 {
		t.Fatalf("contacts: HTTP %d %v", code, contacts)
	}

	// Agreement: back-dated and over-long ones are refused by field.
	agreementPath := "/v1/lan/01/agreements"
	for _, tt := range []struct{ start, end, field string }{
		{day(-1), day(100), "agreement.startDate"},
		{day(0), day(400), "agreement.endDate"},
	} {
		code, body := board.Do("POST", agreementPath, map[string]any{"organiser": "organisers/" + org.Org, "startDate": tt.start, "endDate": tt.end})
		if code != http.StatusBadRequest || !contains(violatedFields(body), tt.field) {
			t.Fatalf("agreement %s..%s: HTTP %d %v", tt.start, tt.end, code, body)
		}
	}
	if code, _ := otherBoard.Do("POST", agreementPath, map[string]any{"organiser": "organisers/" + org.Org, "startDate": day(0), "endDate": day(100)}); code != http.StatusForbidden {
		t.Fatalf("other county board signs: HTTP %d", code)
	}
	code, agreement := board.Do("POST", agreementPath, map[string]any{"organiser": "organisers/" + org.Org, "startDate": day(0), "endDate": day(300)})
	if code != http.StatusOK {
		t.Fatalf("agreement: HTTP %d %v", code, agreement)
	}
	if code, list := board.Do("GET", agreementPath, nil); code != http.StatusOK || len(list["agreements"].([]any)) != 1 {
		t.Fatalf("agreements: HTTP %d %v", code, list)
	}

	// Activities: one under the agreement in Stockholm, one ongoing in Uppsala.
	body0 := activityBody("0180")
	body0["startDate"], body0["endDate"] = day(0), day(200)
	body0["fundingBasis"], body0["agreement"], body0["languages"] = "FUNDING_BASIS_AGREEMENT", agreement["name"], []string{"sv", "ar"}
	code, a1 := organiser.Do("POST", "/v1/organisers/"+org.Org+"/activities", body0)
	if code != http.StatusOK || a1["status"] != "ACTIVITY_STATUS_ONGOING" {
		t.Fatalf("activity: HTTP %d %v", code, a1)
	}
	body1 := activityBody("0380")
	body1["startDate"], body1["endDate"] = day(-10), day(100)
	body1["fundingBasis"], body1["programme"], body1["capacity"] = "FUNDING_BASIS_ORDINANCE_2015_521", "PROGRAMME_VARDAGSSVENSKA", 30
	code, a2 := fbr.Do("POST", "/v1/organisers/"+org.Org+"/activities", body1)
	if code != http.StatusOK {
		t.Fatalf("activity by Folkbildningsrådet: HTTP %d %v", code, a2)
	}
	code, patched := organiser.Do("PATCH", "/v1/"+a2["name"].(string)+"?updateMask=capacity,schedule", map[string]any{"capacity": 25, "schedule": "tis 9-12", "title": "ignored"})
	if code != http.StatusOK || patched["capacity"] != float64(25) || patched["schedule"] != "tis 9-12" || patched["title"] != a2["title"] {
		t.Fatalf("patch: HTTP %d %v", code, patched)
	}

	// Certificates.
	certs := "/v1/" + a1["name"].(string) + "/certificates"
	code, cert := organiser.Do("POST", certs, map[string]any{"dossierNumber": "12-345678"})
	if code != http.StatusOK || cert["validFrom"] != day(0) {
		t.Fatalf("certificate: HTTP %d %v", code, cert)
	}
	code, cert2 := organiser.Do("POST", "/v1/"+a2["name"].(string)+"/certificates", map[string]any{"dossierNumber": "12-000002"})
	if code != http.StatusOK {
		t.Fatalf("certificate 2: HTTP %d %v", code, cert2)
	}
	if code, _ := p.as(t, &DemoFolkHighSchool).Do("POST", certs, map[string]any{"dossierNumber": "12-345678"}); code != http.StatusForbidden {
		t.Fatalf("another organiser's activity: HTTP %d", code)
	}
	if code, _ := board.Do("GET", "/v1/organisers/-/activities/-/certificates", nil); code != http.StatusForbidden {
		t.Fatalf("county board lists certificates: HTTP %d", code)
	}
	if list := p.as(t, &DemoAsylumSeeker).ownCertificates(); len(list) != 1 {
		t.Fatalf("asylum seeker's own certificates: %v", list)
	}
	code, body = organiser.Do("POST", "/v1/"+cert2["name"].(string)+":end", map[string]any{"outcome": "PARTICIPATION_DROPPED_OUT", "endDate": day(-1)})
	if code != http.StatusBadRequest || !contains(violatedFields(body), "endDate") {
		t.Fatalf("drop-out before the start: HTTP %d %v", code, body)
	}
	code, ended := organiser.Do("POST", "/v1/"+cert2["name"].(string)+":end", map[string]any{"outcome": "PARTICIPATION_DROPPED_OUT", "endDate": day(0)})
	if code != http.StatusOK || ended["participation"] != "PARTICIPATION_DROPPED_OUT" {
		t.Fatalf("drop-out: HTTP %d %v", code, ended)
	}
	// The drop-out reaches Migrationsverket (through the notification
	// service), without the dossier number.
	deadline := time.Now().Add(15 * time.Second)
	for found := false; !found; {
		_, inbox := mv.Do("GET", "/v1/recipients/migrationsverket-03/messages", nil)
		msgs, _ := inbox["messages"].([]any)
		for _, m := range msgs {
			if mm := m.(map[string]any); mm["topic"] == "participation.ended" && mm["subjectResource"] == cert2["name"] {
				if strings.Contains(toJSON(mm), "12-000002") {
					t.Fatalf("message shows the dossier number: %v", mm)
				}
				found = true
			}
		}
		if !found && time.Now().After(deadline) {
			t.Fatalf("Migrationsverket never learnt of the drop-out: %v", msgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	check := map[string]any{"dossierNumber": "12-000002", "activity": a2["name"], "date": day(1)}
	if code, r := mv.Do("POST", "/v1/"+cert2["name"].(string)+":check", check); code != http.StatusOK || r["valid"] != false ||
		!strings.Contains(toJSON(r["reasons"]), "PARTICIPATION_ENDED") {
		t.Fatalf("check: HTTP %d %v", code, r)
	}

	// Need (from statistics' SnapshotPublished) and a route (from travel's RouteDecided).
	cells := []map[string]any{
		{"kommunCode": "0381", "housingType": "HOUSING_TYPE_EBO", "sex": "SEX_MAN", "ageBand": "AGE_BAND_25_34", "count": 70},
		{"kommunCode": "0380", "housingType": "HOUSING_TYPE_ABE", "sex": "SEX_KVINNA", "ageBand": "AGE_BAND_25_34", "count": 40},
	}
	if code, body := mv.Do("POST", "/v1/snapshots/"+day(-1)+":import", map[string]any{"cells": cells}); code != http.StatusOK {
		t.Fatalf("import: HTTP %d %v", code, body)
	}
	if code, body := mv.Do("POST", "/v1/routes", map[string]any{"fromKommunCode": "0381", "toKommunCode": "0380",
		"validFrom": day(-5), "validTo": day(200), "reason": "samråd"}); code != http.StatusOK {
		t.Fatalf("route: HTTP %d %v", code, body)
	}
	uppsala := p.as(t, &auth.Principal{Subject: "lst-03", Role: auth.RoleCountyBoard, Lan: "03"})
	// The coverage picture shows the published (perturbed) figure, the same
	// as the statistics service gives the county board, never the raw 70.
	_, published := uppsala.Do("GET", "/v1/snapshots/"+day(-1)+":query?kommunCodes=0381", nil)
	var coverage map[string]any
	deadline = time.Now().Add(15 * time.Second)
	for {
		code, coverage = uppsala.Do("GET", "/v1/lan/03/coverage", nil)
		if code != http.StatusOK {
			t.Fatalf("coverage: HTTP %d %v", code, coverage)
		}
		en := kommunIn(coverage, "0381")
		if en["targetGroup"] == published["total"] && en["routeActivities"] == float64(1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("coverage never showed the snapshot and the route: %v", en)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The participant who dropped out today still counts today.
	// Unmet need is the published (perturbed) target group less the capacity.
	if u := kommunIn(coverage, "0380"); u["capacity"] != "25" || u["activeParticipants"] != "1" ||
		u["unmetNeed"] != strconv.Itoa(max(0, atoi(t, u["targetGroup"])-25)) {
		t.Fatalf("Uppsala = %v", u)
	}
	code, c01 := board.Do("GET", "/v1/lan/01/coverage", nil)
	if code != http.StatusOK || kommunIn(c01, "0180")["activeParticipants"] != "1" {
		t.Fatalf("coverage 01: HTTP %d %v", code, kommunIn(c01, "0180"))
	}
	// County boards see counts, never dossier numbers.
	if s := toJSON(c01); strings.Contains(s, "12-345678") || strings.Contains(s, "dossier") {
		t.Fatalf("coverage shows personal data: %s", s)
	}
	if code, _ := otherBoard.Do("GET", "/v1/lan/01/coverage", nil); code != http.StatusForbidden {
		t.Fatalf("other county board's coverage: HTTP %d", code)
	}
	code, ctype, csv := uppsala.raw("/v1/lan/03/coverage:export", "")
	if code != http.StatusOK || !strings.Contains(ctype, "json") || !strings.Contains(csv, "kommun_code,kommun_name") {
		t.Fatalf("export: HTTP %d %s %s", code, ctype, csv)
	}
	// The gateway's text/csv marshaler serves the picture as a spreadsheet.
	code, ctype, csv = uppsala.raw("/v1/lan/03/coverage", "text/csv")
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/csv") || !strings.Contains(csv, "0381,Enköping") || strings.Contains(csv, "12-345678") {
		t.Fatalf("coverage as CSV: HTTP %d %s %s", code, ctype, csv)
	}

	// The public catalogue: no token, no personal data.
	q := url.Values{"kommunCode": {"0381"}, "includeRoutes": {"true"}}
	code, found := anyone.Do("GET", "/v1/catalogue:search?"+q.Encode(), nil)
	entries, _ := found["entries"].([]any)
	if code != http.StatusOK || len(entries) != 1 || entries[0].(map[string]any)["viaRoute"] != true {
		t.Fatalf("catalogue: HTTP %d %v", code, found)
	}
	q = url.Values{"kommunCode": {"0180"}, "language": {"ar"}, "focus": {"FOCUS_SWEDISH"}}
	code, found = anyone.Do("GET", "/v1/catalogue:search?"+q.Encode(), nil)
	if entries, _ := found["entries"].([]any); code != http.StatusOK || len(entries) != 1 || strings.Contains(toJSON(found), "12-345678") {
		t.Fatalf("catalogue by language: HTTP %d %v", code, found)
	}
	code, body = anyone.Do("GET", "/v1/catalogue:search?kommunCode=9999", nil)
	if code != http.StatusBadRequest || !contains(violatedFields(body), "kommunCode") {
		t.Fatalf("catalogue unknown kommun: HTTP %d %v", code, body)
	}

	// Folkbildningsrådet's report for Uppsala län.
	code, report := fbr.Do("GET", "/v1/lan/03/folkbildningReport?startDate="+day(-30)+"&endDate="+day(0), nil)
	if acts, _ := report["activities"].([]any); code != http.StatusOK || len(acts) != 1 || report["totalCapacity"] != "25" {
		t.Fatalf("report: HTTP %d %v", code, report)
	}
}

func kommunIn(coverage map[string]any, code string) map[string]any {
	ks, _ := coverage["kommuner"].([]any)
	for _, k := range ks {
		if m := k.(map[string]any); m["kommunCode"] == code {
			return m
		}
	}
	return nil
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSeedActivity loads the registry's demo data through the API: the
// organisers, the agreement, activities under every funding basis and a
// certificate all pass the rules.
func TestSeedActivity(t *testing.T) {
	p := start(t)
	d, err := newDemo(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := seedActivity(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	code, list := p.as(t, nil).Do("GET", "/v1/organisers/-/activities", nil)
	if acts, _ := list["activities"].([]any); code != http.StatusOK || len(acts) != 6 {
		t.Fatalf("demo activities: HTTP %d %v", code, list)
	}
	if certs := p.as(t, &DemoAsylumSeeker).ownCertificates(); len(certs) != 1 {
		t.Fatalf("demo certificate: %v", certs)
	}
}

// atoi reads an int64 the REST edge wrote as a JSON string.
func atoi(t *testing.T, v any) int {
	t.Helper()
	s, _ := v.(string)
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %v", v)
	}
	return n
}

// TestActivityRegistryREST covers the registry's issue fixes through the
// REST edge: a county board of another län is refused before its request is
// looked at, update masks of "*", orderBy, the agreement filter by
// organiser, request ids, and the audit trail routes.
func TestActivityRegistryREST(t *testing.T) {
	p := start(t)
	org := DemoStudyAssociation
	registerOrganiser(t, p, org) // its contacts name län 01 and 03
	organiser := p.as(t, &org)
	otherBoard := p.as(t, &DemoOtherCountyBoard)
	board := p.as(t, &DemoCountyBoard)
	mv := p.as(t, &DemoMigrationsverket)
	anyone := p.as(t, nil)

	orgPath := "/v1/organisers/" + org.Org
	code, body := otherBoard.Do("PATCH", orgPath+"?updateMask=displayName", map[string]any{"displayName": "Kapad"})
	if code != http.StatusForbidden {
		t.Fatalf("other län's county board renames: HTTP %d %v", code, body)
	}
	code, body = otherBoard.Do("PATCH", orgPath+"?updateMask=noSuchField", map[string]any{"displayName": "Kapad"})
	if code != http.StatusForbidden {
		t.Fatalf("other län's county board, bad mask: HTTP %d %v", code, body)
	}
	code, body = board.Do("PATCH", orgPath+"?updateMask=displayName", map[string]any{"displayName": "Studieförbundet i Stockholm"})
	if code != http.StatusOK || body["displayName"] != "Studieförbundet i Stockholm" {
		t.Fatalf("own county board renames: HTTP %d %v", code, body)
	}

	// Two activities; one sent twice with the same request id.
	create := func(title string, capacity int, requestID string) map[string]any {
		b := activityBody("0180")
		b["title"], b["capacity"] = title, capacity
		code, body := organiser.Do("POST", orgPath+"/activities?requestId="+requestID, b)
		if code != http.StatusOK {
			t.Fatalf("create %s: HTTP %d %v", title, code, body)
		}
		return body
	}
	a1, again, _ := create("Bbb", 10, "r1"), create("Bbb", 10, "r1"), create("Aaa", 20, "r2")
	if a1["name"] != again["name"] {
		t.Fatalf("a repeated request id created %v and %v", a1["name"], again["name"])
	}
	code, list := anyone.Do("GET", orgPath+"/activities?orderBy="+url.QueryEscape("capacity desc"), nil)
	acts, _ := list["activities"].([]any)
	if code != http.StatusOK || len(acts) != 2 || acts[0].(map[string]any)["title"] != "Aaa" {
		t.Fatalf("orderBy capacity desc: HTTP %d %v", code, list)
	}
	code, body = anyone.Do("GET", orgPath+"/activities?orderBy=dossierNumber", nil)
	if code != http.StatusBadRequest || !contains(violatedFields(body), "orderBy") {
		t.Fatalf("orderBy unknown field: HTTP %d %v", code, body)
	}
	code, body = anyone.Do("GET", "/v1/organisers/-/activities?filter="+url.QueryEscape(`lanCode = "99"`), nil)
	if code != http.StatusBadRequest || !contains(violatedFields(body), "filter") {
		t.Fatalf("unknown län in a filter: HTTP %d %v", code, body)
	}
	// updateMask=* replaces every changeable field.
	full := activityBody("0184")
	full["title"], full["fundingBasis"] = "Ny titel", "FUNDING_BASIS_ORDINANCE_2016_1364"
	full["startDate"], full["endDate"] = day(-1), day(60)
	code, body = organiser.Do("PATCH", "/v1/"+a1["name"].(string)+"?updateMask=*", full)
	if code != http.StatusOK || body["title"] != "Ny titel" || body["kommunCode"] != "0184" {
		t.Fatalf("updateMask=*: HTTP %d %v", code, body)
	}

	// The agreement filter documented in the proto.
	code, body = board.Do("POST", "/v1/lan/01/agreements", map[string]any{"organiser": "organisers/" + org.Org, "startDate": day(0), "endDate": day(100)})
	if code != http.StatusOK {
		t.Fatalf("agreement: HTTP %d %v", code, body)
	}
	code, list = board.Do("GET", "/v1/lan/01/agreements?filter="+url.QueryEscape(`organiser = "organisers/`+org.Org+`"`), nil)
	if ags, _ := list["agreements"].([]any); code != http.StatusOK || len(ags) != 1 {
		t.Fatalf("agreements by organiser: HTTP %d %v", code, list)
	}

	// The audit trail of a participant, by Migrationsverket.
	code, cert := organiser.Do("POST", "/v1/"+a1["name"].(string)+"/certificates", map[string]any{"dossierNumber": "12-345678"})
	if code != http.StatusOK {
		t.Fatalf("certificate: HTTP %d %v", code, cert)
	}
	code, trail := mv.Do("POST", "/v1/auditTrails/activity/entries:search", map[string]any{"dossierNumber": "12-345678"})
	if entries, _ := trail["auditEntries"].([]any); code != http.StatusOK || len(entries) != 1 || strings.Contains(toJSON(trail), "12-345678") {
		t.Fatalf("audit trail: HTTP %d %v", code, trail)
	}
	code, verified := mv.Do("GET", "/v1/auditTrails/activity:verify", nil)
	if code != http.StatusOK || verified["intact"] != true {
		t.Fatalf("verify: HTTP %d %v", code, verified)
	}
	if code, body := board.Do("GET", "/v1/auditTrails/activity:verify", nil); code != http.StatusForbidden {
		t.Fatalf("county board verifies: HTTP %d %v", code, body)
	}
}
