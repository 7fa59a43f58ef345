package httpapi

import (
	"context"
	"sync"
	"sync/atomic"
)

// Lifecycle is the shutdown of a server as its handler sees it; the server
// (server.go) drives it on SIGTERM (docs/operations.md, Shutdown):
//
//  1. Drain: /readyz answers 503 at once, so load balancers stop sending
//     new requests, while every request is still served as before;
//  2. after the drain period, the server stops accepting connections and
//     waits for the requests in flight (http.Server.Shutdown), and
//     EndStreams ends the long-lived ones, which would otherwise hold the
//     shutdown until its timeout: each websocket is closed with 1001 (Going
//     Away: the client reconnects elsewhere), each SSE subscription ends
//     with its `complete` event. Wait returns once every socket is closed.
//
// The zero value is not usable: NewLifecycle.
type Lifecycle struct {
	draining atomic.Bool
	end      chan struct{} // closed by EndStreams
	once     sync.Once
	sockets  sync.WaitGroup // open websockets (hijacked: Shutdown does not wait for them)
}

// NewLifecycle returns the lifecycle of a server that is serving.
func NewLifecycle() *Lifecycle { return &Lifecycle{end: make(chan struct{})} }

// Drain makes /readyz answer 503 from now on.
func (l *Lifecycle) Drain() { l.draining.Store(true) }

// Draining reports whether Drain was called.
func (l *Lifecycle) Draining() bool { return l.draining.Load() }

// EndStreams ends every websocket and SSE subscription, now and as soon as
// any new one starts.
func (l *Lifecycle) EndStreams() { l.once.Do(func() { close(l.end) }) }

// ending is closed when streams must end.
func (l *Lifecycle) ending() <-chan struct{} { return l.end }

// Wait returns when every websocket has closed, or ctx ends (its error).
func (l *Lifecycle) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { l.sockets.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
