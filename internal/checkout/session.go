package checkout

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/core"
)

// sessionState is where a window is in its one-way life.
type sessionState int

const (
	stateOpen       sessionState = iota // the form may be (re)submitted after a validation error
	stateProcessing                     // a submission is at the PG; others wait for its answer
	stateDone                           // the outcome is final; every later request sees it
)

// session is one IMP.request_pay window, created server-side by the SDK.
// Its id is the bearer of the window (unguessable, never reused); the CSRF
// token is a second secret that only the rendered form knows, so a page that
// learned the id (from a Referer, say) still cannot submit it.
type session struct {
	id        string
	csrf      string
	merchant  *core.Merchant
	channel   core.Channel
	pgName    string
	req       request
	redirect  bool   // m_redirect_url flow (channel "mobile") instead of callback
	origin    string // the merchant page's origin: the only postMessage target
	createdAt time.Time
	expiresAt time.Time

	// Guarded by sessions.mu.
	state    sessionState
	attempts int
	result   *rsp
	done     chan struct{} // closed when state becomes stateDone
}

// sessions keeps windows in memory. A window lives minutes, and its
// outcome that matters (payment, key, webhook) is in the store, so losing a
// session to a restart only means the customer opens the window again.
// Behind a load balancer, route /v1/checkout/ with session affinity.
type sessions struct {
	mu    sync.Mutex
	m     map[string]*session
	max   int
	added int
}

func newSessions(max int) *sessions { return &sessions{m: map[string]*session{}, max: max} }

func randToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the OS RNG failing is not recoverable
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// add stores s. Every 1,000 additions, and whenever it is full, it drops
// windows expired for a while (a late close or reload of one just gets "not
// found"); it refuses when still full, so that a flood of session creations
// cannot exhaust memory.
func (ss *sessions) add(s *session, now time.Time) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.added++
	if len(ss.m) >= ss.max || ss.added%1000 == 0 {
		for id, o := range ss.m {
			if now.After(o.expiresAt.Add(10 * time.Minute)) {
				delete(ss.m, id)
			}
		}
		if len(ss.m) >= ss.max {
			return false
		}
	}
	ss.m[s.id] = s
	return true
}

func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.m[id]
}

// limiter counts events per key in fixed one-minute windows.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	hits   map[string]*hitWindow
}

type hitWindow struct {
	start time.Time
	n     int
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, hits: map[string]*hitWindow{}}
}

// allow counts one event for key and reports whether it is within the limit.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.hits) > 100_000 {
		for k, w := range l.hits {
			if now.Sub(w.start) >= l.window {
				delete(l.hits, k)
			}
		}
	}
	w, ok := l.hits[key]
	if !ok || now.Sub(w.start) >= l.window {
		w = &hitWindow{start: now}
		l.hits[key] = w
	}
	w.n++
	return w.n <= l.limit
}
