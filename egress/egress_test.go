package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAddressGuard: every range of the IANA special-purpose registries that is
// not globally reachable, multicast, broadcast and deprecated IPv6 ranges are
// refused; IPv4 embedded in IPv6 is judged as IPv4; the registry's globally
// reachable exceptions and public addresses pass. AllowPrivate lets through
// loopback, private, shared, link-local and unique-local addresses only.
func TestAddressGuard(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want reach
	}{
		// IPv4 special-purpose registry.
		{"0.0.0.0", refused},         // this host on this network
		{"0.1.2.3", refused},         // this network
		{"10.1.2.3", local},          // private-use
		{"100.64.0.1", local},        // shared address space
		{"100.127.255.254", local},   // shared address space
		{"127.0.0.1", local},         // loopback
		{"127.255.255.254", local},   // loopback
		{"169.254.169.254", local},   // link local (cloud metadata)
		{"172.16.0.1", local},        // private-use
		{"172.31.255.255", local},    // private-use
		{"192.0.0.1", refused},       // IPv4 service continuity prefix
		{"192.0.0.8", refused},       // IPv4 dummy address
		{"192.0.0.9", global},        // PCP anycast, globally reachable
		{"192.0.0.10", global},       // TURN anycast, globally reachable
		{"192.0.0.11", refused},      // IETF protocol assignments
		{"192.0.0.170", refused},     // NAT64/DNS64 discovery
		{"192.0.0.171", refused},     // NAT64/DNS64 discovery
		{"192.0.0.255", refused},     // IETF protocol assignments
		{"192.0.2.1", refused},       // TEST-NET-1
		{"192.31.196.1", global},     // AS112-v4
		{"192.52.193.1", global},     // AMT
		{"192.88.99.1", refused},     // deprecated 6to4 relay anycast
		{"192.88.99.2", refused},     // 6a44-relay anycast
		{"192.168.1.1", local},       // private-use
		{"192.175.48.1", global},     // direct delegation AS112
		{"198.18.0.1", refused},      // benchmarking
		{"198.19.255.255", refused},  // benchmarking
		{"198.51.100.1", refused},    // TEST-NET-2
		{"203.0.113.1", refused},     // TEST-NET-3
		{"240.0.0.1", refused},       // reserved
		{"254.255.255.255", refused}, // reserved
		{"255.255.255.255", refused}, // limited broadcast
		{"224.0.0.1", refused},       // multicast
		{"239.255.255.250", refused}, // multicast
		// Public IPv4, including neighbours of special blocks.
		{"8.8.8.8", global},
		{"1.1.1.1", global},
		{"100.63.255.255", global},
		{"100.128.0.1", global},
		{"172.32.0.1", global},
		{"192.0.1.1", global},
		{"198.20.0.1", global},
		{"223.255.255.254", global},

		// IPv6 special-purpose registry.
		{"::", refused},                   // unspecified
		{"::1", local},                    // loopback
		{"::ffff:127.0.0.1", local},       // IPv4-mapped loopback
		{"::ffff:169.254.169.254", local}, // IPv4-mapped link local
		{"::ffff:10.0.0.1", local},        // IPv4-mapped private
		{"::ffff:0.0.0.0", refused},       // IPv4-mapped this host
		{"::ffff:198.18.0.1", refused},    // IPv4-mapped benchmarking
		{"::ffff:8.8.8.8", global},        // IPv4-mapped public
		{"64:ff9b::a9fe:a9fe", local},     // NAT64 of 169.254.169.254
		{"64:ff9b::7f00:1", local},        // NAT64 of 127.0.0.1
		{"64:ff9b::10.0.0.1", local},      // NAT64 of 10.0.0.1
		{"64:ff9b::c000:201", refused},    // NAT64 of 192.0.2.1
		{"64:ff9b::", refused},            // NAT64 of 0.0.0.0
		{"64:ff9b::808:808", global},      // NAT64 of 8.8.8.8
		{"64:ff9b::1.1.1.1", global},      // NAT64 of 1.1.1.1
		{"64:ff9b:1::808:808", refused},   // local-use NAT64, refused whole
		{"64:ff9b:1:a9fe:a9:fe00::", refused},
		{"100::1", refused},                               // discard-only
		{"100:0:0:1::1", refused},                         // dummy IPv6 prefix
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", refused}, // Teredo (RFC 4380's example, public server)
		{"2001:0:808:808:0:0:5601:5601", refused},         // Teredo, client 169.254.169.254 (bits inverted)
		{"2001:1::1", global},                             // PCP anycast
		{"2001:1::2", global},                             // TURN anycast
		{"2001:1::3", global},                             // DNS-SD SRP anycast
		{"2001:1::4", refused},                            // IETF protocol assignments
		{"2001:2::1", refused},                            // benchmarking
		{"2001:3::1", global},                             // AMT
		{"2001:4:112::1", global},                         // AS112-v6
		{"2001:5::1", refused},                            // IETF protocol assignments
		{"2001:10::1", refused},                           // deprecated ORCHID
		{"2001:20::1", global},                            // ORCHIDv2
		{"2001:30::1", global},                            // DETs
		{"2001:1ff:ffff::1", refused},                     // IETF protocol assignments
		{"2001:db8::1", refused},                          // documentation
		{"2002:a9fe:a9fe::1", refused},                    // 6to4 of 169.254.169.254
		{"2002:808:808::1", refused},                      // 6to4 of 8.8.8.8: refused whole
		{"2620:4f:8000::1", global},                       // direct delegation AS112
		{"3fff::1", refused},                              // documentation
		{"5f00::1", refused},                              // SRv6 SIDs
		{"fc00::1", local},                                // unique-local
		{"fd00::2", local},                                // unique-local
		{"fe80::1", local},                                // link-local
		{"fe80::1%eth0", local},                           // link-local with a zone
		{"fec0::1", refused},                              // site-local (deprecated)
		{"::7f00:1", refused},                             // IPv4-compatible 127.0.0.1
		{"::808:808", refused},                            // IPv4-compatible 8.8.8.8
		{"::a9fe:a9fe", refused},                          // IPv4-compatible 169.254.169.254
		{"ff02::1", refused},                              // multicast
		{"ff0e::1", refused},                              // multicast, global scope
		{"4000::1", refused},                              // outside 2000::/3
		{"1::1", refused},                                 // outside 2000::/3
		// Public IPv6.
		{"2606:4700::1111", global},
		{"2001:4860:4860::8888", global},
		{"2a00:1450:4001:80b::200e", global},
		{"2001:200::1", global}, // just past 2001::/23
	} {
		t.Run(tt.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			if got := reachOf(a); got != tt.want {
				t.Errorf("reachOf(%s) = %v, want %v", tt.addr, got, tt.want)
			}
			if got := allowed(a, false); got != (tt.want == global) {
				t.Errorf("allowed(%s) = %v, want %v", tt.addr, got, tt.want == global)
			}
			if got := allowed(a, true); got != (tt.want != refused) {
				t.Errorf("with AllowPrivate, allowed(%s) = %v, want %v", tt.addr, got, tt.want != refused)
			}
		})
	}
	if reachOf(netip.Addr{}) == global {
		t.Error("the zero address is public")
	}
}

func TestClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			_, _ = w.Write([]byte(strings.Repeat("x", 2048)))
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	ctx := context.Background()

	if _, _, err := New(Options{}).Get(ctx, srv.URL); !errors.Is(err, ErrBlocked) {
		t.Fatalf("loopback allowed by default: %v", err)
	}
	dev := New(Options{AllowPrivate: true, MaxBytes: 1024})
	if b, code, err := dev.Get(ctx, srv.URL); err != nil || code != 200 || string(b) != "ok" {
		t.Fatalf("dev client: %q %d %v", b, code, err)
	}
	if _, _, err := dev.Get(ctx, srv.URL+"/big"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("size limit: %v", err)
	}
}

// TestClientRefusesSpecialPurposeAddresses: the guard runs at dial time for
// literal addresses too, refusing embedded IPv4 and the special ranges before
// any packet leaves; with AllowPrivate, loopback is reached but 0.0.0.0
// (which Linux connects to the local host) is not.
func TestClientRefusesSpecialPurposeAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	ctx := context.Background()
	prod := New(Options{Timeout: 2 * time.Second})
	for _, u := range []string{
		"http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", // NAT64 of the metadata service
		"http://[::ffff:169.254.169.254]/",
		"http://[2002:a9fe:a9fe::1]/", // 6to4
		"http://[2001:0:808:808::5601:5601]/",
		"http://[::a9fe:a9fe]/",
		"http://[fec0::1]/",
		"http://198.18.0.1/",
		"http://192.0.0.1/",
		"http://0.0.0.0:" + port + "/",
	} {
		if _, _, err := prod.Get(ctx, u); !errors.Is(err, ErrBlocked) {
			t.Errorf("Get(%s): %v, want ErrBlocked", u, err)
		}
	}
	dev := New(Options{AllowPrivate: true, Timeout: 2 * time.Second})
	if b, _, err := dev.Get(ctx, srv.URL); err != nil || string(b) != "ok" {
		t.Fatalf("AllowPrivate does not reach loopback: %q %v", b, err)
	}
	for _, u := range []string{"http://0.0.0.0:" + port + "/", "http://198.18.0.1/", "http://192.0.2.1/"} {
		if _, _, err := dev.Get(ctx, u); !errors.Is(err, ErrBlocked) {
			t.Errorf("with AllowPrivate, Get(%s): %v, want ErrBlocked", u, err)
		}
	}
}

// tlsClient is a development client (loopback allowed) that trusts srv.
func tlsClient(srv *httptest.Server) *Client {
	c := New(Options{AllowPrivate: true, Timeout: 5 * time.Second})
	c.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	return c
}

// TestRedirectDowngradeRefused: a TLS server redirecting to plain http is
// not followed, and the plain server never sees the request; redirects that
// stay on https are followed.
func TestRedirectDowngradeRefused(t *testing.T) {
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		_, _ = w.Write([]byte("in clear"))
	}))
	defer plain.Close()
	var tlsURL string
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			http.Redirect(w, r, plain.URL+"/.well-known/openid-configuration", http.StatusFound)
		case "/twice":
			http.Redirect(w, r, tlsURL+"/down", http.StatusMovedPermanently)
		case "/up":
			http.Redirect(w, r, tlsURL+"/ok", http.StatusFound)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer secure.Close()
	tlsURL = secure.URL
	c := tlsClient(secure)
	ctx := context.Background()

	if b, code, err := c.Get(ctx, secure.URL+"/up"); err != nil || code != 200 || string(b) != "ok" {
		t.Fatalf("https -> https redirect: %q %d %v", b, code, err)
	}
	for _, path := range []string{"/down", "/twice"} {
		_, _, err := c.Get(ctx, secure.URL+path)
		if !errors.Is(err, ErrDowngrade) {
			t.Fatalf("%s: %v, want ErrDowngrade", path, err)
		}
		if got, want := Describe(err), "the server redirected from https to http, which is not allowed: a request made over https must stay on https"; got != want {
			t.Errorf("Describe = %q, want %q", got, want)
		}
	}
	if n := plainHits.Load(); n != 0 {
		t.Fatalf("the plain http server got %d requests", n)
	}
	// A plain http request may still be redirected to https.
	plainToTLS := httptest.NewServer(http.RedirectHandler(secure.URL+"/ok", http.StatusFound))
	defer plainToTLS.Close()
	if b, _, err := c.Get(ctx, plainToTLS.URL); err != nil || string(b) != "ok" {
		t.Fatalf("http -> https redirect: %q %v", b, err)
	}
}

// TestRedirectHopsAreGuarded: every redirect hop is dialled through the
// address guard, so a public server cannot bounce a fetch to a refused
// address (here 0.0.0.0, refused even with AllowPrivate).
func TestRedirectHopsAreGuarded(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bounce" {
			http.Redirect(w, r, "https://0.0.0.0:"+srv.URL[strings.LastIndex(srv.URL, ":")+1:]+"/ok", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	_, _, err := tlsClient(srv).Get(context.Background(), srv.URL+"/bounce")
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("redirect to 0.0.0.0: %v, want ErrBlocked", err)
	}
	if got := Describe(err); !strings.Contains(got, "not globally reachable") {
		t.Errorf("Describe = %q", got)
	}
}
