// Package router is the pg.Connector the charge engine talks to: it sends
// each call to the connector of the merchant's channel named by the target
// — the sandbox simulator for sandbox PGs, or a real processor (iamport,
// tosspayments, stripe) built from the channel's sealed credentials.
package router

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/pg"
	"github.com/billkey/billkey/internal/pg/iamport"
	"github.com/billkey/billkey/internal/pg/stripe"
	"github.com/billkey/billkey/internal/pg/tosspayments"
)

// processors are the real processors channels can route to, in the order
// docs show them. Adding a connector is its package (with its
// pg.Processor) plus one entry here.
var processors = []pg.Processor{iamport.Processor, tosspayments.Processor, stripe.Processor}

// Processors lists the real processors' names, in the order docs show them.
var Processors = func() []string {
	names := make([]string, len(processors))
	for i, p := range processors {
		names[i] = p.Name
	}
	return names
}()

func processor(name string) (pg.Processor, bool) {
	i := slices.IndexFunc(processors, func(p pg.Processor) bool { return p.Name == name })
	if i < 0 {
		return pg.Processor{}, false
	}
	return processors[i], true
}

// IsProcessor reports whether provider is a real processor.
func IsProcessor(provider string) bool { _, ok := processor(provider); return ok }

// Credentials are what a processor channel needs (see pg.Credentials).
type Credentials = pg.Credentials

// UnmarshalCredentials opens the sealed form.
func UnmarshalCredentials(b []byte) (Credentials, error) { return pg.UnmarshalCredentials(b) }

// Validate checks credentials for provider and reports whether they are
// live (move real money), as the provider's pg.Processor decides.
func Validate(provider string, c Credentials, sandbox bool) (live bool, err error) {
	p, ok := processor(provider)
	if !ok {
		return false, fmt.Errorf("%q is not a processor (one of %s)", provider, strings.Join(Processors, ", "))
	}
	return p.Live(c, sandbox)
}

// Channel is a processor channel as the router needs it.
type Channel struct {
	ID      int64
	APIURL  string
	Sandbox bool
	Creds   Credentials
	// Version changes when the channel does; connectors are rebuilt then.
	Version int64
	// Demo is set for the demo merchant's channels.
	Demo bool
}

// Source finds a merchant's processor channel; ErrNotProcessor when the
// target's channel is a sandbox PG (or there is none with credentials).
type Source interface {
	ProcessorChannel(ctx context.Context, merchantID int64, provider, mid string) (*Channel, error)
}

// ErrNotProcessor tells the router to use the sandbox connector.
var ErrNotProcessor = errors.New("router: not a processor channel")

// WindowIssuer is the sandbox connector's payment-window issuance.
type WindowIssuer interface {
	IssueWindowBillingKey(ctx context.Context, req pg.IssueKeyRequest, method string) (*pg.IssueKeyResult, error)
}

// Options shape the router.
type Options struct {
	// TestClock is set when the server runs with a controllable clock:
	// live channels then refuse to work, so no real money moves on a
	// clock someone can move.
	TestClock bool
	// Timeout bounds one processor call (0: each connector's default).
	Timeout time.Duration
}

// Router implements pg.Connector by channel.
type Router struct {
	sandbox pg.Connector
	src     Source
	opts    Options

	mu    sync.Mutex
	built map[int64]built
}

type built struct {
	version int64
	conn    pg.Connector
}

var _ pg.Connector = (*Router)(nil)

// New routes sandbox targets to sandbox and processor targets to
// connectors built from src.
func New(sandbox pg.Connector, src Source, opts Options) *Router {
	return &Router{sandbox: sandbox, src: src, opts: opts, built: map[int64]built{}}
}

// Sandbox is the sandbox connector.
func (r *Router) Sandbox() pg.Connector { return r.sandbox }

func (r *Router) connector(ctx context.Context, t pg.Target) (pg.Connector, error) {
	if !IsProcessor(t.Provider) {
		return r.sandbox, nil
	}
	if t.MerchantID == 0 {
		// A processor channel belongs to one merchant; without it the
		// credentials to use are unknown, and guessing is not an option.
		return nil, &pg.Error{Provider: t.Provider, Code: "NO_MERCHANT", Message: "PG target names no merchant"}
	}
	ch, err := r.src.ProcessorChannel(ctx, t.MerchantID, t.Provider, t.MID)
	if errors.Is(err, ErrNotProcessor) {
		return nil, &pg.Error{Provider: t.Provider, Code: "NO_CHANNEL", Message: fmt.Sprintf("%s 채널(%s)이 없거나 자격 증명이 없습니다.", t.Provider, t.MID)}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: channel %s.%s: %w", pg.ErrUnknownOutcome, t.Provider, t.MID, err)
	}
	if !ch.Sandbox && (r.opts.TestClock || ch.Demo) {
		why := "a server running with --test-clock"
		if ch.Demo {
			why = "the demo merchant"
		}
		return nil, &pg.Error{Provider: t.Provider, Code: "LIVE_REFUSED", Unsupported: true,
			Message: "라이브 자격 증명은 " + why + "에서 사용할 수 없습니다 (live credentials refused on " + why + ")."}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.built[ch.ID]; ok && b.version == ch.Version {
		return b.conn, nil
	}
	conn, err := build(t.Provider, ch, r.opts.Timeout)
	if err != nil {
		return nil, &pg.Error{Provider: t.Provider, Code: "BAD_CHANNEL", Message: err.Error()}
	}
	r.built[ch.ID] = built{version: ch.Version, conn: conn}
	return conn, nil
}

func build(provider string, ch *Channel, timeout time.Duration) (pg.Connector, error) {
	p, ok := processor(provider)
	if !ok {
		return nil, fmt.Errorf("no connector for %q", provider)
	}
	return p.New(ch.APIURL, ch.Creds, timeout)
}

// IssueBillingKey routes by target.
func (r *Router) IssueBillingKey(ctx context.Context, req pg.IssueKeyRequest) (*pg.IssueKeyResult, error) {
	c, err := r.connector(ctx, req.Target)
	if err != nil {
		return nil, err
	}
	return c.IssueBillingKey(ctx, req)
}

// IssueWindowBillingKey issues through the sandbox PG's payment window;
// processors' own windows (Toss's requestBillingAuth, Stripe Elements) are
// not served by Billkey's hosted checkout.
func (r *Router) IssueWindowBillingKey(ctx context.Context, req pg.IssueKeyRequest, method string) (*pg.IssueKeyResult, error) {
	if IsProcessor(req.Target.Provider) {
		return nil, &pg.Error{Provider: req.Target.Provider, Code: "UNSUPPORTED", Unsupported: true,
			Message: req.Target.Provider + " 채널은 Billkey 결제창 빌링키 발급을 지원하지 않습니다. REST 키인(/subscribe/customers)을 사용하세요."}
	}
	wi, ok := r.sandbox.(WindowIssuer)
	if !ok {
		return nil, &pg.Error{Provider: req.Target.Provider, Code: "UNSUPPORTED", Unsupported: true, Message: "결제창 빌링키 발급을 지원하지 않습니다."}
	}
	return wi.IssueWindowBillingKey(ctx, req, method)
}

// DeleteBillingKey routes by target.
func (r *Router) DeleteBillingKey(ctx context.Context, t pg.Target, billingKey string) error {
	c, err := r.connector(ctx, t)
	if err != nil {
		return err
	}
	return c.DeleteBillingKey(ctx, t, billingKey)
}

// Charge routes by target.
func (r *Router) Charge(ctx context.Context, req pg.ChargeRequest) (*pg.ChargeResult, error) {
	c, err := r.connector(ctx, req.Target)
	if err != nil {
		return nil, err
	}
	return c.Charge(ctx, req)
}

// LookupCharge routes by target.
func (r *Router) LookupCharge(ctx context.Context, t pg.Target, key string) (*pg.ChargeResult, error) {
	c, err := r.connector(ctx, t)
	if err != nil {
		return nil, lookupErr(err)
	}
	return c.LookupCharge(ctx, t, key)
}

// Cancel routes by target.
func (r *Router) Cancel(ctx context.Context, req pg.CancelRequest) (*pg.CancelResult, error) {
	c, err := r.connector(ctx, req.Target)
	if err != nil {
		return nil, err
	}
	return c.Cancel(ctx, req)
}

// LookupCancel routes by target.
func (r *Router) LookupCancel(ctx context.Context, t pg.Target, chargeKey, key string) (*pg.CancelResult, error) {
	c, err := r.connector(ctx, t)
	if err != nil {
		return nil, lookupErr(err)
	}
	return c.LookupCancel(ctx, t, chargeKey, key)
}

// lookupErr: a lookup that could not be made says nothing about the charge.
func lookupErr(err error) error {
	if errors.Is(err, pg.ErrUnknownOutcome) {
		return err
	}
	return fmt.Errorf("%w: %w", pg.ErrUnknownOutcome, err)
}

// VerifyIAMPortNotice checks an upstream PortOne notification by looking the
// payment up at the merchant's iamport channel mid: it returns our
// idempotency key (the imp_uid of our attempt) and the upstream's verdict.
// The notification itself is never trusted.
func (r *Router) VerifyIAMPortNotice(ctx context.Context, merchantID int64, mid string, n iamport.Notice) (string, *pg.ChargeResult, error) {
	c, err := r.connector(ctx, pg.Target{MerchantID: merchantID, Provider: iamport.Provider, MID: mid})
	if err != nil {
		return "", nil, err
	}
	ic, ok := c.(*iamport.Client)
	if !ok {
		return "", nil, fmt.Errorf("channel iamport.%s is not an upstream i'mport account", mid)
	}
	return ic.VerifyNotice(ctx, n)
}
