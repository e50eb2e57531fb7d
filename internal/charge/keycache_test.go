package charge_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/billkey/billkey/internal/charge"
	"github.com/billkey/billkey/internal/charge/chargetest"
	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/testenv"
)

// countingStore counts the billing-key reads the charge service makes.
type countingStore struct {
	charge.Store
	keyReads *atomic.Int64
}

func (c countingStore) GetBillingKey(ctx context.Context, merchantID int64, customerUID string) (*core.BillingKey, error) {
	c.keyReads.Add(1)
	return c.Store.GetBillingKey(ctx, merchantID, customerUID)
}

// A repeated charge on a key reads the key once; a copy made stale on
// another node (re-issued with another card, then deleted) is never
// charged: the attempt's insert checks the key's version.
func TestAgainKeepsKeysWithoutChargingStaleOnes(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		var reads atomic.Int64
		_, bd := setup(t, b, func(o *chargetest.Options) {
			o.WrapStore = func(s charge.Store) charge.Store { return countingStore{Store: s, keyReads: &reads} }
		})
		issue(t, bd, "c1", cardOK)
		for i, order := range []string{"o1", "o2", "o3"} {
			p, err := again(bd, "c1", order, 1000)
			if err != nil || p.Status != core.StatusPaid {
				t.Fatalf("charge %d: %+v %v", i, p, err)
			}
		}
		if n := reads.Load(); n != 1 {
			t.Fatalf("3 charges read the key %d times, want 1", n)
		}

		// Node B shares the database, not node A's memory.
		nodeB := charge.New(charge.Config{Store: bd.Store, PG: bd.PG, Vault: bd.Vault, Clock: bd.Clock, Logger: bd.Log, Channels: bd.Merchants})
		ctx := context.Background()
		if _, err := nodeB.IssueBillingKey(ctx, bd.Merchant.ID, charge.IssueKeyInput{CustomerUID: "c1", Card: card(cardLaterDecl)}); err != nil {
			t.Fatal(err)
		}
		p, err := again(bd, "c1", "o4", 1000)
		if err != nil || p.Status != core.StatusFailed {
			t.Fatalf("after a re-issue elsewhere the new card (which declines) must be charged: %+v %v", p, err)
		}
		if n := reads.Load(); n != 2 {
			t.Fatalf("key reads after the re-issue: %d, want 2 (one re-read)", n)
		}
		approved := bd.Sim.ChargeCount(true)
		if _, err := nodeB.DeleteBillingKey(ctx, bd.Merchant.ID, "c1", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := again(bd, "c1", "o5", 1000); !errors.Is(err, charge.ErrCustomerNotFound) {
			t.Fatalf("charge of a key deleted elsewhere: %v, want ErrCustomerNotFound", err)
		}
		if n := bd.Sim.ChargeCount(true); n != approved {
			t.Fatalf("the PG approved %d charges after the deletion", n-approved)
		}
		if _, err := bd.Store.FindPayment(ctx, bd.Merchant.ID, "o5", "", ""); !errors.Is(err, core.ErrNotFound) {
			t.Fatal("an attempt was recorded on a deleted key")
		}
	})
}
