package pagestest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tia-platform/tia/services/embedded"
	"github.com/tia-platform/tia/services/embedded/resttest"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// axe-core 4.14.1 (npm package axe-core, MPL-2.0), injected into each page.
//
//go:embed testdata/axe.min.js
var axeSource string

// outDir is where the screenshots go (git-ignored).
func outDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TIA_TEST_OUTPUT")
	if dir == "" {
		dir, _ = filepath.Abs(filepath.Join("testdata", "out"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

type fixture struct {
	t    *testing.T
	p    *embedded.Platform
	base string
	ctx  context.Context // the browser tab
}

// start runs the embedded platform in-process and a headless Chromium.
// A missing browser fails the test: CI installs it.
func start(t *testing.T) *fixture {
	t.Helper()
	p, err := embedded.Start(context.Background(), embedded.Options{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	ctx, cancel, err := NewBrowser(context.Background(), t.TempDir(), 1280, 900)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	f := &fixture{t: t, p: p, base: "http://" + p.HTTPAddr, ctx: ctx}
	// Script errors and CSP violations fail the test; other console lines
	// are logged.
	err = chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			desc := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				desc += " " + e.ExceptionDetails.Exception.Description
			}
			t.Errorf("page script error: %s (%s:%d)", desc, e.ExceptionDetails.URL, e.ExceptionDetails.LineNumber+1)
		case *log.EventEntryAdded:
			if e.Entry.Source == log.EntrySourceSecurity || e.Entry.Source == log.EntrySourceJavascript && e.Entry.Level == log.EntryLevelError {
				t.Errorf("page %s: %s", e.Entry.Source, e.Entry.Text)
			} else {
				t.Logf("page %s %s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) client(pr *auth.Principal) resttest.Client {
	c := resttest.Client{T: f.t, Base: f.base}
	if pr != nil {
		c.Token = f.token(*pr)
	}
	return c
}

func (f *fixture) token(pr auth.Principal) string {
	tok, err := f.p.Token(pr)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func (f *fixture) do(steps ...chromedp.Action[chromedp.Void]) {
	f.t.Helper()
	if err := chromedp.Do(f.ctx, steps...); err != nil {
		f.t.Fatal(err)
	}
}

// run runs one action that returns a value.
func run[T any](f *fixture, a chromedp.Action[T]) T {
	f.t.Helper()
	v, err := chromedp.Run(f.ctx, a)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func eval[T any](f *fixture, expr string) T {
	f.t.Helper()
	return run(f, chromedp.Evaluate[T](expr))
}

func (f *fixture) text(sel string) string {
	f.t.Helper()
	return run(f, chromedp.Text(chromedp.CSS(sel)))
}

func (f *fixture) attr(sel, name string) string {
	f.t.Helper()
	return run(f, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// browserLanguage makes navigator.languages (and Accept-Language) lang.
func (f *fixture) browserLanguage(lang string) {
	f.t.Helper()
	v, err := chromedp.CallBrowser(f.ctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := chromedp.Call(f.ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: v.UserAgent, AcceptLanguage: lang}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) screenshot(name string) {
	f.t.Helper()
	png := run(f, chromedp.FullScreenshot(100))
	path := filepath.Join(outDir(f.t), f.t.Name()+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.t.Logf("screenshot: %s", path)
}

type axeResult struct {
	Violations []struct {
		ID, Impact, Help string
		Nodes            []struct {
			Target []any
			HTML   string
		}
	}
	Passes []struct{ ID string }
}

// axe runs axe-core's WCAG 2.1 A and AA rules on the page and fails on any
// serious or critical violation.
func (f *fixture) axe(page string) {
	f.t.Helper()
	var res axeResult
	f.do(chromedp.Evaluate[chromedp.Void](axeSource))
	res = run(f, chromedp.Evaluate[axeResult](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations', 'passes']})`,
		chromedp.EvalAwaitPromise))
	if len(res.Passes) < 10 {
		f.t.Fatalf("axe on %s: only %d rules passed: did it run?", page, len(res.Passes))
	}
	for _, v := range res.Violations {
		msg := fmt.Sprintf("axe on %s: %s (%s): %s", page, v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			msg += fmt.Sprintf("\n\t%v %s", n.Target, n.HTML)
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			f.t.Error(msg)
		} else {
			f.t.Log(msg)
		}
	}
	f.t.Logf("axe on %s: %d rules passed, %d violations", page, len(res.Passes), len(res.Violations))
}

func day(days int) string { return time.Now().AddDate(0, 0, days).Format("2006-01-02") }

// must returns a func that takes a REST answer and fails the test unless it
// is 200: must(t, "what")(client.Do(…)).
func must(t *testing.T, what string) func(int, map[string]any) map[string]any {
	return func(code int, body map[string]any) map[string]any {
		t.Helper()
		if code != http.StatusOK {
			t.Fatalf("%s: HTTP %d %v", what, code, body)
		}
		return body
	}
}

// organiserWithActivity registers the demo study association, its public
// participant contact in län 01, an agreement, and an ongoing activity in
// kommun with the given languages; it returns the activity.
func (f *fixture) organiserWithActivity(kommun, title string, languages []string) map[string]any {
	org := embedded.DemoStudyAssociation
	oc := f.client(&org)
	must(f.t, "organiser")(oc.Do("POST", "/v1/organisers", map[string]any{
		"orgNumber": org.Org, "displayName": "Studieförbundet Test", "kind": "ORGANISER_KIND_STUDY_ASSOCIATION",
	}))
	must(f.t, "contact")(oc.Do("POST", "/v1/lan/"+kommun[:2]+"/contacts", map[string]any{
		"actor": "organiser-" + org.Org, "actorDisplayName": "Studieförbundet Test", "function": "Anmälan",
		"email": "kurs@studieforbund-test.example", "phone": "08-123 456 78", "public": true,
	}))
	agreement := must(f.t, "agreement")(f.client(&auth.Principal{Subject: "lst", Role: auth.RoleCountyBoard, Lan: kommun[:2]}).Do(
		"POST", "/v1/lan/"+kommun[:2]+"/agreements", map[string]any{"organiser": "organisers/" + org.Org, "startDate": day(0), "endDate": day(300)}))
	body := resttest.ActivityBody(kommun)
	body["title"], body["startDate"], body["endDate"] = title, day(0), day(120)
	body["fundingBasis"], body["agreement"], body["languages"] = "FUNDING_BASIS_AGREEMENT", agreement["name"], languages
	body["address"], body["schedule"] = "Drottninggatan 1", "mån och ons 10–12"
	return must(f.t, "activity")(oc.Do("POST", "/v1/organisers/"+org.Org+"/activities", body))
}

// messages reads a page message catalogue as the browser gets it.
func (f *fixture) messages(lang string) map[string]string {
	resp, err := http.Get(f.base + "/pages/assets/messages/" + lang + ".json")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		f.t.Fatal(err)
	}
	return m
}

// TestCatalogue: an activity registered through the API moments before is
// found in the public catalogue, first in Swedish (the browser's language),
// then in Arabic, chosen in the page, right to left.
func TestCatalogue(t *testing.T) {
	f := start(t)
	a := f.organiserWithActivity("0180", "Svenska i vardagen", []string{"sv", "ar"})
	name := a["name"].(string)
	card := `li.card[data-activity="` + name + `"]`

	f.browserLanguage("sv-SE,sv")
	f.do(chromedp.Navigate(f.base+"/pages/catalogue?kommun=0180"), visible(card))
	lang, dir, heading, text := f.attr("html", "lang"), f.attr("html", "dir"), f.text("h1"), f.text(card)
	sv := f.messages("sv")
	if lang != "sv" || dir != "ltr" || heading != sv["catalogue.heading"] {
		t.Fatalf("Swedish page: lang=%q dir=%q h1=%q", lang, dir, heading)
	}
	for _, want := range []string{"Svenska i vardagen", "Stockholm", "Drottninggatan 1", "mån och ons 10–12", sv["focus.FOCUS_SWEDISH"], "kurs@studieforbund-test.example", "arabiska"} {
		if !strings.Contains(text, want) {
			t.Errorf("the card does not show %q:\n%s", want, text)
		}
	}
	f.screenshot("sv")
	f.axe("catalogue (sv)")

	ar := f.messages("ar")
	f.do(chromedp.SetValue(chromedp.ID("lang"), "ar"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('lang').dispatchEvent(new Event('change'))`),
		visible(`html[dir="rtl"]`), visible(card+` dt`))
	lang, heading, text = f.attr("html", "lang"), f.text("h1"), f.text(card+" dl")
	if lang != "ar" || heading != ar["catalogue.heading"] || !strings.Contains(text, ar["catalogue.where"]) || !strings.Contains(text, "Stockholm") {
		t.Fatalf("Arabic page: lang=%q h1=%q card=%q", lang, heading, text)
	}
	loc := run(f, chromedp.Location())
	if u, _ := url.Parse(loc); u.Query().Get("lang") != "ar" {
		t.Errorf("the chosen language is not kept in the address: %s", loc)
	}
	f.screenshot("ar")
	f.axe("catalogue (ar)")

	// A phone-sized screen: one column, nothing wider than the screen.
	f.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Reload(), visible(card))
	if eval[bool](f, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("the catalogue is wider than a phone's screen")
	}
	f.screenshot("phone-ar")
}

// TestCoverageMap: a county board sees one mark per kommun of its län on the
// map, and the table shows the API's figures.
func TestCoverageMap(t *testing.T) {
	f := start(t)
	f.organiserWithActivity("0180", "Svenska för nybörjare", []string{"sv"})
	mv := f.client(&embedded.DemoMigrationsverket)
	cells := []map[string]any{
		{"kommunCode": "0180", "housingType": "HOUSING_TYPE_EBO", "sex": "SEX_MAN", "ageBand": "AGE_BAND_25_34", "count": 40},
		{"kommunCode": "0184", "housingType": "HOUSING_TYPE_ABE", "sex": "SEX_KVINNA", "ageBand": "AGE_BAND_25_34", "count": 120},
		{"kommunCode": "0127", "housingType": "HOUSING_TYPE_ABE", "sex": "SEX_MAN", "ageBand": "AGE_BAND_35_44", "count": 60},
	}
	must(t, "snapshot")(mv.Do("POST", "/v1/snapshots/"+day(-1)+":import", map[string]any{"cells": cells}))
	board := f.client(&embedded.DemoCountyBoard)
	var coverage map[string]any
	deadline := time.Now().Add(15 * time.Second)
	for coverage == nil || coverage["snapshotDate"] == "" {
		if time.Now().After(deadline) {
			t.Fatalf("coverage never showed the snapshot: %v", coverage)
		}
		coverage = must(t, "coverage")(board.Do("GET", "/v1/lan/01/coverage", nil))
		if coverage["snapshotDate"] == "" {
			time.Sleep(50 * time.Millisecond)
		}
	}
	kommuner, _ := coverage["kommuner"].([]any)
	if want := len(refdata.KommunerIn("01")); len(kommuner) != want {
		t.Fatalf("the API lists %d kommuner of län 01, the reference data %d", len(kommuner), want)
	}

	f.browserLanguage("sv-SE")
	f.do(chromedp.Navigate(f.base+"/pages/coverage#token="+f.token(embedded.DemoCountyBoard)), visible(`#gaps tbody tr`))
	marks := eval[int](f, `document.querySelectorAll('#map .mark').length`)
	rows := eval[int](f, `document.querySelectorAll('#gaps tbody tr').length`)
	if marks != len(kommuner) || rows != len(kommuner) {
		t.Fatalf("%d marks and %d rows for %d kommuner", marks, rows, len(kommuner))
	}
	table := eval[map[string]map[string]string](f, `Object.fromEntries([...document.querySelectorAll('#gaps tbody tr')].map((tr) =>
		[tr.dataset.kommun, Object.fromEntries([...tr.querySelectorAll('td[data-field]')].map((td) => [td.dataset.field, td.textContent]))]))`)
	digits := regexp.MustCompile(`\D`)
	for _, k := range kommuner {
		km := k.(map[string]any)
		code := km["kommunCode"].(string)
		row := table[code]
		if row == nil {
			t.Errorf("no row for %s", code)
			continue
		}
		if mark := eval[int](f, `document.querySelectorAll('#map .mark[data-kommun="`+code+`"]').length`); mark != 1 {
			t.Errorf("%s has %d marks", code, mark)
		}
		for _, field := range []string{"targetGroup", "capacity", "routeCapacity", "unmetNeed"} {
			api := fmt.Sprint(km[field])
			if km[field] == nil {
				api = "0"
			}
			got := row[field]
			if regexp.MustCompile(`^\d+$`).MatchString(api) {
				got = digits.ReplaceAllString(got, "")
			}
			if got != api {
				t.Errorf("%s %s: the page shows %q, the API says %q", code, field, row[field], api)
			}
		}
	}
	// The API ranks the gaps; the table keeps its order.
	ranked, _ := coverage["rankedUnmetNeed"].([]any)
	order := eval[[]string](f, `[...document.querySelectorAll('#gaps tbody tr')].map((tr) => tr.dataset.kommun)`)
	for i, c := range ranked {
		if order[i] != c {
			t.Errorf("row %d is %s, the API ranks %s", i+1, order[i], c)
		}
	}
	// The token left the address bar and is in no persistent storage.
	loc, stored := run(f, chromedp.Location()), eval[string](f, `JSON.stringify(localStorage)`)
	if strings.Contains(loc, "token") || stored != "{}" {
		t.Errorf("token still in %q / localStorage %s", loc, stored)
	}
	f.screenshot("lan01")
	f.axe("coverage")

	// The CSV download: the API's own CSV of the same coverage, saved by the
	// browser under the name the page gives it.
	dir := f.t.TempDir()
	if _, err := chromedp.CallBrowser(f.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatal(err)
	}
	f.do(chromedp.Click(chromedp.ID("csv")))
	file := filepath.Join(dir, "tackning-lan-01-"+coverage["date"].(string)+".csv")
	deadline = time.Now().Add(15 * time.Second)
	var csv []byte
	for {
		var err error
		if csv, err = os.ReadFile(file); err == nil && len(csv) > 0 {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("no %s after the click (folder has %v)", file, entries)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, k := range kommuner {
		if name := k.(map[string]any)["kommunName"].(string); !strings.Contains(string(csv), name) {
			t.Errorf("the CSV lacks %s:\n%s", name, csv)
		}
	}
}

// TestOrganiserRecordsDropOut: the organiser sees its activity's
// certificates and records a drop-out with one click; Migrationsverket's
// inbox receives it.
func TestOrganiserRecordsDropOut(t *testing.T) {
	f := start(t)
	a := f.organiserWithActivity("0180", "Samhällsorientering", []string{"sv", "so"})
	org := embedded.DemoStudyAssociation
	oc := f.client(&org)
	stay := must(t, "certificate")(oc.Do("POST", "/v1/"+a["name"].(string)+"/certificates", map[string]any{"dossierNumber": "12-345678"}))
	leave := must(t, "certificate")(oc.Do("POST", "/v1/"+a["name"].(string)+"/certificates", map[string]any{"dossierNumber": "12-000002"}))
	certName := leave["name"].(string)
	row := `tr[data-certificate="` + certName + `"]`

	f.browserLanguage("sv-SE")
	f.do(chromedp.Navigate(f.base+"/pages/participants#token="+f.token(org)), visible(row))
	loc, rowText := run(f, chromedp.Location()), f.text(row)
	if strings.Contains(loc, "#") || strings.Contains(loc, "12-") {
		t.Errorf("address after sign-in: %s", loc)
	}
	if !strings.Contains(rowText, "12-000002") {
		t.Errorf("the issuing organiser does not see the dossier number: %q", rowText)
	}
	f.screenshot("before")
	f.axe("participants")

	f.do(chromedp.Click(chromedp.CSS(row+` button[data-action="dropout"]`)),
		visible(row+`[data-participation="PARTICIPATION_DROPPED_OUT"]`))
	state, other := f.text(row+" td.state"), f.attr(`tr[data-certificate="`+stay["name"].(string)+`"]`, "data-participation")
	if !strings.Contains(state, f.messages("sv")["participation.PARTICIPATION_DROPPED_OUT"]) || other != "PARTICIPATION_ISSUED" {
		t.Fatalf("after the click: %q, the other certificate %s", state, other)
	}
	// Started, for the other participant.
	f.do(chromedp.Click(chromedp.CSS(`tr[data-certificate="`+stay["name"].(string)+`"] button[data-action="start"]`)),
		visible(`tr[data-certificate="`+stay["name"].(string)+`"][data-participation="PARTICIPATION_STARTED"]`))
	got := must(t, "certificate")(oc.Do("GET", "/v1/"+certName, nil))
	if got["participation"] != "PARTICIPATION_DROPPED_OUT" || got["endDate"] != day(0) {
		t.Fatalf("the API has %v", got)
	}
	f.screenshot("after")

	// Migrationsverket's regional inbox for the län gets the notice, without
	// the dossier number.
	mv := f.client(&embedded.DemoMigrationsverket)
	deadline := time.Now().Add(15 * time.Second)
	for {
		inbox := must(t, "inbox")(mv.Do("GET", "/v1/recipients/migrationsverket-01/messages", nil))
		msgs, _ := inbox["messages"].([]any)
		found := false
		for _, m := range msgs {
			mm := m.(map[string]any)
			if mm["topic"] == "participation.ended" && mm["subjectResource"] == certName {
				if b, _ := json.Marshal(mm); strings.Contains(string(b), "12-000002") {
					t.Fatalf("the notice shows the dossier number: %s", b)
				}
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Migrationsverket's inbox never got the drop-out: %v", msgs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSignedOutPages: without a token the signed-in pages say how to sign
// in, and pass the accessibility check too.
func TestSignedOutPages(t *testing.T) {
	f := start(t)
	f.browserLanguage("so")
	for _, page := range []string{"coverage", "participants"} {
		f.do(chromedp.Navigate(f.base+"/pages/"+page), visible("#signin"))
		text, lang := f.text("#signin"), f.attr("html", "lang")
		if lang != "so" || !strings.Contains(text, f.messages("so")["signin.needed"]) {
			t.Errorf("%s signed out: lang %q, %q", page, lang, text)
		}
		f.axe(page + " (signed out, so)")
	}
}
