package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tia-platform/tia/services/notification/internal/domain"
)

// Guard keeps the webhook sender from being used to reach inside: a
// subscriber chooses the URL, so without it the server would connect to
// whatever the URL names — its own loopback, the cluster's private network,
// the cloud's metadata endpoint — and the delivery error would tell the
// subscriber what answered (server-side request forgery).
//
// The check is made on the address actually dialled, in the dialer's
// Control hook, after name resolution: a name that resolves to a private
// address (or is re-pointed there after the URL was accepted, DNS
// rebinding) is refused as surely as an IP literal, and so is every hop of
// a redirect (the sender follows none anyway). The URL check at creation
// (domain.CheckWebhookURL) only gives the subscriber an early, clear answer.
type Guard struct {
	// allow are the "ip:port" addresses that may be dialled although they
	// are not public: development receivers on loopback, named one by one
	// (TIA_WEBHOOK_ALLOW_HOSTS).
	allow map[netip.AddrPort]bool
	// Lookup resolves a host name (default: the system resolver). Tests
	// point names at loopback with it; the Control check does not depend on
	// it.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	dialer net.Dialer
}

// ErrRefused is the error of a dial the Guard refused.
var ErrRefused = errors.New("refused: the address is not a public one")

// NewGuard returns a guard that lets through public unicast addresses and
// the allow-listed "ip:port" pairs.
func NewGuard(allow []netip.AddrPort) *Guard {
	g := &Guard{allow: map[netip.AddrPort]bool{}}
	for _, a := range allow {
		g.allow[netip.AddrPortFrom(a.Addr().Unmap(), a.Port())] = true
	}
	g.dialer = net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	return g
}

// ParseAllowList reads a comma-separated list of "ip:port" pairs; host
// names are not accepted, since what is allowed is an address.
func ParseAllowList(s string) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ap, err := netip.ParseAddrPort(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an ip:port pair (for example 127.0.0.1:8443)", part)
		}
		out = append(out, ap)
	}
	return out, nil
}

// Allowed reports whether host:port (an IP literal and a port) is on the
// allow-list.
func (g *Guard) Allowed(host string, port string) bool {
	if g == nil {
		return false
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return false
	}
	return g.allow[netip.AddrPortFrom(ip.Unmap(), uint16(p))]
}

// control runs on every socket before it connects, with the resolved
// address.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return ErrRefused
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if g.allow[ap] {
		return nil
	}
	if domain.Forbidden(ap.Addr()) {
		return ErrRefused
	}
	return nil
}

// DialContext resolves addr's host and dials its addresses in turn; each
// dial passes the Control check.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		lookup := g.Lookup
		if lookup == nil {
			lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		if ips, err = lookup(ctx, host); err != nil {
			return nil, err
		}
	}
	var errs []error
	for _, ip := range ips {
		conn, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("%s resolves to no address", host)
	}
	return nil, errors.Join(errs...)
}
