package embedded

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/clock"
)

// TestTravelClaims follows a claim through the REST edge: the asylum seeker
// submits it with the certificate the demo organiser issued, the travel
// service asks the activity registry (in-process, with its service token)
// and approves it; a retry with the same request id returns it again; a
// second trip the same day and direction goes to review; bad input names
// the field; the county board sees no dossier numbers; a payment run pays
// the approved claim once and serves its pain.001 file.
func TestTravelClaims(t *testing.T) {
	p := start(t)
	if err := Seed(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	seeker := p.as(t, &DemoAsylumSeeker)
	mv := p.as(t, &DemoMigrationsverket)
	board := p.as(t, &DemoCountyBoard)

	cert := demoCertificate(seeker)
	activity := cert[:strings.Index(cert, "/certificates/")]
	claim := map[string]any{
		"tripDate": day(0), "fromKommunCode": "0184", "toKommunCode": "0180", "activity": activity,
		"certificate": cert, "distanceKm": 7.5, "costOre": 4200, "ticketType": "TICKET_TYPE_SINGLE",
	}
	code, first := seeker.Do("POST", "/v1/claims?requestId=trip-1", claim)
	if code != http.StatusOK || first["state"] != "CLAIM_STATE_APPROVED" || first["dossierNumber"] != DemoAsylumSeeker.Dossier {
		t.Fatalf("claim: HTTP %d %v", code, first)
	}
	if code, again := seeker.Do("POST", "/v1/claims?requestId=trip-1", claim); code != http.StatusOK || again["name"] != first["name"] {
		t.Fatalf("retried claim: HTTP %d %v, want %s", code, again, first["name"])
	}
	code, dup := seeker.Do("POST", "/v1/claims", claim)
	if code != http.StatusOK || dup["state"] != "CLAIM_STATE_IN_REVIEW" || !slices.Equal(toStrings(dup["reasons"]), []string{"DUPLICATE_TRIP"}) {
		t.Fatalf("second claim for the trip: HTTP %d %v", code, dup)
	}

	for _, bad := range []struct {
		field string
		set   func(map[string]any)
	}{
		{"claim.dossierNumber", func(c map[string]any) { c["dossierNumber"] = "12-34567" }},
		{"claim.toKommunCode", func(c map[string]any) { c["toKommunCode"] = "0100" }},
		{"claim.tripDate", func(c map[string]any) { c["tripDate"] = day(1) }},
		{"claim.costOre", func(c map[string]any) { c["costOre"] = -5 }},
	} {
		body := map[string]any{"dossierNumber": DemoAsylumSeeker.Dossier}
		for k, v := range claim {
			body[k] = v
		}
		bad.set(body)
		code, resp := mv.Do("POST", "/v1/claims", body)
		if code != http.StatusBadRequest || !contains(violatedFields(resp), bad.field) {
			t.Errorf("%s: HTTP %d %v", bad.field, code, resp)
		}
	}
	code, mine := seeker.Do("GET", "/v1/claims", nil)
	// Two of theirs and the demo claim.
	if code != http.StatusOK || len(mine["claims"].([]any)) != 3 {
		t.Fatalf("own claims after bad input: HTTP %d %v", code, mine)
	}

	other := auth.Principal{Subject: "annan", Role: auth.RoleAsylumSeeker, Dossier: "99-999999"}
	if code, _ := p.as(t, &other).Do("GET", "/v1/"+first["name"].(string), nil); code != http.StatusForbidden {
		t.Fatalf("someone else's claim: HTTP %d", code)
	}
	code, seen := board.Do("GET", "/v1/claims", nil)
	if code != http.StatusOK || len(seen["claims"].([]any)) != 3 {
		t.Fatalf("county board's claims: HTTP %d %v", code, seen)
	}
	for _, c := range seen["claims"].([]any) {
		if d, _ := c.(map[string]any)["dossierNumber"].(string); d != "" {
			t.Fatal("a county board sees a dossier number")
		}
	}

	if code, r := mv.Do("POST", "/v1/"+dup["name"].(string)+":reject", map[string]any{"reason": "Resan är redan ersatt."}); code != http.StatusOK || r["state"] != "CLAIM_STATE_REJECTED" {
		t.Fatalf("reject: HTTP %d %v", code, r)
	}
	code, run := mv.Do("POST", "/v1/paymentRuns", map[string]any{"requestId": "run-1"})
	if code != http.StatusOK {
		t.Fatalf("payment run: HTTP %d %v", code, run)
	}
	deadline := time.Now().Add(15 * time.Second)
	for run["state"] != "PAYMENT_RUN_STATE_SUCCEEDED" {
		if time.Now().After(deadline) {
			t.Fatalf("run %v", run)
		}
		time.Sleep(20 * time.Millisecond)
		_, run = mv.Do("GET", "/v1/"+run["name"].(string), nil)
	}
	// This claim and the approved demo claim; neither the rejected one nor
	// the demo claim in review.
	if run["claimCount"] != "2" || run["totalOre"] != "8100" {
		t.Fatalf("run %v", run)
	}
	code, file := mv.Do("GET", "/v1/"+run["name"].(string)+"/file", nil)
	if code != http.StatusOK {
		t.Fatalf("payment file: HTTP %d %v", code, file)
	}
	xml, _ := base64.StdEncoding.DecodeString(file["content"].(string))
	id := strings.ReplaceAll(strings.TrimPrefix(first["name"].(string), "claims/"), "-", "")
	if !strings.Contains(string(xml), "pain.001.001.10") || !strings.Contains(string(xml), "<EndToEndId>"+id+"</EndToEndId>") ||
		!strings.Contains(string(xml), `<InstdAmt Ccy="SEK">42.00</InstdAmt>`) {
		t.Fatalf("payment file:\n%s", xml)
	}
	if code, _ := board.Do("GET", "/v1/"+run["name"].(string)+"/file", nil); code != http.StatusForbidden {
		t.Fatalf("county board reads the payment file: HTTP %d", code)
	}
	// The same file streamed: the XML itself, in chunked transfer
	// encoding, an attachment, whatever the client accepts.
	for _, accept := range []string{"", "application/json", "application/xml"} {
		resp := mv.fetch("/v1/"+run["name"].(string)+"/file:download", accept)
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/xml" || resp.ContentLength != -1 ||
			!slices.Contains(resp.TransferEncoding, "chunked") || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="payment-file-`) {
			t.Fatalf("payment file download (Accept %q): HTTP %d %v %v %s", accept, resp.StatusCode, resp.TransferEncoding, resp.Header, got)
		}
		if !bytes.Equal(got, xml) {
			t.Fatalf("downloaded payment file differs from the one in JSON:\n%s", got)
		}
	}
	// It has no other representation: another format is refused naming
	// the parameter.
	for _, format := range []string{"csv", "json"} {
		resp := mv.fetch("/v1/"+run["name"].(string)+"/file:download?format="+format, "")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"field":"format"`) {
			t.Fatalf("payment file download as %s: HTTP %d %s", format, resp.StatusCode, body)
		}
	}
	if resp := board.fetch("/v1/"+run["name"].(string)+"/file:download", ""); resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("county board downloads the payment file: HTTP %d %v", resp.StatusCode, resp.Header)
	}
	code, paid := seeker.Do("GET", "/v1/"+first["name"].(string), nil)
	if code != http.StatusOK || paid["state"] != "CLAIM_STATE_PAID" || paid["paymentRun"] != run["name"] {
		t.Fatalf("paid claim: HTTP %d %v", code, paid)
	}
	code, lead := board.Do("GET", "/v1/claims:leadTimeReport", nil)
	if code != http.StatusOK || lead["targetDays"] != float64(14) || len(lead["rows"].([]any)) != 1 {
		t.Fatalf("lead-time report: HTTP %d %v", code, lead)
	}
	if code, _ := board.Do("GET", "/v1/claims:usageReport?lanCode=12", nil); code != http.StatusForbidden {
		t.Fatalf("another län's usage report: HTTP %d", code)
	}
}

// TestTravelConsultation: a consultation is opened, answered and decided
// through the REST edge; a decision without feedback on every response, or
// on a decided consultation, is refused with the field named.
func TestTravelConsultation(t *testing.T) {
	p := start(t)
	mv := p.as(t, &DemoMigrationsverket)
	board := p.as(t, &DemoCountyBoard)
	code, c := mv.Do("POST", "/v1/consultations", map[string]any{
		"deadline": day(14), "description": "Resor till SFI i Stockholm.",
		"proposals": []map[string]any{{"fromKommunCode": "0186", "toKommunCode": "0180", "validFrom": day(20), "validTo": day(200), "reason": "Tunt utbud."}},
	})
	if code != http.StatusOK || c["state"] != "CONSULTATION_STATE_OPEN" || !slices.Equal(toStrings(c["lanCodes"]), []string{"01"}) {
		t.Fatalf("open: HTTP %d %v", code, c)
	}
	code, r := board.Do("POST", "/v1/"+c["name"].(string)+"/responses", map[string]any{"stance": "STANCE_SUPPORT", "comment": "Bra."})
	if code != http.StatusOK {
		t.Fatalf("respond: HTTP %d %v", code, r)
	}
	if code, body := mv.Do("POST", "/v1/"+c["name"].(string)+":decide", map[string]any{"approved": []int{0}}); code != http.StatusBadRequest ||
		!contains(violatedFields(body), "feedback") {
		t.Fatalf("decision without feedback: HTTP %d %v", code, body)
	}
	decision := map[string]any{"approved": []int{0}, "reason": "Beviljas.",
		"feedback": []map[string]any{{"response": r["name"], "text": "Tack; beviljas som föreslaget."}}}
	code, d := mv.Do("POST", "/v1/"+c["name"].(string)+":decide", decision)
	if code != http.StatusOK || d["state"] != "CONSULTATION_STATE_DECIDED" {
		t.Fatalf("decide: HTTP %d %v", code, d)
	}
	routes := d["decision"].(map[string]any)["routes"].([]any)
	if code, route := board.Do("GET", "/v1/"+routes[0].(string), nil); code != http.StatusOK || route["consultation"] != c["name"] {
		t.Fatalf("decided route: HTTP %d %v", code, route)
	}
	if code, body := mv.Do("POST", "/v1/"+c["name"].(string)+":decide", decision); code != http.StatusBadRequest || !contains(violatedFields(body), "name") {
		t.Fatalf("decide again: HTTP %d %v", code, body)
	}
	if code, body := mv.Do("POST", "/v1/"+routes[0].(string)+":revoke", map[string]any{"revokedFrom": day(10)}); code != http.StatusBadRequest ||
		!contains(violatedFields(body), "revokedFrom") {
		t.Fatalf("revoke before the start: HTTP %d %v", code, body)
	}
	if code, body := mv.Do("POST", "/v1/"+routes[0].(string)+":revoke", map[string]any{"revokedFrom": day(100)}); code != http.StatusOK || body["validTo"] != day(99) {
		t.Fatalf("revoke: HTTP %d %v", code, body)
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestTravelClaimAtSwedishMidnight runs the certificate → claim path at
// 23:30 UTC, when Sweden is already on the next day: the registry and
// travel agree on that day, so a claim for today's trip (the Swedish today)
// is approved on its seeded certificate.
func TestTravelClaimAtSwedishMidnight(t *testing.T) {
	y, m, d := time.Now().UTC().Date()
	// The demo data is seeded at noon (it is dated by the UTC day), then
	// the clock stands at 23:30 UTC.
	var at atomic.Pointer[time.Time]
	noon := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	now := time.Date(y, m, d, 23, 30, 0, 0, time.UTC)
	at.Store(&noon)
	p, err := Start(context.Background(), Options{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		Clock: func() time.Time { return *at.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if err := Seed(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	at.Store(&now)
	seeker := p.as(t, &DemoAsylumSeeker)
	cert := demoCertificate(seeker)
	swedishToday := clock.Day(now)
	if swedishToday == now.Format(time.DateOnly) {
		t.Fatalf("23:30 UTC should be the next day in Stockholm, got %s", swedishToday)
	}
	claim := map[string]any{
		"tripDate": swedishToday, "fromKommunCode": "0184", "toKommunCode": "0180",
		"activity": cert[:strings.Index(cert, "/certificates/")], "certificate": cert,
		"distanceKm": 7.5, "costOre": 4200, "ticketType": "TICKET_TYPE_SINGLE",
	}
	code, got := seeker.Do("POST", "/v1/claims?requestId=midnight-1", claim)
	if code != http.StatusOK || got["state"] != "CLAIM_STATE_APPROVED" {
		t.Fatalf("claim for the Swedish today at 23:30 UTC: HTTP %d %v", code, got)
	}
}

// demoCertificate is the certificate the demo organiser issued the demo
// asylum seeker (Seed), as the seeker sees it.
func demoCertificate(seeker client) string {
	seeker.T.Helper()
	certs := seeker.ownCertificates()
	if len(certs) == 0 {
		seeker.T.Fatal("the demo asylum seeker holds no certificate")
	}
	return certs[0].(map[string]any)["name"].(string)
}
