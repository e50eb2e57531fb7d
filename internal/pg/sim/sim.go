// Package sim is the sandbox PG: a real HTTP service on loopback that models
// the Korean PGs Billkey talks to, so timeouts and dropped connections in
// tests and benchmarks are real ones. Its own ledger is the ground truth that
// exactly-once tests assert on.
package sim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/billkey/billkey/internal/httplimit"
	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/provider"

	"github.com/billkey/billkey/internal/pg/simwire"
)

// Config shapes how the simulated PG misbehaves.
type Config struct {
	Latency time.Duration // added to every PG API answer
	Jitter  time.Duration // up to this much more, uniformly
	// ErrorRate is the fraction of issue/charge/cancel requests refused with
	// a 5xx before anything is charged.
	ErrorRate float64
	// LostRate is the fraction of new approved charges that are recorded and
	// then have their response dropped (connection closed, no answer).
	LostRate float64
	Seed     int64
	// HTTP bounds slow clients of Start's server; its connections are not
	// capped per client unless HTTP.PerClient is set, since every Billkey
	// node is one client with many connections.
	HTTP httplimit.Limits `json:"-"`
}

// Cancellation is one refund of a charge.
type Cancellation struct {
	IdempotencyKey string    `json:"idempotency_key"`
	PGTID          string    `json:"pg_tid"`
	Amount         int64     `json:"amount"`
	Reason         string    `json:"reason,omitempty"`
	CancelledAt    time.Time `json:"cancelled_at"`
}

// Charge is one entry of the simulator's ledger: exactly one per
// (provider, MID, idempotency key), approved or declined.
type Charge struct {
	IdempotencyKey string          `json:"idempotency_key"`
	Provider       string          `json:"provider"`
	MID            string          `json:"mid"`
	Sandbox        bool            `json:"sandbox"`
	Amount         int64           `json:"amount"`
	Currency       string          `json:"currency"`
	Status         pg.ChargeStatus `json:"status"`
	DeclineCode    string          `json:"decline_code,omitempty"`
	DeclineReason  string          `json:"decline_reason,omitempty"`
	Retryable      bool            `json:"retryable,omitempty"`
	PGTID          string          `json:"pg_tid"`
	ApplyNum       string          `json:"apply_num,omitempty"`
	BillingKey     string          `json:"billing_key,omitempty"` // empty for key-in charges
	Card           pg.CardInfo     `json:"card"`                  // number masked
	OrderName      string          `json:"order_name,omitempty"`
	CardQuota      int             `json:"card_quota,omitempty"`
	Cancelled      int64           `json:"cancelled"`
	Cancellations  []Cancellation  `json:"cancellations,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	ReceiptURL     string          `json:"receipt_url,omitempty"`
}

// Stats counts what the simulator did since it started.
type Stats struct {
	Requests   int64 `json:"requests"`    // PG API requests (not /_sim)
	IssuedKeys int64 `json:"issued_keys"` // new billing keys
	Charges    int64 `json:"charges"`     // new ledger entries
	Approved   int64 `json:"approved"`
	Declined   int64 `json:"declined"`
	Replays    int64 `json:"replays"` // repeats answered from the ledger
	Errors     int64 `json:"errors"`  // 5xx answers, nothing charged
	Lost       int64 `json:"lost"`    // responses dropped
	Cancels    int64 `json:"cancels"` // new cancellations
	Refused    int64 `json:"refused"` // 4xx answers
}

type ledgerKey struct{ provider, mid, key string }

type charge struct {
	Charge
	fingerprint string
	// alwaysLose is set for the lost-response test card, whose every charge
	// answer is dropped, repeats included; LostRate losses are one-shot.
	alwaysLose bool
	// autoCancelAt is when the PG cancels its own test approval.
	autoCancelAt time.Time
}

type cancelRef struct {
	charge      *charge
	idx         int
	requested   int64
	fingerprint string
}

type billingKey struct {
	token       string
	provider    string
	mid         string
	method      string
	card        pg.CardInfo
	behaviour   behaviour
	fingerprint string
	deleted     bool
	charged     int // charge attempts by this key, for bBillingSoftOnce
	// windowCharge is the amount the issuing window approves (charged by
	// key right after issuance).
	windowCharge int64
	buyerEmail   string // as given at issuance
	// Phone billing: the first approved charge fixes the amount and the
	// monthly day; paidCycles counts months charged since.
	firstAmount int64
	anchor      time.Time
	paidCycles  int
}

type statCounters struct {
	requests, issuedKeys, charges, approved, declined, replays, errors, lost, cancels, refused atomic.Int64
}

// Server is one simulated PG endpoint serving every personality.
type Server struct {
	cfg atomic.Pointer[Config]
	now atomic.Pointer[func() time.Time]

	rngMu sync.Mutex
	rng   *mrand.Rand

	// One mutex guards the whole ledger: critical sections are map lookups
	// only (latency is slept outside), so it is not the bottleneck.
	mu      sync.Mutex
	charges map[ledgerKey]*charge
	order   []*charge
	cancels map[ledgerKey]*cancelRef
	keys    map[string]*billingKey
	issued  map[ledgerKey]*billingKey
	byTID   map[string]*charge
	seq     uint64
	toss    *tossState

	stats   statCounters
	handler http.Handler
	// chargeTimed, when set, hears how long each charge was held: what a
	// benchmark subtracts to tell the gateway's time from the PG's.
	chargeTimed atomic.Pointer[func(idempotencyKey string, held time.Duration)]

	srvMu sync.Mutex
	srvs  []*http.Server
}

// New makes a simulator; call Start to serve it or mount Handler yourself.
func New(cfg Config) *Server {
	s := &Server{
		charges: map[ledgerKey]*charge{},
		cancels: map[ledgerKey]*cancelRef{},
		keys:    map[string]*billingKey{},
		issued:  map[ledgerKey]*billingKey{},
		byTID:   map[string]*charge{},
		rng:     newRand(cfg.Seed),
		toss:    newTossState(),
	}
	s.cfg.Store(&cfg)
	now := time.Now
	s.now.Store(&now)
	s.handler = s.routes()
	return s
}

func newRand(seed int64) *mrand.Rand {
	return mrand.New(mrand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// SetConfig changes behaviour at runtime; a new Seed restarts the random
// sequence so chaos runs are reproducible.
func (s *Server) SetConfig(cfg Config) {
	old := s.cfg.Swap(&cfg)
	if old.Seed != cfg.Seed {
		s.rngMu.Lock()
		s.rng = newRand(cfg.Seed)
		s.rngMu.Unlock()
	}
}

// Config returns the current behaviour settings.
func (s *Server) Config() Config { return *s.cfg.Load() }

// setClock makes the PG stamp approvals with another clock (the sandbox test
// clock); nil restores the wall clock.
func (s *Server) setClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now.Store(&now)
}

func (s *Server) clock() time.Time { return (*s.now.Load())() }

// Handler serves the PG API and the /_sim admin endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	lim := s.cfg.Load().HTTP
	if lim.PerClient == 0 {
		lim.PerClient = -1
	}
	srv := lim.Server(s.handler)
	ln = lim.Listen(ln)
	s.srvMu.Lock()
	s.srvs = append(s.srvs, srv)
	s.srvMu.Unlock()
	go srv.Serve(ln) //nolint:errcheck // ErrServerClosed after Close is the normal end
	return "http://" + ln.Addr().String(), nil
}

// Close stops every listener Start opened and drops open connections.
func (s *Server) Close() error {
	s.srvMu.Lock()
	srvs := s.srvs
	s.srvs = nil
	s.srvMu.Unlock()
	var errs []error
	for _, srv := range srvs {
		errs = append(errs, srv.Close())
	}
	return errors.Join(errs...)
}

// Ledger is a snapshot of every charge in the order the PG recorded them.
func (s *Server) Ledger() []Charge {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAutoCancels()
	out := make([]Charge, len(s.order))
	for i, c := range s.order {
		out[i] = c.Charge
		out[i].Cancellations = slices.Clone(c.Cancellations)
	}
	return out
}

// ChargeCount counts ledger entries, or only approved ones.
func (s *Server) ChargeCount(approvedOnly bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if approvedOnly {
		// approved is only bumped under mu together with the append.
		return int(s.stats.approved.Load())
	}
	return len(s.order)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Requests: c.requests.Load(), IssuedKeys: c.issuedKeys.Load(), Charges: c.charges.Load(),
		Approved: c.approved.Load(), Declined: c.declined.Load(), Replays: c.replays.Load(),
		Errors: c.errors.Load(), Lost: c.lost.Load(), Cancels: c.cancels.Load(), Refused: c.refused.Load(),
	}
}

func (s *Server) chance(rate float64) bool {
	if rate <= 0 {
		return false
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < rate
}

// TimeCharges has f told, for every charge answered over HTTP, how long
// the simulator held it (its latency as its own timer slept it, which can
// run past Config.Latency on a busy machine). nil stops it.
func (s *Server) TimeCharges(f func(idempotencyKey string, held time.Duration)) {
	if f == nil {
		s.chargeTimed.Store(nil)
		return
	}
	s.chargeTimed.Store(&f)
}

// delay models PG processing time. It is slept after the ledger is written,
// so a client that times out has really left a charge behind.
func (s *Server) delay(ctx context.Context) {
	cfg := s.cfg.Load()
	d := cfg.Latency
	if cfg.Jitter > 0 {
		s.rngMu.Lock()
		d += time.Duration(s.rng.Int64N(int64(cfg.Jitter) + 1))
		s.rngMu.Unlock()
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// refusal is a definite "no" from the PG: nothing was charged.
type refusal struct {
	status int
	simwire.WireError
}

func refuse(status int, p Personality, t pgText) *refusal {
	return &refusal{status: status, WireError: simwire.WireError{Provider: p.Provider, Code: t.code, Message: t.msg}}
}

func badRequest(provider, msg string) *refusal {
	return &refusal{status: http.StatusBadRequest, WireError: simwire.WireError{Provider: provider, Code: simwire.CodeBadRequest, Message: msg}}
}

func unsupported(p Personality, msg string) *refusal {
	return &refusal{status: http.StatusBadRequest, WireError: simwire.WireError{Provider: p.Provider, Code: simwire.CodeUnsupported, Message: msg, Unsupported: true}}
}

func (s *Server) systemError(p Personality) *refusal {
	s.stats.errors.Add(1)
	return refuse(http.StatusInternalServerError, p, p.text(kSystem))
}

func personalityFor(provider string) (Personality, *refusal) {
	p, ok := personalities[provider]
	if !ok {
		return p, &refusal{status: http.StatusBadRequest, WireError: simwire.WireError{
			Provider: provider, Code: simwire.CodeUnknownProvider, Unsupported: true,
			Message: fmt.Sprintf("지원하지 않는 PG사입니다: %q", provider),
		}}
	}
	return p, nil
}

func secretHash(number string) string {
	h := sha256.Sum256([]byte(number))
	return hex.EncodeToString(h[:12])
}

// validateCard returns the normalized number. Texts never quote the number.
func validateCard(p Personality, c *simwire.WireCard) (string, *refusal) {
	if c == nil {
		return "", badRequest(p.Provider, "카드 정보가 없습니다.")
	}
	n := normalizeNumber(c.Number)
	if !luhnValid(n) {
		return "", refuse(http.StatusBadRequest, p, p.text(kInvalidCard))
	}
	if !validExpiry(c.Expiry) {
		return "", refuse(http.StatusBadRequest, p, p.text(kInvalidExpiry))
	}
	return n, nil
}

func (s *Server) issue(req simwire.WireIssueKey) (simwire.WireIssueKeyResult, *refusal) {
	p, ref := personalityFor(req.Provider)
	if ref != nil {
		return simwire.WireIssueKeyResult{}, ref
	}
	method := MethodCard
	var windowCharge int64
	switch req.Channel {
	case "", simwire.ChannelAPI:
		switch {
		case req.FirstCharge < 0:
			return simwire.WireIssueKeyResult{}, badRequest(p.Provider, "first_charge는 0 이상이어야 합니다.")
		case req.FirstCharge > 0 && p.RESTIssueWithCharge, req.FirstCharge == 0 && p.RESTKeyIn:
		case p.RESTIssueWithCharge:
			return simwire.WireIssueKeyResult{}, unsupported(p, p.text(kKeyOnlyRefused).msg)
		default:
			return simwire.WireIssueKeyResult{}, unsupported(p, topic(p.Name)+" REST API 빌링키 발급(키인)을 지원하지 않습니다.")
		}
	case simwire.ChannelWindow:
		if req.Method != "" {
			method = req.Method
		}
		if len(p.Window) == 0 {
			return simwire.WireIssueKeyResult{}, unsupported(p, topic(p.Name)+" 결제창 빌링키 발급을 지원하지 않습니다. (REST API로 발급하세요)")
		}
		if !p.SupportsWindowMethod(method) {
			return simwire.WireIssueKeyResult{}, unsupported(p, fmt.Sprintf("%s %s 결제창 빌링키 발급을 지원하지 않습니다.", topic(p.Name), methodNames[method]))
		}
		if ref := p.checkBuyer(req); ref != nil {
			return simwire.WireIssueKeyResult{}, ref
		}
		switch p.WindowAmount {
		case AmountKeyOrCharge:
			windowCharge = req.FirstCharge
		case AmountChargeRequired:
			if req.FirstCharge <= 0 {
				return simwire.WireIssueKeyResult{}, refuse(http.StatusBadRequest, p, p.text(kKeyOnlyRefused))
			}
			windowCharge = req.FirstCharge
		}
	default:
		return simwire.WireIssueKeyResult{}, badRequest(p.Provider, "channel은 api 또는 window여야 합니다.")
	}
	var (
		number string
		info   pg.CardInfo
		fp     = method
	)
	if method == MethodCard {
		n, ref := validateCard(p, req.Card)
		if ref != nil {
			return simwire.WireIssueKeyResult{}, ref
		}
		number, info, fp = n, CardInfoFor(n), "card:"+secretHash(n)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	lk := ledgerKey{p.Provider, req.MID, req.IdempotencyKey}
	if req.IdempotencyKey != "" {
		if k, ok := s.issued[lk]; ok {
			if k.fingerprint != fp {
				return simwire.WireIssueKeyResult{}, conflict(p)
			}
			s.stats.replays.Add(1)
			return keyView(k), nil
		}
	}
	if s.chance(s.cfg.Load().ErrorRate) {
		return simwire.WireIssueKeyResult{}, s.systemError(p)
	}
	b := behaviourOf(number)
	switch b {
	case bPGError:
		return simwire.WireIssueKeyResult{}, s.systemError(p)
	case bDecline:
		return simwire.WireIssueKeyResult{}, refuse(http.StatusPaymentRequired, p, p.text(kDecline))
	case bInsufficient:
		return simwire.WireIssueKeyResult{}, refuse(http.StatusPaymentRequired, p, p.text(kInsufficient))
	case bExpired:
		return simwire.WireIssueKeyResult{}, refuse(http.StatusPaymentRequired, p, p.text(kExpired))
	}
	k := &billingKey{
		token: "sim_bk_" + rand.Text(), provider: p.Provider, mid: req.MID, method: method,
		card: info, behaviour: b, fingerprint: fp, windowCharge: windowCharge, buyerEmail: strings.TrimSpace(req.BuyerEmail),
	}
	s.keys[k.token] = k
	if req.IdempotencyKey != "" {
		s.issued[lk] = k
	}
	s.stats.issuedKeys.Add(1)
	if req.Channel == simwire.ChannelWindow && windowCharge == 0 && p.TestAuthAmount > 0 {
		s.testAuth(p, k, req)
	}
	return keyView(k), nil
}

// checkBuyer refuses a window opened without the buyer fields the PG needs.
func (p Personality) checkBuyer(req simwire.WireIssueKey) *refusal {
	for _, f := range p.RequiredBuyer {
		switch {
		case f == "buyer_tel" && strings.TrimSpace(req.BuyerTel) == "":
			return refuse(http.StatusBadRequest, p, p.text(kBuyerTelRequired))
		case f == "buyer_email" && strings.TrimSpace(req.BuyerEmail) == "":
			return refuse(http.StatusBadRequest, p, p.text(kBuyerEmailRequire))
		}
	}
	return nil
}

// testAuth records the small approval a PG makes itself to check a card at a
// key-only issuance (Danal card: 10 won), cancelled TestAuthCancelAfter
// later. It is the PG's own charge: the merchant never sees it.
func (s *Server) testAuth(p Personality, k *billingKey, req simwire.WireIssueKey) {
	now := s.clock()
	s.seq++
	c := &charge{Charge: Charge{
		IdempotencyKey: "testauth_" + k.token, Provider: p.Provider, MID: req.MID, Sandbox: req.Sandbox,
		Amount: p.TestAuthAmount, Currency: "KRW", Status: pg.ChargeApproved, BillingKey: k.token, Card: k.card,
		OrderName: "카드 인증 테스트 결제", CreatedAt: now, ApplyNum: fmt.Sprintf("%08d", (s.seq*7919+1234)%100000000),
		PGTID: fmt.Sprintf("%s%s%06d", p.tidPrefix, now.Format("060102150405"), s.seq%1000000),
	}, autoCancelAt: now.Add(p.TestAuthCancelAfter)}
	s.charges[ledgerKey{p.Provider, req.MID, c.IdempotencyKey}] = c
	s.order = append(s.order, c)
	s.byTID[c.PGTID] = c
	s.stats.charges.Add(1)
	s.stats.approved.Add(1)
}

// settleAutoCancels cancels the PG's own test approvals whose time has come.
// Called under mu before the ledger is read.
func (s *Server) settleAutoCancels() {
	now := s.clock()
	for _, c := range s.order {
		if c.autoCancelAt.IsZero() || c.Cancelled > 0 || now.Before(c.autoCancelAt) {
			continue
		}
		s.seq++
		c.Cancellations = append(c.Cancellations, Cancellation{
			IdempotencyKey: "auto_" + c.IdempotencyKey, Amount: c.Amount, Reason: "카드 인증 테스트 결제 자동취소",
			CancelledAt: c.autoCancelAt, PGTID: c.PGTID + "C",
		})
		c.Cancelled = c.Amount
	}
}

func keyView(k *billingKey) simwire.WireIssueKeyResult {
	return simwire.WireIssueKeyResult{Provider: k.provider, MID: k.mid, BillingKey: k.token, Method: k.method, Card: wireCard(k.card),
		WindowCharge: k.windowCharge}
}

func wireCard(c pg.CardInfo) simwire.WireCardInfo {
	return simwire.WireCardInfo{CardName: c.CardName, CardCode: c.CardCode, CardNumber: c.CardNumber, CardType: c.CardType}
}

func conflict(p Personality) *refusal {
	return &refusal{status: http.StatusConflict, WireError: simwire.WireError{
		Provider: p.Provider, Code: simwire.CodeIdempotencyConflict,
		Message: "같은 idempotency_key로 내용이 다른 요청이 이미 처리되었습니다.",
	}}
}

func (s *Server) deleteKey(provider, mid, token string) *refusal {
	p, ref := personalityFor(provider)
	if ref != nil {
		return ref
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[token]
	if !ok || k.provider != p.Provider || k.mid != mid {
		r := refuse(http.StatusNotFound, p, p.text(kUnknownBillingKey))
		return r
	}
	k.deleted = true // deleting twice is fine: the caller may be retrying
	return nil
}

// charge returns the answer and whether to drop it instead of answering.
func (s *Server) charge(req simwire.WireCharge, host string) (simwire.WireChargeResult, bool, *refusal) {
	p, ref := personalityFor(req.Provider)
	if ref != nil {
		return simwire.WireChargeResult{}, false, ref
	}
	switch {
	case req.IdempotencyKey == "":
		return simwire.WireChargeResult{}, false, badRequest(p.Provider, "idempotency_key가 필요합니다.")
	case req.Amount <= 0:
		return simwire.WireChargeResult{}, false, badRequest(p.Provider, "결제금액은 0보다 커야 합니다.")
	case (req.BillingKey == "") == (req.Card == nil):
		return simwire.WireChargeResult{}, false, badRequest(p.Provider, "billing_key와 card 중 하나만 보내야 합니다.")
	}
	if req.Currency == "" {
		req.Currency = "KRW"
	}
	if p.OrderNameMaxBytes > 0 && provider.NameBytes(req.OrderName) > p.OrderNameMaxBytes {
		return simwire.WireChargeResult{}, false, refuse(http.StatusBadRequest, p, p.text(kNameTooLong))
	}
	var number, src string
	if req.Card != nil {
		if !p.KeyInCharge {
			return simwire.WireChargeResult{}, false, unsupported(p, topic(p.Name)+" REST API 키인 결제를 지원하지 않습니다.")
		}
		n, ref := validateCard(p, req.Card)
		if ref != nil {
			return simwire.WireChargeResult{}, false, ref
		}
		number, src = n, "card:"+secretHash(n)
	} else {
		if !p.BillingKeyCharge {
			return simwire.WireChargeResult{}, false, unsupported(p, topic(p.Name)+" REST API 빌링키 결제를 지원하지 않습니다.")
		}
		src = "bk:" + req.BillingKey
	}
	fp := fmt.Sprintf("%d|%s|%s", req.Amount, req.Currency, src)

	s.mu.Lock()
	defer s.mu.Unlock()
	lk := ledgerKey{p.Provider, req.MID, req.IdempotencyKey}
	if c, ok := s.charges[lk]; ok {
		if c.fingerprint != fp {
			return simwire.WireChargeResult{}, false, conflict(p)
		}
		s.stats.replays.Add(1)
		return chargeView(c), c.alwaysLose, nil
	}
	if s.chance(s.cfg.Load().ErrorRate) {
		return simwire.WireChargeResult{}, false, s.systemError(p)
	}
	var (
		b    behaviour
		info pg.CardInfo
	)
	if req.Card != nil {
		b, info = behaviourOf(number), CardInfoFor(number)
	} else {
		k, ok := s.keys[req.BillingKey]
		if !ok || k.deleted || k.provider != p.Provider || k.mid != req.MID {
			return simwire.WireChargeResult{}, false, refuse(http.StatusBadRequest, p, p.text(kUnknownBillingKey))
		}
		b, info = k.behaviour, k.card
		if p.SameBuyerEmail && k.buyerEmail != "" && !strings.EqualFold(strings.TrimSpace(req.BuyerEmail), k.buyerEmail) {
			return simwire.WireChargeResult{}, false, refuse(http.StatusBadRequest, p, p.text(kBuyerEmailChanged))
		}
		if p.SameAmountMonthly && k.firstAmount > 0 {
			cycle, ref := phoneCycle(p, k, req.Amount, s.clock())
			if ref != nil {
				return simwire.WireChargeResult{}, false, ref
			}
			defer func() {
				if c, ok := s.charges[lk]; ok && c.Status == pg.ChargeApproved {
					k.paidCycles = cycle
				}
			}()
		} else if p.SameAmountMonthly {
			defer func() {
				if c, ok := s.charges[lk]; ok && c.Status == pg.ChargeApproved {
					k.firstAmount, k.anchor = c.Amount, c.CreatedAt
				}
			}()
		}
		if b == bBillingSoftOnce {
			k.charged++
			if k.charged == 1 {
				b = bInsufficient
			} else {
				b = bApprove
			}
		}
	}
	if b == bPGError {
		return simwire.WireChargeResult{}, false, s.systemError(p)
	}

	now := s.clock()
	s.seq++
	c := &charge{Charge: Charge{
		IdempotencyKey: req.IdempotencyKey, Provider: p.Provider, MID: req.MID, Sandbox: req.Sandbox,
		Amount: req.Amount, Currency: req.Currency, BillingKey: req.BillingKey, Card: info,
		OrderName: req.OrderName, CardQuota: req.CardQuota, CreatedAt: now,
		PGTID: fmt.Sprintf("%s%s%06d", p.tidPrefix, now.Format("060102150405"), s.seq%1000000),
	}, fingerprint: fp}
	c.ReceiptURL = "http://" + host + "/_sim/receipts/" + c.PGTID
	declined := func(k errKind) {
		t := p.text(k)
		c.Status, c.DeclineCode, c.DeclineReason = pg.ChargeDeclined, t.code, t.msg
		// Soft declines, as card networks classify them: the money or the
		// issuer's mood may change (the 0341 card's issuer refusals count
		// too, so dunning can be exercised); an expired card will not.
		c.Retryable = k == kInsufficient || k == kDecline || k == kBillingRefused
	}
	switch {
	case b == bBillingDeclines && req.BillingKey != "":
		declined(kBillingRefused)
	case b == bDecline:
		declined(kDecline)
	case b == bInsufficient:
		declined(kInsufficient)
	case b == bExpired:
		declined(kExpired)
	default:
		c.Status = pg.ChargeApproved
		c.ApplyNum = fmt.Sprintf("%08d", (s.seq*7919+1234)%100000000)
	}
	lose := false
	if c.Status == pg.ChargeApproved {
		c.alwaysLose = b == bLost
		lose = c.alwaysLose || s.chance(s.cfg.Load().LostRate)
		s.stats.approved.Add(1)
	} else {
		s.stats.declined.Add(1)
	}
	s.charges[lk] = c
	s.order = append(s.order, c)
	s.byTID[c.PGTID] = c
	s.stats.charges.Add(1)
	return chargeView(c), lose, nil
}

// phoneCycle checks a charge by a phone billing key against the carriers'
// rule: the first charge's amount, once a month, on the first charge's day of
// the month ±5 days. It returns the month (1, 2, …) the charge pays for.
func phoneCycle(p Personality, k *billingKey, amount int64, now time.Time) (int, *refusal) {
	if amount != k.firstAmount {
		return 0, refuse(http.StatusBadRequest, p, p.text(kSameAmount))
	}
	const slack = 5 * 24 * time.Hour
	for n := k.paidCycles + 1; ; n++ {
		due := k.anchor.AddDate(0, n, 0)
		if now.Before(due.Add(-slack)) {
			return 0, refuse(http.StatusBadRequest, p, p.text(kOutsideCycle))
		}
		if !now.After(due.Add(slack)) {
			return n, nil
		}
	}
}

func chargeView(c *charge) simwire.WireChargeResult {
	r := simwire.WireChargeResult{
		Provider: c.Provider, MID: c.MID, IdempotencyKey: c.IdempotencyKey, Status: string(c.Status),
		PGTID: c.PGTID, ApplyNum: c.ApplyNum, Card: wireCard(c.Card), DeclineCode: c.DeclineCode,
		DeclineReason: c.DeclineReason, Retryable: c.Retryable, Amount: c.Amount, Currency: c.Currency, Cancelled: c.Cancelled,
		ReceiptURL: c.ReceiptURL,
	}
	if c.Status == pg.ChargeApproved {
		r.ApprovedAt = c.CreatedAt
	}
	return r
}

func (s *Server) lookupCharge(provider, mid, key string) (simwire.WireChargeResult, *refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleAutoCancels()
	c, ok := s.charges[ledgerKey{provider, mid, key}]
	if !ok {
		return simwire.WireChargeResult{}, notFound(provider, simwire.CodeNoSuchCharge, "존재하지 않는 거래입니다.")
	}
	return chargeView(c), nil
}

func notFound(provider, code, msg string) *refusal {
	return &refusal{status: http.StatusNotFound, WireError: simwire.WireError{Provider: provider, Code: code, Message: msg}}
}

func (s *Server) cancel(chargeKey string, req simwire.WireCancel) (simwire.WireCancelResult, *refusal) {
	p, ref := personalityFor(req.Provider)
	if ref != nil {
		return simwire.WireCancelResult{}, ref
	}
	switch {
	case req.IdempotencyKey == "":
		return simwire.WireCancelResult{}, badRequest(p.Provider, "idempotency_key가 필요합니다.")
	case req.Amount < 0:
		return simwire.WireCancelResult{}, badRequest(p.Provider, "취소금액은 0 이상이어야 합니다.")
	case !p.Cancel:
		return simwire.WireCancelResult{}, unsupported(p, topic(p.Name)+" API 취소를 지원하지 않습니다.")
	}
	fp := fmt.Sprintf("%s|%d", chargeKey, req.Amount)

	s.mu.Lock()
	defer s.mu.Unlock()
	ck := ledgerKey{p.Provider, req.MID, req.IdempotencyKey}
	if ref, ok := s.cancels[ck]; ok {
		if ref.fingerprint != fp {
			return simwire.WireCancelResult{}, conflict(p)
		}
		s.stats.replays.Add(1)
		return cancelView(ref), nil
	}
	c, ok := s.charges[ledgerKey{p.Provider, req.MID, chargeKey}]
	if !ok {
		return simwire.WireCancelResult{}, notFound(p.Provider, simwire.CodeNoSuchCharge, "존재하지 않는 거래입니다.")
	}
	if c.Status != pg.ChargeApproved {
		return simwire.WireCancelResult{}, refuse(http.StatusBadRequest, p, p.text(kNotApproved))
	}
	remaining := c.Amount - c.Cancelled
	if remaining == 0 {
		return simwire.WireCancelResult{}, refuse(http.StatusBadRequest, p, p.text(kAlreadyCancelled))
	}
	amt := req.Amount
	if amt == 0 {
		amt = remaining
	}
	if amt > remaining {
		return simwire.WireCancelResult{}, refuse(http.StatusBadRequest, p, p.text(kOverRefund))
	}
	if amt < c.Amount && !p.PartialCancel {
		return simwire.WireCancelResult{}, unsupported(p, topic(p.Name)+" 부분취소를 지원하지 않습니다.")
	}
	if s.chance(s.cfg.Load().ErrorRate) {
		return simwire.WireCancelResult{}, s.systemError(p)
	}
	now := s.clock()
	s.seq++
	c.Cancellations = append(c.Cancellations, Cancellation{
		IdempotencyKey: req.IdempotencyKey, Amount: amt, Reason: req.Reason, CancelledAt: now,
		PGTID: fmt.Sprintf("%sC%s%06d", p.tidPrefix, now.Format("060102150405"), s.seq%1000000),
	})
	c.Cancelled += amt
	r := &cancelRef{charge: c, idx: len(c.Cancellations) - 1, requested: req.Amount, fingerprint: fp}
	s.cancels[ck] = r
	s.stats.cancels.Add(1)
	return cancelView(r), nil
}

func cancelView(r *cancelRef) simwire.WireCancelResult {
	c := r.charge
	x := c.Cancellations[r.idx]
	return simwire.WireCancelResult{
		Provider: c.Provider, MID: c.MID, IdempotencyKey: x.IdempotencyKey, ChargeKey: c.IdempotencyKey,
		PGTID: x.PGTID, Amount: x.Amount, Reason: x.Reason, CancelledAt: x.CancelledAt,
		ReceiptURL: c.ReceiptURL,
	}
}

func (s *Server) lookupCancel(provider, mid, key string) (simwire.WireCancelResult, *refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.cancels[ledgerKey{provider, mid, key}]
	if !ok {
		return simwire.WireCancelResult{}, notFound(provider, simwire.CodeNoSuchCancel, "존재하지 않는 취소 거래입니다.")
	}
	return cancelView(r), nil
}
