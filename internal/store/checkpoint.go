package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// SQLite in WAL mode copies the log back into the database file at a
// checkpoint. Left automatic, that happens inside whichever commit crosses
// 1,000 log pages — on the one writer, so every write queued behind it
// waits for thousands of page copies and an fsync of the database file:
// at 500 charges/s that was a stall every few seconds in the latency tail.
// Automatic checkpoints are therefore off (wal_autocheckpoint=0), and the
// work is split: every 500 ms a PASSIVE checkpoint from a pool connection
// copies the bulk of the log and syncs the database file, beside the
// writer, which goes on committing meanwhile. Once the log is large, the
// writer runs one PASSIVE checkpoint itself between two groups: it finds
// only the pages committed during the bulk copy, and, the log being wholly
// copied when the writer next begins, SQLite can start the log over from
// its head.
// A checkpointer beside the writer alone never gets that moment at a
// thousand commits a second, and the log grew without bound.

// checkpointEvery is how often the background checkpointer runs. Each run
// writes back what the log gathered meanwhile and syncs the database file,
// a burst of I/O that the writer's own syncs queue behind: at 500
// charges/s the p99 of the gateway's overhead was 5.2–6.0 ms with 1 s,
// 4.9–5.3 ms with 500 ms, 5.6–6.2 ms with 100 ms and 22–34 ms with 4 s.
const checkpointEvery = 500 * time.Millisecond

// restartLogAfter is the log size, in pages (16 MB), past which the writer
// takes its own short checkpoint so that the log can start over. Below it
// the writer is left alone: its checkpoint holds up the writes queued
// behind it (4 paired runs at 500 charges/s: p99 overhead 5.7–6.3 ms
// against 6.1–8.8 ms when it ran after every background checkpoint).
const restartLogAfter = 4096

func (s *Store) checkpointer() {
	defer close(s.checkpointerDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopCheckpoints:
			return
		case <-t.C:
		}
		logPages, _, err := s.checkpointWAL(context.Background(), "PASSIVE")
		if logPages >= restartLogAfter {
			s.bulkCheckpointed.Store(true)
		}
		if err != nil {
			// The next run retries; meanwhile the log only grows.
			slog.Warn("sqlite checkpoint", "err", err)
		}
	}
}

// stopCheckpointer ends the background checkpoints and waits for the one
// in progress.
func (s *Store) stopCheckpointer() {
	s.stopOnce.Do(func() { close(s.stopCheckpoints) })
	<-s.checkpointerDone
}

// checkpointWAL runs one checkpoint of mode (PASSIVE, TRUNCATE) and
// reports the log's size and how much of it is now in the database file,
// in pages.
func (s *Store) checkpointWAL(ctx context.Context, mode string) (logPages, copied int, err error) {
	var busy int
	if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &logPages, &copied); err != nil {
		return 0, 0, fmt.Errorf("wal checkpoint %s: %w", mode, err)
	}
	return logPages, copied, nil
}

// finishCheckpoint is the writer's small checkpoint after a bulk one, on
// the writer's own connection between two groups.
func (s *Store) finishCheckpoint() {
	var busy, logPages, copied int
	if err := s.wconn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &copied); err != nil {
		slog.Warn("sqlite checkpoint", "err", err)
	}
}
