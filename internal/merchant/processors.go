package merchant

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/pg/router"
	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/vault"
)

// ChannelInput is a channel to add: a real processor with its credentials,
// sandbox (the processor's test mode) or live.
type ChannelInput struct {
	Provider string
	MID      string // i'mport pg MID / Toss MID / Stripe account; names the channel in `pg`
	APIURL   string
	Sandbox  bool
	Default  bool
	Name     string
	Creds    router.Credentials
}

// ErrLiveOnDemo refuses live credentials on the demo merchant.
var ErrLiveOnDemo = errors.New("the demo merchant cannot hold live credentials; create a merchant of your own")

// ChannelError is a channel request the merchant must fix.
type ChannelError struct{ Msg string }

func (e *ChannelError) Error() string { return e.Msg }

func credentialsAAD(merchantID int64, provider, mid string) string {
	return string(vault.ChannelCredentialsAAD(merchantID, provider, mid))
}

// AddChannel adds a processor channel; its credentials are sealed by the
// vault and never returned.
func (s *Service) AddChannel(ctx context.Context, merchantID int64, in ChannelInput) (core.Channel, error) {
	if !router.IsProcessor(in.Provider) {
		return core.Channel{}, &ChannelError{fmt.Sprintf("--pg %q: a channel is one of %s (sandbox PGs come with every merchant)",
			in.Provider, strings.Join(router.Processors, ", "))}
	}
	if in.MID == "" {
		in.MID = "default"
	}
	if strings.ContainsAny(in.MID, ". /") {
		return core.Channel{}, &ChannelError{fmt.Sprintf("--mid %q may not contain '.', '/' or spaces", in.MID)}
	}
	live, err := router.Validate(in.Provider, in.Creds, in.Sandbox)
	if err != nil {
		return core.Channel{}, &ChannelError{err.Error()}
	}
	m, err := s.store.MerchantByID(ctx, merchantID)
	if err != nil {
		return core.Channel{}, err
	}
	if live && m.Demo {
		return core.Channel{}, ErrLiveOnDemo
	}
	raw, err := in.Creds.Marshal()
	if err != nil {
		return core.Channel{}, err
	}
	opener, ok := s.vault.(Opener)
	if !ok {
		return core.Channel{}, errors.New("add channel: no vault to seal credentials")
	}
	cipher, keyID, err := opener.SealString(string(raw), credentialsAAD(merchantID, in.Provider, in.MID))
	if err != nil {
		return core.Channel{}, fmt.Errorf("seal channel credentials: %w", err)
	}
	name := in.Name
	if name == "" {
		name = fmt.Sprintf("%s %s (%s)", in.Provider, in.MID, map[bool]string{true: "sandbox", false: "live"}[in.Sandbox])
	}
	c := core.Channel{
		MerchantID: merchantID, Provider: in.Provider, MID: in.MID, Sandbox: in.Sandbox, Type: "api_payment",
		Name: name, Key: "channel-key-" + in.Provider + "-" + in.MID, IsDefault: in.Default, APIURL: in.APIURL,
	}
	err = s.store.AddChannel(ctx, &c, &store.SealedCredentials{Cipher: cipher, KeyID: keyID}, s.clock.Now())
	if errors.Is(err, core.ErrConflict) {
		return core.Channel{}, &ChannelError{fmt.Sprintf("channel %s.%s exists already; remove it first", in.Provider, in.MID)}
	}
	if err != nil {
		return core.Channel{}, err
	}
	s.forgetChannels(merchantID)
	s.log.Info("channel added", "merchant_id", merchantID, "pg", c.Provider+"."+c.MID, "sandbox", c.Sandbox, "default", c.IsDefault)
	return c, nil
}

// Opener seals and opens channel credentials: the vault.
type Opener interface {
	Sealer
	OpenString(ciphertext []byte, keyID, aad string) (string, error)
}

func (s *Service) forgetChannels(merchantID int64) {
	s.mu.Lock()
	delete(s.channels, merchantID)
	s.mu.Unlock()
}

// FindChannel finds a merchant's channel by id or by pg value (provider or
// provider.mid, exactly).
func (s *Service) FindChannel(ctx context.Context, merchantID int64, ref string) (core.Channel, error) {
	chans, err := s.store.Channels(ctx, merchantID)
	if err != nil {
		return core.Channel{}, err
	}
	id, idErr := strconv.ParseInt(ref, 10, 64)
	provider, mid, hasMID := strings.Cut(ref, ".")
	var found []core.Channel
	for _, c := range chans {
		if idErr == nil && c.ID == id || c.Provider == provider && (!hasMID || c.MID == mid) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return core.Channel{}, &UnknownPGError{PG: ref}
	case 1:
		return found[0], nil
	}
	return core.Channel{}, &ChannelError{fmt.Sprintf("%q names %d channels; use provider.mid or the channel id", ref, len(found))}
}

// RemoveChannel removes a channel (not the default while others remain).
func (s *Service) RemoveChannel(ctx context.Context, merchantID int64, ref string) (core.Channel, error) {
	c, err := s.FindChannel(ctx, merchantID, ref)
	if err != nil {
		return core.Channel{}, err
	}
	if err := s.store.RemoveChannel(ctx, merchantID, c.ID); err != nil {
		if errors.Is(err, store.ErrDefaultChannel) {
			return core.Channel{}, &ChannelError{store.ErrDefaultChannel.Error()}
		}
		return core.Channel{}, err
	}
	s.forgetChannels(merchantID)
	return c, nil
}

// SetDefaultChannel makes a channel the one used when a request names no pg.
func (s *Service) SetDefaultChannel(ctx context.Context, merchantID int64, ref string) (core.Channel, error) {
	c, err := s.FindChannel(ctx, merchantID, ref)
	if err != nil {
		return core.Channel{}, err
	}
	if err := s.store.SetDefaultChannel(ctx, merchantID, c.ID, s.clock.Now()); err != nil {
		return core.Channel{}, err
	}
	s.forgetChannels(merchantID)
	c.IsDefault = true
	return c, nil
}

// MarkDemo flags the demo merchant.
func (s *Service) MarkDemo(ctx context.Context, merchantID int64) error {
	if err := s.store.MarkDemo(ctx, merchantID); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.merchants, merchantID)
	s.mu.Unlock()
	return nil
}

// ProcessorChannel opens a processor channel's credentials for the PG
// router. Only the router calls it; the credentials go nowhere else.
func (s *Service) ProcessorChannel(ctx context.Context, merchantID int64, provider, mid string) (*router.Channel, error) {
	c, sealed, version, err := s.store.ChannelCredentials(ctx, merchantID, provider, mid)
	if errors.Is(err, core.ErrNotFound) {
		return nil, router.ErrNotProcessor
	}
	if err != nil {
		return nil, err
	}
	opener, ok := s.vault.(Opener)
	if !ok {
		return nil, errors.New("processor channel: no vault to open credentials")
	}
	raw, err := opener.OpenString(sealed.Cipher, sealed.KeyID, credentialsAAD(merchantID, provider, mid))
	if err != nil {
		return nil, fmt.Errorf("open credentials of channel %s.%s: %w", provider, mid, err)
	}
	creds, err := router.UnmarshalCredentials([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("credentials of channel %s.%s: %w", provider, mid, err)
	}
	m, err := s.store.MerchantByID(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	return &router.Channel{ID: c.ID, APIURL: c.APIURL, Sandbox: c.Sandbox, Creds: creds, Version: version, Demo: m.Demo}, nil
}
