// Package webhook delivers the outbox: events the charge engine wrote in
// the same transaction as the payment change that caused them. Delivery is
// at least once, under the same event id on every attempt (the
// Standard Webhooks webhook-id), with a per-merchant retry profile that
// survives restarts because all schedule state lives in the events row.
//
// Work is claimed with row locks and a lease (next_attempt_at moves past the
// delivery timeout), so several nodes share the queue and a crashed node's
// claims simply come due again. Each merchant gets a bounded share of the
// concurrent deliveries, so a receiver that hangs until the timeout slows
// only its own merchant.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/vault"
)

// Options configure a Service. Zero values take the defaults shown.
type Options struct {
	Store Store
	Vault *vault.Vault
	Clock clock.Clock
	// WallClock stamps and signs each delivery (webhook-timestamp):
	// receivers check it against their own clock, so a sandbox test clock
	// must not move it. Nil means the wall clock.
	WallClock clock.Clock
	Logger    *slog.Logger
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// AllowPrivate permits delivery to loopback, private and link-local
	// addresses (BILLKEY_WEBHOOK_ALLOW_PRIVATE). Off, such destinations are
	// refused at dial time.
	AllowPrivate bool
	// MaxInFlight bounds concurrent deliveries of this node (64).
	MaxInFlight int
	// PerMerchant bounds concurrent deliveries to one merchant (4).
	PerMerchant int
	// ConnectTimeout bounds connecting and the TLS handshake (5s).
	ConnectTimeout time.Duration
	// Timeout bounds a whole delivery, response included (15s).
	Timeout time.Duration
	// Lease is how long a claim keeps other nodes off an event; it must
	// outlast Timeout (Timeout + 1m).
	Lease time.Duration
	// Interval is how often Run looks for due events (1s).
	Interval time.Duration
}

// Service delivers webhooks and serves the operator view.
type Service struct {
	store       Store
	vault       *vault.Vault
	clock       clock.Clock
	wall        clock.Clock
	log         *slog.Logger
	client      *http.Client
	maxInFlight int
	perMerchant int
	timeout     time.Duration
	lease       time.Duration
	interval    time.Duration
	m           *metrics
	finishes    *finisher

	// dispatchMu makes a claim pass and its in-flight bookkeeping atomic
	// with respect to other passes of this node.
	dispatchMu sync.Mutex
	mu         sync.Mutex
	inFlight   map[int64]int // by merchant
	total      int
	wg         sync.WaitGroup
	wake       chan struct{}
}

// New builds a Service; Run or DeliverDue make it deliver.
func New(o Options) *Service {
	if o.WallClock == nil {
		o.WallClock = clock.Real{}
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 64
	}
	if o.PerMerchant <= 0 {
		o.PerMerchant = 4
	}
	// One merchant given more than the node's whole share would never get it.
	o.MaxInFlight = max(o.MaxInFlight, o.PerMerchant)
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Lease <= o.Timeout {
		o.Lease = o.Timeout + time.Minute
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	return &Service{
		store: o.Store, vault: o.Vault, clock: o.Clock, wall: o.WallClock, log: o.Logger,
		client:      newClient(o.AllowPrivate, o.ConnectTimeout, o.Timeout),
		maxInFlight: o.MaxInFlight, perMerchant: o.PerMerchant, timeout: o.Timeout, lease: o.Lease, interval: o.Interval,
		m:        newMetrics(o.Registerer, o.Store),
		finishes: &finisher{write: o.Store.FinishDeliveries},
		inFlight: map[int64]int{},
		wake:     make(chan struct{}, 1),
	}
}

// Run delivers due events until ctx ends, looking every Interval of real
// time and whenever Wake is called. On shutdown, deliveries in flight are
// abandoned and their claims released, so the next start resends them.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if _, err := s.Dispatch(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("webhook dispatch", "err", err)
		}
		select {
		case <-ctx.Done():
			s.Wait()
			return
		case <-t.C:
		case <-s.wake:
			// Every paid charge wakes the worker; under load, gather the
			// wakes of a short moment into one claim pass instead of one
			// pass (and one due-events query) per charge.
			select {
			case <-ctx.Done():
			case <-time.After(wakeCoalesce):
			}
		}
	}
}

// wakeCoalesce is the longest a woken worker waits to batch further events.
const wakeCoalesce = 20 * time.Millisecond

// Wake makes Run look for due events now (after a resend, say).
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Wait blocks until every delivery started so far has finished.
func (s *Service) Wait() { s.wg.Wait() }

// DeliverDue delivers everything due at the clock's now and waits for the
// outcomes: it repeats claim passes until none finds work (a merchant with
// more due events than its concurrency needs several). Tests drive delivery
// with it; it returns the number of attempts made.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	// Deliveries already in flight hold their merchants' shares; a pass made
	// before they finish would wrongly find nothing to do.
	s.Wait()
	total := 0
	for {
		n, err := s.Dispatch(ctx)
		s.Wait()
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// Dispatch makes one claim pass: it leases due events within the free
// global and per-merchant concurrency and starts delivering them, without
// waiting. It returns how many deliveries it started.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()

	now := s.clock.Now()
	s.mu.Lock()
	free := s.maxInFlight - s.total
	var saturated []int64
	room := map[int64]int{}
	for m, n := range s.inFlight {
		if n >= s.perMerchant {
			saturated = append(saturated, m)
		} else {
			room[m] = s.perMerchant - n
		}
	}
	s.mu.Unlock()
	if free <= 0 {
		return 0, nil
	}
	// Over-fetch candidates: some will belong to a merchant whose share this
	// pass fills up, and another node may claim some first; of one merchant
	// no more than twice what it may have in flight.
	due, err := s.store.DueEvents(ctx, now, saturated, free*4, s.perMerchant*2)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, d := range due {
		if len(ids) == free {
			break
		}
		r, ok := room[d.MerchantID]
		if !ok {
			r = s.perMerchant
		}
		if r == 0 {
			continue
		}
		room[d.MerchantID] = r - 1
		ids = append(ids, d.ID)
	}
	claimed, err := s.store.ClaimEvents(ctx, ids, now, now.Add(s.lease))
	if err != nil {
		return 0, err
	}
	merchants := map[int64]*merchantPass{}
	for _, ev := range claimed {
		mp := merchants[ev.MerchantID]
		if mp == nil {
			mp = s.newMerchantPass(ctx, ev.MerchantID)
			merchants[ev.MerchantID] = mp
		}
		s.mu.Lock()
		s.inFlight[ev.MerchantID]++
		s.total++
		s.m.inFlight.Set(float64(s.total))
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.done(ev.MerchantID)
				// The freed slot may have more of its merchant's events
				// waiting: a pass now, not at the next tick.
				s.Wake()
			}()
			s.deliver(ctx, ev, mp)
		}()
	}
	return len(claimed), nil
}

// merchantPass is what the deliveries of one merchant in one claim pass
// share: the merchant's settings and signing secrets, each read at most once
// for all of them. Per event, these reads cost the worker more database
// round trips than recording the outcome does, and on a busy node that
// database time is taken from the charges. Each is read on first need, so
// a pass with nothing to send never reads the secrets, and a read error
// (cached for the pass) leaves all of the merchant's claimed events to
// their leases, as one per event did.
type merchantPass struct {
	settings func() (store.WebhookSettings, error)
	secrets  func() ([]Secret, error)
}

func (s *Service) newMerchantPass(ctx context.Context, merchantID int64) *merchantPass {
	return &merchantPass{
		settings: sync.OnceValues(func() (store.WebhookSettings, error) {
			w, err := s.store.GetWebhookSettings(ctx, merchantID)
			if err != nil {
				return w, fmt.Errorf("webhook settings of merchant %d: %w", merchantID, err)
			}
			return w, nil
		}),
		secrets: sync.OnceValues(func() ([]Secret, error) {
			secs, err := s.Secrets(ctx, merchantID)
			if err != nil {
				return nil, fmt.Errorf("webhook secrets of merchant %d: %w", merchantID, err)
			}
			return secs, nil
		}),
	}
}

func (s *Service) done(merchantID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inFlight[merchantID]--; s.inFlight[merchantID] <= 0 {
		delete(s.inFlight, merchantID)
	}
	s.total--
	s.m.inFlight.Set(float64(s.total))
}

// ErrInvalid marks operator input the service rejects.
var ErrInvalid = errors.New("invalid webhook setting")
