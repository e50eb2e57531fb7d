package pg

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// TransportError is an exchange with a processor that got no complete
// answer. Unless NeverSent, the request may have been acted on: callers turn
// it into ErrUnknownOutcome, never into a refusal.
type TransportError struct {
	Err error
	// NeverSent: no connection was ever made, so no byte of the request
	// can have reached the processor and a mutating call may be reported
	// as refused. Anything later is an unknown outcome.
	NeverSent bool
}

func (e *TransportError) Error() string { return e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// Reason is the network's own words for a connection never made.
func (e *TransportError) Reason() string {
	var op *net.OpError
	if errors.As(e.Err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return e.Err.Error()
}

// Exchange sends one JSON request (in, when non-nil, as the body) and returns
// the status and at most 4 MiB of the answer. timeout bounds the whole
// exchange (0: only ctx). setHeader adds the connector's own headers. Errors
// before anything left the process come back as they are; a failure after
// that is a *TransportError.
func Exchange(ctx context.Context, hc *http.Client, timeout time.Duration, method, url string, in any, setHeader func(http.Header)) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if setHeader != nil {
		setHeader(req.Header)
	}
	resp, err := hc.Do(req)
	if err != nil {
		var op *net.OpError
		return 0, nil, &TransportError{Err: err, NeverSent: errors.As(err, &op) && op.Op == "dial"}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, nil, &TransportError{Err: fmt.Errorf("reading response: %w", err)}
	}
	return resp.StatusCode, raw, nil
}
