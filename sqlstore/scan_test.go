package sqlstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneRowLoop: the store reads query results in one place, scanAll, so
// closing rows, checking rows.Err and naming the query in errors cannot be
// forgotten by a new list method. The test reads the package's sources.
func TestOneRowLoop(t *testing.T) {
	files, err := filepath.Glob("*.go")
	must(t, err)
	var loops []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		must(t, err)
		for i, line := range strings.Split(string(src), "\n") {
			if strings.Contains(line, ".Next()") {
				loops = append(loops, fmt.Sprintf("%s:%d: %s", f, i+1, strings.TrimSpace(line)))
			}
		}
	}
	if len(loops) != 1 || !strings.HasPrefix(loops[0], "sqlstore.go:") {
		t.Errorf("row loops outside scanAll: %q; read rows with scanAll", loops)
	}
}
