package kafkaplane_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCommentsCiteOnlyTheRepository: a comment may point a reader to a
// document only if the repository holds it, so every .md path named in a
// Go file must exist, and the section sign that numbered an outside
// document's sections must not appear.
func TestCommentsCiteOnlyTheRepository(t *testing.T) {
	mdPath := regexp.MustCompile(`\b((?:docs/)?[A-Za-z0-9_.-]+\.md)\b`)
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			c := strings.Index(line, "//")
			if c < 0 {
				continue
			}
			comment := line[c:]
			if strings.Contains(comment, "§") {
				t.Errorf("%s:%d cites a section of an outside document: %s", path, i+1, strings.TrimSpace(comment))
			}
			for _, m := range mdPath.FindAllStringSubmatch(comment, -1) {
				name := m[1]
				if _, err := os.Stat(name); err != nil {
					t.Errorf("%s:%d cites %s, which the repository does not hold", path, i+1, name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
