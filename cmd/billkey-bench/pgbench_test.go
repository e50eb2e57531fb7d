package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
)

// The pgbench copy of a charge's two statements still runs on the schema
// the migrations build and still settles the charge it starts: a column
// renamed or added NOT NULL breaks it here, not in a benchmark session.
func TestPgbenchChargeScriptRunsOnTheSchema(t *testing.T) {
	t.Parallel()
	b, ok := testenv.Postgres(t, false)
	if !ok {
		return
	}
	ctx := context.Background()
	s, err := store.Open(ctx, b.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db := s.DB()
	for _, file := range []string{"pgbench/seed.sql", "pgbench/charge.sql"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(l, "--") || strings.HasPrefix(l, `\set`) {
				continue
			}
			lines = append(lines, strings.NewReplacer(":k", "7", ":id", "4242").Replace(l))
		}
		for _, stmt := range strings.Split(strings.Join(lines, "\n"), ";\n") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%s: %v\n%s", file, err, stmt)
			}
		}
	}
	var status string
	var events int
	if err := db.QueryRowContext(ctx, `SELECT status, (SELECT COUNT(*) FROM events WHERE imp_uid = 'imps_4242') FROM payments WHERE imp_uid = 'imps_4242'`).Scan(&status, &events); err != nil {
		t.Fatal(err)
	}
	if status != "paid" || events != 1 {
		t.Fatalf("after the script: payment %q with %d events, want paid with 1", status, events)
	}
}

func TestPgbenchConnectsAsBillkeyDid(t *testing.T) {
	t.Parallel()
	tests := []struct{ billkey, pgbench string }{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"},
		{"postgres://postgres@127.0.0.1:5432/bench", "postgres://postgres@127.0.0.1:5432/bench"},
		{"postgres://postgres@/bench?host=/var/run/postgresql&search_path=s1&pool_max_conns=8", "postgres://postgres@/bench?host=%2Fvar%2Frun%2Fpostgresql"},
	}
	for _, tt := range tests {
		u, err := pgbenchServer(tt.billkey)
		if err != nil {
			t.Fatal(err)
		}
		if u.String() != tt.pgbench {
			t.Errorf("pgbenchServer(%s) = %s, want %s", tt.billkey, u, tt.pgbench)
		}
	}
}
