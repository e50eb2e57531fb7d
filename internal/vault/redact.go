package vault

import (
	"context"
	"log/slog"
)

// A PAN in free text is found as a run of digit groups separated by single
// '-' or ' ' characters. Candidates start and end on group boundaries only:
// checking every 13–19 digit window of a long number (an order id, a
// timestamp) would flag one in ten by Luhn chance and make logs useless,
// while a real card number is almost never glued to other digits without a
// separator.

type span struct{ start, end int }

// group is a maximal run of ASCII digits at s[start:end].
type group struct{ start, end int }

// findPANs calls fn for each non-overlapping candidate, leftmost first and,
// from a given start, the longest Luhn-valid one.
func findPANs(s string, fn func(span) bool) {
	if !enoughDigits(s) {
		return
	}
	var groups []group
	flush := func() bool {
		for i := 0; i < len(groups); {
			best, n := -1, 0
			for j := i; j < len(groups); j++ {
				n += groups[j].end - groups[j].start
				if n > maxPANDigits {
					break
				}
				if n >= minPANDigits && luhnGroups(s, groups[i:j+1]) {
					best = j
				}
			}
			if best < 0 {
				i++
				continue
			}
			if !fn(span{groups[i].start, groups[best].end}) {
				return false
			}
			i = best + 1
		}
		groups = groups[:0]
		return true
	}
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		groups = append(groups, group{i, j})
		// The run continues only across a single separator followed by a
		// digit; anything else ends it.
		if j+1 < len(s) && (s[j] == '-' || s[j] == ' ') && isDigit(s[j+1]) {
			i = j + 1
			continue
		}
		if !flush() {
			return
		}
		i = j
	}
}

func luhnGroups(s string, gs []group) bool {
	sum, double := 0, false
	for g := len(gs) - 1; g >= 0; g-- {
		for i := gs[g].end - 1; i >= gs[g].start; i-- {
			d := int(s[i] - '0')
			if double {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
			double = !double
		}
	}
	return sum%10 == 0
}

// enoughDigits is the fast path: most log strings have fewer than 13 digits
// and never reach the group scan.
func enoughDigits(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			if n++; n >= minPANDigits {
				return true
			}
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// ContainsPAN reports whether s contains something that looks like a card
// number: 13–19 digits, optionally grouped by single '-' or ' ', passing
// Luhn. Tests use it to assert that logs and responses carry no PAN.
func ContainsPAN(s string) bool {
	found := false
	findPANs(s, func(span) bool { found = true; return false })
	return found
}

// Redact replaces every PAN-looking substring of s with its Mask. Masking
// can leave the kept first-6/last-4 digits adjacent to neighbouring digit
// groups, forming a new candidate; Redact repeats until none is left, so
// ContainsPAN(Redact(s)) is always false. Each pass removes digits, so this
// terminates.
func Redact(s string) string {
	for {
		r, changed := redactOnce(s)
		if !changed {
			return r
		}
		s = r
	}
}

func redactOnce(s string) (string, bool) {
	var out []byte
	last := 0
	findPANs(s, func(sp span) bool {
		if out == nil {
			out = make([]byte, 0, len(s))
		}
		out = append(out, s[last:sp.start]...)
		out = append(out, Mask(s[sp.start:sp.end])...)
		last = sp.end
		return true
	})
	if out == nil {
		return s, false
	}
	return string(append(out, s[last:]...)), true
}

// RedactingHandler wraps h so that PAN-looking text in the message and in
// string or error attributes (including inside groups and WithAttrs) is
// logged masked. It is defence in depth: code must not log card numbers in
// the first place, but a PG's error message echoing the request, or a
// merchant putting a card number in a free-text field, should not end up in
// a log aggregator. Records without candidates are passed through untouched.
func RedactingHandler(h slog.Handler) slog.Handler {
	if rh, ok := h.(*redactingHandler); ok {
		return rh
	}
	return &redactingHandler{next: h}
}

type redactingHandler struct{ next slog.Handler }

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	dirty := ContainsPAN(r.Message)
	if !dirty {
		r.Attrs(func(a slog.Attr) bool {
			dirty = attrHasPAN(a)
			return !dirty
		})
	}
	if !dirty {
		return h.next.Handle(ctx, r)
	}
	nr := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, nr)
}

func (h *redactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return &redactingHandler{next: h.next.WithAttrs(red)}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(name)}
}

func attrHasPAN(a slog.Attr) bool {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return ContainsPAN(v.String())
	case slog.KindGroup:
		for _, g := range v.Group() {
			if attrHasPAN(g) {
				return true
			}
		}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			return ContainsPAN(err.Error())
		}
	}
	return false
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); ContainsPAN(s) {
			return slog.String(a.Key, Redact(s))
		}
	case slog.KindGroup:
		gs := v.Group()
		red := make([]slog.Attr, len(gs))
		for i, g := range gs {
			red[i] = redactAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			if s := err.Error(); ContainsPAN(s) {
				return slog.String(a.Key, Redact(s))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
