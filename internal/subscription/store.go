package subscription

import (
	"context"

	"github.com/billkey/billkey/internal/core"
	"github.com/billkey/billkey/internal/store"
)

// Store is what the engine needs of the database beyond the charge
// protocol: subscriptions, their deposits and the merchant's time zone.
type Store interface {
	InTx(ctx context.Context, fn func(*store.Tx) error) error
	MerchantByID(ctx context.Context, id int64) (*core.Merchant, error)
	CreateSubscription(ctx context.Context, sub *core.Subscription, also func(*store.Tx) error) error
	GetSubscription(ctx context.Context, merchantID, id int64) (*core.Subscription, error)
	SubscriptionByCheckout(ctx context.Context, token string) (*core.Subscription, error)
	GetDeposit(ctx context.Context, merchantID, id int64) (*core.Deposit, error)
}

var _ Store = (*store.Store)(nil)
