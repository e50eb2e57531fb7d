package store_test

import (
	"testing"

	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/store/storetest"
	"github.com/billkey/billkey/internal/testenv"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) *store.Store { return open(t, testenv.SQLite(t)) })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		if _, ok := testenv.Postgres(t, false); !ok {
			return
		}
		storetest.Run(t, func(t *testing.T) *store.Store {
			b, _ := testenv.Postgres(t, true)
			return open(t, b)
		})
	})
}
