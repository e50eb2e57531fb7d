package pg_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/billkey/billkey/internal/pg"
)

type fakeConn struct{ pg.Connector }

func (fakeConn) Charge(ctx context.Context, req pg.ChargeRequest) (*pg.ChargeResult, error) {
	switch req.IdempotencyKey {
	case "lost":
		return nil, pg.ErrUnknownOutcome
	case "refused":
		return nil, &pg.Error{Provider: req.Target.Provider, Code: "E1", Message: "no"}
	case "declined":
		return &pg.ChargeResult{Status: pg.ChargeDeclined}, nil
	}
	return &pg.ChargeResult{Status: pg.ChargeApproved}, nil
}

type fakeWindowConn struct{ fakeConn }

func (fakeWindowConn) IssueWindowBillingKey(ctx context.Context, req pg.IssueKeyRequest, method string) (*pg.IssueKeyResult, error) {
	return nil, errors.New("boom")
}

func TestInstrumentCountsByProviderOperationOutcome(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := pg.Instrument(fakeConn{}, reg)
	tg := pg.Target{Provider: "nice", MID: "m"}
	for _, k := range []string{"ok", "ok", "declined", "lost", "refused"} {
		c.Charge(context.Background(), pg.ChargeRequest{Target: tg, IdempotencyKey: k})
	}
	want := `
# HELP billkey_pg_calls_total Payment processor calls by provider, operation and outcome.
# TYPE billkey_pg_calls_total counter
billkey_pg_calls_total{operation="charge",outcome="approved",provider="nice"} 2
billkey_pg_calls_total{operation="charge",outcome="declined",provider="nice"} 1
billkey_pg_calls_total{operation="charge",outcome="refused",provider="nice"} 1
billkey_pg_calls_total{operation="charge",outcome="unknown",provider="nice"} 1
`
	if err := testutil.GatherAndCompare(reg, stringsReader(want), "billkey_pg_calls_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "billkey_pg_call_duration_seconds"); n != 4 {
		t.Fatalf("%d latency series, want 4", n)
	}
	if _, ok := c.(interface {
		IssueWindowBillingKey(context.Context, pg.IssueKeyRequest, string) (*pg.IssueKeyResult, error)
	}); ok {
		t.Fatal("a connector without payment windows gained one through the wrapper")
	}
}

// The wrapper keeps the optional payment-window method of the connector.
func TestInstrumentKeepsWindowIssuer(t *testing.T) {
	t.Parallel()
	c := pg.Instrument(fakeWindowConn{}, prometheus.NewRegistry())
	w, ok := c.(interface {
		IssueWindowBillingKey(context.Context, pg.IssueKeyRequest, string) (*pg.IssueKeyResult, error)
	})
	if !ok {
		t.Fatal("payment-window method hidden by the wrapper")
	}
	if _, err := w.IssueWindowBillingKey(context.Background(), pg.IssueKeyRequest{}, "card"); err == nil {
		t.Fatal("error not passed through")
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
