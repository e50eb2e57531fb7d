package iamport

import (
	"encoding/json"

	"github.com/billkey/billkey/internal/api/iamport/view"
	"github.com/billkey/billkey/internal/core"
)

// apiUserAgent is what the real API reports for payments it made itself.
const apiUserAgent = "sorry_not_supported_anymore"

// paymentView is PaymentAnnotation with every key, in the order of the
// notes: clients with strict decoders (go-iamport's protojson) and
// golden-file tests of merchants both see the real API's shape.
type paymentView struct {
	ImpUID            string            `json:"imp_uid"`
	MerchantUID       string            `json:"merchant_uid"`
	PayMethod         *string           `json:"pay_method"`
	Channel           *string           `json:"channel"`
	PGProvider        *string           `json:"pg_provider"`
	EmbPGProvider     *string           `json:"emb_pg_provider"`
	PGTID             *string           `json:"pg_tid"`
	PGID              *string           `json:"pg_id"`
	Sandbox           bool              `json:"sandbox"`
	Escrow            bool              `json:"escrow"`
	ApplyNum          *string           `json:"apply_num"`
	BankCode          *string           `json:"bank_code"`
	BankName          *string           `json:"bank_name"`
	CardCode          *string           `json:"card_code"`
	CardName          *string           `json:"card_name"`
	CardIssuerCode    *string           `json:"card_issuer_code"`
	CardIssuerName    *string           `json:"card_issuer_name"`
	CardPublisherCode *string           `json:"card_publisher_code"`
	CardPublisherName *string           `json:"card_publisher_name"`
	CardQuota         int               `json:"card_quota"`
	CardNumber        *string           `json:"card_number"`
	CardType          *int              `json:"card_type"`
	VbankCode         *string           `json:"vbank_code"`
	VbankName         *string           `json:"vbank_name"`
	VbankNum          *string           `json:"vbank_num"`
	VbankHolder       *string           `json:"vbank_holder"`
	VbankDate         int64             `json:"vbank_date"`
	VbankIssuedAt     int64             `json:"vbank_issued_at"`
	Name              *string           `json:"name"`
	Amount            json.RawMessage   `json:"amount"`
	CancelAmount      json.RawMessage   `json:"cancel_amount"`
	Currency          string            `json:"currency"`
	BuyerName         *string           `json:"buyer_name"`
	BuyerEmail        *string           `json:"buyer_email"`
	BuyerTel          *string           `json:"buyer_tel"`
	BuyerAddr         *string           `json:"buyer_addr"`
	BuyerPostcode     *string           `json:"buyer_postcode"`
	CustomData        *string           `json:"custom_data"`
	UserAgent         *string           `json:"user_agent"`
	Status            string            `json:"status"`
	StartedAt         int64             `json:"started_at"`
	PaidAt            int64             `json:"paid_at"`
	FailedAt          int64             `json:"failed_at"`
	CancelledAt       int64             `json:"cancelled_at"`
	FailReason        *string           `json:"fail_reason"`
	CancelReason      *string           `json:"cancel_reason"`
	ReceiptURL        *string           `json:"receipt_url"`
	CancelHistory     []cancelView      `json:"cancel_history"`
	CancelReceiptURLs []string          `json:"cancel_receipt_urls"`
	DepositHistory    []json.RawMessage `json:"deposit_history"`
	CashReceiptIssued bool              `json:"cash_receipt_issued"`
	CustomerUID       *string           `json:"customer_uid"`
	CustomerUIDUsage  *string           `json:"customer_uid_usage"`
	Promotion         *json.RawMessage  `json:"promotion"`
}

type cancelView struct {
	PGTID          *string         `json:"pg_tid"`
	Amount         json.RawMessage `json:"amount"`
	CancelledAt    int64           `json:"cancelled_at"`
	Reason         *string         `json:"reason"`
	ReceiptURL     *string         `json:"receipt_url"`
	CancellationID *string         `json:"cancellation_id"`
}

// amountJSON renders minor units as a JSON number in the currency's
// decimals: 1000 for KRW, 10.5 for USD 1050.
func amountJSON(minor int64, currency string) json.RawMessage {
	return json.RawMessage(core.FormatAmount(minor, currency))
}

func newPaymentView(p *core.Payment) paymentView {
	cur := p.Currency
	if cur == "" {
		cur = "KRW"
	}
	v := paymentView{
		ImpUID:            p.ImpUID,
		MerchantUID:       p.MerchantUID,
		PayMethod:         view.Str(p.PayMethod),
		Channel:           view.Str(p.Channel),
		PGProvider:        view.Str(p.PGProvider),
		PGTID:             view.Str(p.PGTID),
		PGID:              view.Str(p.PGID),
		Sandbox:           p.Sandbox,
		ApplyNum:          view.Str(p.ApplyNum),
		CardCode:          view.Str(p.CardCode),
		CardName:          view.Str(p.CardName),
		CardQuota:         p.CardQuota,
		CardNumber:        view.Str(p.CardNumber),
		CardType:          p.CardType,
		Name:              view.Str(p.Name),
		Amount:            amountJSON(p.Amount, cur),
		CancelAmount:      amountJSON(p.CancelAmount, cur),
		Currency:          cur,
		BuyerName:         view.Str(p.Buyer.Name),
		BuyerEmail:        view.Str(p.Buyer.Email),
		BuyerTel:          view.Str(p.Buyer.Tel),
		BuyerAddr:         view.Str(p.Buyer.Addr),
		BuyerPostcode:     view.Str(p.Buyer.Postcode),
		CustomData:        p.CustomData,
		Status:            view.Status(p.Status),
		StartedAt:         view.Unix(p.StartedAt),
		PaidAt:            view.Unix(p.PaidAt),
		FailedAt:          view.Unix(p.FailedAt),
		CancelledAt:       view.Unix(p.CancelledAt),
		FailReason:        view.Str(p.FailReason),
		CancelReason:      view.Str(p.CancelReason),
		ReceiptURL:        view.Str(p.ReceiptURL),
		CancelHistory:     []cancelView{},
		CancelReceiptURLs: []string{},
		DepositHistory:    []json.RawMessage{},
		CustomerUID:       view.Str(p.CustomerUID),
		CustomerUIDUsage:  view.Str(p.CustomerUIDUsage),
	}
	if p.Channel == "api" {
		v.UserAgent = view.Str(apiUserAgent)
	}
	for _, c := range p.Cancels {
		// Pending and failed refunds have not returned money; V1 only ever
		// shows refunds that happened.
		if c.Status != core.CancelDone {
			continue
		}
		v.CancelHistory = append(v.CancelHistory, cancelView{
			PGTID:          view.Str(c.PGTID),
			Amount:         amountJSON(c.Amount, cur),
			CancelledAt:    view.Unix(c.CancelledAt),
			Reason:         view.Str(c.Reason),
			ReceiptURL:     view.Str(c.ReceiptURL),
			CancellationID: view.Str(c.ID),
		})
		if c.ReceiptURL != "" {
			v.CancelReceiptURLs = append(v.CancelReceiptURLs, c.ReceiptURL)
		}
	}
	return v
}

func paymentViews(ps []core.Payment) []paymentView {
	out := make([]paymentView, 0, len(ps))
	for i := range ps {
		out = append(out, newPaymentView(&ps[i]))
	}
	return out
}

// paged is V1's paged list (PagedPaymentAnnotation, and the schedule lists
// every client reads the same way); previous/next are page numbers, 0 when
// none.
type paged[T any] struct {
	Total    int `json:"total"`
	Previous int `json:"previous"`
	Next     int `json:"next"`
	List     []T `json:"list"`
}

func newPaged[T any](p core.Pager, list []T) paged[T] {
	return paged[T]{Total: p.Total, Previous: p.Previous(), Next: p.Next(), List: list}
}

func newPagedView(pg core.PaymentPage) paged[paymentView] {
	return newPaged(pg.Pager, paymentViews(pg.Payments))
}

// customerView is CustomerAnnotation with every key.
type customerView struct {
	CustomerUID       string  `json:"customer_uid"`
	PGProvider        string  `json:"pg_provider"`
	PGID              string  `json:"pg_id"`
	Sandbox           bool    `json:"sandbox"`
	CustomerID        *string `json:"customer_id"`
	CardName          *string `json:"card_name"`
	CardCode          *string `json:"card_code"`
	CardIssuerCode    *string `json:"card_issuer_code"`
	CardIssuerName    *string `json:"card_issuer_name"`
	CardPublisherCode *string `json:"card_publisher_code"`
	CardPublisherName *string `json:"card_publisher_name"`
	CardNumber        *string `json:"card_number"`
	CardType          *int    `json:"card_type"`
	CustomerName      *string `json:"customer_name"`
	CustomerTel       *string `json:"customer_tel"`
	CustomerEmail     *string `json:"customer_email"`
	CustomerAddr      *string `json:"customer_addr"`
	CustomerPostcode  *string `json:"customer_postcode"`
	Inserted          int64   `json:"inserted"`
	Updated           int64   `json:"updated"`
}

func newCustomerView(k *core.BillingKey) customerView {
	return customerView{
		CustomerUID:      k.CustomerUID,
		PGProvider:       k.PGProvider,
		PGID:             k.PGID,
		Sandbox:          k.Sandbox,
		CustomerID:       view.Str(k.CustomerID),
		CardName:         view.Str(k.CardName),
		CardCode:         view.Str(k.CardCode),
		CardNumber:       view.Str(k.CardNumber),
		CardType:         k.CardType,
		CustomerName:     view.Str(k.Customer.Name),
		CustomerTel:      view.Str(k.Customer.Tel),
		CustomerEmail:    view.Str(k.Customer.Email),
		CustomerAddr:     view.Str(k.Customer.Addr),
		CustomerPostcode: view.Str(k.Customer.Postcode),
		Inserted:         view.Unix(k.Inserted),
		Updated:          view.Unix(k.Updated),
	}
}

type tokenView struct {
	AccessToken string `json:"access_token"`
	Now         int64  `json:"now"`
	ExpiredAt   int64  `json:"expired_at"`
}

type preparedView struct {
	MerchantUID string          `json:"merchant_uid"`
	Amount      json.RawMessage `json:"amount"`
	Currency    string          `json:"currency"`
}

func newPreparedView(p *core.Prepared) preparedView {
	cur := p.Currency
	if cur == "" {
		cur = "KRW"
	}
	return preparedView{MerchantUID: p.MerchantUID, Amount: amountJSON(p.Amount, cur), Currency: cur}
}

// channelView is PgSettingAnnotation.
type channelView struct {
	PGProvider  string  `json:"pg_provider"`
	PGID        string  `json:"pg_id"`
	Sandbox     bool    `json:"sandbox"`
	Type        string  `json:"type"`
	ChannelName *string `json:"channel_name"`
	ChannelKey  *string `json:"channel_key"`
}

func newChannelView(c *core.Channel) channelView {
	typ := c.Type
	if typ == "" {
		typ = "api_payment"
	}
	return channelView{PGProvider: c.Provider, PGID: c.MID, Sandbox: c.Sandbox, Type: typ,
		ChannelName: view.Str(c.Name), ChannelKey: view.Str(c.Key)}
}
