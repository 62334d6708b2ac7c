package domain

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/tia-platform/tia/services/platform/badrequest"
)

// WebhookPolicy is what CheckWebhookURL lets through besides public https
// URLs.
type WebhookPolicy struct {
	// PlainHTTP accepts http URLs (development mode).
	PlainHTTP bool
	// Allowed reports whether an IP literal host and port are on the
	// allow-list of development receivers (they may then be loopback or
	// private, and plain http).
	Allowed func(host, port string) bool
}

// CheckWebhookURL accepts an absolute https URL whose host is a public name
// or a public IP address written the usual way. It refuses loopback,
// private, link-local, multicast and unspecified addresses (also inside
// IPv6), the names that stand for them (localhost, the cloud metadata
// service, .internal), and the other spellings of IPv4 that resolvers
// accept (2130706433, 0177.0.0.1, 0x7f.1). The dialer checks the address
// again at every connection (dispatch.Guard): this check answers early.
func CheckWebhookURL(raw string, policy WebhookPolicy) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return badrequest.Field("url", "must be an absolute https URL")
	}
	if u.User != nil {
		return badrequest.Field("url", "must not carry credentials; the request is signed instead")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	allowed := policy.Allowed != nil && policy.Allowed(host, port)
	if u.Scheme == "http" && !policy.PlainHTTP && !allowed {
		return badrequest.Field("url", "must use https (plain http only for the development receivers of TIA_WEBHOOK_ALLOW_HOSTS)")
	}
	if allowed {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" || Forbidden(ip) {
			return badrequest.Field("url", "must name a public address, not a loopback, private, link-local, multicast or reserved one")
		}
		return nil
	}
	if legacyIPv4(host) {
		return badrequest.Field("url", "must write an IP address as four decimal numbers (a.b.c.d) or use a host name")
	}
	name := strings.TrimSuffix(host, ".")
	for _, bad := range []string{"localhost", "metadata", "metadata.google.internal", "instance-data"} {
		if name == bad {
			return badrequest.Field("url", "must name a public host, not "+name)
		}
	}
	for _, suffix := range []string{".localhost", ".internal", ".local", ".localdomain", ".home.arpa", ".in-addr.arpa", ".ip6.arpa"} {
		if strings.HasSuffix(name, suffix) {
			return badrequest.Field("url", "must name a public host, not one under "+suffix)
		}
	}
	return nil
}

// legacyIPv4 reports whether host is a numeric spelling of an IPv4 address
// that inet_aton accepts (one to four parts, each decimal, octal with a
// leading 0 or hex with 0x): every host name made of such parts is refused,
// so "2130706433", "0177.0.0.1", "0x7f.1" and "127.1" never reach a
// resolver.
func legacyIPv4(host string) bool {
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	if len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		digits, base := p, 10
		switch {
		case strings.HasPrefix(p, "0x"):
			digits, base = p[2:], 16
		case len(p) > 1 && p[0] == '0':
			digits, base = p[1:], 8
		}
		if digits == "" && base == 16 {
			return true // "0x" alone is 0 to inet_aton
		}
		if _, err := strconv.ParseUint(digits, base, 64); err != nil {
			return false
		}
	}
	return true
}

// forbiddenRanges are the networks that are not the public internet,
// besides what netip's predicates cover.
var forbiddenRanges = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",         // "this network"
		"100.64.0.0/10",     // carrier-grade NAT (RFC 6598)
		"192.0.0.0/24",      // IETF protocol assignments
		"192.0.2.0/24",      // documentation
		"198.18.0.0/15",     // benchmarking
		"198.51.100.0/24",   // documentation
		"203.0.113.0/24",    // documentation
		"240.0.0.0/4",       // reserved, and the broadcast address
		"64:ff9b::/96",      // NAT64: an IPv4 address behind a translator
		"64:ff9b:1::/48",    // local NAT64
		"100::/64",          // discard
		"2001::/23",         // IETF protocol assignments (Teredo, ORCHID…)
		"2001:db8::/32",     // documentation
		"2002::/16",         // 6to4: an IPv4 address inside
		"fc00::/7",          // unique local
		"fec0::/10",         // site-local (deprecated)
		"::/128", "::1/128", // unspecified, loopback
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Forbidden reports whether ip is anything but a public unicast address:
// loopback, private (RFC 1918, fc00::/7), link-local (169.254/16 with the
// cloud metadata address, fe80::/10), multicast, unspecified, CGNAT,
// reserved, or an IPv4 address wrapped in IPv6.
func Forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	if ip.Is6() && (ip.Is4In6() || strings.HasPrefix(ip.StringExpanded(), "0000:0000:0000:0000:0000:0000")) {
		return true // IPv4-compatible ::a.b.c.d
	}
	for _, p := range forbiddenRanges {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
