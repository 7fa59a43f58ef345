package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Sender sends notices by SMTP, or writes them as .eml files when it has no
// SMTP server.
type Sender struct {
	from   *mail.Address
	server *url.URL // nil: write files into dir
	dir    string
	// TLS is the base TLS configuration (nil: the system's roots, which
	// SSL_CERT_FILE extends); tests trust their own server's certificate
	// here.
	TLS *tls.Config
	// Now is the clock of the Date header.
	Now func() time.Time
}

// ParseFrom reads MAIL_FROM: an address, optionally with a display name
// (`Tenant API <noreply@example.com>`).
func ParseFrom(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, errors.New("must be an email address such as noreply@example.com or \"Tenant API <noreply@example.com>\"")
	}
	return a, nil
}

// ParseServer reads SMTP_URL: smtp://[user:password@]host[:port] (port 587
// by default, STARTTLS required), smtps://[user:password@]host[:port] (465,
// implicit TLS) or smtp+insecure://host[:port] (25, no TLS and no
// password: a relay on the same host or network, such as a development
// mail catcher). Its errors never repeat the URL, which may hold a password.
func ParseServer(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps" && u.Scheme != "smtp+insecure") || u.Hostname() == "" || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("must be smtp://[user:password@]host[:port] (STARTTLS), smtps://[user:password@]host[:port] (TLS) or smtp+insecure://host[:port] (a local relay, no password)")
	}
	if u.Scheme == "smtp+insecure" && u.User != nil {
		return nil, errors.New("must not carry a user or password with smtp+insecure://: they would travel in clear (use smtp:// with STARTTLS or smtps://)")
	}
	return u, nil
}

// New returns a Sender from from (MAIL_FROM) through server (SMTP_URL, ""
// for none: files into dir, MAIL_DIR).
func New(server, from, dir string) (*Sender, error) {
	f, err := ParseFrom(from)
	if err != nil {
		return nil, fmt.Errorf("MAIL_FROM %w", err)
	}
	s := &Sender{from: f, dir: dir, Now: time.Now}
	if server != "" {
		if s.server, err = ParseServer(server); err != nil {
			return nil, fmt.Errorf("SMTP_URL %w", err)
		}
	}
	return s, nil
}

// Where says where mail goes, without credentials: `smtp://host:587` or
// `files in .data/mail`.
func (s *Sender) Where() string {
	if s.server == nil {
		return "files in " + s.dir
	}
	return s.server.Scheme + "://" + s.addr()
}

func (s *Sender) addr() string {
	port := s.server.Port()
	if port == "" {
		port = "587"
		switch s.server.Scheme {
		case "smtps":
			port = "465"
		case "smtp+insecure":
			port = "25"
		}
	}
	return net.JoinHostPort(s.server.Hostname(), port)
}

// Result is what one attempt did.
type Result struct {
	Delivered bool
	Error     string // why not, safe to show the tenant; "" when delivered
	// Reply is the server's answer to the message, or where the file was
	// written.
	Reply string
	Path  string // the .eml file written, with no SMTP server
}

// Send delivers n to the address to, within ctx's deadline. Whatever
// fails (a refused connection, TLS, an SMTP 4xx or 5xx) comes back in the
// Result, never with credentials; an error is the sender's own fault.
func (s *Sender) Send(ctx context.Context, to string, n *Notice) (*Result, error) {
	msg, err := Compose(s.from, to, n, s.Now())
	if err != nil {
		return nil, fmt.Errorf("mail: composing: %w", err)
	}
	if s.server == nil {
		return s.write(n.EventID, msg)
	}
	reply, err := s.smtp(ctx, to, msg)
	if err != nil {
		return &Result{Error: describe(err)}, nil
	}
	return &Result{Delivered: true, Reply: reply}, nil
}

// write stores msg as <dir>/<event id>-<n>.eml, n the first number free.
func (s *Sender) write(eventID string, msg []byte) (*Result, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	for i := 1; i < 1000; i++ {
		path := filepath.Join(s.dir, fmt.Sprintf("%s-%d.eml", eventID, i))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		_, err = f.Write(msg)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		return &Result{Delivered: true, Reply: "written to " + path, Path: path}, nil
	}
	return nil, fmt.Errorf("mail: too many files for event %s in %s", eventID, s.dir)
}

// smtp sends msg to one recipient and returns the server's reply.
func (s *Sender) smtp(ctx context.Context, to string, msg []byte) (string, error) {
	tc := &tls.Config{}
	if s.TLS != nil {
		tc = s.TLS.Clone()
	}
	tc.ServerName = s.server.Hostname()
	var d net.Dialer
	var conn net.Conn
	var err error
	if s.server.Scheme == "smtps" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tc}).DialContext(ctx, "tcp", s.addr())
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr())
	}
	if err != nil {
		return "", err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	var c *smtp.Client
	if s.server.Scheme == "smtp" {
		// STARTTLS is required: the message (and a password) never travels in clear.
		if c, err = smtp.NewClientStartTLS(conn, tc); err != nil {
			_ = conn.Close()
			return "", err
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if u := s.server.User; u != nil {
		pw, _ := u.Password()
		if err := c.Auth(sasl.NewPlainClient("", u.Username(), pw)); err != nil {
			return "", err
		}
	}
	if err := c.Mail(s.from.Address, nil); err != nil {
		return "", err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return "", err
	}
	w, err := c.Data()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(msg); err != nil {
		return "", err
	}
	res, err := w.CloseWithResponse()
	if err != nil {
		return "", err
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return strings.TrimSpace("250 " + res.StatusText), nil
}

// describe turns a failure into a message for the delivery log.
func describe(err error) string {
	var se *smtp.SMTPError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		kind := "refused"
		if se.Temporary() {
			kind = "deferred"
		}
		return fmt.Sprintf("the SMTP server %s the message: %d %s", kind, se.Code, se.Message)
	case strings.Contains(err.Error(), "STARTTLS"):
		return "the SMTP server does not offer STARTTLS; nothing is sent in clear (use smtps:// or a server with STARTTLS, or smtp+insecure:// for a local relay without a password)"
	case errors.As(err, &ne) && ne.Timeout():
		return "the SMTP server did not answer in time"
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return "TLS: the SMTP server's certificate is not trusted: " + ce.Err.Error()
	}
	return "SMTP: " + err.Error()
}
