package sim_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// simImporters are the only non-test packages that may import the
// simulator; everything else reads PG capabilities from internal/pg/provider.
var simImporters = map[string]string{
	"internal/app":               "starts the in-process sandbox PG",
	"cmd/billkey":                "pgsim runs the sandbox PG on its own",
	"cmd/billkey-bench":          "tunes the sandbox PG's latency; not shipped",
	"internal/charge/chargetest": "builds the charge protocol over the simulator for unit tests",
}

func TestOnlyWiringImportsTheSimulator(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	const sim = `"github.com/billkey/billkey/internal/pg/sim"`
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg, _ := filepath.Rel(root, filepath.Dir(path))
		pkg = filepath.ToSlash(pkg)
		if pkg == "internal/pg/sim" {
			return nil
		}
		for _, imp := range f.Imports {
			if imp.Path.Value != sim {
				continue
			}
			if _, ok := simImporters[pkg]; !ok {
				p, _ := strconv.Unquote(imp.Path.Value)
				t.Errorf("%s imports %s: read PG capabilities from internal/pg/provider instead", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}
