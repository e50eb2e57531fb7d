package store

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/testenv"
)

// schemaShape is what must match between the two migration trees once
// migrated: every table with its columns, and every index with its table,
// uniqueness and columns. Types differ by dialect (INTEGER vs BIGINT), so
// they are not compared.
type schemaShape struct {
	columns map[string][]string // table → sorted column names
	indexes map[string]string   // index name → "table(unique) cols"
}

// TestMigrationTreesEquivalent keeps internal/store/migrations/sqlite and
// .../postgres in step: the same files, and after migrating, the same
// tables, columns and indexes, compared through the live schemas.
func TestMigrationTreesEquivalent(t *testing.T) {
	t.Parallel()
	names := func(dir string) []string {
		entries, err := fs.ReadDir(migrations, path.Join("migrations", dir))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	if sq, pq := names("sqlite"), names("postgres"); !slices.Equal(sq, pq) {
		t.Fatalf("migration files differ:\nsqlite   %v\npostgres %v", sq, pq)
	}
	pgb, ok := testenv.Postgres(t, false)
	if !ok {
		return
	}
	ctx := context.Background()
	shapes := map[string]schemaShape{}
	for _, b := range []testenv.Backend{testenv.SQLite(t), pgb} {
		s, err := Open(ctx, b.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		sh, err := s.schema(ctx)
		if err != nil {
			t.Fatalf("%s schema: %v", b.Name, err)
		}
		shapes[b.Name] = sh
	}
	sq, pq := shapes["sqlite"], shapes["postgres"]
	for table, cols := range sq.columns {
		if pcols, ok := pq.columns[table]; !ok {
			t.Errorf("table %s only in sqlite", table)
		} else if !slices.Equal(cols, pcols) {
			t.Errorf("table %s columns differ:\nsqlite   %v\npostgres %v", table, cols, pcols)
		}
	}
	for table := range pq.columns {
		if _, ok := sq.columns[table]; !ok {
			t.Errorf("table %s only in postgres", table)
		}
	}
	for name, def := range sq.indexes {
		if pdef, ok := pq.indexes[name]; !ok {
			t.Errorf("index %s only in sqlite (%s)", name, def)
		} else if def != pdef {
			t.Errorf("index %s differs:\nsqlite   %s\npostgres %s", name, def, pdef)
		}
	}
	for name, def := range pq.indexes {
		if _, ok := sq.indexes[name]; !ok {
			t.Errorf("index %s only in postgres (%s)", name, def)
		}
	}
	if len(sq.columns) < 10 || len(sq.indexes) < 10 {
		t.Fatalf("only %d tables and %d indexes read: the schema queries are wrong", len(sq.columns), len(sq.indexes))
	}
	t.Logf("compared %d tables and %d indexes", len(sq.columns), len(sq.indexes))
}

// schema reads the live schema. Indexes that back a primary key or a
// UNIQUE constraint are left out: each dialect names them its own way, and
// the columns they cover are compared with the tables.
func (s *Store) schema(ctx context.Context) (schemaShape, error) {
	sh := schemaShape{columns: map[string][]string{}, indexes: map[string]string{}}
	var colQ, idxQ string
	if s.dialect == Postgres {
		colQ = `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`
		idxQ = `SELECT i.relname, t.relname, ix.indisunique, a.attname
			FROM pg_index ix
			JOIN pg_class i ON i.oid = ix.indexrelid
			JOIN pg_class t ON t.oid = ix.indrelid
			JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
			JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) ON true
			JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
			WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)
			ORDER BY i.relname, k.ord`
	} else {
		colQ = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'
			AND m.name NOT LIKE 'sqlite_%'`
		idxQ = `SELECT m.name, m.tbl_name, il."unique", ii.name
			FROM sqlite_master m JOIN pragma_index_list(m.tbl_name) il ON il.name = m.name
			JOIN pragma_index_info(m.name) ii
			WHERE m.type = 'index' AND m.sql IS NOT NULL ORDER BY m.name, ii.seqno`
	}
	rows, err := s.db.QueryContext(ctx, colQ)
	if err != nil {
		return sh, err
	}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			rows.Close()
			return sh, err
		}
		if table == "goose_db_version" {
			continue
		}
		sh.columns[table] = append(sh.columns[table], col)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sh, err
	}
	for _, cols := range sh.columns {
		slices.Sort(cols)
	}
	rows, err = s.db.QueryContext(ctx, idxQ)
	if err != nil {
		return sh, err
	}
	defer rows.Close()
	cols := map[string][]string{}
	head := map[string]string{}
	for rows.Next() {
		var name, table, col string
		var unique bool
		if err := rows.Scan(&name, &table, &unique, &col); err != nil {
			return sh, err
		}
		if table == "goose_db_version" {
			continue
		}
		u := ""
		if unique {
			u = " unique"
		}
		head[name] = table + u
		cols[name] = append(cols[name], col)
	}
	for name, h := range head {
		sh.indexes[name] = h + " (" + strings.Join(cols[name], ", ") + ")"
	}
	return sh, rows.Err()
}

// A build older than the database's schema refuses it instead of running
// its statements against tables a newer build changed.
func TestMigrateRefusesASchemaNewerThanTheBuild(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		s := OpenTest(t, b.URL)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrating an up-to-date database again: %v", err)
		}
		var last int64
		if err := s.db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version`).Scan(&last); err != nil || last < 15 {
			t.Fatalf("last applied migration %d (%v)", last, err)
		}
		// What a later build's migration leaves behind.
		if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`), last+1, true); err != nil {
			t.Fatal(err)
		}
		err := s.Migrate(ctx)
		var newer *SchemaNewerError
		if !errors.As(err, &newer) || newer.Applied != last+1 || newer.Last != last {
			t.Fatalf("Migrate on a newer schema: %v, want a SchemaNewerError %d > %d", err, last+1, last)
		}
		if !strings.Contains(err.Error(), "newer than this build") {
			t.Errorf("message %q does not say what is wrong", err)
		}
	})
}
