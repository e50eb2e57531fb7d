package iamport

import (
	"errors"
	"net/http"
	"time"

	"github.com/billkey/billkey/internal/wellformed"
)

const msgMalformedText = "요청에 사용할 수 없는 문자(NUL 또는 잘못된 UTF-8)가 포함되어 있습니다."

// RefuseMalformed answers a request holding NUL or invalid UTF-8 (see
// internal/wellformed) in the V1 envelope: 400, code -1.
func RefuseMalformed(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusBadRequest, -1, msgMalformedText)
}

// identifier checks a merchant-chosen identifier against the documented
// character set and length (see wellformed.Identifier).
func identifier(field, s string, max int) error {
	if err := wellformed.Identifier(field, s, max); err != nil {
		var ie *wellformed.IdentifierError
		if errors.As(err, &ie) && ie.Reason == "too long" {
			return badRequest("%s 파라메터는 최대 %d자까지 입력 가능합니다.", field, max)
		}
		return badRequest("%s 파라메터에 사용할 수 없는 문자가 포함되어 있습니다. (공백으로 시작하거나 끝나지 않는 %d자 이내의 문자, 숫자, 기호)", field, max)
	}
	return nil
}

// Bounds on what one request may carry, beyond the 1 MiB body cap.
const (
	// maxListIDs bounds the identifiers one lookup or revocation names
	// (customer_uid[], imp_uid[] + merchant_uid[], unschedule's merchant_uid).
	maxListIDs = 1000
	// maxBookingEntries bounds the entries of one schedule booking, which
	// is stored in one transaction.
	maxBookingEntries = 1000
	// maxFreeText bounds a free-text field that has no documented length.
	maxFreeText = 1000
	// maxNoticeURL bounds notice_url, in characters.
	maxNoticeURL = 2048
	// maxCustomData bounds custom_data, in bytes of its JSON text.
	maxCustomData = 16 << 10
	// scheduleHorizon is how far ahead schedule_at may be.
	scheduleHorizon = 5 * 366 * 24 * time.Hour
)

// ident reads an optional identifier (empty when absent).
func (rd *reader) ident(key string, max int) string {
	s := rd.str(key, max)
	if s != "" && rd.err == nil {
		rd.setErr(identifier(key, s, max))
	}
	return s
}

// requiredIdent is ident that must be present.
func (rd *reader) requiredIdent(key string, max int) string {
	s := rd.ident(key, max)
	if s == "" {
		rd.setErr(missing(key))
	}
	return s
}

// idList checks a list of identifiers named in one request.
func idList(field string, ids []string, max int) error {
	if len(ids) > maxListIDs {
		return badRequest("%s 파라메터는 한 번에 최대 %d개까지 지정할 수 있습니다.", field, maxListIDs)
	}
	for _, id := range ids {
		if err := identifier(field, id, max); err != nil {
			return err
		}
	}
	return nil
}
