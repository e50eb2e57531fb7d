package webhook

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/billkey/billkey/internal/store"
)

// Outcomes arriving while a write is in flight go out together in the next
// write, each caller hearing its own result; idle, an outcome is written at
// once on its own.
func TestFinisherBatchesOutcomesArrivingDuringAWrite(t *testing.T) {
	t.Parallel()
	firstWriting := make(chan struct{})
	releaseFirst := make(chan struct{})
	var mu sync.Mutex
	var batches [][]string
	f := &finisher{write: func(_ context.Context, rs []store.DeliveryResult) ([]bool, error) {
		mu.Lock()
		n := len(batches)
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.EventID)
		}
		batches = append(batches, ids)
		mu.Unlock()
		if n == 0 {
			close(firstWriting)
			<-releaseFirst
		}
		applied := make([]bool, len(rs))
		for i, r := range rs {
			applied[i] = r.EventID != "evt_lost" // a claim another worker took over
		}
		return applied, nil
	}}
	type answer struct {
		applied bool
		err     error
	}
	answers := make(map[string]chan answer)
	finish := func(id string) {
		answers[id] = make(chan answer, 1)
		go func() {
			ok, err := f.finish(store.DeliveryResult{EventID: id})
			answers[id] <- answer{ok, err}
		}()
	}
	finish("evt_first")
	<-firstWriting
	for _, id := range []string{"evt_a", "evt_lost", "evt_c"} {
		finish(id)
	}
	// Wait until the three are queued behind the write in flight.
	for {
		f.mu.Lock()
		n := len(f.queue)
		f.mu.Unlock()
		if n == 3 {
			break
		}
	}
	close(releaseFirst)
	for id, ch := range answers {
		a := <-ch
		if a.err != nil || a.applied != (id != "evt_lost") {
			t.Errorf("%s: applied %v, err %v", id, a.applied, a.err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != 3 {
		t.Fatalf("writes %v, want [evt_first] then the three queued behind it in one", batches)
	}
}

// A failed write fails every outcome in it (their claims bring the events
// back), and the finisher keeps working.
func TestFinisherFailedWrite(t *testing.T) {
	t.Parallel()
	fail := true
	f := &finisher{write: func(_ context.Context, rs []store.DeliveryResult) ([]bool, error) {
		if fail {
			return nil, errors.New("database down")
		}
		return make([]bool, len(rs)), nil
	}}
	if _, err := f.finish(store.DeliveryResult{EventID: "evt_1"}); err == nil {
		t.Fatal("a failed write reported success")
	}
	fail = false
	if ok, err := f.finish(store.DeliveryResult{EventID: "evt_2"}); err != nil || ok {
		t.Fatalf("after a failed write: %v %v", ok, err)
	}
}
