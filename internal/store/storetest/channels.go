package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

func channels(t *testing.T, s *store.Store) {
	m := Merchant(t, s, "imp00000001")
	live := &core.Channel{MerchantID: m.ID, Provider: "tosspayments", MID: "live1", Type: "api_payment", Name: "toss",
		Key: "k3", IsDefault: true, APIURL: "https://api.example.com"}
	creds := &store.SealedCredentials{Cipher: []byte("sealed"), KeyID: "v1"}
	must(t, s.AddChannel(ctx, live, creds, T0))
	if live.ID == 0 || !live.HasCredentials {
		t.Fatalf("added channel %+v", live)
	}
	dup := *live
	if err := s.AddChannel(ctx, &dup, nil, T0); !errors.Is(err, core.ErrConflict) {
		t.Errorf("same provider.mid twice: %v", err)
	}
	c, sc, version, err := s.ChannelCredentials(ctx, m.ID, "tosspayments", "live1")
	if err != nil || c.ID != live.ID || !c.IsDefault || !bytes.Equal(sc.Cipher, creds.Cipher) || sc.KeyID != "v1" || version == 0 {
		t.Fatalf("credentials %+v %+v %d %v", c, sc, version, err)
	}
	// A sandbox channel has no credentials to find.
	if _, _, _, err := s.ChannelCredentials(ctx, m.ID, "nice", "m1"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("sandbox channel credentials: %v", err)
	}
	chans, err := s.Channels(ctx, m.ID)
	must(t, err)
	defaults := 0
	var nice core.Channel
	for _, ch := range chans {
		if ch.IsDefault {
			defaults++
		}
		if ch.Provider == "nice" {
			nice = ch
		}
	}
	if len(chans) != 3 || defaults != 1 {
		t.Fatalf("channels after adding a default %+v", chans)
	}
	if err := s.RemoveChannel(ctx, m.ID, live.ID); !errors.Is(err, store.ErrDefaultChannel) {
		t.Errorf("remove the default: %v", err)
	}
	// Re-sealing under a new vault key: only credentials under another key are listed.
	stale, err := s.ChannelCredentialsNotUnderKey(ctx, "v2", 10)
	if err != nil || len(stale) != 1 || stale[0].ID != live.ID || stale[0].KeyID != "v1" {
		t.Fatalf("credentials under another key %+v %v", stale, err)
	}
	if ok, err := s.ReplaceChannelCredentials(ctx, stale[0], []byte("resealed"), "v2"); err != nil || !ok {
		t.Fatalf("reseal %v %v", ok, err)
	}
	if ok, err := s.ReplaceChannelCredentials(ctx, stale[0], []byte("again"), "v3"); err != nil || ok {
		t.Errorf("resealed credentials already moved on: %v %v", ok, err)
	}
	if left, err := s.ChannelCredentialsNotUnderKey(ctx, "v2", 10); err != nil || len(left) != 0 {
		t.Errorf("left to reseal %+v %v", left, err)
	}
	must(t, s.SetDefaultChannel(ctx, m.ID, nice.ID, T0.Add(time.Second)))
	if err := s.SetDefaultChannel(ctx, m.ID, 999999, T0); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("default of an unknown channel: %v", err)
	}
	if _, _, v2, err := s.ChannelCredentials(ctx, m.ID, "tosspayments", "live1"); err != nil || v2 == version {
		t.Errorf("version after a change %d (was %d) %v", v2, version, err)
	}
	must(t, s.RemoveChannel(ctx, m.ID, live.ID))
	if err := s.RemoveChannel(ctx, m.ID, live.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	other := Merchant(t, s, "imp00000002")
	if err := s.RemoveChannel(ctx, other.ID, nice.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("remove across merchants: %v", err)
	}

	must(t, s.MarkDemo(ctx, m.ID))
	if got, err := s.MerchantByID(ctx, m.ID); err != nil || !got.Demo {
		t.Errorf("demo mark %+v %v", got, err)
	}
}
