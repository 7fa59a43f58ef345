package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// CountingProxy forwards PostgreSQL connections and counts what the clients
// send: statements (a simple Query, or an Execute of the extended protocol)
// and round trips (a simple Query, or a Sync, each of which waits for the
// server's ReadyForQuery). It sees every server the same way, whatever its
// driver, which is why the benchmark counts statements with it rather than
// with the tenant API's own counter. It runs only during the counting pass,
// never while latency is measured.
//
// It also adds up the time PostgreSQL takes to answer: from each Sync or
// Query the client sends to the ReadyForQuery that answers it (neither
// driver pipelines, so they pair up in order).
type CountingProxy struct {
	ln         net.Listener
	upstream   string
	Statements atomic.Int64
	RoundTrips atomic.Int64
	Waited     atomic.Int64 // nanoseconds between a Sync/Query and its ReadyForQuery
	wg         sync.WaitGroup

	mu     sync.Mutex
	byText map[string]*TextStat
}

// TextStat is the time PostgreSQL took for one statement text.
type TextStat struct {
	Text   string
	Waits  int // round trips
	Waited time.Duration
}

// pending is a Sync or Query waiting for its ReadyForQuery.
type pending struct {
	at   time.Time
	text string
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// TakeTextStats returns the time per statement text since the last call,
// the longest first, and starts counting afresh.
func (p *CountingProxy) TakeTextStats() []*TextStat {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*TextStat, 0, len(p.byText))
	for _, st := range p.byText {
		out = append(out, st)
	}
	p.byText = map[string]*TextStat{}
	sort.Slice(out, func(i, j int) bool { return out[i].Waited > out[j].Waited })
	return out
}

// NewCountingProxy listens on a free loopback port and forwards to upstream
// (host:port).
func NewCountingProxy(upstream string) (*CountingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &CountingProxy{ln: ln, upstream: upstream, byText: map[string]*TextStat{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *CountingProxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting; open connections end with their clients.
func (p *CountingProxy) Close() error {
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *CountingProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *CountingProxy) handle(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer server.Close()
	sent := make(chan pending, 1024)
	go func() {
		_ = p.backend(server, client, sent)
		client.Close()
	}()
	_ = p.frontend(client, server, sent)
}

// backend copies the server's messages to the client and times each
// ReadyForQuery against the Sync or Query it answers. The first
// ReadyForQuery ends the start-up, which no Sync asked for.
func (p *CountingProxy) backend(server io.Reader, client io.Writer, sent <-chan pending) error {
	var hdr [5]byte
	started := false
	for {
		if _, err := io.ReadFull(server, hdr[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[1:]))
		if n < 4 {
			return errors.New("bad message length")
		}
		if _, err := client.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(client, server, int64(n-4)); err != nil {
			return err
		}
		if hdr[0] == 'Z' {
			if !started {
				started = true
				continue
			}
			select {
			case w := <-sent:
				el := time.Since(w.at)
				p.Waited.Add(int64(el))
				p.mu.Lock()
				st := p.byText[w.text]
				if st == nil {
					st = &TextStat{Text: w.text}
					p.byText[w.text] = st
				}
				st.Waits++
				st.Waited += el
				p.mu.Unlock()
			default:
			}
		}
	}
}

// frontend copies the client's messages to the server, counting them. The
// first message has no type byte (StartupMessage, or SSLRequest, which the
// benchmark never sends: its URLs say sslmode=disable).
func (p *CountingProxy) frontend(client io.Reader, server io.Writer, sent chan<- pending) error {
	var (
		hdr     [5]byte
		buf     []byte
		current string                // the statement the next Sync waits for
		named   = map[string]string{} // prepared statements by name ("" the unnamed one)
	)
	if _, err := io.ReadFull(client, hdr[:4]); err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint32(hdr[:4]))
	if n < 4 {
		return errors.New("bad startup length")
	}
	if _, err := server.Write(hdr[:4]); err != nil {
		return err
	}
	if _, err := io.CopyN(server, client, int64(n-4)); err != nil {
		return err
	}
	for {
		if _, err := io.ReadFull(client, hdr[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[1:]))
		if n < 4 {
			return errors.New("bad message length")
		}
		if cap(buf) < n-4 {
			buf = make([]byte, n-4)
		}
		payload := buf[:n-4]
		if _, err := io.ReadFull(client, payload); err != nil {
			return err
		}
		if _, err := server.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := server.Write(payload); err != nil {
			return err
		}
		switch hdr[0] {
		case 'Q': // simple query: the text
			p.Statements.Add(1)
			p.RoundTrips.Add(1)
			current = cstring(payload)
			sent <- pending{time.Now(), current}
		case 'P': // parse: statement name, text
			name := cstring(payload)
			current = cstring(payload[min(len(payload), len(name)+1):])
			named[name] = current
		case 'B': // bind: portal name, statement name
			portal := cstring(payload)
			current = named[cstring(payload[min(len(payload), len(portal)+1):])]
		case 'E':
			p.Statements.Add(1)
		case 'S':
			p.RoundTrips.Add(1)
			sent <- pending{time.Now(), current}
		}
	}
}
