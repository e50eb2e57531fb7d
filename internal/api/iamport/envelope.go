package iamport

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// envelope is V1's {code, message, response}. Message is a pointer because
// success must say "message": null, which some clients check.
type envelope struct {
	Code     int     `json:"code"`
	Message  *string `json:"message"`
	Response any     `json:"response"`
}

func writeJSON(w http.ResponseWriter, status int, env envelope) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Receipt and notice URLs carry "&"; escaping it as \u0026 is legal but
	// makes logs and diffs against the real API noisy.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		// Only a view bug gets here; the client still gets an envelope.
		buf.Reset()
		status = http.StatusInternalServerError
		buf.WriteString(`{"code":-1,"message":"응답을 생성하지 못했습니다.","response":null}` + "\n")
		env.Code = -1
	}
	recordEnvelopeCode(w, env.Code)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// writeOK sends a success. PHP's client treats code 0 with a null response
// as an error, so a nil payload is a bug caught here rather than in the field.
func writeOK(w http.ResponseWriter, status int, response any) {
	if response == nil {
		response = struct{}{}
	}
	writeJSON(w, status, envelope{Code: 0, Response: response})
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, envelope{Code: code, Message: &message})
}
