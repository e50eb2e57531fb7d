// Command merchant is a small subscription shop on Billkey, written with the
// Go standard library only. It shows the whole recurring-billing loop a
// merchant builds on the i'mport V1 API:
//
//  1. The customer clicks Subscribe; the page opens Billkey's payment window
//     (IMP.request_pay with amount 0 and a customer_uid) to issue a billing
//     key. No card number ever reaches this server.
//  2. The window returns to /return with an imp_uid. The server looks the
//     payment up over REST (never trusting the browser), charges the first
//     month with the billing key (POST /subscribe/payments/again) and books
//     the next month (POST /subscribe/payments/schedule) with its own
//     /webhook as notice_url.
//  3. When Billkey executes the schedule it POSTs the webhook, signed with
//     Standard Webhooks headers. The server verifies the signature, looks the
//     payment up, and books the month after — or, after a decline, a retry a
//     day later (three at most, then the subscription is cancelled).
//
// Run it against a Billkey sandbox:
//
//	go run ./cmd/billkey serve --test-clock      # prints imp_key, imp_secret, merchant_code
//	BILLKEY_URL=http://127.0.0.1:8080 IMP_KEY=… IMP_SECRET=… MERCHANT_CODE=imp… \
//	  go run ./examples/merchant                 # http://127.0.0.1:8081
//
// then subscribe with 4242 4242 4242 4242 and move a month ahead with
// POST /sandbox/clock/advance {"seconds": 2678400}.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Plan is what the shop sells.
const (
	planName   = "Monthly plan"
	planAmount = 9900 // KRW
	maxRetries = 3
)

type config struct {
	Addr         string // where this shop listens
	PublicURL    string // how Billkey and browsers reach it (notice_url, m_redirect_url)
	BillkeyURL   string
	ImpKey       string
	ImpSecret    string
	MerchantCode string // for IMP.init
	// WebhookSecret (whsec_…) verifies webhooks; empty fetches it from
	// Billkey (GET /webhooks/secret) at start.
	WebhookSecret string
}

func main() {
	cfg := config{
		Addr: env("ADDR", "127.0.0.1:8081"), BillkeyURL: env("BILLKEY_URL", "http://127.0.0.1:8080"),
		ImpKey: os.Getenv("IMP_KEY"), ImpSecret: os.Getenv("IMP_SECRET"), MerchantCode: os.Getenv("MERCHANT_CODE"),
		WebhookSecret: os.Getenv("WEBHOOK_SECRET"),
	}
	cfg.PublicURL = env("PUBLIC_URL", "http://"+cfg.Addr)
	if cfg.ImpKey == "" || cfg.ImpSecret == "" || cfg.MerchantCode == "" {
		log.Fatal("set IMP_KEY, IMP_SECRET and MERCHANT_CODE (billkey serve prints them)")
	}
	shop, err := newShop(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("shop on %s (Billkey at %s)", cfg.PublicURL, cfg.BillkeyURL)
	log.Fatal(http.ListenAndServe(cfg.Addr, shop.routes()))
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// subscription is one customer's plan, as the shop keeps it.
type subscription struct {
	CustomerUID string    `json:"customer_uid"`
	Status      string    `json:"status"` // active, past_due, cancelled
	Anchor      time.Time `json:"anchor"` // first successful charge: month n is due at Anchor + n-1 months
	Period      int       `json:"period"` // months paid
	Retries     int       `json:"retries"`
	Next        string    `json:"next"` // merchant_uid of the booked schedule
	NextAt      time.Time `json:"next_at"`
	Paid        []string  `json:"paid"` // imp_uids
}

type shop struct {
	cfg    config
	bk     *billkey
	secret []byte

	mu    sync.Mutex
	subs  map[string]*subscription
	seen  map[string]bool // webhook-ids already handled (delivery is at least once)
	watch chan struct{}   // signalled after every change, for tests and demos
}

func newShop(ctx context.Context, cfg config) (*shop, error) {
	s := &shop{cfg: cfg, bk: &billkey{base: strings.TrimSuffix(cfg.BillkeyURL, "/"), key: cfg.ImpKey, secret: cfg.ImpSecret},
		subs: map[string]*subscription{}, seen: map[string]bool{}, watch: make(chan struct{}, 1)}
	whsec := cfg.WebhookSecret
	if whsec == "" {
		var secrets []struct {
			Secret string `json:"secret"`
		}
		if err := s.bk.call(ctx, "GET", "/webhooks/secret", nil, &secrets); err != nil || len(secrets) == 0 {
			return nil, fmt.Errorf("fetch the webhook secret: %v", err)
		}
		whsec = secrets[0].Secret
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsec, "whsec_"))
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	s.secret = key
	return s, nil
}

func (s *shop) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /return", s.windowReturn)
	mux.HandleFunc("POST /webhook", s.webhook)
	mux.HandleFunc("GET /subscriptions", s.list)
	return mux
}

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<script src="{{.Billkey}}/v1/iamport.js"></script></head>
<body>
<h1>{{.Plan}} — {{.Amount}} KRW / month</h1>
<label>Customer <input id="customer" value="{{.Customer}}"></label>
<button id="subscribe">Subscribe</button>
<script>
IMP.init({{.Merchant}});
document.getElementById("subscribe").addEventListener("click", function () {
  var customer = document.getElementById("customer").value;
  // amount 0 + customer_uid: the window only issues the billing key; the
  // server charges it. Without a callback the window comes back to
  // m_redirect_url with imp_uid, merchant_uid and imp_success.
  IMP.request_pay({
    pg: "kicc", pay_method: "card", amount: 0, name: {{.Plan}},
    customer_uid: customer, merchant_uid: "key-" + customer + "-" + Date.now(),
    m_redirect_url: {{.Return}}
  });
});
</script>
</body></html>`))

func (s *shop) home(w http.ResponseWriter, r *http.Request) {
	homePage.Execute(w, map[string]any{"Billkey": s.cfg.BillkeyURL, "Merchant": s.cfg.MerchantCode, "Plan": planName,
		"Amount": planAmount, "Customer": "customer-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10), "Return": s.cfg.PublicURL + "/return"})
}

// windowReturn is where the payment window sends the customer back. The
// query says what the browser claims; the REST lookup says what happened.
func (s *shop) windowReturn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("imp_success") != "true" {
		http.Error(w, "Card not registered: "+q.Get("error_msg"), http.StatusPaymentRequired)
		return
	}
	p, err := s.bk.payment(r.Context(), q.Get("imp_uid"))
	if err != nil || p.Status != "paid" || p.CustomerUIDUsage != "issue" || p.CustomerUID == "" || p.MerchantUID != q.Get("merchant_uid") {
		http.Error(w, "could not verify the billing key", http.StatusBadRequest)
		return
	}
	sub, err := s.start(r.Context(), p.CustomerUID)
	if err != nil {
		log.Printf("start %s: %v", p.CustomerUID, err)
		http.Error(w, "subscription failed", http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "<!doctype html><h1 id=result>%s</h1><p>Card %s registered for %s.</p>", template.HTMLEscapeString(sub.Status),
		template.HTMLEscapeString(p.CardNumber), template.HTMLEscapeString(sub.CustomerUID))
}

// start charges the first month and books the next one.
func (s *shop) start(ctx context.Context, customer string) (*subscription, error) {
	s.mu.Lock()
	sub, ok := s.subs[customer]
	if !ok {
		sub = &subscription{CustomerUID: customer, Status: "past_due"}
		s.subs[customer] = sub
	}
	s.mu.Unlock()
	p, err := s.bk.again(ctx, customer, orderID(customer, 1, 0))
	if err != nil {
		return nil, err
	}
	return sub, s.settle(ctx, p)
}

func orderID(customer string, period, retry int) string {
	if retry == 0 {
		return fmt.Sprintf("plan-%s-%d", customer, period)
	}
	return fmt.Sprintf("plan-%s-%d-r%d", customer, period, retry)
}

// settle records a charge of the plan (the first one, or a scheduled one
// reported by webhook) and books what comes next.
func (s *shop) settle(ctx context.Context, p *payment) error {
	s.mu.Lock()
	defer s.notify()
	defer s.mu.Unlock()
	sub, ok := s.subs[p.CustomerUID]
	if !ok || sub.Status == "cancelled" {
		return nil
	}
	period := sub.Period + 1
	if p.MerchantUID != orderID(sub.CustomerUID, period, sub.Retries) {
		return nil // not the charge we wait for (a replayed webhook, an old retry)
	}
	var next string
	var at time.Time
	switch p.Status {
	case "paid":
		if sub.Period == 0 {
			sub.Anchor = time.Unix(p.PaidAt, 0)
		}
		sub.Period, sub.Retries, sub.Status = period, 0, "active"
		sub.Paid = append(sub.Paid, p.ImpUID)
		// From the anchor, not from this payment: late retries do not drift
		// the billing day.
		next, at = orderID(sub.CustomerUID, period+1, 0), sub.Anchor.AddDate(0, period, 0)
	case "failed":
		if sub.Retries >= maxRetries {
			sub.Status, sub.Next, sub.NextAt = "cancelled", "", time.Time{}
			return nil
		}
		sub.Retries++
		sub.Status = "past_due"
		next, at = orderID(sub.CustomerUID, period, sub.Retries), time.Unix(p.FailedAt, 0).Add(24*time.Hour)
	default:
		return nil // ready: outcome unknown yet; Billkey sends the webhook once it knows
	}
	if err := s.bk.schedule(ctx, sub.CustomerUID, next, at, s.cfg.PublicURL+"/webhook"); err != nil {
		return err
	}
	sub.Next, sub.NextAt = next, at
	return nil
}

func (s *shop) notify() {
	select {
	case s.watch <- struct{}{}:
	default:
	}
}

// webhook receives Billkey's notifications: {imp_uid, merchant_uid, status}.
func (s *shop) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "body", http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	if err := verifyWebhook(s.secret, id, r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, time.Now()); err != nil {
		log.Printf("webhook refused: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	dup := s.seen[id]
	s.seen[id] = true
	s.mu.Unlock()
	if dup {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var n struct {
		ImpUID string `json:"imp_uid"`
	}
	if err := json.Unmarshal(body, &n); err != nil || n.ImpUID == "" {
		http.Error(w, "payload", http.StatusBadRequest)
		return
	}
	// The notification says which payment changed; the REST API says how.
	p, err := s.bk.payment(r.Context(), n.ImpUID)
	if err == nil {
		err = s.settle(r.Context(), p)
	}
	if err != nil {
		s.mu.Lock()
		delete(s.seen, id) // let Billkey's retry try again
		s.mu.Unlock()
		log.Printf("webhook %s: %v", id, err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// verifyWebhook checks a Standard Webhooks signature: HMAC-SHA256 keyed with
// the whsec_ secret over "id.timestamp.body", base64, in a space-separated
// list of "v1,<signature>" (two during a secret rotation).
func verifyWebhook(secret []byte, id, timestamp, signatures string, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || id == "" {
		return errors.New("missing webhook-id or webhook-timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("webhook-timestamp too far from now (replay?)")
	}
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(signatures) {
		if v, ok := strings.CutPrefix(sig, "v1,"); ok {
			if got, err := base64.StdEncoding.DecodeString(v); err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return errors.New("no valid signature")
}

func (s *shop) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.subs)
}

// billkey is a minimal i'mport V1 client: a token, cached until Billkey says
// it expired, and JSON calls in the V1 envelope.
type billkey struct {
	base, key, secret string
	mu                sync.Mutex
	token             string
}

type payment struct {
	ImpUID           string `json:"imp_uid"`
	MerchantUID      string `json:"merchant_uid"`
	Status           string `json:"status"`
	CustomerUID      string `json:"customer_uid"`
	CustomerUIDUsage string `json:"customer_uid_usage"`
	CardNumber       string `json:"card_number"`
	PaidAt           int64  `json:"paid_at"`
	FailedAt         int64  `json:"failed_at"`
	FailReason       string `json:"fail_reason"`
}

func (b *billkey) payment(ctx context.Context, impUID string) (*payment, error) {
	var p payment
	return &p, b.call(ctx, "GET", "/payments/"+url.PathEscape(impUID), nil, &p)
}

func (b *billkey) again(ctx context.Context, customer, merchantUID string) (*payment, error) {
	var p payment
	return &p, b.call(ctx, "POST", "/subscribe/payments/again", map[string]any{
		"customer_uid": customer, "merchant_uid": merchantUID, "amount": planAmount, "name": planName}, &p)
}

func (b *billkey) schedule(ctx context.Context, customer, merchantUID string, at time.Time, noticeURL string) error {
	return b.call(ctx, "POST", "/subscribe/payments/schedule", map[string]any{"customer_uid": customer,
		"schedules": []map[string]any{{"merchant_uid": merchantUID, "schedule_at": at.Unix(), "amount": planAmount,
			"name": planName, "notice_url": noticeURL}}}, nil)
}

type apiError struct {
	Status  int
	Code    int
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("billkey: HTTP %d code %d: %s", e.Status, e.Code, e.Message)
}

func (b *billkey) call(ctx context.Context, method, path string, in, out any) error {
	err := b.do(ctx, method, path, in, out)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		b.mu.Lock()
		b.token = "" // expired: get a new one and try once more
		b.mu.Unlock()
		err = b.do(ctx, method, path, in, out)
	}
	return err
}

func (b *billkey) do(ctx context.Context, method, path string, in, out any) error {
	tok, err := b.accessToken(ctx)
	if err != nil {
		return err
	}
	return b.send(ctx, method, path, tok, in, out)
}

func (b *billkey) accessToken(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.token != "" {
		return b.token, nil
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := b.send(ctx, "POST", "/users/getToken", "", map[string]string{"imp_key": b.key, "imp_secret": b.secret}, &t); err != nil {
		return "", err
	}
	b.token = t.AccessToken
	return b.token, nil
}

func (b *billkey) send(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Code     int             `json:"code"`
		Message  string          `json:"message"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("billkey %s %s: HTTP %d: %w", method, path, resp.StatusCode, err)
	}
	if resp.StatusCode >= 300 || env.Code != 0 {
		return &apiError{Status: resp.StatusCode, Code: env.Code, Message: env.Message}
	}
	if out != nil {
		return json.Unmarshal(env.Response, out)
	}
	return nil
}
