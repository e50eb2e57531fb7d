package adversarial_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/app/apptest"
	"github.com/billkey/billkey/internal/testenv"
)

// TestCardDataNeverStored sends full card numbers, CVCs and birth dates
// through every route that takes a card — accepted, declined, refused as
// malformed or out of bounds — and greps every response, the log and every
// stored byte for them.
func TestCardDataNeverStored(t *testing.T) {
	t.Parallel()
	pans := []string{"4242424242424242", "4242-4242-4242-4242", "4000000000000341", "4000000000009995", "5555555555554444"}
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		e := apptest.New(t, b)
		tok := e.Token(e.Cred)
		var responses bytes.Buffer
		requests := 0
		do := func(method, path string, hdr map[string][]string, body []byte) {
			r := send(t, e.Server.URL, method, path, hdr, body)
			responses.Write(r.raw)
			requests++
		}
		card := func(pan string, extra map[string]any) []byte {
			m := map[string]any{"card_number": pan, "expiry": "2030-12", "birth": "800101", "pwd_2digit": "12", "cvc": "987"}
			for k, v := range extra {
				m[k] = v
			}
			return mustJSON(m)
		}
		at := e.Clock.Now().Add(time.Hour).Unix()
		do("POST", "/subscribe/customers/c1", bearer(tok), card("4242-4242-4242-4242", nil))
		do("POST", "/subscribe/customers/c2", bearer(tok), card("4000000000000341", nil))
		do("POST", "/subscribe/customers/c3", bearer(tok), []byte("card_number=5555555555554444&expiry=2030-12&birth=800101&pwd_2digit=12"))
		do("POST", "/subscribe/payments/onetime", bearer(tok), card("4242424242424242", map[string]any{"merchant_uid": "o1", "amount": 1000, "customer_uid": "c4"}))
		do("POST", "/subscribe/payments/onetime", bearer(tok), card("4000000000009995", map[string]any{"merchant_uid": "o2", "amount": 1000}))
		do("POST", "/subscribe/payments/again", bearer(tok), mustJSON(map[string]any{"customer_uid": "c2", "merchant_uid": "o3", "amount": 1000}))
		do("POST", "/subscribe/payments/schedule", bearer(tok), card("4242424242424242", map[string]any{"customer_uid": "c5",
			"schedules": []map[string]any{{"merchant_uid": "s1", "schedule_at": at, "amount": 1000}}}))
		// Refused: malformed, out of bounds, a bad Luhn digit, no token.
		do("POST", "/subscribe/customers/c6", bearer(tok), card("4242424242424242", map[string]any{"customer_name": "x\u0000"}))
		do("POST", "/subscribe/customers/c7", bearer(tok), card("4242424242424242", map[string]any{"customer_id": strings.Repeat("i", 5000)}))
		do("POST", "/subscribe/customers/c8", bearer(tok), card("4242424242424241", nil))
		do("POST", "/subscribe/customers/c9", nil, card("4242424242424242", nil))
		do("POST", "/subscribe/payments/onetime", bearer(tok), card("4242424242424242", map[string]any{"merchant_uid": "o4", "amount": 1000, "currency": "XXX"}))
		for _, cur := range []string{"USD", "XAU"} {
			body := mustJSON(map[string]any{"invoice_id": "INV-" + cur, "amount": 10, "currency": cur, "country": "US",
				"subscription": map[string]any{"start_date": apptest.Start.Format("2006-01-02"), "plan": "MONTHLY"},
				"credit_card":  map[string]any{"holder_name": "A B", "card_number": "4242424242424242", "cvv": "987", "expiration_month": "12", "expiration_year": "30"}})
			do("POST", "/v3/subscriptions", signD24(e, e.Cred, nil, body), body)
		}
		do("GET", "/subscribe/customers/c1", bearer(tok), nil)
		do("GET", "/payments/find/o1", bearer(tok), nil)

		dump := dumpDatabase(t, e, b)
		haystacks := map[string]string{"responses": responses.String(), "log": e.Logs.String(), "database": dump}
		found := 0
		for where, text := range haystacks {
			for _, pan := range pans {
				if strings.Contains(text, pan) {
					found++
					t.Errorf("full card number %s in the %s", pan, where)
				}
			}
		}
		for _, secret := range []string{"800101", "\"987\""} {
			if strings.Contains(dump, secret) {
				t.Errorf("%s stored", secret)
			}
		}
		t.Logf("%s: %d requests carrying %d card numbers; %d bytes of responses, %d of log, %d of database grepped: %d found",
			b.Name, requests, len(pans), responses.Len(), len(e.Logs.String()), len(dump), found)
	})
}
