package kafkaplane_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every component logs an error under the one key "err", so a log query
// for failures needs one field name. This test reads the module's sources
// and refuses the other spelling in slog calls.
func TestLogsUseOneErrorKey(t *testing.T) {
	other := regexp.MustCompile(`"error",\s*err\b|slog\.(String|Any)\("error"`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if other.MatchString(line) {
				t.Errorf(`%s:%d: log errors under "err": %s`, path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
