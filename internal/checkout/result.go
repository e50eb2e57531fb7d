package checkout

import (
	"encoding/json"
	"errors"
	"net/url"

	"github.com/billkey/billkey/internal/api/iamport/view"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
)

// Error codes of a window that did not succeed. PG refusals carry the PG's
// own code instead (e.g. "C021"), as real windows do.
const (
	CodeUserCancel      = "USER_CANCEL"         // cancel button, overlay close or Esc
	CodeSessionExpired  = "SESSION_EXPIRED"     // window left open past its lifetime
	CodeTooManyAttempts = "TOO_MANY_ATTEMPTS"   // per-window submission limit reached
	CodeAmountMismatch  = "AMOUNT_MISMATCH"     // differs from /payments/prepare
	CodeDuplicateOrder  = "DUPLICATE_ORDER"     // merchant_uid already paid
	CodeInProgress      = "PAYMENT_IN_PROGRESS" // another attempt of the merchant_uid is running
	CodePending         = "PAYMENT_PENDING"     // PG did not answer; verify via REST later
	CodePaymentFailed   = "PAYMENT_FAILED"      // the charge was declined
	CodeInvalidParams   = "INVALID_PARAMS"
	CodeInvalidMerchant = "INVALID_MERCHANT"
	CodeUnsupported     = "UNSUPPORTED_METHOD"
	CodeOriginRefused   = "ORIGIN_NOT_ALLOWED"
	CodeRateLimited     = "RATE_LIMITED"
	CodeInternal        = "INTERNAL_ERROR"
)

// rsp is the callback object of IMP.request_pay (reference §10). Every key is
// always present, null when it does not apply, as i'mport's own are.
type rsp struct {
	Success       bool            `json:"success"`
	ImpSuccess    bool            `json:"imp_success"`
	ImpUID        *string         `json:"imp_uid"`
	MerchantUID   string          `json:"merchant_uid"`
	PayMethod     string          `json:"pay_method"`
	PaidAmount    json.Number     `json:"paid_amount"`
	Status        *string         `json:"status"`
	Name          *string         `json:"name"`
	PGProvider    string          `json:"pg_provider"`
	PGType        string          `json:"pg_type"`
	PGTID         *string         `json:"pg_tid"`
	BuyerName     *string         `json:"buyer_name"`
	BuyerEmail    *string         `json:"buyer_email"`
	BuyerTel      *string         `json:"buyer_tel"`
	BuyerAddr     *string         `json:"buyer_addr"`
	BuyerPostcode *string         `json:"buyer_postcode"`
	CustomData    json.RawMessage `json:"custom_data"`
	PaidAt        int64           `json:"paid_at"`
	ReceiptURL    *string         `json:"receipt_url"`
	ApplyNum      *string         `json:"apply_num"`
	CardName      *string         `json:"card_name"`
	CardNumber    *string         `json:"card_number"`
	CardQuota     int             `json:"card_quota"`
	Currency      string          `json:"currency"`
	CustomerUID   *string         `json:"customer_uid"`
	ErrorCode     *string         `json:"error_code"`
	ErrorMsg      *string         `json:"error_msg"`
}

// baseRsp fills what is known before any payment exists.
func baseRsp(r request, pgProvider string) *rsp {
	cd := r.customDataJSON
	if len(cd) == 0 {
		cd = json.RawMessage("null")
	}
	return &rsp{
		MerchantUID: r.MerchantUID, PayMethod: r.PayMethod, PaidAmount: "0", Name: view.Str(r.Name),
		PGProvider: pgProvider, PGType: "payment", BuyerName: view.Str(r.Buyer.Name), BuyerEmail: view.Str(r.Buyer.Email),
		BuyerTel: view.Str(r.Buyer.Tel), BuyerAddr: view.Str(r.Buyer.Addr), BuyerPostcode: view.Str(r.Buyer.Postcode),
		CustomData: cd, Currency: r.Currency, CustomerUID: view.Str(r.CustomerUID),
	}
}

// failRsp is an error result; p, when not nil, is the failed attempt.
func failRsp(r request, pgProvider, code, msg string, p *core.Payment) *rsp {
	out := baseRsp(r, pgProvider)
	if p != nil {
		out = paymentRsp(r, p)
	}
	out.Success, out.ImpSuccess = false, false
	out.ErrorCode, out.ErrorMsg = &code, &msg
	if out.Status == nil || *out.Status == "paid" {
		s := "failed"
		out.Status = &s
	}
	return out
}

// paymentRsp describes a payment the window made.
func paymentRsp(r request, p *core.Payment) *rsp {
	out := baseRsp(r, p.PGProvider)
	out.ImpUID = &p.ImpUID
	out.MerchantUID = p.MerchantUID
	out.PayMethod = p.PayMethod
	out.Currency = p.Currency
	out.PGTID, out.ApplyNum, out.ReceiptURL = view.Str(p.PGTID), view.Str(p.ApplyNum), view.Str(p.ReceiptURL)
	out.CardName, out.CardNumber, out.CardQuota = view.Str(p.CardName), view.Str(p.CardNumber), p.CardQuota
	status := "ready" // pending / unknown outcome: the v1 view of it
	switch p.Status {
	case core.StatusPaid:
		status = "paid"
		out.Success, out.ImpSuccess = true, true
		out.PaidAmount = json.Number(core.FormatAmount(p.Amount, p.Currency))
		out.PaidAt = p.PaidAt.Unix()
	case core.StatusFailed:
		status = "failed"
	case core.StatusCancelled:
		status = "cancelled"
	}
	out.Status = &status
	return out
}

// outcomeRsp turns WindowPay's answer into the callback result.
func outcomeRsp(r request, pgProvider string, p *core.Payment, err error) *rsp {
	var (
		refused  *charge.PGRefusedError
		mismatch *charge.AmountMismatchError
		dup      *charge.DuplicateOrderError
		inProg   *charge.InProgressError
		invalid  *charge.InvalidCardError
		verr     *charge.ValidationError
	)
	switch {
	case err == nil && p != nil && p.Status == core.StatusPaid:
		return paymentRsp(r, p)
	case err == nil && p != nil && p.Status == core.StatusFailed:
		return failRsp(r, pgProvider, CodePaymentFailed, p.FailReason, p)
	case err == nil && p != nil:
		out := paymentRsp(r, p)
		code, msg := CodePending, "PG 응답이 지연되어 결제 결과를 확인 중입니다. GET /payments/{imp_uid}로 확인하세요. (The PG has not answered yet; verify with GET /payments/{imp_uid}.)"
		out.ErrorCode, out.ErrorMsg = &code, &msg
		return out
	case errors.As(err, &refused):
		return failRsp(r, pgProvider, refused.Err.Code, refused.Err.Message, refused.Payment)
	case errors.As(err, &mismatch):
		return failRsp(r, pgProvider, CodeAmountMismatch, msgAmountMismatch, nil)
	case errors.As(err, &dup):
		return failRsp(r, pgProvider, CodeDuplicateOrder, "이미 결제가 완료된 주문번호(merchant_uid)입니다. (This merchant_uid is already paid.)", nil)
	case errors.As(err, &inProg):
		return failRsp(r, pgProvider, CodeInProgress, "같은 주문번호(merchant_uid)의 결제가 진행 중입니다. (A payment for this merchant_uid is in progress.)", nil)
	case errors.As(err, &invalid), errors.As(err, &verr):
		return failRsp(r, pgProvider, CodeInvalidParams, err.Error(), nil)
	default:
		return failRsp(r, pgProvider, CodeInternal, "결제 처리 중 오류가 발생했습니다. 잠시 후 다시 시도하세요. (Internal error; try again later.)", p)
	}
}

const msgAmountMismatch = "사전 등록된 결제 금액과 요청 금액이 다릅니다. (The amount differs from the one registered with /payments/prepare.)"

// redirectURL is m_redirect_url with the result appended, as i'mport sends
// it: imp_uid, merchant_uid, imp_success, and error_code/error_msg on
// failure. It never carries card data: the rsp has none beyond the mask,
// and the mask is not added either.
func redirectURL(base string, out *rsp) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	if out.ImpUID != nil {
		q.Set("imp_uid", *out.ImpUID)
	} else {
		q.Set("imp_uid", "")
	}
	q.Set("merchant_uid", out.MerchantUID)
	if out.Success {
		q.Set("imp_success", "true")
	} else {
		q.Set("imp_success", "false")
		if out.ErrorCode != nil {
			q.Set("error_code", *out.ErrorCode)
		}
		if out.ErrorMsg != nil {
			q.Set("error_msg", *out.ErrorMsg)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
