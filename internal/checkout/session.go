package checkout

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/store"
)

// session is one IMP.request_pay window, created server-side by the SDK.
// Its id is the bearer of the window (unguessable, never reused); the CSRF
// token is a second secret that only the rendered form knows, so a page that
// learned the id (from a Referer, say) still cannot submit it.
//
// Windows live in the store, not in a node's memory: any node serves any
// step, and the store's atomic state changes are what let one submission
// reach the PG however many nodes receive it. A session value is one read
// of that state.
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

	state      store.CheckoutState
	attempts   int
	result     *rsp
	leaseUntil time.Time
}

// sessionParams is what a window is opened with, as stored.
type sessionParams struct {
	Channel        core.Channel    `json:"channel"`
	PGName         string          `json:"pg_name"`
	Req            request         `json:"req"`
	CustomDataJSON json.RawMessage `json:"custom_data_json,omitempty"`
	Redirect       bool            `json:"redirect"`
	Origin         string          `json:"origin"`
}

// sessions keeps windows in the store.
type sessions struct {
	st  *store.Store
	mer *merchant.Service
	// lease is how long a submission may stay at the PG before the window
	// is presumed orphaned by a dead node (WindowPay gives up after 2 min).
	lease time.Duration
}

func (ss *sessions) add(ctx context.Context, s *session) error {
	params, err := json.Marshal(sessionParams{Channel: s.channel, PGName: s.pgName, Req: s.req, CustomDataJSON: s.req.customDataJSON,
		Redirect: s.redirect, Origin: s.origin})
	if err != nil {
		return fmt.Errorf("encode checkout session: %w", err)
	}
	return ss.st.CreateCheckoutSession(ctx, &store.CheckoutSession{ID: s.id, MerchantID: s.merchant.ID, CSRF: s.csrf, Params: params,
		CreatedAt: s.createdAt, ExpiresAt: s.expiresAt})
}

// get reads a window; nil when there is none.
func (ss *sessions) get(ctx context.Context, id string) (*session, error) {
	if id == "" {
		return nil, nil
	}
	cs, err := ss.st.CheckoutSession(ctx, id)
	if errors.Is(err, core.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p sessionParams
	if err := json.Unmarshal(cs.Params, &p); err != nil {
		return nil, fmt.Errorf("decode checkout session %s: %w", id, err)
	}
	m, err := ss.mer.ByID(ctx, cs.MerchantID)
	if err != nil {
		return nil, fmt.Errorf("checkout session %s: %w", id, err)
	}
	p.Req.customDataJSON = p.CustomDataJSON
	s := &session{id: cs.ID, csrf: cs.CSRF, merchant: m, channel: p.Channel, pgName: p.PGName, req: p.Req, redirect: p.Redirect,
		origin: p.Origin, createdAt: cs.CreatedAt, expiresAt: cs.ExpiresAt, state: cs.State, attempts: cs.Attempts, leaseUntil: cs.LeaseUntil}
	if len(cs.Result) > 0 {
		s.result = new(rsp)
		if err := json.Unmarshal(cs.Result, s.result); err != nil {
			return nil, fmt.Errorf("decode checkout result %s: %w", id, err)
		}
	}
	return s, nil
}

// finish makes out the window's result unless it has one (the first one
// wins, whichever node wrote it), optionally only from the given states,
// and returns the window as it now is.
func (ss *sessions) finish(ctx context.Context, s *session, out *rsp, from ...store.CheckoutState) (*session, error) {
	b, err := json.Marshal(out)
	if err != nil {
		return s, err
	}
	if _, err := ss.st.FinishCheckoutSession(ctx, s.id, b, from...); err != nil {
		return s, err
	}
	cur, err := ss.get(ctx, s.id)
	if err != nil || cur == nil {
		return s, err
	}
	return cur, nil
}

func randToken() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the OS RNG failing is not recoverable
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
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
