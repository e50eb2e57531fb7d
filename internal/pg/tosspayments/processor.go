package tosspayments

import (
	"strings"
	"time"

	"github.com/billkey/billkey/internal/pg"
)

// Processor routes channels to Toss Payments; the secret key says whether
// it is live.
var Processor = pg.SecretKeyProcessor(Provider,
	func(k string) bool { return strings.HasPrefix(k, "test_sk_") },
	func(k string) bool { return strings.HasPrefix(k, "live_sk_") },
	"tosspayments needs --secret-key test_sk_… or live_sk_… (the API individual-integration secret key, not a widget or client key)",
	func(apiURL, key string, timeout time.Duration) (pg.Connector, error) {
		c, err := New(Config{BaseURL: apiURL, SecretKey: key, Timeout: timeout})
		if err != nil {
			return nil, err
		}
		return c, nil
	})
