// Package form decodes i'mport V1 request parameters — JSON bodies,
// urlencoded bodies with PHP bracket keys, and query strings — into one tree,
// and reads typed values out of it with the coercions real clients need.
//
// The tree holds map[string]any (objects), []any (arrays), string (every
// form value), json.Number, bool and nil (JSON only).
package form

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxDepth bounds bracket nesting; nothing in the API nests deeper than
// schedules[0][extra][naverUseCfm], so anything far beyond is abuse.
const maxDepth = 16

// ParseForm decodes an application/x-www-form-urlencoded text (a body or a
// raw query) into a tree. It never fails: go-iamport sends unescaped values
// (a stray "%" or ":" turned into "="), so undecodable pairs are kept raw
// rather than rejected, and keys and values are trimmed of surrounding
// whitespace ("imp_key=K& imp_secret=S").
func ParseForm(text string) map[string]any {
	root := newNode()
	for text != "" {
		var pair string
		pair, text, _ = strings.Cut(text, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k = strings.TrimSpace(unescape(k))
		v = strings.TrimSpace(unescape(v))
		if k == "" {
			continue
		}
		root.set(splitKey(k), v)
	}
	// The root stays an object even when every top-level key is numeric
	// ("0=a"); only values become arrays.
	out := make(map[string]any, len(root.kids))
	for k, c := range root.kids {
		out[k] = c.value()
	}
	return out
}

func unescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		// Keep the raw text but still honour "+" as space, as PHP does.
		return strings.ReplaceAll(s, "+", " ")
	}
	return u
}

// splitKey turns `a[b][0][]` into ["a", "b", "0", ""]. A key whose brackets
// do not close, or with text after the last bracket, is taken literally so
// nothing is silently re-nested.
func splitKey(k string) []string {
	i := strings.IndexByte(k, '[')
	if i <= 0 {
		return []string{k}
	}
	path := []string{strings.TrimSpace(k[:i])}
	rest := k[i:]
	for rest != "" && len(path) < maxDepth {
		if rest[0] != '[' {
			break
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		path = append(path, strings.TrimSpace(rest[1:j]))
		rest = rest[j+1:]
	}
	if rest != "" {
		return []string{k}
	}
	return path
}

// node is the tree while it is being built: a leaf string or a container
// keyed by name. next is the next free index for `[]`, kept incrementally
// so a body of many `k[]=` pairs stays linear.
type node struct {
	leaf    bool
	val     string
	kids    map[string]*node
	next    int
	numeric bool // every key so far is an integer index
}

func newNode() *node { return &node{kids: map[string]*node{}, numeric: true} }

func (n *node) put(key string, c *node) {
	if _, exists := n.kids[key]; !exists {
		if i, ok := index(key); ok {
			if i >= n.next {
				n.next = i + 1
			}
		} else {
			n.numeric = false
		}
	}
	n.kids[key] = c
}

func (n *node) appendKey() string { return strconv.Itoa(n.next) }

// set stores v at path. Repeated plain keys (`k=a&k=b`) and `k[]` build
// lists so that all three query-array styles end up alike; a scalar after
// an object replaces it, as in PHP.
func (n *node) set(path []string, v string) {
	for i, seg := range path {
		if seg == "" && i > 0 {
			seg = n.appendKey()
		}
		old := n.kids[seg]
		if i == len(path)-1 {
			switch {
			case old == nil:
				n.put(seg, &node{leaf: true, val: v})
			case old.leaf:
				l := newNode()
				l.put("0", old)
				l.put("1", &node{leaf: true, val: v})
				n.put(seg, l)
			case old.numeric:
				old.put(old.appendKey(), &node{leaf: true, val: v})
			default:
				n.put(seg, &node{leaf: true, val: v})
			}
			return
		}
		if old == nil || old.leaf {
			c := newNode()
			if old != nil && path[i+1] == "" {
				// `k=a&k[]=b`: a stays the first element.
				c.put("0", old)
			}
			n.put(seg, c)
			old = c
		}
		n = old
	}
}

// value converts to the public tree. Containers whose keys are all integer
// indexes become arrays ordered by index (gaps closed: sparse PHP arrays
// are lists to every client).
func (n *node) value() any {
	if n.leaf {
		return n.val
	}
	if !n.numeric || len(n.kids) == 0 {
		m := make(map[string]any, len(n.kids))
		for k, c := range n.kids {
			m[k] = c.value()
		}
		return m
	}
	keys := make([]int, 0, len(n.kids))
	for k := range n.kids {
		i, _ := index(k)
		keys = append(keys, i)
	}
	sort.Ints(keys)
	out := make([]any, len(keys))
	for j, i := range keys {
		out[j] = n.kids[strconv.Itoa(i)].value()
	}
	return out
}

// index accepts PHP's integer keys: digits without a leading zero, bounded
// so "a[99999999999999999999]" stays an object key instead of overflowing.
func index(k string) (int, bool) {
	if k == "" || len(k) > 9 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return 0, false
		}
	}
	n, _ := strconv.Atoi(k)
	return n, true
}

// ErrNotObject is returned for a JSON body that is not an object.
var ErrNotObject = errors.New("request body must be a JSON object")

// ParseJSON decodes a JSON object keeping numbers as json.Number so amounts
// never pass through float64. An empty body is an empty object.
func ParseJSON(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, ErrNotObject
	}
	return m, nil
}

// Merge overlays b on a (b wins) and returns a. Clients put parameters in
// the query string of POSTs and in bodies of DELETEs; reading both means
// none is lost.
func Merge(a, b map[string]any) map[string]any {
	if a == nil {
		a = map[string]any{}
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}
