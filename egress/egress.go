// Package egress makes the API's outbound HTTP requests (identity provider
// documents, webhook deliveries) safe to point at tenant-supplied URLs: a
// timeout, a response size limit, no proxies from the environment, and no
// connections to loopback, private, link-local or other non-public
// addresses, checked on the address actually dialled (so DNS rebinding and
// redirects cannot reach them) unless AllowPrivate is set for development.
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
	Timeout      time.Duration // whole request, default 10s
	MaxBytes     int64         // response body limit, default 1 MiB
	AllowPrivate bool          // allow non-public addresses (development and tests only)
}

// Client is an outbound HTTP client with the safety rules above.
type Client struct {
	HTTP     *http.Client
	MaxBytes int64
}

// ErrBlocked is returned when a URL resolves to a non-public address.
var ErrBlocked = errors.New("egress: destination address is not public")

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Public reports whether addr is a public unicast address.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap()
	return addr.IsGlobalUnicast() && !addr.IsPrivate() && !cgnat.Contains(addr) &&
		!addr.IsLoopback() && !addr.IsLinkLocalUnicast()
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
		Control: func(network, address string, _ syscall.RawConn) error {
			if o.AllowPrivate {
				return nil
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !Public(ap.Addr()) {
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
		return "the URL resolves to a private, loopback or link-local address, which is not allowed"
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
