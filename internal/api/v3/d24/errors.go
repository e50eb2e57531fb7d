package d24

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// D24 error codes. 1xx are the platform's header/auth family; the
// subscription endpoints use the HTTP status as the code.
const (
	CodeInvalidCredentials           = 100
	CodeMissingRequiredHeader        = 101
	CodeInvalidSignature             = 102
	CodeValidation                   = 400
	CodeIdempotencyKeyReused         = 409 // Billkey's own; see ErrIdempotencyKeyReused
	CodeSubscriptionNotFound         = 420
	CodeSubscriptionAlreadyCancelled = 421
	CodeUnprocessable                = 422
	CodeSubscriptionTerminated       = 426
	CodeGeneric                      = 500
	CodeGenericCancel                = 501
	CodeServiceUnavailable           = 503
	TypeInvalidCredentials           = "INVALID_CREDENTIALS"
	TypeMissingRequiredHeader        = "MISSING_REQUIRED_HEADER"
	TypeInvalidSignature             = "INVALID_SIGNATURE"
	TypeValidation                   = "VALIDATION_ERROR"
	TypeIdempotencyKeyReused         = "IDEMPOTENCY_KEY_REUSED"
	TypeSubscriptionNotFound         = "SUBSCRIPTION_NOT_FOUND"
	TypeSubscriptionAlreadyCancelled = "SUBSCRIPTION_ALREADY_CANCELLED"
	TypeUnprocessable                = "UNPROCESSABLE_ENTITY"
	TypeSubscriptionTerminated       = "SUBSCRIPTION_TERMINATED"
	TypeGeneric                      = "GENERIC_ERROR"
	TypeServiceUnavailable           = "SERVICE_UNAVAILABLE"
	descMissingOrInvalidHeaderPrefix = "Missing or invalid format for required header "
	descInvalidCredentials           = "Invalid Credentials"
	descInvalidSignature             = "Invalid Signature"
	descSubscriptionNotFound         = "Subscription does not exist."
	descSubscriptionAlreadyCancelled = "Subscription was already cancelled."
	descSubscriptionTerminated       = "Subscription is terminated and cannot be cancelled"
	descGeneric                      = "Generic Error"
	descServiceUnavailable           = "Error creating subscription"
	descIdempotencyKeyReused         = "X-Idempotency-Key was already used with a different request"
	descDefaultValidation            = "Invalid input data"
	descDefaultUnprocessable         = "Validation error"
)

// Error is a D24 error. HTTPStatus is the response status; the body is
// {"code","description","type"}.
type Error struct {
	HTTPStatus  int
	Code        int
	Description string
	Type        string
}

// Error implements error.
func (e *Error) Error() string {
	return "d24 " + strconv.Itoa(e.Code) + " " + e.Type + ": " + e.Description
}

type errorBody struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
	Type        string `json:"type"`
}

// MarshalJSON gives the wire body; HTTPStatus is not part of it.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorBody{e.Code, e.Description, e.Type})
}

// Body returns the JSON response body.
func (e *Error) Body() []byte {
	b, _ := e.MarshalJSON() // cannot fail: ints and strings only
	return b
}

// Status returns HTTPStatus, or 500 if it was left unset so that a
// half-built Error is never sent as 200.
func (e *Error) Status() int {
	if e.HTTPStatus < 400 || e.HTTPStatus > 599 {
		return http.StatusInternalServerError
	}
	return e.HTTPStatus
}

// WriteError writes err as a D24 error response. Anything that is not an
// *Error becomes 500 Generic Error, so internal error text never reaches
// a client.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = ErrGeneric()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status())
	_, _ = w.Write(e.Body())
}

// ErrInvalidCredentials: unknown or inactive X-Login (100, HTTP 401).
func ErrInvalidCredentials() *Error {
	return &Error{http.StatusUnauthorized, CodeInvalidCredentials, descInvalidCredentials, TypeInvalidCredentials}
}

// ErrMissingHeader: a required header is absent or malformed (101, HTTP 400).
func ErrMissingHeader(name string) *Error {
	return &Error{http.StatusBadRequest, CodeMissingRequiredHeader, descMissingOrInvalidHeaderPrefix + name, TypeMissingRequiredHeader}
}

// ErrXDateSkew: X-Date is well-formed but too far from the server clock.
// The notes define no code for this, so it reuses 101 (the header is
// "invalid") and keeps the standard 101 sentence as a prefix, so clients
// matching on it still match, then says what the window is.
func ErrXDateSkew(window time.Duration) *Error {
	e := ErrMissingHeader(HeaderXDate)
	e.Description += fmt.Sprintf(": must be within %s of the server time (UTC)", formatWindow(window))
	return e
}

// ErrReplayed: a correctly signed request whose (X-Login, X-Date,
// signature) was already accepted within the window. The notes define no
// code for it; like a stale X-Date it is 101, since what the client must
// change is X-Date (a fresh one, with a fraction if it sends two identical
// requests within one second), and the standard 101 sentence is kept as a
// prefix for clients matching on it.
func ErrReplayed() *Error {
	e := ErrMissingHeader(HeaderXDate)
	e.Description += ": this X-Date and signature were already used; sign every request with a fresh X-Date"
	return e
}

// ErrInvalidSignature: Authorization does not match (102, HTTP 400).
func ErrInvalidSignature() *Error {
	return &Error{http.StatusBadRequest, CodeInvalidSignature, descInvalidSignature, TypeInvalidSignature}
}

// ErrValidation: 400 VALIDATION_ERROR; an empty description uses the
// documented "Invalid input data".
func ErrValidation(description string) *Error {
	if description == "" {
		description = descDefaultValidation
	}
	return &Error{CodeValidation, CodeValidation, description, TypeValidation}
}

// ErrUnprocessable: 422. The notes show no type string for it;
// UNPROCESSABLE_ENTITY is Billkey's choice.
func ErrUnprocessable(description string) *Error {
	if description == "" {
		description = descDefaultUnprocessable
	}
	return &Error{CodeUnprocessable, CodeUnprocessable, description, TypeUnprocessable}
}

// ErrSubscriptionNotFound: 420, for an id that does not exist or belongs to
// another merchant (the two must be indistinguishable).
func ErrSubscriptionNotFound() *Error {
	return &Error{CodeSubscriptionNotFound, CodeSubscriptionNotFound, descSubscriptionNotFound, TypeSubscriptionNotFound}
}

// ErrSubscriptionAlreadyCancelled: 421 on DELETE of a CANCELLED subscription.
func ErrSubscriptionAlreadyCancelled() *Error {
	return &Error{CodeSubscriptionAlreadyCancelled, CodeSubscriptionAlreadyCancelled, descSubscriptionAlreadyCancelled, TypeSubscriptionAlreadyCancelled}
}

// ErrSubscriptionTerminated: 426 on DELETE of a TERMINATED subscription. The
// type string is not documented; SUBSCRIPTION_TERMINATED is inferred.
func ErrSubscriptionTerminated() *Error {
	return &Error{CodeSubscriptionTerminated, CodeSubscriptionTerminated, descSubscriptionTerminated, TypeSubscriptionTerminated}
}

// ErrServiceUnavailable: 503 "Error creating subscription".
func ErrServiceUnavailable() *Error {
	return &Error{CodeServiceUnavailable, CodeServiceUnavailable, descServiceUnavailable, TypeServiceUnavailable}
}

// ErrGeneric: 500 "Generic Error" (GET endpoints).
func ErrGeneric() *Error {
	return &Error{CodeGeneric, CodeGeneric, descGeneric, TypeGeneric}
}

// ErrGenericCancel: 501 "Generic Error", which the DELETE endpoint documents
// instead of 500.
func ErrGenericCancel() *Error {
	return &Error{CodeGenericCancel, CodeGenericCancel, descGeneric, TypeGeneric}
}

// ErrIdempotencyKeyReused is Billkey's own error (the notes do not say what
// the gateway does): an X-Idempotency-Key seen before with a different
// method, path or body. 409 Conflict, code 409.
func ErrIdempotencyKeyReused() *Error {
	return &Error{http.StatusConflict, CodeIdempotencyKeyReused, descIdempotencyKeyReused, TypeIdempotencyKeyReused}
}

func formatWindow(d time.Duration) string {
	switch {
	case d%time.Minute == 0 && d == time.Minute:
		return "±1 minute"
	case d%time.Minute == 0:
		return fmt.Sprintf("±%d minutes", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("±%d seconds", d/time.Second)
	}
	return "±" + d.String()
}
