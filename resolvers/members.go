package resolvers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"tenantapi/graph"
	"tenantapi/tenant"
)

// signIn opens a session for a member who has proven who they are and
// answers the login: the token in the payload, or, when cookie, in the
// session cookie only (tenant.SessionCookie), never readable by scripts.
func (r *Resolver) signIn(ctx context.Context, memberID string, method tenant.LoginMethod, cookie bool) (*graph.LoginPayload, error) {
	if cookie && tenant.SessionCookieFrom(ctx) == nil {
		return nil, tenant.Invalid("cookie", "cookie sessions are set by an HTTP POST to /graphql, not over a websocket")
	}
	se, token, err := r.Store.CreateSession(ctx, memberID, method)
	if err != nil {
		return nil, err
	}
	m, err := r.Store.MemberByID(tenant.WithActor(ctx, &tenant.Actor{Kind: tenant.MemberActor, TenantID: se.TenantID, MemberID: memberID}), memberID)
	if err != nil {
		return nil, err
	}
	p := &graph.LoginPayload{Session: se, Member: m}
	if cookie {
		tenant.SessionCookieFrom(ctx).SetSession(token, se.ExpiresAt)
	} else {
		p.Token = &token
	}
	return p, nil
}

// sendInvitation emails an invitation's token; false when it could not be
// handed to the mail server (logged; resendInvitation sends a new one).
func (r *Resolver) sendInvitation(ctx context.Context, m *tenant.Member, token string) bool {
	name := m.TenantID
	if t, err := r.Store.Tenant(ctx, m.TenantID); err == nil {
		name = t.Name
	}
	return r.send(ctx, tenant.Mail{
		To:      m.Email,
		Subject: fmt.Sprintf("You are invited to %s", name),
		Text: fmt.Sprintf("You are invited to join %s as %s.\n\n%s\nThe invitation works once, until %s.\nIf you did not expect it, ignore this email.\n",
			name, m.Role, r.tokenInstructions("acceptInvitation", "accept-invitation", token,
				`{ "token": "<the token>", "name": "Your Name", "password": "<12 to 128 characters>" }`),
			m.CreatedAt.Add(tenant.InvitationTTL).UTC().Format(time.RFC1123)),
	})
}

// sendReset emails a password-reset token, off the request: the answer of
// requestPasswordReset must not take longer for an address that exists.
func (r *Resolver) sendReset(m *tenant.Member, token string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r.send(ctx, tenant.Mail{
			To:      m.Email,
			Subject: "Reset your password",
			Text: fmt.Sprintf("Someone asked to reset the password of %s.\n\n%s\nThe link works once, for one hour. Resetting ends every session of yours.\nIf it was not you, ignore this email: your password is unchanged.\n",
				m.Email, r.tokenInstructions("resetPassword", "reset-password", token, `{ "token": "<the token>", "password": "<12 to 128 characters>" }`)),
		})
	}()
}

// tokenInstructions is the part of an email that carries a token: a link
// below the deployment's public URL when it is known (LinkBase), and the
// token with the mutation that takes it either way.
func (r *Resolver) tokenInstructions(mutation, path, token, input string) string {
	s := ""
	if r.LinkBase != "" {
		s = fmt.Sprintf("Open %s/%s#token=%s\n\nOr ", r.LinkBase, path, token)
	}
	return s + fmt.Sprintf("call the API's %s mutation with this token:\n\n  %s\n\nas input %s\n", mutation, token, input)
}

func (r *Resolver) send(ctx context.Context, m tenant.Mail) bool {
	if r.Mailer == nil {
		slog.WarnContext(ctx, "no mailer configured: email not sent", "subject", m.Subject)
		return false
	}
	if err := r.Mailer.Send(ctx, m); err != nil {
		slog.WarnContext(ctx, "sending email failed", "subject", m.Subject, "err", err)
		return false
	}
	return true
}

// throttle charges a login or reset attempt on account (LoginGuard).
func (r *Resolver) throttle(ctx context.Context, account string) error {
	if r.LoginGuard == nil {
		return nil
	}
	return r.LoginGuard.Attempt(ctx, account)
}
