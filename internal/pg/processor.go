package pg

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Processor is a real payment processor a channel can route to. Each
// connector package describes itself with one (its Processor variable); the
// router lists them, so adding a connector is its own package plus one entry
// in that list.
type Processor struct {
	Name string
	// Live checks credentials for a channel added as sandbox or not, and
	// reports whether they move real money.
	Live func(c Credentials, sandbox bool) (live bool, err error)
	// New builds the connector for one channel.
	New func(apiURL string, c Credentials, timeout time.Duration) (Connector, error)
}

// Credentials are what a processor channel needs; which fields depends on
// the processor. They are sealed by the vault as JSON and never shown again.
type Credentials struct {
	ImpKey     string `json:"imp_key,omitempty"`    // iamport
	ImpSecret  string `json:"imp_secret,omitempty"` // iamport
	UpstreamPG string `json:"pg,omitempty"`         // iamport: the upstream account's pg value
	SecretKey  string `json:"secret_key,omitempty"` // tosspayments, stripe
}

// String never shows a secret, so a Credentials printed by mistake leaks
// nothing.
func (c Credentials) String() string { return "pg.Credentials{…}" }

// LogValue keeps credentials out of structured logs.
func (c Credentials) LogValue() slog.Value { return slog.StringValue("[credentials]") }

// Marshal is the sealed form.
func (c Credentials) Marshal() ([]byte, error) { return json.Marshal(c) }

// UnmarshalCredentials opens the sealed form.
func UnmarshalCredentials(b []byte) (Credentials, error) {
	var c Credentials
	err := json.Unmarshal(b, &c)
	return c, err
}

// SecretKeyProcessor describes a processor whose one secret key says
// whether it is live (Toss, Stripe): isTest and isLive classify the key,
// hint is the error for any other, connect builds the client.
func SecretKeyProcessor(name string, isTest, isLive func(key string) bool, hint string,
	connect func(apiURL, key string, timeout time.Duration) (Connector, error)) Processor {
	return Processor{
		Name: name,
		Live: func(c Credentials, sandbox bool) (bool, error) {
			var live bool
			switch {
			case isTest(c.SecretKey):
			case isLive(c.SecretKey):
				live = true
			default:
				return false, errors.New(hint)
			}
			return live, KeyMismatch(name, live, sandbox)
		},
		New: func(apiURL string, c Credentials, timeout time.Duration) (Connector, error) {
			return connect(apiURL, c.SecretKey, timeout)
		},
	}
}

// KeyMismatch refuses a test key on a live channel or a live key on a
// sandbox one; nil when they agree.
func KeyMismatch(provider string, live, sandbox bool) error {
	if live != sandbox {
		return nil
	}
	return fmt.Errorf("%s: a %s key on a %s channel", provider, map[bool]string{true: "live", false: "test"}[live],
		map[bool]string{true: "sandbox", false: "live"}[sandbox])
}
