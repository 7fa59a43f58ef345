// Package mail turns a tenant's events into email and sends it: over SMTP
// (SMTP_URL: STARTTLS on smtp://, implicit TLS on smtps://) or, with no
// SMTP_URL, as .eml files in a directory (MAIL_DIR), so a development
// server shows what it would send. The delivery worker (delivery/) calls
// Sender.Send once per event and recipient, retrying failures on the
// webhook schedule and logging each attempt.
package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"
)

// Notice is what one message tells: one event of one tenant.
type Notice struct {
	TenantID   string
	TenantName string
	EventID    string
	EventType  string // the wire name (subscription.changed)
	OccurredAt time.Time
	Payload    json.RawMessage
	// BaseURL is where people reach this API (PUBLIC_URL), for links
	// such as an invoice's PDF; "" leaves links out.
	BaseURL string
}

// DisabledType is the event whose mail goes to every address of a tenant,
// subscribed or not: its webhook endpoint was disabled.
const DisabledType = "webhook_endpoint.disabled"

// Title names an event type for people: subscription.changed ->
// "Subscription changed".
func Title(wire string) string {
	s := strings.NewReplacer(".", " ", "_", " ").Replace(wire)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Subject is the message's subject: the tenant and the event.
func (n *Notice) Subject() string {
	return fmt.Sprintf("[%s] %s", n.TenantName, Title(n.EventType))
}

// field is one line of a message's details.
type field struct{ Name, Value string }

// view is what the templates show.
type view struct {
	*Notice
	Title    string
	Intro    string
	Fields   []field
	Link     string
	LinkText string
	Why      string
	At       string
}

func (n *Notice) view(to string) *view {
	v := &view{Notice: n, Title: Title(n.EventType), At: n.OccurredAt.UTC().Format(time.RFC3339)}
	var p map[string]any
	_ = json.Unmarshal(n.Payload, &p) // a payload that is not an object shows no details
	str := func(k string) string { s, _ := p[k].(string); return s }
	switch {
	case n.EventType == DisabledType:
		v.Intro = fmt.Sprintf("Webhook deliveries of %s to %s are disabled: %s. Nothing more is sent to that endpoint until it is "+
			"enabled again with the enableWebhookEndpoint mutation (or a new webhookUrl is set); events of the meantime can be "+
			"sent with redeliverEvent.", n.TenantName, str("webhookUrl"), str("webhookDisabledReason"))
		v.Why = fmt.Sprintf("This message goes to every address of %s's notification channels, whatever events they subscribe to.", n.TenantName)
		return v
	case strings.HasPrefix(n.EventType, "invoice.") && str("id") != "" && n.BaseURL != "":
		v.Link, v.LinkText = strings.TrimRight(n.BaseURL, "/")+"/invoices/"+str("id")+".pdf", "The invoice as PDF (send your API key as Authorization: Bearer)"
	}
	v.Intro = fmt.Sprintf("%s for %s.", v.Title, n.TenantName)
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if p[k] == nil {
			continue
		}
		var s string
		switch x := p[k].(type) {
		case string:
			s = x
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		v.Fields = append(v.Fields, field{k, s})
	}
	v.Why = fmt.Sprintf("You receive this because %s is an address of %s's notification channels, which subscribe to %s. "+
		"Change them with the updateNotificationChannels mutation.", to, n.TenantName, n.EventType)
	return v
}

var textBody = texttemplate.Must(texttemplate.New("text").Parse(`{{.Intro}}

Tenant:    {{.TenantName}} ({{.TenantID}})
Event:     {{.EventType}}
Event id:  {{.EventID}}
Occurred:  {{.At}}
{{if .Fields}}
Details:
{{range .Fields}}  {{.Name}}: {{.Value}}
{{end}}{{end}}{{if .Link}}
{{.LinkText}}: {{.Link}}
{{end}}
-- 
{{.Why}}
`))

var htmlBody = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif">
<p>{{.Intro}}</p>
<table>
<tr><th align="left">Tenant</th><td>{{.TenantName}} ({{.TenantID}})</td></tr>
<tr><th align="left">Event</th><td><code>{{.EventType}}</code></td></tr>
<tr><th align="left">Event id</th><td><code>{{.EventID}}</code></td></tr>
<tr><th align="left">Occurred</th><td>{{.At}}</td></tr>
</table>
{{if .Fields}}<h3>Details</h3>
<table>
{{range .Fields}}<tr><th align="left">{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
{{end}}{{if .Link}}<p><a href="{{.Link}}">{{.LinkText}}</a></p>
{{end}}<hr>
<p style="color: #666">{{.Why}}</p>
</body></html>
`))

// Compose builds the message of n to one address from from (MAIL_FROM):
// multipart/alternative with a plain-text and an HTML part, Subject naming
// the tenant and the event, and headers that stay the same on every attempt
// (Message-ID, X-Event-Id) so a receiving system can drop a duplicate.
func Compose(from *mail.Address, to string, n *Notice, date time.Time) ([]byte, error) {
	v := n.view(to)
	var text, html bytes.Buffer
	if err := textBody.Execute(&text, v); err != nil {
		return nil, err
	}
	if err := htmlBody.Execute(&html, v); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(strings.ToLower(to)))
	return assemble(from, to, n.Subject(), text.Bytes(), html.Bytes(), date,
		n.EventID+"."+hex.EncodeToString(sum[:6]), [][2]string{
			{"Auto-Submitted", "auto-generated"},
			{"X-Tenant-Id", n.TenantID},
			{"X-Event-Id", n.EventID},
			{"X-Event-Type", n.EventType},
		})
}

// assemble builds a message: multipart/alternative of a plain-text part and
// an HTML part (left out when html is empty), the Message-ID <id@domain of
// from>, and the extra headers after the standard ones.
func assemble(from *mail.Address, to, subject string, text, html []byte, date time.Time, id string, extra [][2]string) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct {
		typ string
		b   []byte
	}{{"text/plain", text}, {"text/html", html}} {
		if len(part.b) == 0 && part.typ == "text/html" {
			continue
		}
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(part.b); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	domain := "localhost"
	if i := strings.LastIndexByte(from.Address, '@'); i >= 0 {
		domain = from.Address[i+1:]
	}
	var msg bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to)
	// Q-encoding also keeps a tenant name's line breaks out of the header.
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", fmt.Sprintf("<%s@%s>", id, domain))
	header("MIME-Version", "1.0")
	for _, h := range extra {
		header(h[0], h[1])
	}
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}
