package kafkaplane_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// moduleFiles parses every non-test Go file of the module outside the
// root package, keyed by its slash-separated path from the module root.
func moduleFiles(t *testing.T) map[string]*ast.File {
	t.Helper()
	fset := token.NewFileSet()
	out := map[string]*ast.File{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Dir(path) == "." || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(path)] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no Go files found outside the root package")
	}
	return out
}

// statusFields are the Instance fields that hold its state. Only the root
// package writes them, through Instance.Apply and Instance.Finish.
var statusFields = map[string]bool{"ServiceStatus": true, "ViewStatus": true}

// statusWriters are the files outside the root package allowed to write a
// status field, and why.
var statusWriters = map[string]string{
	"sqlstore/instance.go": "decodes a stored row back into an Instance",
}

// TestOnlyTheDomainWritesStatus fails on any assignment to, or composite
// literal key of, ServiceStatus or ViewStatus outside the root package: a
// handler or the worker moves an instance only through the transition
// table (status.go).
func TestOnlyTheDomainWritesStatus(t *testing.T) {
	for path, f := range moduleFiles(t) {
		if _, ok := statusWriters[path]; ok {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for _, lhs := range n.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok && statusFields[sel.Sel.Name] {
						t.Errorf("%s: assigns %s; move the instance with Instance.Apply", path, sel.Sel.Name)
					}
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && statusFields[id.Name] {
					t.Errorf("%s: sets %s in a literal; a new Instance is Pending, later states come from Instance.Apply", path, id.Name)
				}
			}
			return true
		})
	}
}

// inwardOnly lists, per adapter package, module packages it must not
// import: the HTTP adapter reaches the worker's plans and the brokers only
// through the domain's types (Runtime, Spec, NewStartOperation, …).
var inwardOnly = map[string][]string{
	"openapi": {"jobs", "broker"},
}

// TestAdaptersDependInward fails when a package of inwardOnly imports a
// package it must not.
func TestAdaptersDependInward(t *testing.T) {
	const module = "github.com/kafkaplane/kafkaplane/"
	files := moduleFiles(t)
	for pkg, banned := range inwardOnly {
		seen := 0
		for path, f := range files {
			if filepath.ToSlash(filepath.Dir(path)) != pkg {
				continue
			}
			seen++
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range banned {
					if p == module+b {
						t.Errorf("%s imports %s", path, p)
					}
				}
			}
		}
		if seen == 0 {
			t.Errorf("package %s has no files", pkg)
		}
	}
}
