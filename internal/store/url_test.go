package store_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/store"
	"github.com/billkey/billkey/internal/testenv"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		url  string
		want string // "" accepted, else a part of the error
	}{
		{"postgres://u:p@db:5432/billkey", ""},
		{"postgresql://u@db/billkey?sslmode=require", ""},
		// A Postgres on the same host, over its Unix socket (libpq's and
		// pgx's host parameter names the socket's directory).
		{"postgres://u@/billkey?host=/var/run/postgresql", ""},
		{"postgresql:///billkey?host=%2Fvar%2Frun%2Fpostgresql", ""},
		{"postgres://", "malformed postgres URL"},
		{"postgres:///billkey", "malformed postgres URL"},
		{"mysql://u@h/db", `unknown database scheme "mysql"`},
		{"/var/lib/billkey/billkey.db", ""},
		{"", "empty database URL"},
	} {
		err := store.CheckURL(c.url)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v, want accepted", c.url, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("CheckURL(%q) = %v, want an error with %q", c.url, err, c.want)
		}
	}
}

// A store opened over the server's Unix socket works like one over TCP.
func TestOpenOverUnixSocket(t *testing.T) {
	t.Parallel()
	b, ok := testenv.Postgres(t, false)
	if !ok {
		return
	}
	const dir = "/var/run/postgresql"
	if _, err := os.Stat(dir + "/.s.PGSQL.5432"); err != nil {
		if testenv.InCI() {
			t.Fatalf("CI's PostgreSQL has no socket in %s: %v", dir, err)
		}
		t.Skipf("SKIP: no PostgreSQL socket in %s (%v)", dir, err)
	}
	u, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = ""
	q := u.Query()
	q.Set("host", dir)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	s, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var addr any
	if err := s.DB().QueryRowContext(ctx, `SELECT inet_client_addr()`).Scan(&addr); err != nil {
		t.Fatal(err)
	}
	if addr != nil {
		t.Fatalf("connected from %v, want the Unix socket (no client address)", addr)
	}
}
