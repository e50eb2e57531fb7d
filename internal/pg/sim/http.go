package sim

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/pg/simwire"
)

const maxBody = 1 << 20

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/billing-keys", s.handleIssue)
	mux.HandleFunc("DELETE /v1/billing-keys/{billing_key}", s.handleDeleteKey)
	mux.HandleFunc("POST /v1/charges", s.handleCharge)
	mux.HandleFunc("GET /v1/charges/{key}", s.handleLookupCharge)
	mux.HandleFunc("POST /v1/charges/{key}/cancels", s.handleCancel)
	mux.HandleFunc("GET /v1/cancels/{key}", s.handleLookupCancel)

	mux.HandleFunc("GET /_sim/ledger", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Ledger())
	})
	mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET /_sim/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, toConfigJSON(s.Config()))
	})
	mux.HandleFunc("POST /_sim/config", s.handleSetConfig)
	mux.HandleFunc("GET /_sim/personalities", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, Personalities())
	})
	mux.HandleFunc("GET /_sim/receipts/{tid}", s.handleReceipt)
	mux.Handle(TossPrefix+"/", s.tossRoutes())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			s.stats.requests.Add(1)
		}
		mux.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) writeRefusal(w http.ResponseWriter, ref *refusal) {
	if ref.status < 500 {
		s.stats.refused.Add(1)
	}
	writeJSON(w, ref.status, ref.WireError)
}

// decode never quotes the body back: it may hold a card number.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, simwire.WireError{Code: simwire.CodeBadRequest, Message: "요청 본문(JSON)을 해석할 수 없습니다."})
		return false
	}
	return true
}

func (s *Server) handleIssue(w http.ResponseWriter, r *http.Request) {
	var req simwire.WireIssueKey
	if !decode(w, r, &req) {
		return
	}
	res, ref := s.issue(req)
	s.delay(r.Context())
	if ref != nil {
		s.writeRefusal(w, ref)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleDeleteKey(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ref := s.deleteKey(q.Get("provider"), q.Get("mid"), r.PathValue("billing_key"))
	s.delay(r.Context())
	if ref != nil {
		s.writeRefusal(w, ref)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleCharge(w http.ResponseWriter, r *http.Request) {
	var req simwire.WireCharge
	if !decode(w, r, &req) {
		return
	}
	res, lose, ref := s.charge(req, r.Host)
	if lose {
		s.stats.lost.Add(1)
		dropResponse(w)
		return
	}
	held := time.Now()
	s.delay(r.Context())
	if f := s.chargeTimed.Load(); f != nil {
		(*f)(req.IdempotencyKey, time.Since(held))
	}
	if ref != nil {
		s.writeRefusal(w, ref)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// dropResponse closes the connection without a byte of response, so the
// client sees EOF after its request went out: a genuinely unknown outcome.
func dropResponse(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// HTTP/2 or a wrapped writer: aborting makes the server reset the stream.
	panic(http.ErrAbortHandler)
}

func (s *Server) handleLookupCharge(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	res, ref := s.lookupCharge(q.Get("provider"), q.Get("mid"), r.PathValue("key"))
	s.delay(r.Context())
	if ref != nil {
		s.writeRefusal(w, ref)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	var req simwire.WireCancel
	if !decode(w, r, &req) {
		return
	}
	res, ref := s.cancel(r.PathValue("key"), req)
	s.delay(r.Context())
	if ref != nil {
		s.writeRefusal(w, ref)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleLookupCancel(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	res, ref := s.lookupCancel(q.Get("provider"), q.Get("mid"), r.PathValue("key"))
	s.delay(r.Context())
	if ref != nil {
		s.writeRefusal(w, ref)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c, ok := s.byTID[r.PathValue("tid")]
	var view Charge
	if ok {
		view = c.Charge
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>매출전표</title><h1>[SANDBOX] 매출전표</h1><dl>"+
		"<dt>PG</dt><dd>%s</dd><dt>거래번호</dt><dd>%s</dd><dt>카드</dt><dd>%s %s</dd>"+
		"<dt>상태</dt><dd>%s</dd><dt>금액</dt><dd>%d %s</dd><dt>취소</dt><dd>%d</dd></dl>",
		html.EscapeString(view.Provider), html.EscapeString(view.PGTID), html.EscapeString(view.Card.CardName),
		html.EscapeString(view.Card.CardNumber), view.Status, view.Amount, html.EscapeString(view.Currency), view.Cancelled)
}

// configJSON spells durations as Go strings ("200ms") for curl users.
type configJSON struct {
	Latency   string  `json:"latency"`
	Jitter    string  `json:"jitter"`
	ErrorRate float64 `json:"error_rate"`
	LostRate  float64 `json:"lost_rate"`
	Seed      int64   `json:"seed"`
}

func toConfigJSON(c Config) configJSON {
	return configJSON{Latency: c.Latency.String(), Jitter: c.Jitter.String(), ErrorRate: c.ErrorRate, LostRate: c.LostRate, Seed: c.Seed}
}

// handleSetConfig applies a partial update: fields left out keep their value.
func (s *Server) handleSetConfig(w http.ResponseWriter, r *http.Request) {
	cj := toConfigJSON(s.Config())
	if !decode(w, r, &cj) {
		return
	}
	lat, err1 := time.ParseDuration(cj.Latency)
	jit, err2 := time.ParseDuration(cj.Jitter)
	switch {
	case err1 != nil || err2 != nil || lat < 0 || jit < 0:
		writeJSON(w, http.StatusBadRequest, simwire.WireError{Code: simwire.CodeBadRequest, Message: "latency/jitter must be durations like \"200ms\""})
		return
	case cj.ErrorRate < 0 || cj.ErrorRate > 1 || cj.LostRate < 0 || cj.LostRate > 1:
		writeJSON(w, http.StatusBadRequest, simwire.WireError{Code: simwire.CodeBadRequest, Message: "error_rate/lost_rate must be within [0,1]"})
		return
	}
	cfg := Config{Latency: lat, Jitter: jit, ErrorRate: cj.ErrorRate, LostRate: cj.LostRate, Seed: cj.Seed}
	s.SetConfig(cfg)
	writeJSON(w, http.StatusOK, toConfigJSON(cfg))
}
