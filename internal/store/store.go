// Package store keeps Billkey's state in SQLite (the embedded default) or
// PostgreSQL (production). One implementation serves both: the SQL is written
// once with ? placeholders and rebound for Postgres, and the differences that
// matter (row locks, writer serialization) are explicit per dialect.
//
// Every method that reads or writes merchant data takes the merchant id and
// puts it in the WHERE clause: there is no unscoped accessor for tenant rows.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/billkey/billkey/internal/core"
)

// Dialect names the SQL backend.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// Store is the database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	// SQLite has one writer at a time. Write transactions go to one writer
	// goroutine that commits them in groups (see groupCommit): with
	// synchronous=FULL every commit is an fsync, and sharing it between
	// concurrent transactions is what makes thousands of charges per second
	// possible.
	writes    chan *writeJob
	writerWG  sync.WaitGroup
	closeOnce sync.Once
	// SQLite parses every statement anew unless it is prepared, and parsing
	// costs as much as executing. Statements are prepared once on the pool;
	// database/sql then keeps one per connection, and the writer keeps its
	// own connection (wconn) so that its transactions always hit that cache.
	wconn *sql.Conn
	stmts sync.Map // query → *sql.Stmt
	// stopCheckpoints ends the background WAL checkpointer and
	// bulkCheckpointed tells the writer it has run (checkpoint.go).
	stopCheckpoints  chan struct{}
	checkpointerDone chan struct{}
	stopOnce         sync.Once
	bulkCheckpointed atomic.Bool
}

// IsPostgresURL tells whether databaseURL selects PostgreSQL.
func IsPostgresURL(databaseURL string) bool {
	return strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://")
}

// CheckURL refuses a database URL Open could not use: an unknown scheme
// ("mysql://…") is an error, not a SQLite file of that name.
func CheckURL(databaseURL string) error {
	switch {
	case strings.TrimSpace(databaseURL) == "":
		return errors.New("empty database URL: want a SQLite file path or a postgres:// URL")
	case IsPostgresURL(databaseURL):
		// The host is in the authority, or in the host parameter: a
		// Postgres on the same machine is reached over its Unix socket
		// (postgres://user@/dbname?host=/var/run/postgresql), which spares
		// every statement the loopback TCP stack.
		u, err := url.Parse(databaseURL)
		if err != nil || (u.Host == "" && u.Query().Get("host") == "") {
			return errors.New("malformed postgres URL: want postgres://user:password@host:5432/dbname, or postgres://user@/dbname?host=/socket/dir")
		}
		return nil
	case strings.HasPrefix(databaseURL, "sqlite://"), strings.HasPrefix(databaseURL, "file:"):
		return nil
	}
	if scheme, _, ok := strings.Cut(databaseURL, "://"); ok {
		return fmt.Errorf("unknown database scheme %q: want postgres://… or a SQLite file path (sqlite:// or file: optional)", scheme)
	}
	return nil
}

// Open connects to databaseURL: a postgres:// or postgresql:// URL selects
// Postgres, a path (optionally "file:" or "sqlite://" prefixed) a SQLite
// file; any other scheme is refused.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	if err := CheckURL(databaseURL); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if IsPostgresURL(databaseURL) {
		db, err := sql.Open("pgx", databaseURL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		// Few connections: when a slow WAL flush ends, every backend that
		// waited on it becomes runnable at once, and with 32 of them on 2
		// cores that herd starved this process for tens of milliseconds.
		// Paired runs on 2 cores (billkey-bench -pg-conns 4 / 8 / 32):
		// gateway overhead p99 at 500 req/s 13–24 / 29–32 / 73–94 ms;
		// closed-loop `again` 868–898 / 1,022–1,057 / 898–947/s; billing
		// run 994 / 992 / 793/s. Eight still lets Postgres group commits.
		// BILLKEY_PG_MAX_CONNS overrides.
		conns := max(8, 4*runtime.GOMAXPROCS(0))
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connect postgres: %w", err)
		}
		return &Store{db: db, dialect: Postgres}, nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite://"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	// synchronous(FULL): a charge acknowledged to a merchant survives power loss.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)" +
		// Checkpoints run beside the writer (checkpoint.go); a log grown
		// meanwhile is cut back to 64 MB when it starts over.
		"&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(67108864)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	s := &Store{db: db, dialect: SQLite, writes: make(chan *writeJob, 1024)}
	if s.wconn, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	s.writerWG.Add(1)
	go s.groupCommit()
	s.stopCheckpoints, s.checkpointerDone = make(chan struct{}), make(chan struct{})
	go s.checkpointer()
	return s, nil
}

// SetPoolSize overrides the PostgreSQL connection pool size
// (BILLKEY_PG_MAX_CONNS); SQLite keeps its own.
func (s *Store) SetPoolSize(n int) {
	if s.dialect == Postgres && n > 0 {
		s.db.SetMaxOpenConns(n)
		s.db.SetMaxIdleConns(n)
	}
}

// Dialect tells which backend this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the raw handle to tests that break or inspect rows directly.
// It exists for tests only (Go has no test-only export across packages):
// TestDBOnlyInTests fails if code outside _test.go files calls it.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.writes != nil {
			s.stopCheckpointer()
			close(s.writes)
			s.writerWG.Wait()
			s.wconn.Close()
			// Leave the database file whole, the log empty.
			s.checkpointWAL(context.Background(), "TRUNCATE")
		}
		s.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	})
	return s.db.Close()
}

// Ping checks the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// SchemaNewerError refuses to run a build on a database that a newer build
// has migrated past the last migration this one knows.
type SchemaNewerError struct {
	Applied int64 // the highest migration the database has
	Last    int64 // the last migration of this build
}

func (e *SchemaNewerError) Error() string {
	return fmt.Sprintf("the database has migration %05d applied, newer than this build's last (%05d): "+
		"a later Billkey migrated it; run that version or a newer one (older builds do not undo migrations)", e.Applied, e.Last)
}

// MigrateOption changes how Migrate runs.
type MigrateOption func(*migrateOptions)

type migrateOptions struct {
	progress func(Migration)
}

// Migration is one applied migration, as reported to OnMigration.
type Migration struct {
	Version  int64
	Name     string
	Duration time.Duration
}

// OnMigration reports each migration as it is applied (long migrations on
// a large database should not look like a hang); nil reports nothing.
func OnMigration(f func(Migration)) MigrateOption {
	return func(o *migrateOptions) { o.progress = f }
}

// Migrate applies pending migrations. On Postgres a session advisory lock
// makes concurrent starts of several nodes safe.
func (s *Store) Migrate(ctx context.Context, options ...MigrateOption) error {
	var mo migrateOptions
	for _, o := range options {
		o(&mo)
	}
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return err
	}
	gd := goose.DialectSQLite3
	// Migration numbers are handed out ahead of time, so a lower number can
	// arrive after a higher one was applied: apply it then, in order.
	opts := []goose.ProviderOption{goose.WithAllowOutofOrder(true)}
	if s.dialect == Postgres {
		gd = goose.DialectPostgres
		// The advisory lock is per schema, so that separate databases on one
		// server (tests, tenants) do not queue behind each other; retried
		// every second instead of goose's default five.
		var schema string
		if err := s.db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("billkey-migrate:" + schema))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, s.db, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// goose passes over versions it has no file for, so an older build
	// would otherwise start on a schema a newer one has changed under it.
	applied, last, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if applied > last {
		return &SchemaNewerError{Applied: applied, Last: last}
	}
	if mo.progress == nil {
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	}
	for {
		res, err := p.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		mo.progress(Migration{Version: res.Source.Version, Name: filepath.Base(res.Source.Path), Duration: res.Duration})
	}
}

// rebind turns ? placeholders into $n for Postgres.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	// The same few statements run on every charge: renumber each once.
	if r, ok := rebound.Load(q); ok {
		return r.(string)
	}
	r := numberPlaceholders(q)
	// Statements with IN lists come in many lengths; keep the cache bounded.
	if reboundCount.Load() < maxRebound {
		if _, loaded := rebound.LoadOrStore(q, r); !loaded {
			reboundCount.Add(1)
		}
	}
	return r
}

// numberPlaceholders turns ? placeholders into Postgres's $1, $2, ….
func numberPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

var (
	rebound      sync.Map // query with ? → query with $n
	reboundCount atomic.Int64
)

const maxRebound = 4096

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction with the store's placeholder rebinding. On
// Postgres a Tx may also wrap the pool itself, for single statements that
// need no BEGIN/COMMIT round trips (autocommit is just as atomic).
type Tx struct {
	s  *Store
	q  querier
	tx *sql.Tx // nil in autocommit mode
	// cached is set on the SQLite writer: statements prepared once on its connection.
	cached bool
	// rec is set while settle hooks are recorded for a one-statement
	// settlement (see SettleAttempt): the writes it can fold are kept there,
	// and any other statement marks the settlement as needing a transaction.
	rec *recording
	// events counts the outbox rows written through this Tx.
	events int
}

// row is a single-row result: *sql.Row, or a recorded Tx's refusal.
type row interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// stmt returns the writer's prepared statement for q, or nil to run q directly.
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if !t.cached {
		return nil
	}
	st := t.s.prepared(ctx, q)
	if st == nil {
		return nil // let the direct call report the error
	}
	return t.tx.StmtContext(ctx, st)
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.rec != nil {
		return nil, t.rec.refuse()
	}
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.q.ExecContext(ctx, t.s.rebind(q), args...)
}
func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if t.rec != nil {
		return nil, t.rec.refuse()
	}
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.q.QueryContext(ctx, t.s.rebind(q), args...)
}
func (t *Tx) queryRow(ctx context.Context, q string, args ...any) row {
	if t.rec != nil {
		return errRow{t.rec.refuse()}
	}
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.q.QueryRowContext(ctx, t.s.rebind(q), args...)
}

// forUpdate is the row-lock suffix: Postgres locks rows; SQLite's immediate
// transactions already hold the database write lock.
func (s *Store) forUpdate() string {
	if s.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// skipLocked is the claim suffix for work queues.
func (s *Store) skipLocked() string {
	if s.dialect == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// keyGuard writes cond, the status guard of a statement that finds its rows
// by key, as a CASE. Written plainly, a guard such as "status = 'pending'"
// implies the predicate of a partial index over that status, and the planner
// may read that index instead of the key. It did, whenever the statistics
// had been taken with few rows in that status (a quiet moment, a table
// analyzed while nearly empty): then every such statement read every row in
// that status, dead entries included. A CASE matches no index predicate, so
// the rows are found by their key whatever the statistics say. The plan
// tests (plans_test.go) hold each statement to its index.
func keyGuard(cond string) string { return "CASE WHEN " + cond + " THEN 1 ELSE 0 END = 1" }

// claim describes a work-queue claim: lease up to limit rows of table that
// are still in a workable state and due, oldest (by order) first, setting
// set on them and returning the returning columns.
type claim struct {
	table, key, still, due, order, set, returning string
	dueArgs, setArgs                              []any
	limit                                         int
}

// claimSQL writes a claim in the dialect's form. The candidates are found
// through still and due (the partial index of the work queue); the update
// re-checks still as a keyGuard, finding each row by its key. On Postgres the candidate
// rows are locked in a MATERIALIZED CTE with SKIP LOCKED: in "WHERE id IN
// (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)" the planner may rescan the
// subquery once per outer row, each rescan skipping the rows locked so far
// and returning new ones, so LIMIT stops bounding the claim (observed:
// LIMIT 2 claimed 400). SQLite evaluates the IN list once, and its write
// lock serializes claims.
func (s *Store) claimSQL(c claim) (string, []any) {
	pick := `SELECT ` + c.key + ` FROM ` + c.table + ` WHERE ` + c.still + ` AND ` + c.due + ` ORDER BY ` + c.order + ` LIMIT ?`
	if s.dialect == Postgres {
		cols := "c." + strings.Join(strings.Fields(strings.ReplaceAll(c.returning, ",", " ")), ", c.")
		q := `WITH due AS MATERIALIZED (` + pick + s.skipLocked() + `)
			UPDATE ` + c.table + ` c SET ` + c.set + ` FROM due WHERE c.` + c.key + ` = due.` + c.key + ` AND ` + keyGuard("c."+c.still) + `
			RETURNING ` + cols
		args := append(append([]any{}, c.dueArgs...), c.limit)
		return q, append(args, c.setArgs...)
	}
	q := `UPDATE ` + c.table + ` SET ` + c.set + ` WHERE ` + c.key + ` IN (` + pick + `) AND ` + keyGuard(c.still) + ` RETURNING ` + c.returning
	args := append(append([]any{}, c.setArgs...), c.dueArgs...)
	return q, append(args, c.limit)
}

// InTx runs fn in a write transaction, committing when fn returns nil.
// fn must use only the Tx it is given, never other Store methods: on SQLite
// it runs on the single writer goroutine.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	if s.dialect == SQLite {
		job := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
		select {
		case s.writes <- job:
		case <-ctx.Done():
			return ctx.Err()
		}
		return <-job.done
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&Tx{s: s, q: tx, tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// prepared returns a cached pool-wide prepared statement on SQLite; pgx
// already caches statements per connection on Postgres.
func (s *Store) prepared(ctx context.Context, q string) *sql.Stmt {
	if s.dialect != SQLite {
		return nil
	}
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt)
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if prev, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	return st
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := s.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, s.rebind(q), args...)
}
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := s.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, s.rebind(q), args...)
}

// exec runs one write statement in its own transaction.
func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s.dialect != SQLite {
		return s.db.ExecContext(ctx, s.rebind(q), args...)
	}
	var res sql.Result
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		res, err = tx.exec(ctx, q, args...)
		return err
	})
	return res, err
}

type writeJob struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

// maxGroup bounds how many transactions share one commit, so that one
// group's latency stays small.
const maxGroup = 128

// groupCommit is the SQLite writer: it takes every transaction queued at the
// moment, runs each inside its own SAVEPOINT of one physical transaction (so
// a failing one rolls back alone), and commits them with one fsync.
func (s *Store) groupCommit() {
	defer s.writerWG.Done()
	batch := make([]*writeJob, 0, maxGroup)
	for first := range s.writes {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < maxGroup {
			select {
			case j, ok := <-s.writes:
				if !ok {
					break fill
				}
				batch = append(batch, j)
			default:
				break fill
			}
		}
		s.runGroup(batch)
		if s.bulkCheckpointed.Swap(false) {
			s.finishCheckpoint()
		}
	}
}

func (s *Store) runGroup(batch []*writeJob) {
	fail := func(err error) {
		for _, j := range batch {
			j.done <- err
		}
	}
	tx, err := s.wconn.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	t := &Tx{s: s, q: tx, tx: tx, cached: true}
	var results []error
	if len(batch) == 1 {
		// Alone in its group, a transaction is the whole commit: a failure
		// rolls it all back, and a savepoint (three more statements, and a
		// copy of every page it touches) would buy nothing. Under moderate
		// load most groups are one.
		j := batch[0]
		err := j.ctx.Err()
		if err == nil {
			err = j.fn(t)
		}
		if err != nil {
			tx.Rollback()
			j.done <- err
			return
		}
		results = []error{nil}
	} else if results, err = runIsolated(t, batch); err != nil {
		tx.Rollback()
		fail(err)
		return
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("commit: %w", err))
		return
	}
	for i, j := range batch {
		j.done <- results[i]
	}
}

// runIsolated runs each job of a group in a savepoint of its own, so that
// one that fails leaves nothing behind and the others still commit. Its
// error is the group's: the transaction can no longer be used.
func runIsolated(t *Tx, batch []*writeJob) ([]error, error) {
	ctx := context.Background()
	results := make([]error, len(batch))
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := t.exec(ctx, `SAVEPOINT w`); err != nil {
			return nil, fmt.Errorf("savepoint: %w", err)
		}
		if results[i] = j.fn(t); results[i] != nil {
			if _, err := t.exec(ctx, `ROLLBACK TO w`); err != nil {
				return nil, fmt.Errorf("rollback to savepoint: %w", err)
			}
		}
		if _, err := t.exec(ctx, `RELEASE w`); err != nil {
			return nil, fmt.Errorf("release savepoint: %w", err)
		}
	}
	return results, nil
}

// Timestamps are stored as unix microseconds, 0 meaning absent.
func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func tm(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, core.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func nullInt64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullStr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func intPtr(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	i := int(v.Int64)
	return &i
}

func int64Ptr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	i := v.Int64
	return &i
}

func strPtr(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	s := v.String
	return &s
}
