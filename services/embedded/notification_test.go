package embedded

import (
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/tia-platform/tia/services/platform/auth"
)

// hookServer is a webhook receiver on a fixed loopback port that can be
// taken down and brought back.
type hookServer struct {
	t     *testing.T
	addr  string
	calls chan hookCall
	srv   *http.Server
	l     net.Listener
}

type hookCall struct {
	header http.Header
	body   []byte
}

func newHookServer(t *testing.T) *hookServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hookServer{t: t, addr: l.Addr().String(), calls: make(chan hookCall, 100)}
	h.serve(l)
	t.Cleanup(h.down)
	return h
}

func (h *hookServer) serve(l net.Listener) {
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.calls <- hookCall{header: r.Header.Clone(), body: body}
	})}
	h.srv, h.l = srv, l
	go func() { _ = srv.Serve(l) }()
}

func (h *hookServer) down() {
	if h.srv != nil {
		_ = h.srv.Close()
		_ = h.l.Close() // also when Close came before Serve took it
		h.srv = nil
	}
}

func (h *hookServer) up() {
	var l net.Listener
	var err error
	for range 50 {
		if l, err = net.Listen("tcp", h.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	h.serve(l)
}

func (h *hookServer) next(t *testing.T) hookCall {
	t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(15 * time.Second):
		t.Fatal("no webhook call")
	}
	return hookCall{}
}

// verifySignature checks a webhook call as a receiver would, with a
// third-party Standard Webhooks library (webhook-id, webhook-timestamp,
// webhook-signature; secret whsec_…).
func verifySignature(t *testing.T, secret string, c hookCall) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	if err := wh.Verify(c.body, c.header); err != nil {
		t.Fatalf("the call does not verify: %v (headers %v)", err, c.header)
	}
}

// joinAsOrganiser registers the organiser with the activity registry, which
// wants to know an organiser before its activities.
func joinAsOrganiser(t *testing.T, c client, org string) {
	t.Helper()
	code, body := c.Do("POST", "/v1/organisers", map[string]any{"orgNumber": org, "displayName": "Demo", "kind": "ORGANISER_KIND_STUDY_ASSOCIATION"})
	if code != http.StatusOK && code != http.StatusConflict {
		t.Fatalf("register organiser: HTTP %d %v", code, body)
	}
}

// waitTopic polls a recipient's inbox until it holds a message on topic.
func waitTopic(t *testing.T, c client, recipient, topic string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body := c.Do("GET", "/v1/recipients/"+recipient+"/messages", nil)
		msgs, _ := body["messages"].([]any)
		for _, m := range msgs {
			if mm := m.(map[string]any); mm["topic"] == topic {
				return mm
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s message for %s: %v", topic, recipient, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get fetches a non-JSON document.
func get(t *testing.T, p *Platform, path string) (int, string, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.HTTPAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// startNotifying starts the platform with fast delivery retries; the
// webhook receivers (on loopback) are on the allow-list of development
// receivers, the only way a webhook may reach a loopback address.
func startNotifying(t *testing.T, receivers ...*hookServer) *Platform {
	var allow []string
	for _, r := range receivers {
		allow = append(allow, r.addr)
	}
	t.Setenv("TIA_WEBHOOK_ALLOW_HOSTS", strings.Join(allow, ","))
	t.Setenv("TIA_DELIVERY_BACKOFF", "10ms")
	t.Setenv("TIA_DELIVERY_BACKOFF_MAX", "20ms")
	t.Setenv("TIA_DELIVERY_MAX_ATTEMPTS", "3")
	t.Setenv("TIA_DELIVERY_POLL_INTERVAL", "20ms")
	return start(t)
}

// TestForum: the county board builds its forum, plans a meeting; members are
// invited (inbox and signed webhook), propose agenda items, and calendar
// clients read the meetings as iCalendar without an account.
func TestForum(t *testing.T) {
	hooks := newHookServer(t)
	p := startNotifying(t, hooks)
	board := p.as(t, &DemoCountyBoard)
	org := p.as(t, &DemoStudyAssociation)
	other := p.as(t, &DemoFolkHighSchool)

	for _, m := range []map[string]any{
		{"recipient": "organiser-" + DemoStudyAssociation.Org, "displayName": "Studieförbundet"},
		{"recipient": "migrationsverket-01", "displayName": "Migrationsverket, region Stockholm"},
	} {
		if code, body := board.Do("POST", "/v1/lan/01/members", m); code != http.StatusOK {
			t.Fatalf("add member: HTTP %d %v", code, body)
		}
	}
	if code, _ := org.Do("POST", "/v1/lan/01/members", map[string]any{"recipient": "organiser-" + DemoFolkHighSchool.Org, "displayName": "x"}); code != http.StatusForbidden {
		t.Fatalf("an organiser added a member: HTTP %d", code)
	}
	code, hook := org.Do("POST", "/v1/recipients/organiser-"+DemoStudyAssociation.Org+"/webhooks", map[string]any{"url": "http://" + hooks.addr + "/tia", "description": "intranät"})
	if code != http.StatusOK || hook["secret"] == "" {
		t.Fatalf("webhook: HTTP %d %v", code, hook)
	}
	code, sub := org.Do("PATCH", "/v1/recipients/organiser-"+DemoStudyAssociation.Org+"/subscriptions/forum.meeting_invited",
		map[string]any{"channels": []string{"CHANNEL_WEBHOOK"}, "language": "LANGUAGE_EN"})
	if code != http.StatusOK {
		t.Fatalf("subscribe: HTTP %d %v", code, sub)
	}

	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Hour)
	meeting := map[string]any{
		"title": "Regionalt forum: lägesbild", "level": "COOPERATION_LEVEL_DIALOG", "location": "Länsstyrelsen, Hantverkargatan 29",
		"startTime": start.Format(time.RFC3339), "endTime": start.Add(2 * time.Hour).Format(time.RFC3339),
		"agenda": []map[string]any{{"title": "Lägesbild per kommun"}},
	}
	code, created := board.Do("POST", "/v1/lan/01/meetings", meeting)
	if code != http.StatusOK {
		t.Fatalf("create meeting: HTTP %d %v", code, created)
	}
	name := created["name"].(string)

	invite := waitTopic(t, org, "organiser-"+DemoStudyAssociation.Org, "forum.meeting_invited")
	if !strings.HasPrefix(invite["title"].(string), "Invitation") || invite["subjectResource"] != name {
		t.Fatalf("invitation = %v", invite)
	}
	call := hooks.next(t)
	verifySignature(t, hook["secret"].(string), call)
	if !strings.Contains(string(call.body), `"topic":"forum.meeting_invited"`) {
		t.Fatalf("webhook body %s", call.body)
	}
	mv := p.as(t, &DemoMigrationsverket)
	if m := waitTopic(t, mv, "migrationsverket-01", "forum.meeting_invited"); !strings.HasPrefix(m["title"].(string), "Inbjudan") {
		t.Fatalf("Migrationsverket's invitation = %v", m)
	}

	code, proposed := org.Do("POST", "/v1/"+name+":proposeAgendaItem", map[string]any{"item": map[string]any{"title": "Resvägar till Norrtälje"}})
	if code != http.StatusOK {
		t.Fatalf("propose: HTTP %d %v", code, proposed)
	}
	agenda := proposed["agenda"].([]any)
	if len(agenda) != 2 || agenda[1].(map[string]any)["proposedBy"] != "organiser-"+DemoStudyAssociation.Org {
		t.Fatalf("agenda = %v", agenda)
	}
	if code, _ := other.Do("POST", "/v1/"+name+":proposeAgendaItem", map[string]any{"item": map[string]any{"title": "x"}}); code != http.StatusForbidden {
		t.Fatalf("a non-member proposed: HTTP %d", code)
	}
	code, fb := board.Do("POST", "/v1/"+name+":recordFeedback", map[string]any{"feedback": map[string]any{
		"respondent": "Studieförbundet", "response": "Fler platser i Norrtälje behövs.", "outcome": "Tas upp med Migrationsverket om resvägar."}})
	if code != http.StatusOK || len(fb["feedback"].([]any)) != 1 {
		t.Fatalf("feedback: HTTP %d %v", code, fb)
	}
	code, upd := board.Do("PATCH", "/v1/"+name+"?updateMask=minutes", map[string]any{"minutes": "Forumet gick igenom lägesbilden."})
	if code != http.StatusOK || upd["minutes"] == "" {
		t.Fatalf("minutes: HTTP %d %v", code, upd)
	}
	waitTopic(t, org, "organiser-"+DemoStudyAssociation.Org, "forum.minutes_published")

	code, ctype, cal := get(t, p, "/v1/lan/01/meetings.ics")
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/calendar") {
		t.Fatalf("calendar: HTTP %d %s", code, ctype)
	}
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "VERSION:2.0", "PRODID:", "BEGIN:VEVENT", "DTSTAMP:", "SUMMARY:Regionalt forum: lägesbild",
		"DTSTART:" + start.Format("20060102T150405Z"), "END:VCALENDAR"} {
		if !strings.Contains(cal, want) {
			t.Fatalf("calendar lacks %q:\n%s", want, cal)
		}
	}
	if code, _, _ := get(t, p, "/v1/lan/99/meetings.ics"); code != http.StatusNotFound {
		t.Fatalf("calendar of an unknown län: HTTP %d", code)
	}
}

// TestNotificationErrors: bad input names the field.
func TestNotificationErrors(t *testing.T) {
	p := startNotifying(t)
	board := p.as(t, &DemoCountyBoard)
	future := time.Now().Add(48 * time.Hour).UTC()
	meeting := func(change func(map[string]any)) map[string]any {
		m := map[string]any{"title": "Forum", "level": "COOPERATION_LEVEL_SAMRAD",
			"startTime": future.Format(time.RFC3339), "endTime": future.Add(time.Hour).Format(time.RFC3339)}
		change(m)
		return m
	}
	tests := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"unknown topic", "PATCH", "/v1/recipients/lansstyrelse-01/subscriptions/activity.nothing", map[string]any{"channels": []string{"CHANNEL_INBOX"}}, "subscription.name"},
		{"email without an address", "PATCH", "/v1/recipients/lansstyrelse-01/subscriptions/activity.registered", map[string]any{"channels": []string{"CHANNEL_EMAIL"}}, "subscription.emailAddress"},
		{"webhook not a URL", "POST", "/v1/recipients/lansstyrelse-01/webhooks", map[string]any{"url": "mailto:x@example.org"}, "webhook.url"},
		{"meeting at an unknown level", "POST", "/v1/lan/01/meetings", meeting(func(m map[string]any) { m["level"] = 9 }), "meeting.level"},
		{"meeting without a level", "POST", "/v1/lan/01/meetings", meeting(func(m map[string]any) { delete(m, "level") }), "meeting.level"},
		{"meeting in the past", "POST", "/v1/lan/01/meetings", meeting(func(m map[string]any) {
			m["startTime"] = time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
			m["endTime"] = time.Now().Add(-47 * time.Hour).UTC().Format(time.RFC3339)
		}), "meeting.startTime"},
		{"meeting ending before it starts", "POST", "/v1/lan/01/meetings", meeting(func(m map[string]any) { m["endTime"] = future.Add(-time.Hour).Format(time.RFC3339) }), "meeting.endTime"},
		{"contact without a way to reach", "POST", "/v1/lan/01/contacts", map[string]any{"actor": "lansstyrelse-01", "actorDisplayName": "Länsstyrelsen", "function": "TIA"}, "contact.email"},
		{"forum member who cannot exist", "POST", "/v1/lan/01/members", map[string]any{"recipient": "someone", "displayName": "x"}, "member.recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := board
			c.T = t
			code, body := c.Do(tt.method, tt.path, tt.body)
			if code != http.StatusBadRequest || !contains(violatedFields(body), tt.field) {
				t.Fatalf("HTTP %d %v, want 400 naming %s", code, body, tt.field)
			}
		})
	}
	// An unknown level by name is refused by the JSON reader, which names it.
	code, body := board.Do("POST", "/v1/lan/01/meetings", meeting(func(m map[string]any) { m["level"] = "COOPERATION_LEVEL_KAFFE" }))
	if code != http.StatusBadRequest || !strings.Contains(body["message"].(string), "level") {
		t.Fatalf("unknown level name: HTTP %d %v", code, body)
	}
}

// TestInboxChannelsAndFeeds: the inbox (unread count, mark read), a webhook
// that is down is retried, dead-lettered and replayed, contacts are public or
// not, and the Atom feed shows a kommun's new activities to anyone.
func TestInboxChannelsAndFeeds(t *testing.T) {
	hooks := newHookServer(t)
	hooks.down()
	p := startNotifying(t, hooks)
	board := p.as(t, &DemoCountyBoard)
	org := p.as(t, &DemoStudyAssociation)
	anyone := p.as(t, nil)

	code, hook := board.Do("POST", "/v1/recipients/lansstyrelse-01/webhooks", map[string]any{"url": "http://" + hooks.addr + "/tia"})
	if code != http.StatusOK {
		t.Fatalf("webhook: HTTP %d %v", code, hook)
	}
	if code, body := board.Do("PATCH", "/v1/recipients/lansstyrelse-01/subscriptions/activity.registered",
		map[string]any{"channels": []string{"CHANNEL_WEBHOOK"}}); code != http.StatusOK {
		t.Fatalf("subscribe: HTTP %d %v", code, body)
	}
	joinAsOrganiser(t, org, DemoStudyAssociation.Org)
	open := activityBody("0184")
	open["startDate"] = time.Now().AddDate(0, 0, 7).Format("2006-01-02")
	open["endDate"] = time.Now().AddDate(0, 3, 0).Format("2006-01-02")
	if code, body := org.Do("POST", "/v1/organisers/"+DemoStudyAssociation.Org+"/activities", open); code != http.StatusOK {
		t.Fatalf("activity: HTTP %d %v", code, body)
	}
	msg := waitTopic(t, board, "lansstyrelse-01", "activity.registered")

	// Three tries against a target that is down, then the dead-letter list.
	var dead []any
	deadline := time.Now().Add(15 * time.Second)
	for len(dead) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the delivery was not dead-lettered")
		}
		time.Sleep(50 * time.Millisecond)
		_, body := board.Do("GET", "/v1/recipients/lansstyrelse-01/deadLetters", nil)
		dead, _ = body["deliveries"].([]any)
	}
	d := dead[0].(map[string]any)
	if d["state"] != "STATE_DEAD_LETTERED" || d["attempts"] != float64(3) || d["lastError"] != "failed" || d["channel"] != "CHANNEL_WEBHOOK" {
		t.Fatalf("dead letter = %v", d)
	}
	hooks.up()
	if code, body := board.Do("POST", "/v1/"+d["name"].(string)+":replay", map[string]any{}); code != http.StatusOK || body["state"] != "STATE_PENDING" {
		t.Fatalf("replay: HTTP %d %v", code, body)
	}
	call := hooks.next(t)
	verifySignature(t, hook["secret"].(string), call)
	deadline = time.Now().Add(15 * time.Second)
	for {
		_, got := board.Do("GET", "/v1/"+msg["name"].(string), nil)
		ds, _ := got["deliveries"].([]any)
		if len(ds) == 1 && ds[0].(map[string]any)["state"] == "STATE_DELIVERED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery status = %v", got["deliveries"])
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The activity registry's scheduled reports may be in the inbox too.
	_, unread := board.Do("GET", "/v1/recipients/lansstyrelse-01/messages:countUnread", nil)
	before, _ := strconv.Atoi(unread["unreadCount"].(string))
	if before < 1 {
		t.Fatalf("unread = %v", unread)
	}
	if code, read := board.Do("POST", "/v1/"+msg["name"].(string)+":markRead", map[string]any{}); code != http.StatusOK || read["readTime"] == nil {
		t.Fatalf("mark read: HTTP %d %v", code, read)
	}
	_, unread = board.Do("GET", "/v1/recipients/lansstyrelse-01/messages:countUnread", nil)
	if unread["unreadCount"] != strconv.Itoa(before-1) {
		t.Fatalf("unread after reading = %v, want %d", unread, before-1)
	}

	// The Atom feed of Solna shows the new activity to anyone.
	code, ctype, atom := get(t, p, "/v1/kommuner/0184/activities.atom")
	if code != http.StatusOK || !strings.HasPrefix(ctype, "application/atom+xml") {
		t.Fatalf("feed: HTTP %d %s", code, ctype)
	}
	var feed struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		Title   string   `xml:"title"`
		ID      string   `xml:"id"`
		Entries []struct {
			Title string `xml:"title"`
			ID    string `xml:"id"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(atom), &feed); err != nil {
		t.Fatalf("feed is not Atom: %v\n%s", err, atom)
	}
	if len(feed.Entries) != 1 || feed.Entries[0].Title != "Svenska för nybörjare" || !strings.Contains(feed.Title, "Solna") {
		t.Fatalf("feed = %+v", feed)
	}
	if _, _, other := get(t, p, "/v1/kommuner/0180/activities.atom"); strings.Contains(other, "<entry>") {
		t.Fatalf("Stockholm's feed shows Solna's activity: %s", other)
	}

	// Contacts: the participant-facing one to anyone, all to actors.
	for _, c := range []map[string]any{
		{"actor": "migrationsverket-01", "actorDisplayName": "Migrationsverket", "function": "Reseersättning", "phone": "0771-235 235", "public": true},
		{"actor": "migrationsverket-01", "actorDisplayName": "Migrationsverket", "function": "Regional kontakt TIA", "email": "tia.stockholm@migrationsverket.example"},
	} {
		if code, body := board.Do("POST", "/v1/lan/01/contacts", c); code != http.StatusOK {
			t.Fatalf("contact: HTTP %d %v", code, body)
		}
	}
	_, pub := anyone.Do("GET", "/v1/lan/01/contacts", nil)
	_, all := org.Do("GET", "/v1/lan/01/contacts", nil)
	if len(pub["contacts"].([]any)) != 1 || len(all["contacts"].([]any)) != 2 {
		t.Fatalf("public %v / signed in %v", pub, all)
	}
	if code, _ := org.Do("POST", "/v1/lan/01/contacts", map[string]any{"actor": "migrationsverket-01", "actorDisplayName": "x", "function": "y", "phone": "1"}); code != http.StatusForbidden {
		t.Fatalf("an organiser added Migrationsverket's contact: HTTP %d", code)
	}
}

// TestRouteDecisionsReachOrganisers: a route decision in the travel service
// reaches, through its event stream, the county board and the organisers
// of the län (here a forum member), and its revocation too.
func TestRouteDecisionsReachOrganisers(t *testing.T) {
	p := startNotifying(t)
	board := p.as(t, &DemoCountyBoard)
	org := p.as(t, &DemoFolkHighSchool)
	mv := p.as(t, &DemoMigrationsverket)
	if code, body := board.Do("POST", "/v1/lan/01/members", map[string]any{"recipient": "organiser-" + DemoFolkHighSchool.Org, "displayName": "Folkhögskolan"}); code != http.StatusOK {
		t.Fatalf("member: HTTP %d %v", code, body)
	}
	today := time.Now().Format("2006-01-02")
	code, route := mv.Do("POST", "/v1/routes", map[string]any{"fromKommunCode": "0186", "toKommunCode": "0180",
		"validFrom": today, "validTo": time.Now().AddDate(0, 6, 0).Format("2006-01-02"), "reason": "Utbudet i Lidingö räcker inte."})
	if code != http.StatusOK {
		t.Fatalf("route: HTTP %d %v", code, route)
	}
	decided := waitTopic(t, org, "organiser-"+DemoFolkHighSchool.Org, "travel.route_decided")
	if decided["subjectResource"] != route["name"] || !strings.Contains(decided["title"].(string), "Lidingö") {
		t.Fatalf("decision message = %v", decided)
	}
	waitTopic(t, board, "lansstyrelse-01", "travel.route_decided")
	if code, body := mv.Do("POST", "/v1/"+route["name"].(string)+":revoke", map[string]any{
		"revokedFrom": time.Now().AddDate(0, 1, 0).Format("2006-01-02"), "reason": "Ny aktivitet i Lidingö."}); code != http.StatusOK {
		t.Fatalf("revoke: HTTP %d %v", code, body)
	}
	waitTopic(t, org, "organiser-"+DemoFolkHighSchool.Org, "travel.route_revoked")
}

// TestDirectoryNationalViewAndWebhookScope: an organiser's participant
// contact, entered once in the activity registry, is in the public contact
// directory of the län it covers; Migrationsverket reads what reaches its
// regional inboxes in its own inbox, filtered by län; a person cannot
// register a webhook, nor anyone one that points inside; a forum's
// meetings are not for outsiders.
func TestDirectoryNationalViewAndWebhookScope(t *testing.T) {
	p := startNotifying(t)
	anyone := p.as(t, nil)
	board := p.as(t, &DemoCountyBoard)
	mv := p.as(t, &DemoMigrationsverket)
	const org = "8020024561"
	orgClient := p.as(t, &auth.Principal{Subject: "demo-ny", Role: auth.RoleOrganiser, Org: org})
	code, body := orgClient.Do("POST", "/v1/organisers", map[string]any{"orgNumber": org, "displayName": "Studieförbundet Öst", "kind": "ORGANISER_KIND_STUDY_ASSOCIATION",
		"contacts": []map[string]any{
			{"role": "CONTACT_ROLE_PARTICIPANTS", "displayName": "Kursanmälan", "email": "kurs@ost.example", "lanCodes": []string{"05"}},
			{"role": "CONTACT_ROLE_REGIONAL", "displayName": "Regionchef", "email": "chef@ost.example", "lanCodes": []string{"05"}},
		}})
	if code != http.StatusOK {
		t.Fatalf("register organiser: HTTP %d %v", code, body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, dir := anyone.Do("GET", "/v1/lan/05/contacts", nil)
		cs, _ := dir["contacts"].([]any)
		if len(cs) == 1 {
			c := cs[0].(map[string]any)
			if c["actor"] != "organiser-"+org || c["email"] != "kurs@ost.example" || c["public"] != true {
				t.Fatalf("län 05's directory = %v", dir)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("län 05's public directory = %v", dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, other := anyone.Do("GET", "/v1/lan/12/contacts", nil); len(other["contacts"].([]any)) != 0 {
		t.Fatalf("län 12 lists the contact for 05: %v", other)
	}

	// Migrationsverket's national view.
	if code, body := board.Do("POST", "/v1/lan/01/members", map[string]any{"recipient": "migrationsverket-01", "displayName": "Migrationsverket"}); code != http.StatusOK {
		t.Fatalf("member: HTTP %d %v", code, body)
	}
	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Hour)
	code, meeting := board.Do("POST", "/v1/lan/01/meetings", map[string]any{"title": "Forum", "level": "COOPERATION_LEVEL_SAMRAD",
		"startTime": start.Format(time.RFC3339), "endTime": start.Add(time.Hour).Format(time.RFC3339)})
	if code != http.StatusOK {
		t.Fatalf("meeting: HTTP %d %v", code, meeting)
	}
	waitTopic(t, mv, "me", "forum.meeting_invited")
	_, in01 := mv.Do("GET", `/v1/recipients/me/messages?filter=lanCode%20%3D%20%2201%22`, nil)
	_, in12 := mv.Do("GET", `/v1/recipients/me/messages?filter=lanCode%20%3D%20%2212%22`, nil)
	if l, _ := in01["messages"].([]any); len(l) == 0 || !strings.HasPrefix(l[0].(map[string]any)["name"].(string), "recipients/migrationsverket-01/") {
		t.Fatalf("län 01 in the national view = %v", in01)
	}
	if l, _ := in12["messages"].([]any); len(l) != 0 {
		t.Fatalf("län 12 in the national view = %v", in12)
	}
	if code, _ := p.as(t, &DemoFolkHighSchool).Do("GET", "/v1/"+meeting["name"].(string), nil); code != http.StatusForbidden {
		t.Fatalf("an outsider reads the forum's meeting: HTTP %d", code)
	}

	// The trail of claimants' inboxes is whole, and only Migrationsverket
	// checks it; the asylum seeker lists their own.
	if code, v := mv.Do("GET", "/v1/auditTrails/notification:verify", nil); code != http.StatusOK || v["intact"] != true {
		t.Fatalf("verify: HTTP %d %v", code, v)
	}
	if code, _ := board.Do("GET", "/v1/auditTrails/notification:verify", nil); code != http.StatusForbidden {
		t.Fatalf("a county board verifies: HTTP %d", code)
	}
	if code, body := p.as(t, &DemoAsylumSeeker).Do("POST", "/v1/auditTrails/notification/entries:search", map[string]any{}); code != http.StatusOK {
		t.Fatalf("own trail: HTTP %d %v", code, body)
	}

	// Webhooks: organisations only, public addresses only.
	if code, _ := p.as(t, &DemoAsylumSeeker).Do("POST", "/v1/recipients/me/webhooks", map[string]any{"url": "https://example.org/x"}); code != http.StatusForbidden {
		t.Fatalf("an asylum seeker's webhook: HTTP %d", code)
	}
	for _, u := range []string{"https://127.0.0.1:9/x", "https://2130706433/x", "https://169.254.169.254/latest", "https://[::ffff:10.0.0.1]/x", "https://localhost/x"} {
		code, body := board.Do("POST", "/v1/recipients/lansstyrelse-01/webhooks", map[string]any{"url": u})
		if code != http.StatusBadRequest || !contains(violatedFields(body), "webhook.url") {
			t.Errorf("%s: HTTP %d %v", u, code, body)
		}
	}
}
