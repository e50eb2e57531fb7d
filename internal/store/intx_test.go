package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/billkey/billkey/internal/testenv"
)

// A transaction that fails leaves nothing behind and takes nothing with it,
// however the SQLite writer groups it with others into one commit: alone
// in its group, or among many that succeed.
func TestInTxIsolatesFailedTransactions(t *testing.T) {
	t.Parallel()
	errRefused := errors.New("refused by the caller")
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := OpenTest(t, b.URL)
		// One write, then maybe a refusal: a refused transaction must not
		// leave its merchant behind.
		write := func(i int, refuse bool) error {
			return s.InTx(ctx, func(tx *Tx) error {
				_, err := tx.exec(ctx, `INSERT INTO merchants (code, name, imp_key, imp_secret_hash, created_at) VALUES (?, ?, ?, ?, 0)`,
					fmt.Sprintf("imp%08d", i), "m", fmt.Sprintf("key%d", i), "x")
				if err != nil {
					return err
				}
				if refuse {
					return errRefused
				}
				return nil
			})
		}
		refused := func(i int) bool { return i%3 == 0 }
		// One at a time: each transaction has a group of its own.
		for i := range 6 {
			if err := write(i, refused(i)); refused(i) != errors.Is(err, errRefused) || (!refused(i) && err != nil) {
				t.Fatalf("write %d (refused %v): %v", i, refused(i), err)
			}
		}
		// Many at once: they queue behind each other's commits and share them.
		var wg sync.WaitGroup
		errs := make([]error, 300)
		for i := 6; i < len(errs); i++ {
			wg.Go(func() { errs[i] = write(i, refused(i)) })
		}
		wg.Wait()
		for i := 6; i < len(errs); i++ {
			if refused(i) != errors.Is(errs[i], errRefused) || (!refused(i) && errs[i] != nil) {
				t.Fatalf("write %d (refused %v): %v", i, refused(i), errs[i])
			}
		}
		for i := range len(errs) {
			var n int
			if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM merchants WHERE code = ?`), fmt.Sprintf("imp%08d", i)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 0, false: 1}[refused(i)]; n != want {
				t.Fatalf("merchant %d (refused %v) stored %d times, want %d", i, refused(i), n, want)
			}
		}
	})
}

// OpenTest opens the store at url, migrated, closed when t ends. It is
// exported for the package's external tests too.
func OpenTest(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}
