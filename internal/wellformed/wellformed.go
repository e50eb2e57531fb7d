// Package wellformed decides whether request text can be taken in at all:
// every path segment, query parameter and body field must be valid UTF-8
// without NUL, before any of it reaches a handler, a log or a database
// (Postgres refuses NUL in text with an error, SQLite stores it), and the
// identifiers merchants choose have one documented character set and length.
package wellformed

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text reports whether s is valid UTF-8 without NUL.
func Text(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// Path reports whether every segment of an escaped URL path decodes to Text.
func Path(escaped string) bool {
	if !Text(escaped) {
		return false
	}
	if !strings.Contains(escaped, "%") {
		return true
	}
	s, err := url.PathUnescape(escaped)
	if err != nil {
		return true // kept raw by the routers; the raw text is Text
	}
	return Text(s)
}

// Query reports whether every key and value of a urlencoded text (a query
// string or a form body) decodes to Text. A pair that does not decode is
// judged by its raw text, as the parsers keep it raw.
func Query(raw string) bool {
	if !Text(raw) {
		return false
	}
	if !strings.ContainsAny(raw, "%") {
		return true
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		for _, part := range []string{k, v} {
			if u, err := url.QueryUnescape(part); err == nil && !Text(u) {
				return false
			}
		}
	}
	return true
}

// JSON reports whether a JSON text holds only Text: no raw NUL or invalid
// UTF-8, no \u0000 escape and no unpaired surrogate escape, which
// encoding/json would silently turn into U+FFFD. It does not check that the
// text is otherwise valid JSON; the decoder does.
func JSON(b []byte) bool {
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(b) {
				return true // truncated: the decoder refuses it
			}
			i++
			if b[i] != 'u' {
				continue
			}
			r, ok := hex4(b, i+1)
			if !ok {
				continue // malformed escape: the decoder refuses it
			}
			i += 4
			switch {
			case r == 0:
				return false
			case r >= 0xDC00 && r <= 0xDFFF:
				return false // a low surrogate with no high one before it
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := hex4(b, i+3)
				if i+2 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' || !ok || lo < 0xDC00 || lo > 0xDFFF {
					return false
				}
				i += 6
			}
		}
	}
	return true
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// Body reports whether a request body, JSON or urlencoded (told apart the
// way the V1 parser does: a form body cannot start with "{" or "["), holds
// only Text.
func Body(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return JSON(b)
	}
	return Query(string(b))
}

// IdentifierError says why an identifier is refused.
type IdentifierError struct {
	Field  string
	Max    int
	Reason string
}

func (e *IdentifierError) Error() string {
	return fmt.Sprintf("%s: %s (1 to %d printable characters: letters, digits, punctuation, symbols and inner spaces)", e.Field, e.Reason, e.Max)
}

// Identifier checks a merchant-chosen identifier (customer_uid,
// merchant_uid, invoice_id): 1 to max characters, each a printable Unicode
// character — a letter, mark, digit, punctuation, symbol or the ASCII
// space — with no space at either end. Control characters (CR, LF, tab),
// format characters (zero-width, bidirectional overrides) and other spaces
// are refused: an identifier ends up in URLs, logs, headers and
// dashboards, where they inject or disguise.
func Identifier(field, s string, max int) error {
	switch {
	case s == "":
		return &IdentifierError{field, max, "empty"}
	case !Text(s):
		return &IdentifierError{field, max, "not valid UTF-8 text"}
	case utf8.RuneCountInString(s) > max:
		return &IdentifierError{field, max, "too long"}
	case s[0] == ' ' || s[len(s)-1] == ' ':
		return &IdentifierError{field, max, "leading or trailing space"}
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return &IdentifierError{field, max, fmt.Sprintf("character %U is not allowed", r)}
		}
	}
	return nil
}
