package storetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestSuiteCallsEveryMethod keeps the suite complete: every exported method
// of *store.Store and *store.Tx must be called somewhere in this package's
// suite source, so a method added to the store without a conformance case
// fails here rather than drifting between the two backends unnoticed.
// The match is by method name, which is enough because the suite has no
// other types with methods of the same names.
func TestSuiteCallsEveryMethod(t *testing.T) {
	t.Parallel()
	methods := storeMethods(t, "..")
	called := calledNames(t, ".")
	var missing []string
	for m := range methods {
		if !called[strings.SplitN(m, ".", 2)[1]] {
			missing = append(missing, m)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d exported store methods are not exercised by storetest:\n\t%s",
			len(missing), len(methods), strings.Join(missing, "\n\t"))
	}
}

// storeMethods returns "Recv.Name" for each exported method whose receiver is
// *Store or *Tx in the store package's non-test files.
func storeMethods(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range parseDir(t, dir) {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() {
				continue
			}
			star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			if id, ok := star.X.(*ast.Ident); ok && (id.Name == "Store" || id.Name == "Tx") {
				out[id.Name+"."+fn.Name.Name] = true
			}
		}
	}
	return out
}

// calledNames returns the selector names called in the suite's non-test files.
func calledNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, f := range parseDir(t, dir) {
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					out[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	return out
}

func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		files = append(files, f)
	}
	return files
}
