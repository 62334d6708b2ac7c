// Package resttest calls the REST edge in tests, the same way whether the
// platform runs in one process or as separate binaries.
package resttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/auth"
)

// Client calls the edge at Base as the actor whose bearer token is Token
// (anonymous when empty). Failures to talk to the edge fail the test, but
// for Try's.
type Client struct {
	T     testing.TB
	Base  string
	Token string
	// HTTP sends the requests; nil: a shared client with a 60 s timeout.
	HTTP *http.Client
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// As is a client of the edge at base for pr, with a token that token makes
// for it; anonymous when pr is nil.
func As(t testing.TB, base string, token func(auth.Principal) (string, error), pr *auth.Principal) Client {
	t.Helper()
	c := Client{T: t, Base: base}
	if pr != nil {
		tok, err := token(*pr)
		if err != nil {
			t.Fatal(err)
		}
		c.Token = tok
	}
	return c
}

// Send sends body (none when nil) with the headers given as name, value
// pairs (a pair with an empty value is left out) and returns the response
// as it came, its body unread and closed with the test.
func (c Client) Send(method, path string, body io.Reader, header ...string) *http.Response {
	c.T.Helper()
	resp, err := c.request(method, path, body, header)
	if err != nil {
		c.T.Fatal(err)
	}
	c.T.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Read sends as Send does and returns the status, the content type and the
// body.
func (c Client) Read(method, path string, body io.Reader, header ...string) (int, string, []byte) {
	c.T.Helper()
	resp, raw, err := c.Try(method, path, body, header...)
	if err != nil {
		c.T.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

// Try sends as Send does and returns the response with its body read, or
// why there is none, without failing the test: for requests whose failure
// is what a test counts (hostile input, load under faults), also from
// goroutines other than the test's. It does not use T.
func (c Client) Try(method, path string, body io.Reader, header ...string) (*http.Response, []byte, error) {
	resp, err := c.request(method, path, body, header)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, raw, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return resp, raw, nil
}

func (c Client) request(method, path string, body io.Reader, header []string) (*http.Response, error) {
	req, err := http.NewRequest(method, c.Base+path, body)
	if err != nil {
		return nil, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	client := c.HTTP
	if client == nil {
		client = httpClient
	}
	return client.Do(req)
}

// Do sends body as JSON and returns the status and, for a JSON answer, the
// decoded body.
func (c Client) Do(method, path string, body any) (int, map[string]any) {
	c.T.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	code, contentType, raw := c.Read(method, path, rd)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(contentType, "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.T.Fatalf("%s %s: body is not JSON: %s", method, path, raw)
		}
	}
	return code, out
}

// Inbox polls recipient's inbox until it holds n messages on topic (any
// topic when empty), and returns those. It fails the test after 20 seconds:
// the messages come through the outbox and the event bus.
func (c Client) Inbox(recipient, topic string, n int) []any {
	c.T.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := c.Do("GET", "/v1/recipients/"+recipient+"/messages", nil)
		if code != http.StatusOK {
			c.T.Fatalf("inbox: HTTP %d %v", code, body)
		}
		all, _ := body["messages"].([]any)
		var msgs []any
		for _, m := range all {
			if m, ok := m.(map[string]any); ok && (topic == "" || m["topic"] == topic) {
				msgs = append(msgs, m)
			}
		}
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			c.T.Fatalf("inbox of %s has %d messages on %q, want %d (all: %v)", recipient, len(msgs), topic, n, all)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// VerticalSlice is the platform's slice through the REST edge, the same in
// one process and as separate binaries: org's organiser (registered
// already) creates an activity in Solna (0184); anyone finds it in the
// public list and reads it; the county board of Stockholm learns of it in
// its inbox, through the event bus, and the county board of Skåne may not
// read that inbox and gets nothing in its own. It returns the activity's
// name.
func VerticalSlice(organiser, anyone, stockholm, skane Client, org string) string {
	t := organiser.T
	t.Helper()
	code, created := organiser.Do("POST", "/v1/organisers/"+org+"/activities", ActivityBody("0184"))
	if code != http.StatusOK {
		t.Fatalf("create: HTTP %d %v", code, created)
	}
	name, _ := created["name"].(string)
	if !strings.HasPrefix(name, "organisers/"+org+"/activities/") || created["lanCode"] != "01" {
		t.Fatalf("created = %v", created)
	}
	code, list := anyone.Do("GET", "/v1/organisers/-/activities?filter="+url.QueryEscape(`kommun_code = "0184"`), nil)
	if code != http.StatusOK {
		t.Fatalf("public list: HTTP %d %v", code, list)
	}
	if acts, _ := list["activities"].([]any); len(acts) != 1 || acts[0].(map[string]any)["name"] != name {
		t.Fatalf("public list = %v", list)
	}
	if code, got := anyone.Do("GET", "/v1/"+name, nil); code != http.StatusOK || got["kommunCode"] != "0184" {
		t.Fatalf("public get: HTTP %d %v", code, got)
	}
	// The organiser's registration (which names a contact for län 01) may
	// reach the inbox too, in either order.
	if m := stockholm.Inbox("lansstyrelse-01", "activity.registered", 1)[0].(map[string]any); m["subjectResource"] != name {
		t.Fatalf("inbox message = %v", m)
	}
	if code, body := skane.Do("GET", "/v1/recipients/lansstyrelse-01/messages", nil); code != http.StatusForbidden {
		t.Fatalf("other county board: HTTP %d %v, want 403", code, body)
	}
	if msgs := skane.Inbox("lansstyrelse-12", "", 0); len(msgs) != 0 {
		t.Fatalf("Skåne's inbox got %v", msgs)
	}
	return name
}

// ViolatedFields lists the fields named by a 400 body's BadRequest details.
func ViolatedFields(body map[string]any) []string {
	var fields []string
	details, _ := body["details"].([]any)
	for _, d := range details {
		dm, _ := d.(map[string]any)
		fvs, _ := dm["fieldViolations"].([]any)
		for _, fv := range fvs {
			if m, ok := fv.(map[string]any); ok {
				if f, ok := m["field"].(string); ok {
					fields = append(fields, f)
				}
			}
		}
	}
	return fields
}

// ActivityBody is a valid activity in kommun, as REST JSON.
func ActivityBody(kommun string) map[string]any {
	return map[string]any{
		"title": "Svenska för nybörjare", "kommunCode": kommun, "focus": []string{"FOCUS_SWEDISH"},
		"capacity": 20, "startDate": "2026-01-10", "endDate": "2026-06-30",
	}
}
