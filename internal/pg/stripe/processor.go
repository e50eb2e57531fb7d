package stripe

import (
	"errors"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/pg"
)

// Processor routes channels to Stripe; the secret key says whether it is
// live.
var Processor = pg.Processor{
	Name: Provider,
	Live: func(c pg.Credentials, sandbox bool) (bool, error) {
		var live bool
		switch {
		case strings.HasPrefix(c.SecretKey, "sk_test_"), strings.HasPrefix(c.SecretKey, "rk_test_"):
		case IsLiveKey(c.SecretKey):
			live = true
		default:
			return false, errors.New("stripe needs --secret-key sk_test_… or sk_live_… (or a restricted rk_ key)")
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
