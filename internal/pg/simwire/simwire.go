// Package simwire is the sandbox PG's wire protocol, shared by the simulator
// (internal/pg/sim) and its client (internal/pg/simclient).
package simwire

import "time"

// The wire protocol (JSON over HTTP/1.1). Every PG request names its
// provider and MID; the ledger is scoped by (provider, MID, key) like a real
// PG's merchant ledger.
//
//	POST   /v1/billing-keys                      WireIssueKey      → 200 WireIssueKeyResult
//	DELETE /v1/billing-keys/{billing_key}?provider=&mid=           → 204
//	POST   /v1/charges                           WireCharge        → 200 WireChargeResult (approved or declined)
//	GET    /v1/charges/{idempotency_key}?provider=&mid=            → 200 WireChargeResult | 404
//	POST   /v1/charges/{idempotency_key}/cancels WireCancel        → 200 WireCancelResult
//	GET    /v1/cancels/{idempotency_key}?provider=&mid=            → 200 WireCancelResult | 404
//
// Any refusal is a 4xx/5xx with a WireError body; nothing was charged.
// 404 with code NO_SUCH_CHARGE / NO_SUCH_CANCEL means the key was never seen.
//
// Admin (standalone mode): GET /_sim/ledger, GET|POST /_sim/config,
// GET /_sim/stats, GET /_sim/personalities, GET /_sim/receipts/{pg_tid}.

// Codes the simulator uses across personalities.
const (
	CodeNoSuchCharge        = "NO_SUCH_CHARGE"
	CodeNoSuchCancel        = "NO_SUCH_CANCEL"
	CodeIdempotencyConflict = "IDEMPOTENCY_CONFLICT"
	CodeBadRequest          = "BAD_REQUEST"
	CodeUnknownProvider     = "UNKNOWN_PROVIDER"
	CodeUnsupported         = "UNSUPPORTED"
	CodeNetwork             = "NETWORK"
)

// Issuance channels.
const (
	ChannelAPI    = "api"    // REST key-in
	ChannelWindow = "window" // the PG's payment window (used by the hosted checkout)
)

type WireCard struct {
	Number    string `json:"number"`
	Expiry    string `json:"expiry"`
	Birth     string `json:"birth,omitempty"`
	Pwd2Digit string `json:"pwd_2digit,omitempty"`
	CVC       string `json:"cvc,omitempty"`
}

type WireCardInfo struct {
	CardName   string `json:"card_name"`
	CardCode   string `json:"card_code"`
	CardNumber string `json:"card_number"`
	CardType   int    `json:"card_type"`
}

type WireIssueKey struct {
	Provider       string    `json:"provider"`
	MID            string    `json:"mid"`
	Sandbox        bool      `json:"sandbox,omitempty"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	CustomerUID    string    `json:"customer_uid,omitempty"`
	Channel        string    `json:"channel,omitempty"` // "" = api
	Method         string    `json:"method,omitempty"`  // window only; "" = card
	Card           *WireCard `json:"card,omitempty"`
	// FirstCharge: over REST, the amount charged right after issuance (0 =
	// key only); in a window, the amount the window was opened with.
	FirstCharge int64  `json:"first_charge,omitempty"`
	BuyerTel    string `json:"buyer_tel,omitempty"`
	BuyerEmail  string `json:"buyer_email,omitempty"`
}

type WireIssueKeyResult struct {
	Provider   string       `json:"provider"`
	MID        string       `json:"mid"`
	BillingKey string       `json:"billing_key"`
	Method     string       `json:"method"`
	Card       WireCardInfo `json:"card"`
	// WindowCharge is the amount the window approves with the key, charged
	// by key right after; 0 when its amount is display-only or key-only.
	WindowCharge int64 `json:"window_charge,omitempty"`
}

type WireCharge struct {
	Provider       string    `json:"provider"`
	MID            string    `json:"mid"`
	Sandbox        bool      `json:"sandbox,omitempty"`
	IdempotencyKey string    `json:"idempotency_key"`
	BillingKey     string    `json:"billing_key,omitempty"`
	Card           *WireCard `json:"card,omitempty"`
	Amount         int64     `json:"amount"`
	Currency       string    `json:"currency,omitempty"` // "" = KRW
	OrderName      string    `json:"order_name,omitempty"`
	CardQuota      int       `json:"card_quota,omitempty"`
	BuyerEmail     string    `json:"buyer_email,omitempty"`
}

type WireChargeResult struct {
	Provider       string       `json:"provider"`
	MID            string       `json:"mid"`
	IdempotencyKey string       `json:"idempotency_key"`
	Status         string       `json:"status"` // approved | declined
	PGTID          string       `json:"pg_tid"`
	ApplyNum       string       `json:"apply_num,omitempty"`
	Card           WireCardInfo `json:"card"`
	DeclineCode    string       `json:"decline_code,omitempty"`
	DeclineReason  string       `json:"decline_reason,omitempty"`
	Retryable      bool         `json:"retryable,omitempty"`
	Amount         int64        `json:"amount"`
	Currency       string       `json:"currency"`
	Cancelled      int64        `json:"cancelled"`
	ApprovedAt     time.Time    `json:"approved_at,omitzero"`
	ReceiptURL     string       `json:"receipt_url,omitempty"`
}

type WireCancel struct {
	Provider       string `json:"provider"`
	MID            string `json:"mid"`
	IdempotencyKey string `json:"idempotency_key"`
	Amount         int64  `json:"amount"` // 0 = everything still refundable
	Reason         string `json:"reason,omitempty"`
}

type WireCancelResult struct {
	Provider       string    `json:"provider"`
	MID            string    `json:"mid"`
	IdempotencyKey string    `json:"idempotency_key"`
	ChargeKey      string    `json:"charge_key"`
	PGTID          string    `json:"pg_tid"`
	Amount         int64     `json:"amount"`
	Reason         string    `json:"reason,omitempty"`
	ReceiptURL     string    `json:"receipt_url,omitempty"`
	CancelledAt    time.Time `json:"cancelled_at"`
}

type WireError struct {
	Provider    string `json:"provider,omitempty"`
	Code        string `json:"code"`
	Message     string `json:"message"`
	Unsupported bool   `json:"unsupported,omitempty"`
}
