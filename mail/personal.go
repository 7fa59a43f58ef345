package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"tenantapi/tenant"
)

// Personal sends one-off messages to one person (a member's invitation, a
// password reset link) through the same server or directory as notices: it
// is the tenant.Mailer of the members' mutations. A message goes out at
// once, without the delivery queue: the person is waiting for it, and a
// failure is reported to the caller (inviteMember's emailSent), who can
// resend. Its file, without SMTP_URL, is <dir>/personal-<random>-1.eml.
type Personal struct{ *Sender }

// Send composes m (text, and HTML when given) and sends it. The error
// never carries credentials. Codes: EUNAVAILABLE.
func (p Personal) Send(ctx context.Context, m tenant.Mail) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := "personal-" + hex.EncodeToString(b[:])
	msg, err := assemble(p.from, m.To, m.Subject, []byte(m.Text), []byte(m.HTML), p.Now(), id,
		[][2]string{{"Auto-Submitted", "auto-generated"}})
	if err != nil {
		return fmt.Errorf("mail: composing: %w", err)
	}
	if p.server == nil {
		_, err := p.write(id, msg)
		return err
	}
	if _, err := p.smtp(ctx, m.To, msg); err != nil {
		return &tenant.Error{Code: tenant.EUNAVAILABLE, Message: "the email could not be sent: " + describe(err)}
	}
	return nil
}

var _ tenant.Mailer = Personal{}
