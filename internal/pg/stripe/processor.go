package stripe

import (
	"strings"
	"time"

	"github.com/billkey/billkey/internal/pg"
)

// Processor routes channels to Stripe; the secret key says whether it is
// live.
var Processor = pg.SecretKeyProcessor(Provider,
	func(k string) bool { return strings.HasPrefix(k, "sk_test_") || strings.HasPrefix(k, "rk_test_") },
	IsLiveKey,
	"stripe needs --secret-key sk_test_… or sk_live_… (or a restricted rk_ key)",
	func(apiURL, key string, timeout time.Duration) (pg.Connector, error) {
		c, err := New(Config{BaseURL: apiURL, SecretKey: key, Timeout: timeout})
		if err != nil {
			return nil, err
		}
		return c, nil
	})
