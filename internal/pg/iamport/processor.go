package iamport

import (
	"errors"
	"time"

	"github.com/billkey/billkey/internal/pg"
)

// Processor routes channels to an upstream i'mport (PortOne V1) account. An
// account is live unless its channel is added as sandbox.
var Processor = pg.Processor{
	Name: Provider,
	Live: func(c pg.Credentials, sandbox bool) (bool, error) {
		if c.ImpKey == "" || c.ImpSecret == "" {
			return false, errors.New("iamport needs --imp-key and --imp-secret")
		}
		return !sandbox, nil
	},
	New: func(apiURL string, c pg.Credentials, timeout time.Duration) (pg.Connector, error) {
		client, err := New(Config{APIURL: apiURL, ImpKey: c.ImpKey, ImpSecret: c.ImpSecret, PG: c.UpstreamPG, Timeout: timeout})
		if err != nil {
			return nil, err
		}
		return client, nil
	},
}
