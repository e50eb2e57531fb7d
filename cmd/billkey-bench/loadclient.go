package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// loadClient is the load generator's HTTP/1.1 client. net/http's Transport
// runs two goroutines per connection and hands every request between them
// over channels; in the measured process that made the load generator 17 %
// of its CPU, taken from the cores the gateway is measured on. This client
// writes each request's bytes itself on connections it keeps alive, as wrk
// does, and reads the answer with net/http's own parser.
type loadClient struct {
	host string
	idle chan *loadConn
}

type loadConn struct {
	net.Conn
	r   *bufio.Reader
	req []byte
}

func newLoadClient(base string) (*loadClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("load client: %s: only http:// is spoken", base)
	}
	return &loadClient{host: u.Host, idle: make(chan *loadConn, 4096)}, nil
}

// post sends body to path and reads the answer's body into into. It
// returns the HTTP status code.
func (c *loadClient) post(path, tok string, body []byte, into *bytes.Buffer) (int, error) {
	lc, err := c.conn()
	if err != nil {
		return 0, err
	}
	lc.req = append(lc.req[:0], "POST "...)
	lc.req = append(lc.req, path...)
	lc.req = append(lc.req, " HTTP/1.1\r\nHost: "...)
	lc.req = append(lc.req, c.host...)
	lc.req = append(lc.req, "\r\nContent-Type: application/json\r\nAuthorization: "...)
	lc.req = append(lc.req, tok...)
	lc.req = append(lc.req, "\r\nContent-Length: "...)
	lc.req = strconv.AppendInt(lc.req, int64(len(body)), 10)
	lc.req = append(lc.req, "\r\n\r\n"...)
	lc.req = append(lc.req, body...)
	if _, err := lc.Write(lc.req); err != nil {
		lc.Close()
		return 0, err
	}
	resp, err := http.ReadResponse(lc.r, nil)
	if err != nil {
		lc.Close()
		return 0, err
	}
	into.Reset()
	_, err = into.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		lc.Close()
	} else {
		c.put(lc)
	}
	return resp.StatusCode, err
}

func (c *loadClient) conn() (*loadConn, error) {
	select {
	case lc := <-c.idle:
		return lc, nil
	default:
	}
	nc, err := net.Dial("tcp", c.host)
	if err != nil {
		return nil, err
	}
	return &loadConn{Conn: nc, r: bufio.NewReaderSize(nc, 8<<10)}, nil
}

func (c *loadClient) put(lc *loadConn) {
	select {
	case c.idle <- lc:
	default:
		lc.Close()
	}
}

// Close closes the connections kept alive.
func (c *loadClient) Close() {
	for {
		select {
		case lc := <-c.idle:
			lc.Close()
		default:
			return
		}
	}
}

// paymentAnswer is what the load generator reads of a V1 answer: its code,
// and the payment's status and imp_uid. It looks for them in the compact
// JSON Billkey writes instead of decoding it all.
func paymentAnswer(body []byte) (code int, status, impUID string, err error) {
	if !bytes.HasPrefix(body, []byte(`{"code":`)) {
		return 0, "", "", fmt.Errorf("not a V1 answer: %.80q", body)
	}
	rest := body[len(`{"code":`):]
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return 0, "", "", errors.New("V1 answer without a message")
	}
	if code, err = strconv.Atoi(string(rest[:end])); err != nil {
		return 0, "", "", fmt.Errorf("V1 answer code: %w", err)
	}
	return code, stringField(body, `"status":"`), stringField(body, `"imp_uid":"`), nil
}

// stringField is the value of the first field named by key (`"name":"`),
// "" when there is none.
func stringField(body []byte, key string) string {
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return ""
	}
	v := body[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return ""
	}
	return string(v[:j])
}
