package iamport

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/api/iamport/form"
	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/merchant"
	"github.com/billkey/billkey/internal/pg"
)

func TestMapError(t *testing.T) {
	existing := &core.Payment{ImpUID: "imp_1", MerchantUID: "m1"}
	tests := []struct {
		name    string
		err     error
		op      op
		subject string
		status  int
		code    int
		msg     string // exact, or a substring when contains is set
		partial bool
	}{
		{"unknown customer on again", charge.ErrCustomerNotFound, opAgain, "c1", 200, 1, msgUnknownCustomer, false},
		{"unknown customer on lookup", charge.ErrCustomerNotFound, opCustomer, "c1", 404, 1, "요청하신 customer_uid(c1)로 등록된 정보를 찾을 수 없습니다.", false},
		{"wrapped unknown customer", fmt.Errorf("x: %w", charge.ErrCustomerNotFound), opCustomer, "c2", 404, 1, "customer_uid(c2)", true},
		{"duplicate order", &charge.DuplicateOrderError{Existing: existing}, opAgain, "", 200, 1, msgDuplicateOrder, false},
		{"in progress", &charge.InProgressError{Existing: existing}, opPay, "", 200, 1, "진행 중인 결제", true},
		{"invalid card number", &charge.InvalidCardError{Reason: "luhn check failed"}, opPay, "", 200, -1, "카드정보 인증에 실패하였습니다. [F113]거래거절 카드번호틀림", false},
		{"invalid card expiry", &charge.InvalidCardError{Reason: "card expired"}, opIssueKey, "", 200, -1, "유효기간", true},
		{"pg refused at issue", &charge.PGRefusedError{Stage: "issue", Err: &pg.Error{Code: "F113", Message: "유효하지않은 카드번호를 입력하셨습니다."}}, opIssueKey, "", 200, -1,
			"카드정보 인증 및 빌키 발급에 실패하였습니다. [F113]유효하지않은 카드번호를 입력하셨습니다.", false},
		{"pg error at charge", &charge.PGRefusedError{Stage: "charge", Err: &pg.Error{Code: "5000", Message: "PG 시스템 오류"}}, opAgain, "", 200, -1, "[5000]PG 시스템 오류", true},
		{"pg refused without detail", &charge.PGRefusedError{Stage: "cancel"}, opCancel, "", 200, -1, "결제취소에 실패하였습니다.", false},
		{"validation", &charge.ValidationError{Field: "amount", Reason: "must be positive"}, opPay, "", 400, -1, "amount 파라메터가 올바르지 않습니다. (must be positive)", false},
		{"field error", &form.FieldError{Field: "card_quota", Reason: "must be an integer"}, opPay, "", 400, -1, "card_quota", true},
		{"payment not found", charge.ErrPaymentNotFound, opLookup, "", 404, -1, msgPaymentNotFound, false},
		{"payment not found on cancel", charge.ErrPaymentNotFound, opCancel, "", 200, 1, msgNothingToCancel, false},
		{"nothing to cancel", charge.ErrNothingToCancel, opCancel, "", 200, 1, msgNothingToCancel, false},
		{"checksum", charge.ErrChecksumMismatch, opCancel, "", 200, 1, "checksum", true},
		{"cancel outcome unknown", fmt.Errorf("cancel imp_1: %w", charge.ErrCancelUnknown), opCancel, "", 200, -1, msgCancelUnknown, false},
		{"cancel exceeds", charge.ErrCancelExceeds, opCancel, "", 200, 1, msgCancelExceeds, false},
		{"prepare not found", charge.ErrPrepareNotFound, opPrepare, "", 404, 1, msgPrepareNotFound, false},
		{"prepare exists", charge.ErrPrepareExists, opPrepare, "", 200, 1, "이미 사전등록된", true},
		{"unknown pg", &merchant.UnknownPGError{PG: "kakaopay.X"}, opPay, "", 200, -1, "pg(kakaopay.X)", true},
		{"unauthorized", merchant.ErrUnauthorized, opDefault, "", 401, -1, msgUnauthorized, false},
		{"bad credentials", merchant.ErrBadCredentials, opDefault, "", 401, -1, msgBadCredentials, false},
		{"decided error passes through", &apiError{Status: 413, Code: -1, Message: "big"}, opPay, "", 413, -1, "big", false},
		{"anything else is a 500", errors.New("database is locked"), opAgain, "", 500, -1, msgInternal, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapError(tt.err, tt.op, tt.subject)
			if got.Status != tt.status || got.Code != tt.code {
				t.Fatalf("status/code = %d/%d, want %d/%d (%s)", got.Status, got.Code, tt.status, tt.code, got.Message)
			}
			if tt.partial && !strings.Contains(got.Message, tt.msg) || !tt.partial && got.Message != tt.msg {
				t.Fatalf("message = %q, want %q", got.Message, tt.msg)
			}
			if got.Status == http.StatusInternalServerError && strings.Contains(got.Message, "database") {
				t.Fatalf("internal error text leaked: %q", got.Message)
			}
		})
	}
}
