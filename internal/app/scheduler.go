package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/billkey/billkey/internal/api/iamport"
	"github.com/billkey/billkey/internal/api/iamport/form"
	"github.com/billkey/billkey/internal/clock"
	"github.com/billkey/billkey/internal/notice"
	"github.com/billkey/billkey/internal/scheduler"
)

// setupScheduler wires scheduled payments (see internal/scheduler): the
// execution loop as a worker, the hooks that keep schedules consistent with
// payments and key deletions, and the sandbox clock endpoints.
func (a *App) setupScheduler(ctx context.Context) error {
	cfg := a.Config.Scheduler
	cfg.Logger = a.Log.With("component", "scheduler")
	cfg.Registerer = a.registry
	cfg.Texts = notice.ScheduleTexts
	s := scheduler.New(a.Service, a.Store, cfg)
	s.Attach()
	a.scheduler = s
	a.workers = append(a.workers, s.Run)
	h := &sandboxClock{app: a, sched: s}
	a.sandbox = h
	a.mounts = append(a.mounts,
		mount{pattern: "GET /sandbox/clock", handler: http.HandlerFunc(h.get)},
		mount{pattern: "POST /sandbox/clock/advance", handler: http.HandlerFunc(h.advance)},
	)
	return nil
}

// Scheduler is the scheduled-payment service.
func (a *App) Scheduler() *scheduler.Scheduler { return a.scheduler }

// scheduleAPI is what the V1 dialect gets: a nil interface, not a typed
// nil, when there is no scheduler.
func (a *App) scheduleAPI() iamport.Schedules {
	if s := a.Scheduler(); s != nil {
		return s
	}
	return nil
}

// sandboxClock serves the test clock (billkey serve --test-clock): a
// merchant advances time and everything due up to the new time runs before
// the answer, as if the time had passed.
type sandboxClock struct {
	app   *App
	sched *scheduler.Scheduler
	mu    sync.Mutex // one advance at a time keeps "run everything due" meaningful
}

func writeEnvelope(w http.ResponseWriter, status, code int, message string, response any) {
	env := map[string]any{"code": code, "message": nil, "response": response}
	if message != "" {
		env["message"] = message
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(env)
}

// authorize applies the V1 token rules and the test-clock mode check.
func (h *sandboxClock) authorize(w http.ResponseWriter, r *http.Request) (*clock.Test, int64, bool) {
	tok := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	if tok == "" {
		tok = strings.TrimSpace(r.Header.Get("X-ImpTokenHeader"))
	}
	m, err := h.app.Merchants.Authenticate(r.Context(), tok)
	if err != nil {
		writeEnvelope(w, http.StatusUnauthorized, -1, "Unauthorized", nil)
		return nil, 0, false
	}
	tc, ok := h.app.Config.Clock.(*clock.Test)
	if !ok {
		writeEnvelope(w, http.StatusForbidden, -1, "테스트 시계 모드가 아닙니다. (billkey serve --test-clock 으로 실행한 서버에서만 사용할 수 있습니다)", nil)
		return nil, 0, false
	}
	return tc, m.ID, true
}

// maxAdvance bounds one advance: far enough for any billing scenario (ten
// years of monthly renewals), near enough that times stay representable.
const maxAdvance = 10 * 365 * 24 * time.Hour

type clockView struct {
	Now      int64 `json:"now"`
	Executed int   `json:"executed"`
}

func (h *sandboxClock) get(w http.ResponseWriter, r *http.Request) {
	tc, _, ok := h.authorize(w, r)
	if !ok {
		return
	}
	writeEnvelope(w, http.StatusOK, 0, "", clockView{Now: tc.Now().Unix()})
}

// advance takes {"seconds": N} or {"to": unix} (JSON or form).
func (h *sandboxClock) advance(w http.ResponseWriter, r *http.Request) {
	tc, merchantID, ok := h.authorize(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeEnvelope(w, http.StatusBadRequest, -1, "요청 본문을 읽지 못했습니다.", nil)
		return
	}
	tree := form.ParseForm(r.URL.RawQuery)
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		m, err := form.ParseJSON(body)
		if err != nil {
			writeEnvelope(w, http.StatusBadRequest, -1, "요청 본문이 올바른 JSON 객체가 아닙니다.", nil)
			return
		}
		tree = form.Merge(tree, m)
	} else {
		tree = form.Merge(tree, form.ParseForm(string(body)))
	}
	p := form.New(tree)
	secs, hasSecs, err1 := p.Int64("seconds")
	to, hasTo, err2 := p.Int64("to")
	switch {
	case err1 != nil || err2 != nil:
		writeEnvelope(w, http.StatusBadRequest, -1, "seconds, to 파라메터는 정수여야 합니다.", nil)
		return
	case hasSecs == hasTo:
		writeEnvelope(w, http.StatusBadRequest, -1, "seconds 또는 to 파라메터 중 하나만 지정해주세요.", nil)
		return
	case hasSecs && secs < 0:
		writeEnvelope(w, http.StatusBadRequest, -1, "seconds 파라메터는 0 이상이어야 합니다. (시계는 되돌릴 수 없습니다)", nil)
		return
	case hasSecs && secs > int64(maxAdvance/time.Second):
		writeEnvelope(w, http.StatusBadRequest, -1, fmt.Sprintf("seconds 파라메터는 %d(10년) 이하여야 합니다.", int64(maxAdvance/time.Second)), nil)
		return
	case hasTo && to < tc.Now().Unix():
		writeEnvelope(w, http.StatusBadRequest, -1, "to 파라메터는 현재 시각 이후여야 합니다. (시계는 되돌릴 수 없습니다)", nil)
		return
	case hasTo && to-tc.Now().Unix() > int64(maxAdvance/time.Second):
		writeEnvelope(w, http.StatusBadRequest, -1, "to 파라메터는 현재 시각으로부터 10년 이내여야 합니다.", nil)
		return
	}
	d := time.Duration(secs) * time.Second
	if hasTo {
		d = time.Unix(to, 0).Sub(tc.Now())
	}
	now, n, err := h.move(r.Context(), tc, merchantID, d)
	if err != nil {
		h.app.Log.Error("sandbox clock: run due work", "err", err)
		writeEnvelope(w, http.StatusInternalServerError, -1, "예약된 작업을 실행하지 못했습니다. 잠시 후 다시 시도해주세요.", nil)
		return
	}
	writeEnvelope(w, http.StatusOK, 0, "", clockView{Now: now.Unix(), Executed: n})
}

// move advances the clock by d, records it so that a restart never starts
// behind it, runs everything that fell due, and counts the schedule entries
// (V1 schedules and v3 renewals) of merchantID — every merchant's for 0 —
// that this advance executed: entries executed meanwhile, not claims.
func (h *sandboxClock) move(ctx context.Context, tc *clock.Test, merchantID int64, d time.Duration) (time.Time, int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	before, err := h.app.Store.CountExecutedSchedules(ctx, merchantID)
	if err != nil {
		return time.Time{}, 0, err
	}
	now := tc.Advance(d)
	if owner := h.clockOwner(ctx, merchantID); owner != 0 {
		if err := h.app.Store.SaveSandboxClock(ctx, owner, now); err != nil {
			return now, 0, err
		}
	}
	if _, err := h.runDue(ctx); err != nil {
		return now, 0, err
	}
	after, err := h.app.Store.CountExecutedSchedules(ctx, merchantID)
	return now, after - before, err
}

// clockOwner is the merchant a clock position is recorded under: the one
// that moved it, or (an operator's advance) the first merchant.
func (h *sandboxClock) clockOwner(ctx context.Context, merchantID int64) int64 {
	if merchantID != 0 {
		return merchantID
	}
	ms, err := h.app.Store.ListMerchants(ctx)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[0].ID
}

// runDue runs due schedules and due reconciler look-ups until neither finds
// work (a look-up can put a schedule back to waiting).
func (h *sandboxClock) runDue(ctx context.Context) (int, error) {
	total := 0
	for range 5 {
		n, err := h.sched.RunDue(ctx)
		total += n
		if err != nil {
			return total, err
		}
		resolved, err := h.app.Service.Reconcile(ctx)
		if err != nil {
			return total, err
		}
		if resolved == 0 {
			break
		}
	}
	return total, nil
}
