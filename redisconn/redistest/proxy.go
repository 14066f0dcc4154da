package redistest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Proxy is a TCP proxy in front of a Redis that can pause the commands
// sent through it, the way CLIENT PAUSE does on the server: what clients
// send during a pause is held and forwarded when it ends, so that their
// commands run late, all at once. Unlike CLIENT PAUSE it pauses only the
// test's own connections, not other tests sharing the server.
type Proxy struct {
	ln     net.Listener
	target string

	mu          sync.Mutex
	pausedUntil time.Time
	delayNext   time.Duration
	conns       []net.Conn
}

// NewProxy starts a proxy to the server s, closed when the test ends.
func (s *Server) NewProxy(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, target: s.opts.Addr}
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			_ = c.Close()
		}
	})
	return p
}

// NewClientVia opens a client of s (same database and credentials) that
// connects through p, closed when the test ends.
func (s *Server) NewClientVia(t testing.TB, p *Proxy) redis.UniversalClient {
	t.Helper()
	o := *s.opts
	o.Addr = p.ln.Addr().String()
	c := redis.NewClient(&o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Pause holds every command sent through the proxy for d from now.
func (p *Proxy) Pause(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pausedUntil = time.Now().Add(d)
}

// DelayNext holds the next command sent through the proxy, on any of its
// connections, for d; the commands after it pass as usual.
func (p *Proxy) DelayNext(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delayNext = d
}

// hold returns how long a command sent now must wait.
func (p *Proxy) hold() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := max(time.Until(p.pausedUntil), p.delayNext)
	p.delayNext = 0
	return d
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() {
			defer up.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if d := p.hold(); d > 0 {
						// The pause itself: the server does not see the
						// command until it ends.
						time.Sleep(d)
					}
					if _, werr := up.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() {
			defer c.Close()
			_, _ = io.Copy(c, up)
		}()
	}
}
