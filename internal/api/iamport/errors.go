package iamport

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/billkey/billkey/internal/api/iamport/form"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg"
)

// apiError is a fully decided V1 failure: HTTP status, envelope code and
// the message clients show (and sometimes match on).
type apiError struct {
	Status  int
	Code    int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d/%d %s", e.Status, e.Code, e.Message) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: -1, Message: fmt.Sprintf(format, args...)}
}

// op says which endpoint family failed: the same core error reads
// differently per endpoint (an unknown customer is 404 on lookup but
// 200/code 1 on again, as the real API and its clients expect).
type op int

const (
	opDefault  op = iota
	opIssueKey    // POST /subscribe/customers/{uid}
	opCustomer    // GET/DELETE /subscribe/customers/{uid}, its payments
	opPay         // onetime
	opAgain       // again
	opCancel      // POST /payments/cancel
	opLookup      // payment lookups
	opPrepare     // prepare endpoints
)

// Messages clients are known to match on, verbatim.
const (
	msgUnauthorized     = "Unauthorized"
	msgBadCredentials   = "imp_key, imp_secret 정보가 올바르지 않습니다."
	msgMissingKeys      = "imp_key, imp_secret 파라메터가 누락되었습니다."
	msgTooManyAttempts  = "인증 시도가 너무 많습니다. 잠시 후 다시 시도해주세요."
	msgUnknownCustomer  = "등록되지 않은 구매자입니다."
	msgCustomerNotFound = "요청하신 customer_uid(%s)로 등록된 정보를 찾을 수 없습니다."
	msgPaymentNotFound  = "존재하지 않는 결제정보입니다."
	msgNothingToCancel  = "취소할 결제건이 존재하지 않습니다."
	msgDuplicateOrder   = "이미 주문이 이루어진 건입니다. (동일한 merchant_uid로 결제 또는 취소된 기록이 있습니다)"
	msgInProgress       = "동일한 merchant_uid로 진행 중인 결제가 있습니다. 결제 결과를 확인하고 있으니 잠시 후 결제정보를 조회해주세요."
	msgChecksum         = "취소가능잔액(checksum)이 일치하지 않습니다. 결제정보를 다시 조회한 후 요청해주세요."
	msgCancelExceeds    = "취소 요청금액이 취소가능잔액을 초과합니다."
	msgPrepareNotFound  = "사전등록된 결제정보가 존재하지 않습니다."
	msgPrepareExists    = "이미 사전등록된 결제정보가 존재합니다. 금액을 변경하려면 PUT /payments/prepare 를 사용해주세요."
	msgBadStatus        = "지원되지 않는 상태값입니다."
	msgNoUID            = "imp_uid 또는 merchant_uid를 지정해주셔야합니다."
	msgCancelUnknown    = "PG사에 결제취소 결과를 확인하고 있습니다. 잠시 후 결제정보를 조회해주세요."
	msgInternal         = "일시적인 서버 오류가 발생했습니다. 잠시 후 다시 시도해주세요."
)

// mapError decides the response for an error from parsing or from the
// charge service. subject is the customer_uid for messages that quote it.
func mapError(err error, o op, subject string) *apiError {
	var (
		ae  *apiError
		fe  *form.FieldError
		ve  *charge.ValidationError
		dup *charge.DuplicateOrderError
		inp *charge.InProgressError
		ic  *charge.InvalidCardError
		pr  *charge.PGRefusedError
		up  *merchant.UnknownPGError
	)
	ok200 := func(code int, msg string) *apiError {
		return &apiError{Status: http.StatusOK, Code: code, Message: msg}
	}
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &fe):
		return badRequest("%s 파라메터가 올바르지 않습니다. (%s)", fe.Field, fe.Reason)
	case errors.As(err, &ve):
		return badRequest("%s 파라메터가 올바르지 않습니다. (%s)", ve.Field, ve.Reason)
	case errors.Is(err, merchant.ErrUnauthorized):
		return &apiError{Status: http.StatusUnauthorized, Code: -1, Message: msgUnauthorized}
	case errors.Is(err, merchant.ErrBadCredentials):
		return &apiError{Status: http.StatusUnauthorized, Code: -1, Message: msgBadCredentials}
	case errors.Is(err, charge.ErrCustomerNotFound):
		if o == opAgain {
			return ok200(1, msgUnknownCustomer)
		}
		return &apiError{Status: http.StatusNotFound, Code: 1, Message: fmt.Sprintf(msgCustomerNotFound, subject)}
	case errors.Is(err, charge.ErrPaymentNotFound):
		if o == opCancel {
			return ok200(1, msgNothingToCancel)
		}
		return &apiError{Status: http.StatusNotFound, Code: -1, Message: msgPaymentNotFound}
	case errors.Is(err, charge.ErrNothingToCancel):
		return ok200(1, msgNothingToCancel)
	case errors.Is(err, charge.ErrChecksumMismatch):
		return ok200(1, msgChecksum)
	case errors.Is(err, charge.ErrCancelUnknown):
		// The refund may have happened; telling the merchant to look it up
		// beats a 500 that invites a blind retry.
		return ok200(-1, msgCancelUnknown)
	case errors.Is(err, charge.ErrCancelExceeds):
		return ok200(1, msgCancelExceeds)
	case errors.Is(err, charge.ErrPrepareNotFound):
		return &apiError{Status: http.StatusNotFound, Code: 1, Message: msgPrepareNotFound}
	case errors.Is(err, charge.ErrPrepareExists):
		return ok200(1, msgPrepareExists)
	case errors.As(err, &dup):
		return ok200(1, msgDuplicateOrder)
	case errors.As(err, &inp):
		return ok200(1, msgInProgress)
	case errors.As(err, &ic):
		return ok200(-1, invalidCardMessage(ic.Reason))
	case errors.As(err, &pr):
		return ok200(-1, refusedMessage(pr))
	case errors.As(err, &up):
		return ok200(-1, fmt.Sprintf("요청하신 pg(%s)에 해당하는 PG 설정정보를 찾을 수 없습니다.", up.PG))
	}
	return &apiError{Status: http.StatusInternalServerError, Code: -1, Message: msgInternal}
}

// invalidCardMessage keeps the observed V1 wording ("카드정보 인증에
// 실패하였습니다. [F113]거래거절 카드번호틀림") and only switches the detail
// when the service's reason is clearly about the expiry.
func invalidCardMessage(reason string) string {
	r := strings.ToLower(reason)
	if strings.Contains(r, "expir") {
		return "카드정보 인증에 실패하였습니다. [F112]유효기간 오류"
	}
	return "카드정보 인증에 실패하였습니다. [F113]거래거절 카드번호틀림"
}

func refusedMessage(e *charge.PGRefusedError) string {
	detail := pgText(e.Err)
	switch e.Stage {
	case "issue":
		return join("카드정보 인증 및 빌키 발급에 실패하였습니다.", detail)
	case "cancel":
		return join("결제취소에 실패하였습니다.", detail)
	default:
		return join("결제승인에 실패하였습니다.", detail)
	}
}

// pgText renders a PG refusal the way V1 appends PG details: "[code]text".
func pgText(e *pg.Error) string {
	if e == nil {
		return ""
	}
	if e.Code == "" {
		return e.Message
	}
	return "[" + e.Code + "]" + e.Message
}

func join(prefix, detail string) string {
	if detail == "" {
		return prefix
	}
	return prefix + " " + detail
}

// errNilResult guards against a service returning neither a value nor an
// error; it maps to 500 rather than to a null response.
var errNilResult = errors.New("iamport: service returned no result")
