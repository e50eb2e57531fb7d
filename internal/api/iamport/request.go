package iamport

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/billkey/billkey/internal/api/iamport/form"
	"github.com/billkey/billkey/internal/core"
)

// readParams merges the query string and the body (body wins): clients put
// parameters in either place regardless of method.
func (h *handler) readParams(r *http.Request) (form.Params, error) {
	tree := form.ParseForm(r.URL.RawQuery)
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return form.New(tree), nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return form.Params{}, &apiError{Status: http.StatusRequestEntityTooLarge, Code: -1, Message: tooLargeMessage(mbe.Limit)}
		}
		return form.Params{}, badRequest("요청 본문을 읽지 못했습니다.")
	}
	// The body decides, not the Content-Type: a form body cannot start
	// with "{" or "[", and clients mislabel both ways.
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	isJSON := len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
	var bodyTree map[string]any
	if isJSON {
		bodyTree, err = form.ParseJSON(body)
		if err != nil {
			// The decoder's message can quote body bytes; keep it out of
			// the response as well as the log.
			return form.Params{}, badRequest("요청 본문이 올바른 JSON 객체가 아닙니다.")
		}
	} else {
		bodyTree = form.ParseForm(string(body))
	}
	return form.New(form.Merge(tree, bodyTree)), nil
}

// pathParam unescapes a path segment: chi routes on the escaped path, so a
// merchant_uid containing "/" or spaces arrives escaped.
func pathParam(r *http.Request, name string) string {
	raw := chi.URLParam(r, name)
	if s, err := url.PathUnescape(raw); err == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(raw)
}

// reader collects the first parameter problem so handlers can read every
// field in a straight line and check once.
type reader struct {
	p   form.Params
	err error
}

func (rd *reader) setErr(err error) {
	if rd.err == nil && err != nil {
		rd.err = err
	}
}

// str reads an optional string with a length cap in characters (the spec's
// maxLength; 0 = maxFreeText).
func (rd *reader) str(key string, max int) string {
	if max == 0 {
		max = maxFreeText
	}
	s, _, err := rd.p.String(key)
	rd.setErr(err)
	if err == nil && max > 0 && utf8.RuneCountInString(s) > max {
		rd.setErr(badRequest("%s 파라메터는 최대 %d자까지 입력 가능합니다.", key, max))
	}
	return s
}

// required is str that must be non-empty.
func (rd *reader) required(key string, max int) string {
	s := rd.str(key, max)
	if s == "" {
		rd.setErr(missing(key))
	}
	return s
}

func missing(key string) *apiError {
	return badRequest("%s 파라메터가 누락되었습니다.", key)
}

func (rd *reader) int(key string) int {
	n, _, err := rd.p.Int(key)
	rd.setErr(err)
	return n
}

func (rd *reader) bool(key string) bool {
	b, _, err := rd.p.Bool(key)
	rd.setErr(err)
	return b
}

// amount reads an optional amount in minor units; ok is false when absent.
func (rd *reader) amount(key, currency string) (int64, bool) {
	n, ok, err := rd.p.Amount(key, currency)
	rd.setErr(err)
	return n, ok && err == nil
}

// currency defaults to KRW and is validated here so that amount parsing
// reports the amount, not the currency, as the bad field.
func (rd *reader) currency() string {
	c := strings.ToUpper(rd.str("currency", 3))
	if c == "" {
		return "KRW"
	}
	if _, err := core.CurrencyScale(c); err != nil {
		rd.setErr(badRequest("currency 파라메터가 올바르지 않습니다. (지원되지 않는 통화: %s)", c))
		return "KRW"
	}
	return c
}

// jsonText reads custom_data-like fields that may arrive as objects.
func (rd *reader) jsonText(key string) *string {
	s, ok, err := rd.p.JSONText(key)
	rd.setErr(err)
	if !ok || err != nil {
		return nil
	}
	if len(s) > maxCustomData {
		rd.setErr(badRequest("%s 파라메터는 최대 %d bytes까지 입력 가능합니다.", key, maxCustomData))
		return nil
	}
	return &s
}

// firstString takes a string or the first element of an array (notice_url
// is typed string-or-array by the SDK typings).
func (rd *reader) firstString(key string) string {
	vals, _, err := rd.p.StringOrArray(key)
	rd.setErr(err)
	if len(vals) == 0 {
		return ""
	}
	if utf8.RuneCountInString(vals[0]) > maxNoticeURL || len(vals) > 16 {
		rd.setErr(badRequest("%s 파라메터는 최대 %d자까지 입력 가능합니다.", key, maxNoticeURL))
		return ""
	}
	return vals[0]
}
