package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/notification/internal/store"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
)

// countingListener is a loopback listener that counts the connections it
// accepts.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int64{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = l.Close() })
	return l.Addr().String(), accepted
}

// fakeDNS resolves the test's names without any DNS traffic: each of them
// to loopback, as an attacker's name (or a rebinding one) would, and a bare
// number the way inet_aton reads it.
func fakeDNS(_ context.Context, host string) ([]netip.Addr, error) {
	switch host {
	case "localhost", "rebind.example.org", "metadata.google.internal", "2130706433":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	case "mapped.example.org":
		return []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestNoRequestForgery: webhooks stored with every kind of address that
// lands on this host (loopback literals, IPv4-mapped IPv6, 0.0.0.0, a
// decimal IP, names resolving to loopback, a redirect from an allowed
// receiver) are dead-lettered as "refused" after one try, and the loopback
// listener they all point at accepts no connection.
func TestNoRequestForgery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		st := open(t, dsn)
		target, accepted := countingListener(t)
		_, port, _ := net.SplitHostPort(target)

		// An allow-listed receiver that redirects to the target.
		redirector, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var redirected atomic.Int64
		srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			redirected.Add(1)
			http.Redirect(w, r, "http://"+target+"/inside", http.StatusTemporaryRedirect)
		})}
		go func() { _ = srv.Serve(redirector) }()
		t.Cleanup(func() { _ = srv.Close() })

		guard := allow(t, redirector.Addr().String())
		guard.Lookup = fakeDNS
		sender := NewWebhookSender(2*time.Second, guard)
		d := New(st, nil, sender, func(store.Message) ([]byte, error) { return []byte("{}"), nil },
			Config{MaxAttempts: 5, BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond}, slog.Default())

		urls := map[string]string{
			"loopback":        "http://127.0.0.1:" + port + "/",
			"loopback-https":  "https://127.0.0.1:" + port + "/",
			"mapped-literal":  "http://[::ffff:127.0.0.1]:" + port + "/",
			"unspecified":     "http://0.0.0.0:" + port + "/",
			"decimal":         "http://2130706433:" + port + "/",
			"localhost":       "http://localhost:" + port + "/",
			"metadata":        "http://metadata.google.internal:" + port + "/",
			"rebinding":       "https://rebind.example.org:" + port + "/",
			"mapped-dns":      "https://mapped.example.org:" + port + "/",
			"redirect-inside": "http://" + redirector.Addr().String() + "/",
		}
		for id, u := range urls {
			hook := store.Webhook{Recipient: "lansstyrelse-01", ID: id, URL: u, Secret: NewSecret(), CreateTime: time.Now().UTC().Format(time.RFC3339Nano)}
			createWebhook(t, st, hook)
			queue(t, st, "m-"+id, "", hook)
		}
		runUntil(t, d, "every delivery dead-lettered or failed", func() bool {
			for id := range urls {
				dl := deliveries(t, st, "lansstyrelse-01", "m-"+id)["webhook"]
				if dl.Attempts == 0 {
					return false
				}
			}
			return true
		})
		for id := range urls {
			dl := deliveries(t, st, "lansstyrelse-01", "m-"+id)["webhook"]
			want := "refused"
			if id == "redirect-inside" {
				want = "failed: HTTP 3xx" // the redirect is not followed
			}
			if dl.LastError != want {
				t.Errorf("%s: last error %q, want %q", id, dl.LastError, want)
			}
			if id != "redirect-inside" && (dl.State != store.StateDeadLettered || dl.Attempts != 1) {
				t.Errorf("%s: %s after %d tries, want dead-lettered after 1", id, dl.State, dl.Attempts)
			}
			if strings.Contains(dl.LastError, "127.0.0.1") || strings.Contains(dl.LastError, port) {
				t.Errorf("%s: last error %q names the target", id, dl.LastError)
			}
		}
		if n := accepted.Load(); n != 0 {
			t.Fatalf("the loopback listener accepted %d connections", n)
		}
		if redirected.Load() == 0 {
			t.Fatal("the allow-listed receiver was not called")
		}
	})
}

// TestGuardRefusesEveryClass: the dial-time check refuses each forbidden
// class before a packet leaves (the Control hook runs before connect), and
// lets public and allow-listed addresses through.
func TestGuardRefusesEveryClass(t *testing.T) {
	g := NewGuard([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:8443")})
	for _, addr := range []string{
		"127.0.0.1:443", "127.0.0.1:8444", "10.0.0.1:443", "172.31.255.255:443", "192.168.0.1:443", "169.254.169.254:80",
		"100.64.0.1:443", "0.0.0.0:443", "224.0.0.251:443", "[::1]:443", "[::ffff:127.0.0.1]:443", "[::ffff:169.254.169.254]:80",
		"[fe80::1]:443", "[fd00::1]:443", "[ff02::1]:443", "[::]:443",
	} {
		if err := g.control("tcp", addr, nil); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused", addr, err)
		}
	}
	for _, addr := range []string{"93.184.215.14:443", "[2606:4700:4700::1111]:443", "127.0.0.1:8443"} {
		if err := g.control("tcp", addr, nil); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if _, err := ParseAllowList("localhost:8443"); err == nil {
		t.Error("a host name in the allow-list is accepted")
	}
}
