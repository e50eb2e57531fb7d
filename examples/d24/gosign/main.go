// Command gosign creates a subscription with the v3 API (Go, standard library only).
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	url, login, secret := os.Getenv("BILLKEY_URL"), os.Getenv("X_LOGIN"), os.Getenv("API_SIGNATURE")
	body, _ := json.Marshal(map[string]any{
		"invoice_id": fmt.Sprint("INV-", time.Now().UnixNano()), "amount": 19.90, "currency": "USD", "country": "US",
		"payer":        map[string]string{"id": "user_42", "email": "jane@example.com", "first_name": "Jane", "last_name": "Doe"},
		"description":  "Premium",
		"subscription": map[string]any{"plan": "MONTHLY", "plan_unit": 12, "auto_renewal": true},
		"credit_card": map[string]string{"holder_name": "Jane Doe", "card_number": "4242424242424242", "cvv": "123",
			"expiration_month": "12", "expiration_year": "30"},
	})
	xDate := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(xDate + login))
	mac.Write(body) // the exact bytes sent
	req, _ := http.NewRequest("POST", url+"/v3/subscriptions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Date", xDate)
	req.Header.Set("X-Login", login)
	req.Header.Set("Authorization", "D24 "+hex.EncodeToString(mac.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	fmt.Println(string(out), res.StatusCode)
}
