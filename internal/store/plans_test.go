package store

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/testenv"
)

// The statements that address an event by id find it by its key even when
// the statistics were taken with no event pending and a backlog has built
// up since: the partial index of pending events then looks empty to the
// planner, and a plan through it scanned the merchant's whole backlog for
// every finished delivery.
func TestEventByIDStatementsUseTheKeyUnderABacklog(t *testing.T) {
	t.Parallel()
	s, exec, ok := planStore(t)
	if !ok {
		return
	}
	exec(`INSERT INTO events (id, merchant_id, type, payload, status, created_at)
		SELECT 'old' || g, 1, 'payment', '{}', 'delivered', g FROM generate_series(1, 5000) g`)
	exec(`ANALYZE events`)
	exec(`INSERT INTO events (id, merchant_id, type, payload, status, next_attempt_at, created_at)
		SELECT 'new' || g, 1, 'payment', '{}', 'pending', g, g FROM generate_series(1, 5000) g`)
	for name, st := range map[string]struct {
		q    string
		args []any
	}{
		"finish delivery": {finishEventSQL, placeholderArgs(finishEventSQL)},
		"claim events":    {s.claimEventsSQL(2), placeholderArgs(s.claimEventsSQL(2))},
		"finish deliveries": {finishDeliveriesSQL, []any{
			[]string{"new1"}, []int64{1}, []string{"delivered"}, []int64{0}, []int64{1}, []int64{0}, []int64{0},
			[]int64{1}, []string{"http://x"}, []int64{200}, []int64{1}, []string{""}, []int64{1},
		}},
	} {
		q := st.q
		if strings.Contains(q, "?") {
			q = numberPlaceholders(q)
		}
		var plan []byte
		if err := s.db.QueryRowContext(context.Background(), `EXPLAIN (FORMAT JSON) `+q, st.args...).Scan(&plan); err != nil {
			t.Fatalf("%s: explain: %v", name, err)
		}
		var indexes []string
		collectIndexes(t, plan, &indexes)
		if len(indexes) == 0 || strings.Trim(strings.ReplaceAll(strings.Join(indexes, ","), "events_pkey", ""), ",") != "" {
			t.Errorf("%s reads %v, want only events_pkey:\n%s", name, indexes, plan)
		}
		if strings.Contains(string(plan), `"Node Type": "Seq Scan"`) && strings.Contains(string(plan), `"Relation Name": "events"`) {
			t.Errorf("%s scans events:\n%s", name, plan)
		}
	}
}

// placeholderArgs gives each ? a value of a type the statement accepts.
func placeholderArgs(q string) []any {
	args := make([]any, strings.Count(q, "?"))
	for i := range args {
		args[i] = "1"
	}
	return args
}

func collectIndexes(t *testing.T, plan []byte, out *[]string) {
	t.Helper()
	walkPlan(t, plan, func(node map[string]any) {
		if name, ok := node["Index Name"].(string); ok {
			*out = append(*out, name)
		}
	})
}

// walkPlan calls visit on every node of an EXPLAIN (FORMAT JSON) plan.
func walkPlan(t *testing.T, plan []byte, visit func(map[string]any)) {
	t.Helper()
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			visit(v)
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	var doc any
	if err := json.Unmarshal(plan, &doc); err != nil {
		t.Fatal(err)
	}
	walk(doc)
}

// The statements that address a payment by id find it by its key, and the
// ones that look for unresolved attempts read the partial index of them,
// whatever the statistics say. Two histories: statistics taken with every
// payment settled (the partial index of unresolved attempts then looks empty
// and was read instead of the key), and statistics taken while the table was
// empty, as on a new install (the index of held orders was read instead,
// through the merchant's id alone: every held order of the merchant).
func TestPaymentStatementsUseTheirIndexes(t *testing.T) {
	t.Parallel()
	for _, analyzedWith := range []string{"settled payments", "an empty table"} {
		t.Run(analyzedWith, func(t *testing.T) {
			t.Parallel()
			s, exec, ok := planStore(t)
			if !ok {
				return
			}
			insert := `INSERT INTO payments (imp_uid, merchant_id, merchant_uid, status, pay_method, channel, pg_provider, pg_id, sandbox,
					amount, currency, started_at, next_check_at, updated_at)
				SELECT $1 || g, 1, $1 || g, $2, 'card', 'api', 'sandbox', 'sandbox', 1, 1000, 'KRW', g, g, g FROM generate_series(1, 20000) g`
			if analyzedWith == "an empty table" {
				exec(`ANALYZE payments`)
				exec(insert, "old", "paid")
			} else {
				exec(insert, "old", "paid")
				exec(`ANALYZE payments`)
			}
			exec(insert, "new", "pending")
			claim, _ := s.claimSQL(claim{table: "payments", key: "imp_uid", still: unresolved, due: `next_check_at <= ?`,
				dueArgs: []any{1}, order: "next_check_at", limit: 1, set: `next_check_at = ?`, setArgs: []any{1}, returning: paymentCols})
			for _, st := range []struct {
				name, q string
				want    string
			}{
				{"settle", settleSQL(false, 1), "payments_pkey"},
				{"settle a schedule's attempt", settleSQL(true, 1), "payments_pkey"},
				{"settle in a transaction", settleAttemptSQL, "payments_pkey"},
				{"mark unknown", markUnknownSQL, "payments_pkey"},
				{"reschedule check", rescheduleCheckSQL, "payments_pkey"},
				{"note not seen", noteNotSeenSQL, "payments_pkey"},
				{"expedite check", expediteCheckSQL, "payments_pkey"},
				{"discard attempt", discardAttemptSQL, "payments_pkey"},
				{"claim unresolved", claim, "payments_pkey,payments_unresolved"},
				{"backlog", unresolvedBacklogSQL, "payments_unresolved"},
			} {
				if got := planIndexes(t, s, st.q, "payments"); got != st.want {
					t.Errorf("%s reads payments through %s, want %s", st.name, got, st.want)
				}
			}
		})
	}
}

// collectRelationIndexes lists how a plan reads relation: the names of its
// indexes read, and "Seq Scan".
func collectRelationIndexes(t *testing.T, plan []byte, relation string, out *[]string) {
	t.Helper()
	walkPlan(t, plan, func(node map[string]any) {
		// A bitmap index scan names its index but not the table: the
		// table's indexes are all named after it.
		if name, ok := node["Index Name"].(string); ok && strings.HasPrefix(name, relation+"_") {
			*out = append(*out, name)
		} else if node["Relation Name"] == relation && node["Node Type"] == "Seq Scan" {
			*out = append(*out, "Seq Scan")
		}
	})
}

// The statements that address one schedule by id or merchant_uid find it by
// its key, and the claims read the partial index of waiting entries, under
// statistics taken when no entry was waiting: after a billing run (every
// entry executed), or on an empty table. With "status = 'scheduled'" in
// their guard the planner read schedules_due instead of the key, every due
// entry of the run once per attempt.
func TestScheduleStatementsUseTheirIndexes(t *testing.T) {
	t.Parallel()
	for _, analyzedWith := range []string{"executed entries", "an empty table"} {
		t.Run(analyzedWith, func(t *testing.T) {
			t.Parallel()
			s, exec, ok := planStore(t)
			if !ok {
				return
			}
			insert := `INSERT INTO schedules (merchant_id, merchant_uid, customer_uid, status, schedule_at, amount, currency, created_at, updated_at)
				SELECT 1, $1 || g, 'c' || (g % 1000), $2, 1000, 1000, 'KRW', 0, 0 FROM generate_series(1, 20000) g`
			if analyzedWith == "an empty table" {
				exec(`ANALYZE schedules`)
				exec(insert, "old", "executed")
			} else {
				exec(insert, "old", "executed")
				exec(`ANALYZE schedules`)
			}
			exec(insert, "new", "scheduled")
			claimDue, _ := s.claimSQL(claim{table: "schedules", key: "id", still: `status = 'scheduled'`,
				due: `schedule_at <= ? AND lease_until <= ?`, dueArgs: []any{1, 1}, order: "schedule_at", limit: 1,
				set: `lease_until = ?, claimed_by = ?`, setArgs: []any{1, "t"}, returning: scheduleCols("")})
			// Parameters as a billing run gives them: entry 20005 (waiting),
			// merchant 1, now = 2000 (every entry due), claim token "t".
			now := int64(2000)
			for _, st := range []struct {
				name, q, want string
				args          []any
			}{
				{"start attempt", startScheduleAttemptSQL, "schedules_pkey", []any{"imps_1", "sandbox", "sandbox", now, 20005, 1, "t", now}},
				{"adopt a running attempt", adoptRunningSQL, "schedules_pkey", []any{"imps_1", now, 20005, "t"}},
				{"adopt a settled attempt", adoptSettledSQL, "schedules_pkey", []any{"imps_1", "paid", "", now, now, 20005, "t"}},
				{"fail a claimed entry", failClaimedScheduleSQL, "schedules_pkey", []any{"gone", now, now, 20005, "t"}},
				{"defer a claim", deferClaimSQL, "schedules_pkey", []any{now, 20005, "t"}},
				{"claim by merchant_uid", claimScheduleSQL + "id", "schedules_merchant_id_merchant_uid_key", []any{now, "t", 1, "new5", now, now}},
				{"claim due entries", claimDue, "schedules_due,schedules_pkey", nil},
			} {
				if got := planIndexes(t, s, st.q, "schedules", st.args...); got != st.want {
					t.Errorf("%s reads schedules through %s, want %s", st.name, got, st.want)
				}
			}
		})
	}
}

// planIndexes is how the plan of q reads relation: its indexes (sorted) and
// "Seq Scan", comma-separated. Without args every parameter is "1".
func planIndexes(t *testing.T, s *Store, q, relation string, args ...any) string {
	t.Helper()
	if strings.Contains(q, "?") {
		q = numberPlaceholders(q)
	}
	if len(args) == 0 {
		args = make([]any, len(regexp.MustCompile(`\$[0-9]+`).FindAllString(q, -1)))
		for i := range args {
			args[i] = "1"
		}
	}
	var plan []byte
	if err := s.db.QueryRowContext(context.Background(), `EXPLAIN (FORMAT JSON) `+q, args...).Scan(&plan); err != nil {
		t.Fatalf("explain: %v\n%s", err, q)
	}
	var got []string
	collectRelationIndexes(t, plan, relation, &got)
	sort.Strings(got) // the plan's children come out of a map
	return strings.Join(got, ",")
}

// planStore is a migrated Postgres store with merchant 1, for reading plans,
// and a way to run setup statements on it.
func planStore(t *testing.T) (*Store, func(q string, args ...any), bool) {
	t.Helper()
	b, ok := testenv.Postgres(t, false)
	if !ok {
		return nil, nil, false
	}
	ctx := context.Background()
	s := OpenTest(t, b.URL)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO merchants (id, code, name, imp_key, imp_secret_hash, created_at) VALUES (1, 'imp00000001', 'm', 'k', 'x', 0)`)
	return s, exec, true
}

// The statements that address one payment's refunds or one refund find them
// by their keys under statistics taken when no refund was in flight, or on
// an empty table: with "status = 'pending'" in their guard the planner read
// cancellations_pending, every refund in flight, instead.
func TestRefundStatementsUseTheirIndexes(t *testing.T) {
	t.Parallel()
	for _, analyzedWith := range []string{"finished refunds", "an empty table"} {
		t.Run(analyzedWith, func(t *testing.T) {
			t.Parallel()
			s, exec, ok := planStore(t)
			if !ok {
				return
			}
			exec(`INSERT INTO payments (imp_uid, merchant_id, merchant_uid, status, pay_method, channel, pg_provider, pg_id, sandbox,
					amount, currency, started_at, updated_at)
				SELECT 'p' || g, 1, 'p' || g, 'paid', 'card', 'api', 'sandbox', 'sandbox', 1, 1000, 'KRW', g, g FROM generate_series(1, 40000) g`)
			insert := `INSERT INTO cancellations (id, imp_uid, merchant_id, status, amount, created_at)
				SELECT $1 || g, 'p' || (g + $3), 1, $2, 100, g FROM generate_series(1, 20000) g`
			if analyzedWith == "an empty table" {
				exec(`ANALYZE cancellations`)
				exec(insert, "old", "succeeded", 0)
			} else {
				exec(insert, "old", "succeeded", 0)
				exec(`ANALYZE cancellations`)
			}
			exec(insert, "new", "pending", 20000)
			for _, st := range []struct {
				name, q, want string
				args          []any
			}{
				{"refunds in flight of a payment", pendingRefundsSQL, "cancellations_by_payment", []any{"p20005"}},
				// By id or by its payment's id: either reads a handful.
				{"a refund in flight", pendingRefundSQL, "cancellations_pkey|cancellations_by_payment", []any{"new5", "p20005"}},
				{"reschedule a refund's look-up", rescheduleCancelCheckSQL, "cancellations_pkey", []any{1, 2000, 1, "new5"}},
			} {
				if got := planIndexes(t, s, st.q, "cancellations", st.args...); !slices.Contains(strings.Split(st.want, "|"), got) {
					t.Errorf("%s reads cancellations through %s, want %s", st.name, got, st.want)
				}
			}
		})
	}
}
