package store

import (
	"context"
	"encoding/json"
	"regexp"
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
	b, ok := testenv.Postgres(t, false)
	if !ok {
		return
	}
	ctx := context.Background()
	s, err := Open(ctx, b.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO merchants (id, code, name, imp_key, imp_secret_hash, created_at) VALUES (1, 'imp00000001', 'm', 'k', 'x', 0)`)
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
		if err := s.db.QueryRowContext(ctx, `EXPLAIN (FORMAT JSON) `+q, st.args...).Scan(&plan); err != nil {
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
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if name, ok := v["Index Name"].(string); ok {
				*out = append(*out, name)
			}
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
			b, ok := testenv.Postgres(t, false)
			if !ok {
				return
			}
			ctx := context.Background()
			s, err := Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			exec(`INSERT INTO merchants (id, code, name, imp_key, imp_secret_hash, created_at) VALUES (1, 'imp00000001', 'm', 'k', 'x', 0)`)
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
				q := st.q
				if strings.Contains(q, "?") {
					q = numberPlaceholders(q)
				}
				var plan []byte
				args := make([]any, len(regexp.MustCompile(`\$[0-9]+`).FindAllString(q, -1)))
				for i := range args {
					args[i] = "1"
				}
				if err := s.db.QueryRowContext(ctx, `EXPLAIN (FORMAT JSON) `+q, args...).Scan(&plan); err != nil {
					t.Fatalf("%s: explain: %v", st.name, err)
				}
				var payments []string
				collectRelationIndexes(t, plan, "payments", &payments)
				sort.Strings(payments) // the plan's children come out of a map
				if strings.Join(payments, ",") != st.want {
					t.Errorf("%s reads payments through %v, want %s:\n%s", st.name, payments, st.want, plan)
				}
			}
		})
	}
}

// collectRelationIndexes lists how a plan reads relation: the names of its
// indexes read, and "Seq Scan".
func collectRelationIndexes(t *testing.T, plan []byte, relation string, out *[]string) {
	t.Helper()
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			// A bitmap index scan names its index but not the table: the
			// table's indexes are all named after it.
			if name, ok := v["Index Name"].(string); ok && strings.HasPrefix(name, relation+"_") {
				*out = append(*out, name)
			} else if v["Relation Name"] == relation && v["Node Type"] == "Seq Scan" {
				*out = append(*out, "Seq Scan")
			}
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
