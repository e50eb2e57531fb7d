package merchant

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/billkey/billkey/internal/core"
)

// channelCacheTTL bounds how long a node charges through a channel list
// another node may have changed.
const channelCacheTTL = 30 * time.Second

// UnknownPGError names a pg value the merchant has no channel for.
type UnknownPGError struct{ PG string }

func (e *UnknownPGError) Error() string { return fmt.Sprintf("no PG channel %q", e.PG) }

// Channels lists the merchant's PG channels, default first (GET /users/pg).
func (s *Service) Channels(ctx context.Context, merchantID int64) ([]core.Channel, error) {
	now := s.clock.Now()
	s.mu.RLock()
	c, ok := s.channels[merchantID]
	s.mu.RUnlock()
	if ok && now.Before(c.expires) {
		return c.list, nil
	}
	list, err := s.store.Channels(ctx, merchantID)
	if err != nil {
		return nil, fmt.Errorf("channels of merchant %d: %w", merchantID, err)
	}
	s.mu.Lock()
	s.channels[merchantID] = cachedChannels{list: list, expires: now.Add(channelCacheTTL)}
	s.mu.Unlock()
	return list, nil
}

// ResolveChannel picks the merchant's channel for a V1 pg value: "provider"
// or "provider.mid" (CHAI: chai.{public_key}), preferring a REST
// (api_payment) contract; no pg means the default channel. A pg matching no
// channel is an error: falling back would send money through a PG the
// merchant did not name.
func (s *Service) ResolveChannel(ctx context.Context, merchantID int64, pgValue string) (core.Channel, error) {
	chans, err := s.Channels(ctx, merchantID)
	if err != nil {
		return core.Channel{}, err
	}
	if len(chans) == 0 {
		return core.Channel{}, &UnknownPGError{PG: pgValue}
	}
	if pgValue != "" {
		provider, mid, hasMID := strings.Cut(pgValue, ".")
		var match *core.Channel
		for i := range chans {
			c := &chans[i]
			if c.Provider != provider || (hasMID && c.MID != mid) {
				continue
			}
			if match == nil || (c.Type == "api_payment" && match.Type != "api_payment") {
				match = c
			}
		}
		if match != nil {
			return *match, nil
		}
		return core.Channel{}, &UnknownPGError{PG: pgValue}
	}
	for _, c := range chans {
		if c.IsDefault {
			return c, nil
		}
	}
	return chans[0], nil
}

// WindowChannel resolves the channel a payment window runs on. A provider
// can have a REST contract and a window contract (jtnet: tjtnet001 and
// tpaytest2m), and
// ResolveChannel prefers the REST one, so window ("payment") channels win
// here; otherwise ResolveChannel's rules apply.
func (s *Service) WindowChannel(ctx context.Context, merchantID int64, pgValue string) (core.Channel, error) {
	if pgValue != "" {
		chans, err := s.Channels(ctx, merchantID)
		if err != nil {
			return core.Channel{}, err
		}
		provider, mid, hasMID := strings.Cut(pgValue, ".")
		for _, c := range chans {
			if c.Type == "payment" && c.Provider == provider && (!hasMID || c.MID == mid) {
				return c, nil
			}
		}
	}
	return s.ResolveChannel(ctx, merchantID, pgValue)
}
