// Package egress makes the API's outbound HTTP requests (identity provider
// documents, webhook deliveries) safe to point at tenant-supplied URLs: a
// timeout, a response size limit, no proxies from the environment, no
// connections to addresses that are not globally reachable (loopback,
// private, link-local and every other range the IANA special-purpose
// registries mark so, IPv4 embedded in IPv6 judged as IPv4), checked on the
// address actually dialled (so DNS rebinding and redirects cannot reach them)
// unless AllowPrivate is set for development, and no redirect from https to
// http.
package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Options configure a Client.
type Options struct {
	Timeout  time.Duration // whole request, default 10s
	MaxBytes int64         // response body limit, default 1 MiB
	// AllowPrivate also allows loopback, private-use, shared (100.64.0.0/10),
	// link-local and unique-local addresses: development and tests only.
	// Every other address that is not globally reachable stays refused.
	AllowPrivate bool
}

// Client is an outbound HTTP client with the safety rules above.
type Client struct {
	HTTP     *http.Client
	MaxBytes int64
}

// ErrBlocked is returned when a URL resolves to a non-public address.
var ErrBlocked = errors.New("egress: destination address is not public")

// ErrDowngrade is returned when a redirect would leave TLS: a request made
// over https never continues over http.
var ErrDowngrade = errors.New("egress: redirect from https to http refused")

// reach is what the guard makes of an address.
type reach int

const (
	refused reach = iota // never dialled
	local                // loopback, private, shared, link-local, unique-local: dialled only with AllowPrivate
	global               // globally reachable
)

// special lists the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (as of 2025-10) with their "Globally Reachable" value, plus the ranges
// the registries leave to others (multicast, deprecated IPv6 ranges). The
// most specific prefix containing an address decides, so the registry's
// globally reachable exceptions inside refused blocks (192.0.0.9/32 in
// 192.0.0.0/24, 2001:3::/32 in 2001::/23, …) stay reachable. Entries the
// registry marks N/A or leaves empty are refused.
var special = func() map[netip.Prefix]reach {
	m := map[netip.Prefix]reach{}
	for _, e := range []struct {
		prefix string
		reach  reach
	}{
		// IANA IPv4 Special-Purpose Address Registry.
		{"0.0.0.0/8", refused},          // "This network", RFC 791 §3.2
		{"0.0.0.0/32", refused},         // "This host on this network", RFC 1122 §3.2.1.3
		{"10.0.0.0/8", local},           // Private-Use, RFC 1918
		{"100.64.0.0/10", local},        // Shared Address Space, RFC 6598
		{"127.0.0.0/8", local},          // Loopback, RFC 1122 §3.2.1.3
		{"169.254.0.0/16", local},       // Link Local, RFC 3927 (cloud metadata services live here)
		{"172.16.0.0/12", local},        // Private-Use, RFC 1918
		{"192.0.0.0/24", refused},       // IETF Protocol Assignments, RFC 6890 §2.1
		{"192.0.0.0/29", refused},       // IPv4 Service Continuity Prefix, RFC 7335
		{"192.0.0.8/32", refused},       // IPv4 dummy address, RFC 7600
		{"192.0.0.9/32", global},        // Port Control Protocol Anycast, RFC 7723
		{"192.0.0.10/32", global},       // Traversal Using Relays around NAT Anycast, RFC 8155
		{"192.0.0.170/32", refused},     // NAT64/DNS64 Discovery, RFC 8880, RFC 7050 §2.2
		{"192.0.0.171/32", refused},     // NAT64/DNS64 Discovery, RFC 8880, RFC 7050 §2.2
		{"192.0.2.0/24", refused},       // Documentation (TEST-NET-1), RFC 5737
		{"192.31.196.0/24", global},     // AS112-v4, RFC 7535
		{"192.52.193.0/24", global},     // AMT, RFC 7450
		{"192.88.99.0/24", refused},     // Deprecated (6to4 Relay Anycast), RFC 7526: no value
		{"192.88.99.2/32", refused},     // 6a44-relay anycast address, RFC 6751
		{"192.168.0.0/16", local},       // Private-Use, RFC 1918
		{"192.175.48.0/24", global},     // Direct Delegation AS112 Service, RFC 7534
		{"198.18.0.0/15", refused},      // Benchmarking, RFC 2544
		{"198.51.100.0/24", refused},    // Documentation (TEST-NET-2), RFC 5737
		{"203.0.113.0/24", refused},     // Documentation (TEST-NET-3), RFC 5737
		{"240.0.0.0/4", refused},        // Reserved, RFC 1112 §4
		{"255.255.255.255/32", refused}, // Limited Broadcast, RFC 8190, RFC 919 §7
		// IPv4 Multicast Address Space Registry.
		{"224.0.0.0/4", refused}, // Multicast, RFC 5771

		// IANA IPv6 Special-Purpose Address Registry. ::ffff:0:0/96
		// (IPv4-mapped, RFC 4291) and 64:ff9b::/96 (IPv4-IPv6 Translat.,
		// RFC 6052, globally reachable) are decoded before the lookup.
		{"::/128", refused},           // Unspecified Address, RFC 4291
		{"::1/128", local},            // Loopback Address, RFC 4291
		{"64:ff9b:1::/48", refused},   // IPv4-IPv6 Translat. (local use), RFC 8215: the embedding length is the site's choice
		{"100::/64", refused},         // Discard-Only Address Block, RFC 6666
		{"100:0:0:1::/64", refused},   // Dummy IPv6 Prefix, RFC 9780
		{"2001::/23", refused},        // IETF Protocol Assignments, RFC 2928
		{"2001::/32", refused},        // TEREDO, RFC 4380, RFC 8190: N/A
		{"2001:1::1/128", global},     // Port Control Protocol Anycast, RFC 7723
		{"2001:1::2/128", global},     // Traversal Using Relays around NAT Anycast, RFC 8155
		{"2001:1::3/128", global},     // DNS-SD Service Registration Protocol Anycast, RFC 9665
		{"2001:2::/48", refused},      // Benchmarking, RFC 5180, RFC Errata 1752
		{"2001:3::/32", global},       // AMT, RFC 7450
		{"2001:4:112::/48", global},   // AS112-v6, RFC 7535
		{"2001:10::/28", refused},     // Deprecated (previously ORCHID), RFC 4843
		{"2001:20::/28", global},      // ORCHIDv2, RFC 7343
		{"2001:30::/28", global},      // Drone Remote ID Protocol Entity Tags (DETs) Prefix, RFC 9374
		{"2001:db8::/32", refused},    // Documentation, RFC 3849
		{"2002::/16", refused},        // 6to4, RFC 3056: N/A
		{"2620:4f:8000::/48", global}, // Direct Delegation AS112 Service, RFC 7534
		{"3fff::/20", refused},        // Documentation, RFC 9637
		{"5f00::/16", refused},        // Segment Routing (SRv6) SIDs, RFC 9602
		{"fc00::/7", local},           // Unique-Local, RFC 4193, RFC 8190
		{"fe80::/10", local},          // Link-Local Unicast, RFC 4291
		// Outside the registry: deprecated or multicast.
		{"::/96", refused},     // IPv4-compatible, deprecated, RFC 4291 §2.5.5.1
		{"fec0::/10", refused}, // Site-local, deprecated, RFC 3879
		{"ff00::/8", refused},  // Multicast, RFC 4291 §2.7
	} {
		p := netip.MustParsePrefix(e.prefix)
		if _, dup := m[p]; dup || p != p.Masked() {
			panic("egress: special-purpose table entry repeated or not masked: " + e.prefix)
		}
		m[p] = e.reach
	}
	return m
}()

var (
	nat64         = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052 well-known prefix
	globalUnicast = netip.MustParsePrefix("2000::/3")     // RFC 4291 §2.4; the rest of IPv6 is reserved by the IETF
)

// reachOf judges addr: IPv4 embedded in IPv6 (mapped, or behind the NAT64
// well-known prefix) is judged as the IPv4 address it reaches; otherwise the
// most specific special-purpose prefix decides; other IPv4 addresses are
// global, other IPv6 addresses only inside 2000::/3. 6to4 (2002::/16),
// Teredo (2001::/32), local-use NAT64 (64:ff9b:1::/48) and IPv4-compatible
// (::/96) addresses are refused whole, whatever IPv4 address they carry.
func reachOf(addr netip.Addr) reach {
	addr = addr.WithZone("") // a zoned address matches no prefix
	if !addr.IsValid() {
		return refused
	}
	if addr.Is4In6() {
		return reachOf(addr.Unmap())
	}
	if nat64.Contains(addr) {
		b := addr.As16()
		return reachOf(netip.AddrFrom4([4]byte(b[12:])))
	}
	for bits := addr.BitLen(); bits >= 0; bits-- {
		p, _ := addr.Prefix(bits)
		if r, ok := special[p]; ok {
			return r
		}
	}
	if addr.Is4() || globalUnicast.Contains(addr) {
		return global
	}
	return refused
}

// allowed reports whether the guard lets a connection to addr through.
func allowed(addr netip.Addr, allowPrivate bool) bool {
	r := reachOf(addr)
	return r == global || allowPrivate && r == local
}

// New returns a Client.
func New(o Options) *Client {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 1 << 20
	}
	dialer := &net.Dialer{
		Timeout: o.Timeout,
		// Control runs for every connection, redirects included, on the
		// address actually dialled, after name resolution.
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !allowed(ap.Addr(), o.AllowPrivate) {
				return fmt.Errorf("%w: %s", ErrBlocked, address)
			}
			return nil
		},
	}
	tr := &http.Transport{
		Proxy:                 nil, // never route through an environment proxy
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
	}
	return &Client{
		HTTP: &http.Client{
			Transport: tr,
			Timeout:   o.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 3 {
					return errors.New("egress: too many redirects")
				}
				// Once a request went over TLS, no hop may continue in clear.
				for _, v := range via {
					if v.URL.Scheme == "https" && req.URL.Scheme != "https" {
						return ErrDowngrade
					}
				}
				return nil
			},
		},
		MaxBytes: o.MaxBytes,
	}
}

// ErrTooLarge is returned when a response body exceeds MaxBytes.
var ErrTooLarge = errors.New("egress: response too large")

// Get fetches url and returns its body (at most MaxBytes) and status code.
func (c *Client) Get(ctx context.Context, url string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := ReadLimited(resp.Body, c.MaxBytes)
	return body, resp.StatusCode, err
}

// ReadLimited reads r to the end, failing with ErrTooLarge past max bytes.
func ReadLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, ErrTooLarge
	}
	return b, nil
}

// Describe turns an outbound error into a short message safe to store and
// show to the tenant (no internal addresses beyond what they configured).
func Describe(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrBlocked):
		return "the URL resolves to a private, loopback or link-local address or another address that is not globally reachable, which is not allowed"
	case errors.Is(err, ErrDowngrade):
		return "the server redirected from https to http, which is not allowed: a request made over https must stay on https"
	case errors.Is(err, ErrTooLarge):
		return "the response is larger than the allowed size"
	case errors.As(err, &ne) && ne.Timeout():
		return "the request timed out"
	case errors.Is(err, context.DeadlineExceeded):
		return "the request timed out"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "the host name does not resolve"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return "the connection failed"
	}
	return "the request failed"
}
