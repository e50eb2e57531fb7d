package iamport

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// SandboxClock is the test clock of `billkey serve --test-clock`, moved by
// merchants over V1.
type SandboxClock interface {
	// Now is merchantID's sandbox time; ok is false when the server runs on
	// the wall clock.
	Now(merchantID int64) (now time.Time, ok bool)
	// Advance moves merchantID's clock by d (other merchants' stay) and
	// runs everything that fell due; executed counts merchantID's schedule
	// entries that ran.
	Advance(ctx context.Context, merchantID int64, d time.Duration) (now time.Time, executed int, err error)
}

// maxAdvance bounds one advance: far enough for any billing scenario (ten
// years of monthly renewals), near enough that times stay representable.
const maxAdvance = 10 * 365 * 24 * time.Hour

const msgNoTestClock = "테스트 시계 모드가 아닙니다. (billkey serve --test-clock 으로 실행한 서버에서만 사용할 수 있습니다)"

type clockView struct {
	Now      int64 `json:"now"`
	Executed int   `json:"executed"`
}

// sandboxRoutes serve the test clock: GET /sandbox/clock and
// POST /sandbox/clock/advance {"seconds": N} or {"to": unix}. Everything due
// up to the new time runs before the answer, as if the time had passed.
func (h *handler) sandboxRoutes(sc SandboxClock) func(chi.Router) {
	return func(r chi.Router) {
		r.Get("/sandbox/clock", func(w http.ResponseWriter, r *http.Request) {
			now, ok := sandboxNow(sc, merchantFrom(r.Context()).ID)
			if !ok {
				writeError(w, http.StatusForbidden, -1, msgNoTestClock)
				return
			}
			writeOK(w, http.StatusOK, clockView{Now: now.Unix()})
		})
		r.Post("/sandbox/clock/advance", func(w http.ResponseWriter, r *http.Request) { h.advanceClock(w, r, sc) })
	}
}

func sandboxNow(sc SandboxClock, merchantID int64) (time.Time, bool) {
	if sc == nil {
		return time.Time{}, false
	}
	return sc.Now(merchantID)
}

func (h *handler) advanceClock(w http.ResponseWriter, r *http.Request, sc SandboxClock) {
	merchantID := merchantFrom(r.Context()).ID
	now, ok := sandboxNow(sc, merchantID)
	if !ok {
		writeError(w, http.StatusForbidden, -1, msgNoTestClock)
		return
	}
	p, err := h.readParams(r)
	if err != nil {
		h.fail(w, r, err, opDefault, "")
		return
	}
	secs, hasSecs, err1 := p.Int64("seconds")
	to, hasTo, err2 := p.Int64("to")
	maxSecs := int64(maxAdvance / time.Second)
	switch {
	case err1 != nil || err2 != nil:
		writeError(w, http.StatusBadRequest, -1, "seconds, to 파라메터는 정수여야 합니다.")
		return
	case hasSecs == hasTo:
		writeError(w, http.StatusBadRequest, -1, "seconds 또는 to 파라메터 중 하나만 지정해주세요.")
		return
	case hasSecs && secs < 0:
		writeError(w, http.StatusBadRequest, -1, "seconds 파라메터는 0 이상이어야 합니다. (시계는 되돌릴 수 없습니다)")
		return
	case hasSecs && secs > maxSecs:
		writeError(w, http.StatusBadRequest, -1, fmt.Sprintf("seconds 파라메터는 %d(10년) 이하여야 합니다.", maxSecs))
		return
	case hasTo && to < now.Unix():
		writeError(w, http.StatusBadRequest, -1, "to 파라메터는 현재 시각 이후여야 합니다. (시계는 되돌릴 수 없습니다)")
		return
	case hasTo && to-now.Unix() > maxSecs:
		writeError(w, http.StatusBadRequest, -1, "to 파라메터는 현재 시각으로부터 10년 이내여야 합니다.")
		return
	}
	d := time.Duration(secs) * time.Second
	if hasTo {
		d = time.Unix(to, 0).Sub(now)
	}
	moved, n, err := sc.Advance(r.Context(), merchantID, d)
	if err != nil {
		h.log.ErrorContext(r.Context(), "sandbox clock: run due work", slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, -1, "예약된 작업을 실행하지 못했습니다. 잠시 후 다시 시도해주세요.")
		return
	}
	writeOK(w, http.StatusOK, clockView{Now: moved.Unix(), Executed: n})
}
