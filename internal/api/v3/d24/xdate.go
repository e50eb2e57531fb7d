package d24

import (
	"errors"
	"time"
)

var errXDate = errors.New("d24: X-Date must be yyyy-MM-ddTHH:mm:ss[.fraction] with Z or a ±hh:mm / ±hhmm offset")

// ParseXDate parses an X-Date header. The docs' prose gives
// yyyy-MM-dd'T'HH:mm:ssZ (Java's Z is a ±hhmm offset, so "+0900" is accepted
// alongside RFC 3339's "+09:00" and "Z") and the OpenAPI examples add
// milliseconds, so 1–9 fractional digits are optional. A time without any
// zone is refused: the signature window would depend on the server's zone.
// It is hand-written rather than time.Parse because Go's layouts can't make
// the offset colon optional in one pattern.
func ParseXDate(s string) (time.Time, error) {
	// 2006-01-02T15:04:05 is 19 bytes; the shortest zone is "Z".
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, errXDate
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, errXDate
	}
	rest := s[19:]
	nsec := 0
	if rest[0] == '.' {
		i := 1
		scale := 100_000_000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			if i > 9 {
				return time.Time{}, errXDate
			}
			nsec += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 {
			return time.Time{}, errXDate
		}
		rest = rest[i:]
	}
	var offset int
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		o, ok := offsetOf(rest[1:3], rest[4:6])
		if !ok {
			return time.Time{}, errXDate
		}
		offset = o
		if rest[0] == '-' {
			offset = -o
		}
	case len(rest) == 5 && (rest[0] == '+' || rest[0] == '-'):
		o, ok := offsetOf(rest[1:3], rest[3:5])
		if !ok {
			return time.Time{}, errXDate
		}
		offset = o
		if rest[0] == '-' {
			offset = -o
		}
	default:
		return time.Time{}, errXDate
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

func offsetOf(hh, mm string) (int, bool) {
	h, ok1 := num(hh)
	m, ok2 := num(mm)
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	return h*3600 + m*60, true
}

func num(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
