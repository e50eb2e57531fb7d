package form

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/billkey/billkey/internal/core"
)

// FieldError is a parameter that is present but unusable.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Params reads typed values from a decoded tree. Getters return the value,
// whether the key was given at all, and a *FieldError when it was given but
// cannot be coerced. JSON null and (for non-strings) "" count as absent:
// form clients send empty strings for unset optional fields.
type Params struct {
	m      map[string]any
	prefix string // for error field names inside nested objects
}

// New wraps a tree.
func New(m map[string]any) Params {
	if m == nil {
		m = map[string]any{}
	}
	return Params{m: m}
}

// Map exposes the underlying tree.
func (p Params) Map() map[string]any { return p.m }

// Has reports whether key is present and not null.
func (p Params) Has(key string) bool { return p.m[key] != nil }

// Raw returns the stored value as decoded.
func (p Params) Raw(key string) any { return p.m[key] }

func (p Params) name(key string) string {
	if p.prefix == "" {
		return key
	}
	return p.prefix + "." + key
}

func (p Params) fail(key, format string, args ...any) *FieldError {
	return &FieldError{Field: p.name(key), Reason: fmt.Sprintf(format, args...)}
}

// scalar returns the text of a string, number or bool value.
func scalar(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	case float64: // trees built by hand rather than by ParseJSON
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	}
	return "", false
}

// String returns a trimmed string; numbers and booleans are accepted as
// their text because loosely typed clients send ids as numbers.
func (p Params) String(key string) (string, bool, error) {
	v := p.m[key]
	if v == nil {
		return "", false, nil
	}
	s, ok := scalar(v)
	if !ok {
		return "", true, p.fail(key, "must be a string")
	}
	return strings.TrimSpace(s), true, nil
}

// Int64 accepts integers as numbers or strings ("3", 3, "3.0").
func (p Params) Int64(key string) (int64, bool, error) {
	s, ok, err := p.nonEmpty(key, "an integer")
	if !ok || err != nil {
		return 0, ok, err
	}
	if whole, frac, dot := strings.Cut(s, "."); dot && strings.Trim(frac, "0") == "" && whole != "" {
		s = whole
	}
	n, perr := strconv.ParseInt(s, 10, 64)
	if perr != nil {
		return 0, true, p.fail(key, "must be an integer, got %q", clip(s))
	}
	return n, true, nil
}

// Int is Int64 bounded to the int32 range, for counts and pages.
func (p Params) Int(key string) (int, bool, error) {
	n, ok, err := p.Int64(key)
	if err != nil || !ok {
		return 0, ok, err
	}
	if n > 1<<31-1 || n < -(1<<31) {
		return 0, true, p.fail(key, "is out of range")
	}
	return int(n), true, nil
}

// Amount parses a decimal amount into minor units of currency.
func (p Params) Amount(key, currency string) (int64, bool, error) {
	s, ok, err := p.nonEmpty(key, "a number")
	if !ok || err != nil {
		return 0, ok, err
	}
	n, perr := core.ParseAmount(s, currency)
	if perr != nil {
		if errors.Is(perr, core.ErrBadAmount) {
			return 0, true, p.fail(key, "must be a non-negative amount in %s, got %q", currency, clip(s))
		}
		return 0, true, p.fail(key, "cannot be read: %v", perr)
	}
	return n, true, nil
}

// Bool accepts true/false in any case (Python sends "True"), 1/0, yes/no,
// on/off.
func (p Params) Bool(key string) (bool, bool, error) {
	s, ok, err := p.nonEmpty(key, "a boolean")
	if !ok || err != nil {
		return false, ok, err
	}
	switch strings.ToLower(s) {
	case "true", "1", "yes", "y", "on":
		return true, true, nil
	case "false", "0", "no", "n", "off":
		return false, true, nil
	}
	return false, true, p.fail(key, "must be true or false, got %q", clip(s))
}

// StringOrArray accepts a single string or an array of strings (merchant_uid
// in unschedule, the query-array parameters). Empty elements are dropped.
func (p Params) StringOrArray(key string) ([]string, bool, error) {
	v := p.m[key]
	if v == nil {
		return nil, false, nil
	}
	if s, ok := scalar(v); ok {
		s = strings.TrimSpace(s)
		if s == "" {
			return []string{}, true, nil
		}
		return []string{s}, true, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, true, p.fail(key, "must be a string or an array of strings")
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		if e == nil {
			continue
		}
		s, ok := scalar(e)
		if !ok {
			return nil, true, &FieldError{Field: fmt.Sprintf("%s[%d]", p.name(key), i), Reason: "must be a string"}
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, true, nil
}

// Object returns a nested object (`extra[requester]=…` or a JSON object).
func (p Params) Object(key string) (Params, bool, error) {
	v := p.m[key]
	if v == nil {
		return New(nil), false, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		if s, isStr := v.(string); isStr && strings.TrimSpace(s) == "" {
			return New(nil), false, nil
		}
		return New(nil), true, p.fail(key, "must be an object")
	}
	return Params{m: m, prefix: p.name(key)}, true, nil
}

// Objects returns an array of objects (`schedules[0][merchant_uid]=…`).
func (p Params) Objects(key string) ([]Params, bool, error) {
	v := p.m[key]
	if v == nil {
		return nil, false, nil
	}
	arr, ok := v.([]any)
	if !ok {
		// A lone object is a one-element list to clients that serialise
		// single-item arrays without an index.
		if m, isMap := v.(map[string]any); isMap {
			arr = []any{m}
		} else {
			return nil, true, p.fail(key, "must be an array of objects")
		}
	}
	out := make([]Params, 0, len(arr))
	for i, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, true, &FieldError{Field: fmt.Sprintf("%s[%d]", p.name(key), i), Reason: "must be an object"}
		}
		out = append(out, Params{m: m, prefix: fmt.Sprintf("%s[%d]", p.name(key), i)})
	}
	return out, true, nil
}

// JSONText returns a string as is and anything else as its JSON text: the
// JS SDK and some clients send custom_data as an object, which V1 stores
// and returns as a string.
func (p Params) JSONText(key string) (string, bool, error) {
	v := p.m[key]
	if v == nil {
		return "", false, nil
	}
	if s, ok := v.(string); ok {
		return s, true, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", true, p.fail(key, "cannot be encoded as JSON")
	}
	return string(b), true, nil
}

func (p Params) nonEmpty(key, what string) (string, bool, error) {
	v := p.m[key]
	if v == nil {
		return "", false, nil
	}
	s, ok := scalar(v)
	if !ok {
		return "", true, p.fail(key, "must be %s", what)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false, nil
	}
	return s, true, nil
}

// clip keeps echoed input short in error messages.
func clip(s string) string {
	r := []rune(s)
	if len(r) > 32 {
		return string(r[:32]) + "…"
	}
	return s
}
