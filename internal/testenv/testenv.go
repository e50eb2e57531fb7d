// Package testenv gives tests real databases: a fresh SQLite file and a
// fresh Postgres schema per test. Without a reachable Postgres the Postgres
// variants skip with a clear message on a developer's machine and fail under
// CI=true, where Postgres is part of the contract.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// PostgresURL is the server the Postgres variants use.
func PostgresURL() string {
	if u := os.Getenv("BILLKEY_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// InCI reports whether tests run under CI, where nothing may skip for lack
// of a service.
func InCI() bool { return os.Getenv("CI") == "true" }

var (
	pgOnce sync.Once
	pgErr  error
)

func pgReachable() error {
	pgOnce.Do(func() {
		db, err := sql.Open("pgx", PostgresURL())
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	return pgErr
}

// Backend is one database a test runs against.
type Backend struct {
	Name string // "sqlite" or "postgres"
	URL  string
}

// Backends returns both backends for t: a SQLite file in t.TempDir() and,
// when reachable, a fresh Postgres schema dropped at cleanup.
func Backends(t testing.TB) []Backend {
	t.Helper()
	out := []Backend{SQLite(t)}
	if pg, ok := Postgres(t, false); ok {
		out = append(out, pg)
	}
	return out
}

// SQLite returns a fresh SQLite database path.
func SQLite(t testing.TB) Backend {
	return Backend{Name: "sqlite", URL: filepath.Join(t.TempDir(), "billkey.db")}
}

// Postgres returns a fresh schema on the test server. With required (or
// under CI) an unreachable server fails the test; otherwise it reports false
// and logs why the Postgres variant is skipped.
func Postgres(t testing.TB, required bool) (Backend, bool) {
	t.Helper()
	if err := pgReachable(); err != nil {
		if required || InCI() {
			t.Fatalf("PostgreSQL at %s is required (CI=true) but unreachable: %v", PostgresURL(), err)
		}
		t.Logf("SKIP postgres variant: PostgreSQL at %s unreachable (%v); set BILLKEY_TEST_POSTGRES_URL to run it", PostgresURL(), err)
		return Backend{}, false
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "bk_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		db.Close()
	})
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return Backend{Name: "postgres", URL: u.String()}, true
}

// Each runs fn as a subtest per backend.
func Each(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}
