package tosspayments

import (
	"errors"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/pg"
)

// Processor routes channels to Toss Payments; the secret key says whether
// it is live.
var Processor = pg.Processor{
	Name: Provider,
	Live: func(c pg.Credentials, sandbox bool) (bool, error) {
		var live bool
		switch {
		case strings.HasPrefix(c.SecretKey, "test_sk_"):
		case strings.HasPrefix(c.SecretKey, "live_sk_"):
			live = true
		default:
			return false, errors.New("tosspayments needs --secret-key test_sk_… or live_sk_… (the API individual-integration secret key, not a widget or client key)")
		}
		return live, pg.KeyMismatch(Provider, live, sandbox)
	},
	New: func(apiURL string, c pg.Credentials, timeout time.Duration) (pg.Connector, error) {
		client, err := New(Config{BaseURL: apiURL, SecretKey: c.SecretKey, Timeout: timeout})
		if err != nil {
			return nil, err
		}
		return client, nil
	},
}
