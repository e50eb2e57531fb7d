package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/store"
)

// finisher records delivery outcomes in batches: the first outcome to
// arrive is written at once, and those arriving while that write is in
// flight are written together right after it. Idle, an outcome costs the
// same one write as before; busy, a claim pass's outcomes cost one write
// instead of one per event, each a commit the charges wait behind.
type finisher struct {
	write func(context.Context, []store.DeliveryResult) ([]bool, error)

	mu       sync.Mutex
	queue    []*pendingFinish
	flushing bool
}

type pendingFinish struct {
	r       store.DeliveryResult
	applied bool
	err     error
	done    chan struct{}
}

// finishWriteTimeout bounds one batch write. Outcomes are stored even while
// the worker is stopping, so the write never takes the caller's cancel.
const finishWriteTimeout = 5 * time.Second

// finish queues r and waits until the batch holding it is written,
// reporting whether r still held its claim.
func (f *finisher) finish(r store.DeliveryResult) (bool, error) {
	p := &pendingFinish{r: r, done: make(chan struct{})}
	f.mu.Lock()
	f.queue = append(f.queue, p)
	if !f.flushing {
		f.flushing = true
		go f.flush()
	}
	f.mu.Unlock()
	<-p.done
	return p.applied, p.err
}

// flush writes batches until the queue is empty, then ends.
func (f *finisher) flush() {
	f.mu.Lock()
	for len(f.queue) > 0 {
		batch := f.queue
		f.queue = nil
		f.mu.Unlock()
		rs := make([]store.DeliveryResult, len(batch))
		for i, p := range batch {
			rs[i] = p.r
		}
		ctx, cancel := context.WithTimeout(context.Background(), finishWriteTimeout)
		applied, err := f.write(ctx, rs)
		cancel()
		for i, p := range batch {
			p.err = err
			if err == nil {
				p.applied = applied[i]
			}
			close(p.done)
		}
		f.mu.Lock()
	}
	f.flushing = false
	f.mu.Unlock()
}
