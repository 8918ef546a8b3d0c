package kafkaplane_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestOptionalRuntimeInterfacesThroughRuntimeAs: no code asserts an
// optional runtime interface on a value directly, where a wrapped runtime
// (the server's SecureRuntime) would hide it; kafkaplane.RuntimeAs is the
// one way to look one up.
func TestOptionalRuntimeInterfacesThroughRuntimeAs(t *testing.T) {
	src, err := os.ReadFile("runtime.go")
	if err != nil {
		t.Fatal(err)
	}
	var optional []string
	for _, m := range regexp.MustCompile(`(?m)^type (\w+) interface`).FindAllStringSubmatch(string(src), -1) {
		if m[1] != "Runtime" && m[1] != "RuntimeWrapper" {
			optional = append(optional, m[1])
		}
	}
	if len(optional) == 0 {
		t.Fatal("no optional runtime interfaces found in runtime.go")
	}
	assertion := regexp.MustCompile(`\.\((?:kafkaplane\.|broker\.)?(?:` + strings.Join(optional, "|") + `)\)`)
	var bad []string
	err = filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && p != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if assertion.MatchString(line) {
				bad = append(bad, p+":"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("optional runtime interfaces asserted directly; use kafkaplane.RuntimeAs:\n%s", strings.Join(bad, "\n"))
	}
}
