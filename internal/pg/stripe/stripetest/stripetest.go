// Package stripetest runs Stripe's own stripe-mock for tests and puts a thin
// stateful layer in front of it.
//
// stripe-mock validates every request against Stripe's OpenAPI spec and
// answers with fixture objects, but it keeps no state: a PaymentIntent it
// "creates" is never found again and never succeeds. The layer here forwards
// each request to stripe-mock first (a request stripe-mock rejects is
// answered with stripe-mock's error, so malformed calls fail as they would
// at Stripe) and then overlays the state stripe-mock lacks on stripe-mock's
// own response: ids, outcomes, metadata search, refunds, idempotent
// replays. Outcomes follow Stripe's documented test cards, which coincide
// with the sandbox's: 4242… approves, 0002 is declined when attached,
// 0069 is expired, 9995 attaches and its charges decline for insufficient
// funds, 0341 attaches and every charge declines. 0259 approves and drops
// the answer (the sandbox's lost-response card; at Stripe it is a dispute
// card).
package stripetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary finds stripe-mock: $STRIPE_MOCK, then PATH, then $GOBIN/$GOPATH/bin.
func Binary() (string, error) {
	if p := os.Getenv("STRIPE_MOCK"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "stripe-mock")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("stripe-mock not found (go install github.com/stripe/stripe-mock@latest)")
}

var (
	mockOnce sync.Once
	mockSock string
	mockErr  error
)

// startMock runs one stripe-mock per test process on a Unix socket; it dies
// with the process (Pdeathsig).
func startMock() (string, error) {
	mockOnce.Do(func() {
		bin, err := Binary()
		if err != nil {
			mockErr = err
			return
		}
		dir, err := os.MkdirTemp("", "stripemock")
		if err != nil {
			mockErr = err
			return
		}
		sock := filepath.Join(dir, "mock.sock")
		cmd := exec.Command(bin, "-http-unix", sock)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			mockErr = fmt.Errorf("start stripe-mock: %w", err)
			return
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			if c, err := net.Dial("unix", sock); err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				mockErr = fmt.Errorf("stripe-mock did not start: %s", out.String())
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		mockSock = sock
	})
	return mockSock, mockErr
}

// Server is stripe-mock with state, on a loopback URL.
type Server struct {
	URL string

	mock *http.Client

	mu        sync.Mutex
	seq       int
	latency   time.Duration
	pms       map[string]*pmState
	customers map[string]*customerState
	intents   map[string]map[string]any
	order     []string
	charges   map[string]map[string]any
	refunds   map[string][]map[string]any // by intent
	idem      map[string]stored
	requests  map[string]int
}

type pmState struct {
	number string
	obj    map[string]any
}

type customerState struct {
	obj     map[string]any
	deleted bool
}

type stored struct {
	status int
	body   []byte
	lose   bool
}

// Start returns a running server, or skips the test when stripe-mock is not
// installed (fails under CI=true, where .ci/run installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	sock, err := startMock()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("stripe-mock is required under CI: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	s := &Server{
		mock: &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}},
		pms: map[string]*pmState{}, customers: map[string]*customerState{}, intents: map[string]map[string]any{},
		charges: map[string]map[string]any{}, refunds: map[string][]map[string]any{}, idem: map[string]stored{},
		requests: map[string]int{},
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// SetLatency delays every answer after its effect is recorded, so a client
// that gives up has really left a charge behind.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Requests counts requests by "METHOD /path" (ids replaced by {id}).
func (s *Server) Requests(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[route]
}

// Succeeded counts PaymentIntents that succeeded: the ground truth
// exactly-once tests assert on.
func (s *Server) Succeeded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, pi := range s.intents {
		if pi["status"] == "succeeded" {
			n++
		}
	}
	return n
}

var idRe = regexp.MustCompile(`/(pi|pm|cus|ch|re)_[A-Za-z0-9]+`)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	route := r.Method + " " + idRe.ReplaceAllString(r.URL.Path, "/{id}")
	s.mu.Lock()
	s.requests[route]++
	s.mu.Unlock()

	// stripe-mock first: it validates the request against Stripe's spec.
	mreq, _ := http.NewRequestWithContext(r.Context(), r.Method, "http://stripe-mock"+r.URL.RequestURI(), bytes.NewReader(raw))
	mreq.Header = r.Header.Clone()
	mresp, err := s.mock.Do(mreq)
	if err != nil {
		http.Error(w, "stripe-mock: "+err.Error(), http.StatusBadGateway)
		return
	}
	mbody, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if mresp.StatusCode != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(mresp.StatusCode)
		_, _ = w.Write(mbody)
		return
	}
	var base map[string]any
	_ = json.Unmarshal(mbody, &base)
	form, _ := url.ParseQuery(string(raw))
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}

	key := r.Header.Get("Idempotency-Key")
	ik := r.Header.Get("Authorization") + "|" + r.URL.Path + "|" + key
	s.mu.Lock()
	if prev, ok := s.idem[ik]; ok && key != "" && r.Method == http.MethodPost {
		latency := s.latency
		s.mu.Unlock()
		wait(r.Context(), latency)
		w.Header().Set("Idempotent-Replayed", "true")
		s.write(w, prev)
		return
	}
	status, body, lose := s.apply(r.Method, r.URL.Path, form, base)
	b, _ := json.Marshal(body)
	res := stored{status: status, body: b, lose: lose}
	if key != "" && r.Method == http.MethodPost {
		s.idem[ik] = res
	}
	latency := s.latency
	s.mu.Unlock()
	wait(r.Context(), latency)
	s.write(w, res)
}

func wait(ctx context.Context, d time.Duration) {
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

func (s *Server) write(w http.ResponseWriter, res stored) {
	if res.lose {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

func (s *Server) id(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_bk%012d", prefix, s.seq)
}

func metadata(form url.Values) map[string]any {
	m := map[string]any{}
	for k, v := range form {
		if name, ok := strings.CutPrefix(k, "metadata["); ok {
			m[strings.TrimSuffix(name, "]")] = v[0]
		}
	}
	return m
}

func stripeErr(status int, typ, code, declineCode, msg string, extra map[string]any) (int, any, bool) {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	if declineCode != "" {
		e["decline_code"] = declineCode
	}
	for k, v := range extra {
		e[k] = v
	}
	return status, map[string]any{"error": e}, false
}

var tokens = map[string]string{
	"tok_visa": "4242424242424242", "tok_mastercard": "5555555555554444",
	"tok_chargeDeclined": "4000000000000002", "tok_chargeDeclinedInsufficientFunds": "4000000000009995",
	"tok_chargeDeclinedExpiredCard": "4000000000000069", "tok_chargeCustomerFail": "4000000000000341",
}

func luhn(n string) bool {
	if len(n) < 12 {
		return false
	}
	sum, alt := 0, false
	for i := len(n) - 1; i >= 0; i-- {
		d := int(n[i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if alt {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum, alt = sum+d, !alt
	}
	return sum%10 == 0
}

// apply records the request's effect and returns the answer; s.mu is held.
func (s *Server) apply(method, path string, form url.Values, base map[string]any) (int, any, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case method == "POST" && path == "/v1/payment_methods":
		number := form.Get("card[number]")
		if t := form.Get("card[token]"); t != "" {
			number = tokens[t]
		}
		if !luhn(number) {
			return stripeErr(402, "card_error", "incorrect_number", "", "Your card number is incorrect.", nil)
		}
		id := s.id("pm")
		brand := "visa"
		if number[0] == '5' {
			brand = "mastercard"
		}
		base["id"], base["type"] = id, "card"
		base["card"] = map[string]any{"brand": brand, "last4": number[len(number)-4:], "funding": "credit",
			"exp_month": atoi(form.Get("card[exp_month]"), 12), "exp_year": atoi(form.Get("card[exp_year]"), 2030), "country": "US"}
		base["customer"] = nil
		s.pms[id] = &pmState{number: number, obj: base}
		return 200, base, false
	case method == "GET" && len(parts) == 3 && parts[1] == "payment_methods":
		pm, ok := s.pms[parts[2]]
		if !ok {
			return missing("payment_method", parts[2])
		}
		return 200, pm.obj, false
	case method == "POST" && path == "/v1/customers":
		id := s.id("cus")
		if pmID := form.Get("payment_method"); pmID != "" {
			pm, ok := s.pms[pmID]
			if !ok {
				return missing("payment_method", pmID)
			}
			switch pm.number {
			case "4000000000000002":
				return stripeErr(402, "card_error", "card_declined", "generic_decline", "Your card was declined.", nil)
			case "4000000000000069":
				return stripeErr(402, "card_error", "expired_card", "", "Your card has expired.", nil)
			}
			pm.obj["customer"] = id
		}
		base["id"], base["metadata"], base["deleted"] = id, metadata(form), nil
		s.customers[id] = &customerState{obj: base}
		return 200, base, false
	case method == "DELETE" && len(parts) == 3 && parts[1] == "customers":
		c, ok := s.customers[parts[2]]
		if !ok || c.deleted {
			return missing("customer", parts[2])
		}
		c.deleted = true
		return 200, map[string]any{"id": parts[2], "object": "customer", "deleted": true}, false
	case method == "POST" && path == "/v1/payment_intents":
		return s.createIntent(form, base)
	case method == "GET" && path == "/v1/payment_intents/search":
		want := searchValue(form.Get("query"))
		var data []any
		for _, id := range s.order {
			pi := s.intents[id]
			if md, _ := pi["metadata"].(map[string]any); md != nil && want != "" && md["billkey_charge"] == want {
				data = append(data, s.expandIntent(pi))
			}
		}
		if data == nil {
			data = []any{}
		}
		return 200, map[string]any{"object": "search_result", "data": data, "has_more": false, "next_page": nil, "url": "/v1/payment_intents/search"}, false
	case method == "GET" && len(parts) == 3 && parts[1] == "payment_intents":
		pi, ok := s.intents[parts[2]]
		if !ok {
			return missing("payment_intent", parts[2])
		}
		return 200, s.expandIntent(pi), false
	case method == "GET" && len(parts) == 3 && parts[1] == "charges":
		ch, ok := s.charges[parts[2]]
		if !ok {
			return missing("charge", parts[2])
		}
		return 200, ch, false
	case method == "POST" && path == "/v1/refunds":
		return s.refund(form, base)
	case method == "GET" && path == "/v1/refunds":
		data := []any{}
		for _, r := range s.refunds[form.Get("payment_intent")] {
			data = append(data, r)
		}
		return 200, map[string]any{"object": "list", "data": data, "has_more": false, "url": "/v1/refunds"}, false
	}
	return 200, base, false
}

func atoi(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

func missing(what, id string) (int, any, bool) {
	return stripeErr(404, "invalid_request_error", "resource_missing", "", fmt.Sprintf("No such %s: '%s'", what, id), map[string]any{"param": "id"})
}

var searchRe = regexp.MustCompile(`metadata\['[^']+'\]:'((?:[^'\\]|\\.)*)'`)

func searchValue(q string) string {
	m := searchRe.FindStringSubmatch(q)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], `\'`, "'")
}

func (s *Server) expandIntent(pi map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range pi {
		out[k] = v
	}
	if chID, ok := pi["latest_charge"].(string); ok {
		out["latest_charge"] = s.charges[chID]
	}
	if pmID, ok := pi["payment_method"].(string); ok {
		if pm := s.pms[pmID]; pm != nil {
			out["payment_method"] = pm.obj
		}
	}
	return out
}

func (s *Server) createIntent(form url.Values, base map[string]any) (int, any, bool) {
	pmID := form.Get("payment_method")
	pm, ok := s.pms[pmID]
	if !ok {
		return missing("payment_method", pmID)
	}
	id := s.id("pi")
	amount := int64(atoi(form.Get("amount"), 0))
	pi := base
	pi["id"], pi["amount"], pi["currency"] = id, amount, form.Get("currency")
	pi["customer"], pi["payment_method"], pi["metadata"] = nilIfEmpty(form.Get("customer")), pmID, metadata(form)
	pi["created"], pi["latest_charge"], pi["last_payment_error"] = time.Now().Unix(), nil, nil
	pi["amount_received"], pi["next_action"], pi["canceled_at"] = int64(0), nil, nil
	s.intents[id] = pi
	s.order = append(s.order, id)
	decline := ""
	switch pm.number {
	case "4000000000009995":
		decline = "insufficient_funds"
	case "4000000000000341":
		decline = "generic_decline"
	case "4000000000000119":
		decline = "processing_error"
	}
	if form.Get("confirm") != "true" {
		pi["status"] = "requires_confirmation"
		return 200, pi, false
	}
	if decline != "" {
		msg := "Your card was declined."
		code := "card_declined"
		if decline == "insufficient_funds" {
			msg = "Your card has insufficient funds."
		}
		if decline == "processing_error" {
			code, msg = "processing_error", "An error occurred while processing your card. Try again in a little bit."
		}
		pi["status"] = "requires_payment_method"
		pi["last_payment_error"] = map[string]any{"type": "card_error", "code": code, "decline_code": decline, "message": msg}
		return stripeErr(402, "card_error", code, decline, msg, map[string]any{"payment_intent": pi})
	}
	chID := s.id("ch")
	s.charges[chID] = map[string]any{"id": chID, "object": "charge", "amount": amount, "amount_refunded": int64(0),
		"currency": form.Get("currency"), "paid": true, "status": "succeeded", "payment_intent": id,
		"receipt_url": "https://pay.stripe.com/receipts/" + chID, "refunded": false}
	pi["status"], pi["latest_charge"], pi["amount_received"] = "succeeded", chID, amount
	return 200, s.expandIntentIDs(pi), pm.number == "4000000000000259"
}

// expandIntentIDs returns the create answer as Stripe does: ids, not objects.
func (s *Server) expandIntentIDs(pi map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range pi {
		out[k] = v
	}
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) refund(form url.Values, base map[string]any) (int, any, bool) {
	piID := form.Get("payment_intent")
	pi, ok := s.intents[piID]
	if !ok {
		return missing("payment_intent", piID)
	}
	chID, _ := pi["latest_charge"].(string)
	ch := s.charges[chID]
	if ch == nil {
		return stripeErr(400, "invalid_request_error", "charge_not_found", "", "This PaymentIntent has no successful charge to refund.", nil)
	}
	left := ch["amount"].(int64) - ch["amount_refunded"].(int64)
	if left == 0 {
		return stripeErr(400, "invalid_request_error", "charge_already_refunded", "", fmt.Sprintf("Charge %s has already been refunded.", chID), nil)
	}
	amount := left
	if a := form.Get("amount"); a != "" {
		amount = int64(atoi(a, 0))
	}
	if amount > left {
		return stripeErr(400, "invalid_request_error", "amount_too_large", "",
			fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, left), map[string]any{"param": "amount"})
	}
	ch["amount_refunded"] = ch["amount_refunded"].(int64) + amount
	ch["refunded"] = ch["amount_refunded"] == ch["amount"]
	id := s.id("re")
	base["id"], base["amount"], base["payment_intent"], base["charge"] = id, amount, piID, chID
	base["status"], base["metadata"], base["created"] = "succeeded", metadata(form), time.Now().Unix()
	base["failure_reason"] = nil
	s.refunds[piID] = append(s.refunds[piID], base)
	return 200, base, false
}
