package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tenantapi/tenant"
)

// The websocket transport: the graphql-transport-ws protocol
// (github.com/enisdenjo/graphql-ws, PROTOCOL.md), written here rather than
// taken from gqlgen, whose transport authenticates once at connection_init
// and keeps that actor for the life of the socket, waits forever for
// connection_init, and closes every socket with 1000 whatever the reason.
//
// A credential's authority ends on a socket when it ends over HTTP
// (docs/authentication.md: Websockets):
//   - every subscribe message authenticates the connection's credential
//     again, exactly as an HTTP request does (one indexed lookup for an API
//     key, none for the admin secret), and checks the client address
//     against the tenant's IP allowlist: a key revoked or expired, a tenant
//     suspended or deleted, an address the allowlist no longer covers, and
//     the socket is closed with 4403 Forbidden before the operation runs;
//   - while operations run, the credential is checked again every
//     wsRecheckInterval, so a long operation ends within seconds of its
//     authority, not at the next message; idle sockets cost nothing;
//   - a socket that sends no connection_init within wsInitTimeout is closed
//     with 4408.
//
// Each subscribe payload goes through the same decoder, body limit (the
// read limit of a message), document limits and error presenter as an HTTP
// request (transport.go).

// The graphql-transport-ws subprotocol and its close codes.
const (
	wsSubprotocol = "graphql-transport-ws"

	wsCloseBadRequest      websocket.StatusCode = 4400
	wsCloseUnauthorized    websocket.StatusCode = 4401
	wsCloseForbidden       websocket.StatusCode = 4403
	wsCloseBadProtocol     websocket.StatusCode = 4406
	wsCloseInitTimeout     websocket.StatusCode = 4408
	wsCloseDuplicateID     websocket.StatusCode = 4409
	wsCloseTooManyInits    websocket.StatusCode = 4429
	wsCloseInternal        websocket.StatusCode = 4500
	wsCloseServiceUnavail  websocket.StatusCode = 1013 // try again later: the database is unreachable
	wsMaxCloseReasonLength                      = 120  // a close frame's reason is at most 123 bytes
)

// Default timers of the websocket transport.
const (
	defaultWSInitTimeout     = 5 * time.Second
	defaultWSRecheckInterval = 2 * time.Second
)

// wsTransport serves graphql-transport-ws on /graphql.
type wsTransport struct {
	auth    *authenticator
	maxBody int64    // the read limit of one message, as of an HTTP body
	origins []string // host patterns allowed to open a socket from a browser
	// initTimeout bounds the wait for connection_init; recheck is how often
	// the credential of a socket with running operations is checked again.
	initTimeout, recheck time.Duration
	// life ends the sockets at shutdown (lifecycle.go) and waits for them.
	life *Lifecycle
}

var _ graphql.Transport = wsTransport{}

func (wsTransport) Supports(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// wsMessage is a message of the protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (t wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsSubprotocol}, OriginPatterns: t.origins})
	if err != nil {
		return // Accept has answered the handshake (403 for a foreign origin, 400 otherwise)
	}
	t.life.sockets.Add(1)
	defer t.life.sockets.Done()
	if ws.Subprotocol() != wsSubprotocol {
		_ = ws.Close(wsCloseBadProtocol, "Subprotocol not acceptable: use graphql-transport-ws")
		return
	}
	ws.SetReadLimit(t.maxBody)
	header := r.Header.Get("Authorization")
	if header == "" {
		// A same-origin dashboard's socket carries the session cookie
		// (login.go); one from another origin is refused.
		var err error
		if header, err = cookieCredential(r, true); err != nil {
			_ = ws.Close(wsCloseForbidden, truncateBytes("Forbidden: "+err.(*tenant.Error).Message, wsMaxCloseReasonLength))
			return
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &wsConn{t: t, ws: ws, exec: exec, ctx: ctx, cancel: cancel, header: header, active: map[string]context.CancelFunc{}}
	defer c.wait()
	if !c.init() {
		return
	}
	go c.watch()
	c.serve()
}

// wsConn is one socket.
type wsConn struct {
	t      wsTransport
	ws     *websocket.Conn
	exec   graphql.GraphExecutor
	ctx    context.Context // the connection's: cancelled when it closes
	cancel context.CancelFunc
	header string // the upgrade request's Authorization
	// credential is what authenticates the socket: the upgrade request's
	// Authorization or, without one, connection_init's.
	credential string

	mu     sync.Mutex
	active map[string]context.CancelFunc // running operations by id
	closed bool
	ops    sync.WaitGroup
}

// init waits for connection_init, authenticates it and acknowledges it.
func (c *wsConn) init() bool {
	// A timer rather than a deadline on Read: cancelling a read drops the
	// socket before a close frame could say why.
	timer := time.AfterFunc(c.t.initTimeout, func() { c.close(wsCloseInitTimeout, "Connection initialisation timeout") })
	_, data, err := c.ws.Read(c.ctx)
	if !timer.Stop() {
		return false // timed out: closed with 4408
	}
	if err != nil {
		c.closeNow()
		return false
	}
	var m wsMessage
	if json.Unmarshal(data, &m) != nil || m.Type != "connection_init" {
		c.close(wsCloseBadRequest, "the first message must be connection_init")
		return false
	}
	c.credential = c.header
	if c.credential == "" && len(m.Payload) > 0 && string(m.Payload) != "null" {
		var payload map[string]any
		if json.Unmarshal(m.Payload, &payload) != nil {
			c.close(wsCloseBadRequest, "the connection_init payload must be a JSON object")
			return false
		}
		for _, k := range []string{"Authorization", "authorization"} {
			if s, ok := payload[k].(string); ok && s != "" {
				c.credential = s
				break
			}
		}
	}
	actor, err := c.t.auth.actor(c.ctx, c.credential)
	if err == nil {
		err = allowlisted(c.ctx, actor)
	}
	if err != nil {
		c.refuse(err)
		return false
	}
	if info := requestInfoFrom(c.ctx); info != nil {
		info.actor = actor
	}
	return c.send(wsMessage{Type: "connection_ack"}) == nil
}

// serve reads messages until the socket closes.
func (c *wsConn) serve() {
	for {
		_, data, err := c.ws.Read(c.ctx)
		if err != nil {
			c.closeNow()
			return
		}
		var m wsMessage
		if json.Unmarshal(data, &m) != nil {
			c.close(wsCloseBadRequest, "invalid message: not a JSON object of the protocol")
			return
		}
		switch m.Type {
		case "ping":
			_ = c.send(wsMessage{Type: "pong", Payload: m.Payload})
		case "pong":
		case "connection_init":
			c.close(wsCloseTooManyInits, "Too many initialisation requests")
			return
		case "subscribe":
			if !c.subscribe(m) {
				return
			}
		case "complete":
			c.mu.Lock()
			stop := c.active[m.ID]
			c.mu.Unlock()
			if stop != nil {
				stop()
			}
		default:
			c.close(wsCloseBadRequest, "invalid message type")
			return
		}
	}
}

// subscribe checks the credential again and starts the operation; false
// when the socket was closed.
func (c *wsConn) subscribe(m wsMessage) bool {
	if m.ID == "" {
		c.close(wsCloseBadRequest, "a subscribe message needs an id")
		return false
	}
	c.mu.Lock()
	_, dup := c.active[m.ID]
	c.mu.Unlock()
	if dup {
		c.close(wsCloseDuplicateID, truncate("Subscriber for "+m.ID+" already exists", 60))
		return false
	}
	actor, err := c.authority()
	if err != nil {
		c.refuse(err)
		return false
	}
	start := graphql.Now()
	params, rerr := decodeParams(m.Payload)
	if rerr != nil {
		_ = c.sendErrors(m.ID, gqlerror.List{codedError(rerr.msg, rerr.code)})
		return true
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	ctx, stop := context.WithCancel(tenant.WithActor(c.ctx, actor))
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		stop()
		return false
	}
	c.active[m.ID] = stop
	c.ops.Add(1)
	c.mu.Unlock()
	go c.run(ctx, stop, m.ID, params)
	return true
}

// run executes one operation and sends its responses.
func (c *wsConn) run(ctx context.Context, stop context.CancelFunc, id string, params *graphql.RawParams) {
	defer c.ops.Done()
	defer func() {
		stop()
		c.mu.Lock()
		delete(c.active, id)
		c.mu.Unlock()
	}()
	// ended is the operation's own context: cancelled by the client's
	// complete or the socket's end. (The executor's context ends with the
	// operation's last response, so it cannot tell.)
	ended := ctx
	ctx = graphql.StartOperationTrace(ctx)
	rc, opErr := c.exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr)
		_ = c.sendErrors(id, resp.Errors)
		return
	}
	responses, ctx := c.exec.DispatchOperation(ctx, rc)
	for {
		resp := responses(ctx)
		if resp == nil {
			break
		}
		if ended.Err() != nil {
			return // completed by the client, or the socket closed
		}
		b, err := json.Marshal(resp)
		if err != nil {
			_ = c.sendErrors(id, gqlerror.List{codedError("internal error", "INTERNAL_SERVER_ERROR")})
			return
		}
		if c.send(wsMessage{ID: id, Type: "next", Payload: b}) != nil {
			return
		}
	}
	if ended.Err() == nil {
		_ = c.send(wsMessage{ID: id, Type: "complete"})
	}
}

// authority authenticates the socket's credential again, as an HTTP
// request would be: the actor, or why the credential no longer holds.
func (c *wsConn) authority() (*tenant.Actor, error) {
	actor, err := c.t.auth.recheck(c.ctx, c.credential)
	if err != nil {
		return nil, err
	}
	return actor, allowlisted(c.ctx, actor)
}

// watch checks the credential of a socket with running operations every
// recheck interval, and closes the socket when it no longer holds. A
// database that cannot answer is not taken as a revocation: the next
// operation is refused instead, and the check is tried again.
func (c *wsConn) watch() {
	tick := time.NewTicker(c.t.recheck)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.t.life.ending():
			c.close(websocket.StatusGoingAway, "the server is shutting down: reconnect")
			return
		case <-tick.C:
		}
		c.mu.Lock()
		running := len(c.active)
		c.mu.Unlock()
		if running == 0 {
			continue
		}
		if _, err := c.authority(); err != nil {
			switch tenant.ErrorCode(err) {
			case tenant.EUNAUTHENTICATED, tenant.EFORBIDDEN:
				c.refuse(err)
				return
			}
		}
	}
}

// refuse closes the socket for a credential that does not (or no longer)
// authenticate: 4403 with the reason, as the protocol says; 1013 when the
// database could not be asked.
func (c *wsConn) refuse(err error) {
	code, reason := wsCloseForbidden, "Forbidden"
	var te *tenant.Error
	switch {
	case errors.As(err, &te) && te.Code == tenant.EUNAVAILABLE:
		code, reason = wsCloseServiceUnavail, "service unavailable: the database is unreachable"
	case errors.As(err, &te) && te.Code != tenant.EINTERNAL:
		reason = "Forbidden: " + te.Message
	case errors.As(err, &te):
		code, reason = wsCloseInternal, "internal error"
	}
	c.close(code, reason)
}

func (c *wsConn) send(m wsMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second) // a peer that stops reading is dropped
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.closeNow()
		return err
	}
	return nil
}

func (c *wsConn) sendErrors(id string, errs gqlerror.List) error {
	b, err := json.Marshal(errs)
	if err != nil {
		return err
	}
	return c.send(wsMessage{ID: id, Type: "error", Payload: b})
}

// close ends every operation and closes the socket with code and reason.
func (c *wsConn) close(code websocket.StatusCode, reason string) {
	if c.markClosed() {
		_ = c.ws.Close(code, truncateBytes(reason, wsMaxCloseReasonLength))
	}
	c.cancel() // only now: cancelling a pending Read drops the socket without its close frame
}

// closeNow ends every operation and drops the socket without a close
// handshake (the peer is gone, or broke the protocol at the frame level).
func (c *wsConn) closeNow() {
	if c.markClosed() {
		_ = c.ws.CloseNow()
	}
	c.cancel()
}

// markClosed stops every running operation; false when the socket was
// already closing.
func (c *wsConn) markClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.closed = true
	for _, stop := range c.active {
		stop()
	}
	return true
}

// wait returns when every operation has ended, so none outlives Do.
func (c *wsConn) wait() {
	c.closeNow()
	c.ops.Wait()
}

// recheck authenticates a socket's credential again. It is not charged to
// the failed-authentication budget (authfail.go): a key revoked under an
// open socket is not a guess.
func (a *authenticator) recheck(ctx context.Context, header string) (*tenant.Actor, error) {
	if header == "" {
		return &tenant.Actor{Kind: tenant.Anonymous}, nil
	}
	return a.credential(ctx, header, false)
}

// allowlisted refuses an actor whose tenant's IP allowlist does not cover
// the client address of ctx.
func allowlisted(ctx context.Context, a *tenant.Actor) error {
	if ip := tenant.ClientIP(ctx); !a.AllowsIP(ip) {
		return tenant.Errorf(tenant.EFORBIDDEN, "requests from %s are not allowed by this tenant's IP allowlist", ip)
	}
	return nil
}

func codedError(msg, code string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// truncateBytes cuts s to at most n bytes on a rune boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
