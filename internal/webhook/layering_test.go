package webhook_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The outbox worker sits under the HTTP dialects, which serve its operator
// view: it may not import one (imports run dialect → core → store).
func TestWebhookImportsNoDialect(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/billkey/billkey/internal/api/") {
				t.Errorf("%s imports %s", path, p)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}
