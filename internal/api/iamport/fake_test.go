package iamport

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
)

// fakeService answers only what a test sets; anything else is a 500, so a
// test that hits an unexpected method fails loudly. It stands in for the
// service (not the store) to pin the HTTP contract: envelope, statuses and
// error mapping.
type fakeService struct {
	issueToken  func(key, secret string) (core.Token, error)
	issueKey    func(in charge.IssueKeyInput) (*core.BillingKey, error)
	getKey      func(uid string) (*core.BillingKey, error)
	getKeys     func(uids []string) ([]core.BillingKey, error)
	deleteKey   func(uid, reason string) (*core.BillingKey, error)
	onetime     func(in charge.PayInput) (*core.Payment, error)
	again       func(in charge.PayInput) (*core.Payment, error)
	getPayment  func(impUID string) (*core.Payment, error)
	findPayment func(mu, status, sorting string) (*core.Payment, error)
	getPayments func(imps, mus []string) ([]core.Payment, int, error)
	list        func(q core.PaymentQuery) (core.PaymentPage, error)
	cancel      func(in charge.CancelInput) (*core.Payment, error)
	prepare     func(mu string, amount int64, cur string, update bool) (*core.Prepared, error)
	getPrepared func(mu string) (*core.Prepared, error)
	channels    func() ([]core.Channel, error)
}

var errUnset = errors.New("fake: not set by this test")

const testToken = "tok_live"

var testMerchant = &core.Merchant{ID: 7, Code: "imp12345678", Name: "shop"}

func (f *fakeService) IssueToken(_ context.Context, k, s string) (core.Token, error) {
	if f.issueToken == nil {
		return core.Token{}, errUnset
	}
	return f.issueToken(k, s)
}

func (f *fakeService) Authenticate(_ context.Context, tok string) (*core.Merchant, error) {
	if tok == testToken {
		return testMerchant, nil
	}
	return nil, merchant.ErrUnauthorized
}

func call[T any](fn func() (T, error), set bool) (T, error) {
	var zero T
	if !set {
		return zero, errUnset
	}
	return fn()
}

func (f *fakeService) IssueBillingKey(_ context.Context, _ int64, in charge.IssueKeyInput) (*core.BillingKey, error) {
	return call(func() (*core.BillingKey, error) { return f.issueKey(in) }, f.issueKey != nil)
}
func (f *fakeService) GetBillingKey(_ context.Context, _ int64, uid string) (*core.BillingKey, error) {
	return call(func() (*core.BillingKey, error) { return f.getKey(uid) }, f.getKey != nil)
}
func (f *fakeService) GetBillingKeys(_ context.Context, _ int64, uids []string) ([]core.BillingKey, error) {
	return call(func() ([]core.BillingKey, error) { return f.getKeys(uids) }, f.getKeys != nil)
}
func (f *fakeService) DeleteBillingKey(_ context.Context, _ int64, uid, reason string) (*core.BillingKey, error) {
	return call(func() (*core.BillingKey, error) { return f.deleteKey(uid, reason) }, f.deleteKey != nil)
}
func (f *fakeService) Onetime(_ context.Context, _ int64, in charge.PayInput) (*core.Payment, error) {
	return call(func() (*core.Payment, error) { return f.onetime(in) }, f.onetime != nil)
}
func (f *fakeService) Again(_ context.Context, _ int64, in charge.PayInput) (*core.Payment, error) {
	return call(func() (*core.Payment, error) { return f.again(in) }, f.again != nil)
}
func (f *fakeService) GetPayment(_ context.Context, _ int64, id string) (*core.Payment, error) {
	return call(func() (*core.Payment, error) { return f.getPayment(id) }, f.getPayment != nil)
}
func (f *fakeService) FindPayment(_ context.Context, _ int64, mu, st, so string) (*core.Payment, error) {
	return call(func() (*core.Payment, error) { return f.findPayment(mu, st, so) }, f.findPayment != nil)
}
func (f *fakeService) GetPayments(_ context.Context, _ int64, imps, mus []string) ([]core.Payment, int, error) {
	if f.getPayments == nil {
		return nil, 0, errUnset
	}
	return f.getPayments(imps, mus)
}
func (f *fakeService) ListPayments(_ context.Context, _ int64, q core.PaymentQuery) (core.PaymentPage, error) {
	return call(func() (core.PaymentPage, error) { return f.list(q) }, f.list != nil)
}
func (f *fakeService) Cancel(_ context.Context, _ int64, in charge.CancelInput) (*core.Payment, error) {
	return call(func() (*core.Payment, error) { return f.cancel(in) }, f.cancel != nil)
}
func (f *fakeService) Prepare(_ context.Context, _ int64, mu string, a int64, c string, u bool) (*core.Prepared, error) {
	return call(func() (*core.Prepared, error) { return f.prepare(mu, a, c, u) }, f.prepare != nil)
}
func (f *fakeService) GetPrepared(_ context.Context, _ int64, mu string) (*core.Prepared, error) {
	return call(func() (*core.Prepared, error) { return f.getPrepared(mu) }, f.getPrepared != nil)
}
func (f *fakeService) Channels(_ context.Context, _ int64) ([]core.Channel, error) {
	return call(f.channels, f.channels != nil)
}

var testNow = time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)

type fakeEnv struct {
	h   http.Handler
	reg *prometheus.Registry
}

func newFake(t *testing.T, f *fakeService) fakeEnv {
	t.Helper()
	reg := prometheus.NewRegistry()
	h := newHandler(f, f, Options{Clock: clock.NewTest(testNow), Registerer: reg, MaxBodyBytes: 4096})
	return fakeEnv{h: h, reg: reg}
}

// do sends a request with the test token unless headers say otherwise.
func (e fakeEnv) do(t *testing.T, method, target, contentType, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, target, strings.NewReader(body))
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if len(headers) == 0 {
		headers = []string{"Authorization", testToken}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

type recorder struct {
	*httptest.ResponseRecorder
	body *bytes.Buffer
}

func newRecorder() recorder {
	r := httptest.NewRecorder()
	return recorder{ResponseRecorder: r, body: r.Body}
}
