package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/billkey/billkey/internal/testenv"
)

// Commits never checkpoint the SQLite log (that stalled every write queued
// behind the one that crossed 1,000 pages); the background checkpoint and
// the writer's small one after it copy the log back and let it start over.
func TestSQLiteCheckpointsBesideTheWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := OpenTest(t, testenv.SQLite(t).URL)
	// The test plays the background checkpointer's part itself.
	s.stopCheckpointer()
	var auto int
	if err := s.wconn.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("writer's wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	write := func(from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			err := s.InTx(ctx, func(tx *Tx) error {
				_, err := tx.exec(ctx, `INSERT INTO merchants (code, name, imp_key, imp_secret_hash, created_at) VALUES (?, ?, ?, ?, 0)`,
					fmt.Sprintf("imp%08d", i), "m", fmt.Sprintf("key%d", i), "x")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// 1,200 commits write well over 1,000 log pages: with automatic
	// checkpoints on, the log would have been copied back on the way.
	write(0, 1200)
	logPages, copied, err := s.checkpointWAL(ctx, "PASSIVE")
	if err != nil {
		t.Fatal(err)
	}
	if logPages < 1000 {
		t.Fatalf("log held %d pages after 1,200 commits: something checkpointed inside them", logPages)
	}
	if copied != logPages {
		t.Fatalf("passive checkpoint copied %d of %d pages with no reader in the way", copied, logPages)
	}
	// The writer's own checkpoint after the bulk one lets its next
	// transaction start the log over from the head.
	s.bulkCheckpointed.Store(true)
	write(1200, 2)
	if s.bulkCheckpointed.Load() {
		t.Fatal("the writer did not take its turn to checkpoint")
	}
	write(1202, 1)
	after, _, err := s.checkpointWAL(ctx, "PASSIVE")
	if err != nil {
		t.Fatal(err)
	}
	if after >= 100 {
		t.Fatalf("log holds %d pages after the writer's checkpoint, want it started over (was %d)", after, logPages)
	}
}
