package apierr

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/errors.md from the catalogue")

// entry is one catalogue entry as its source declares it.
type entry struct {
	name, code, when string
}

// block is one var block of the catalogue's source: its comment and
// entries in source order.
type block struct {
	file, doc string
	entries   []entry
}

// catalogueSource reads the catalogue's declarations: apierr.go first, the
// other files in name order.
func catalogueSource(t *testing.T) []block {
	t.Helper()
	domain := domainCodes(t)
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasSuffix(n, "_test.go") })
	slices.SortFunc(names, func(a, b string) int {
		if (a == "apierr.go") != (b == "apierr.go") {
			if a == "apierr.go" {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	fset := token.NewFileSet()
	var out []block
	for _, name := range names {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			b := block{file: name, doc: strings.Join(strings.Fields(g.Doc.Text()), " ")}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if len(vs.Values) != 1 {
					continue
				}
				call, ok := vs.Values[0].(*ast.CallExpr)
				if !ok {
					continue
				}
				if fn, ok := call.Fun.(*ast.Ident); !ok || fn.Name != "def" {
					continue
				}
				e := entry{name: vs.Names[0].Name}
				switch a := call.Args[0].(type) {
				case *ast.BasicLit:
					e.code, _ = strconv.Unquote(a.Value)
				case *ast.SelectorExpr:
					e.code = domain[a.Sel.Name]
				}
				doc := strings.Join(strings.Fields(vs.Doc.Text()), " ")
				when, ok := strings.CutPrefix(doc, e.name+": ")
				if !ok || when == "" {
					t.Errorf("%s: %s needs a doc comment %q saying when it is answered", fset.Position(vs.Pos()), e.name, e.name+": …")
				}
				e.when = when
				b.entries = append(b.entries, e)
			}
			if len(b.entries) > 0 {
				if b.doc == "" {
					t.Errorf("%s: a var block of entries needs a comment that opens with its title", fset.Position(g.Pos()))
				}
				out = append(out, b)
			}
		}
	}
	return out
}

// TestErrorsDoc checks docs/errors.md against the catalogue; -update
// rewrites it.
func TestErrorsDoc(t *testing.T) {
	blocks := catalogueSource(t)
	var sb strings.Builder
	sb.WriteString(`# Error codes

Every error answer is HTTP 4xx or 5xx with a string ` + "`Code`" + `, ` + "`Message`" + `, ` + "`RequestId`" + `,
` + "`HostId`" + ` and ` + "`Recommend`" + ` (docs/wire.md). This file lists every code kafkaplane answers, with
its HTTP status, its default message (a handler may answer a more specific one) and when it is
answered. It is generated from the catalogue in ` + "`apierr`" + `; regenerate it with
` + "`go test ./apierr -run TestErrorsDoc -update`" + `.

A code that is not in the catalogue is never answered: the gateway logs it as a bug and answers
` + "`InternalError`" + ` (HTTP 500). The domain and the store use their own semantic codes
(` + "`kafkaplane.Code*`" + `); the openapi package maps each of them to one of the codes below.

## Parameter families

| code | HTTP | message | when |
|---|---|---|---|
| ` + "`Missing{Parameter}`" + ` | 400 | {Parameter} is mandatory for this action. | a required parameter is absent |
| ` + "`Invalid{Parameter}`" + ` | 400 | Specified parameter {Parameter} is not valid. | a value is not valid for its parameter, or beyond its bound (docs/limits.md) |
| ` + "`{STEP}_FAILED`" + ` | — | the step's error | only in an operation's ErrorInfo: the step failed without a code of its own |
`)
	seen := 0
	for _, b := range blocks {
		// A block's comment opens with its title: "Gateway errors, …".
		title, rest, _ := strings.Cut(b.doc, ". ")
		title, _, _ = strings.Cut(strings.TrimSuffix(title, "."), ",")
		fmt.Fprintf(&sb, "\n## %s (apierr/%s)\n\n", title, b.file)
		if rest != "" {
			sb.WriteString(wrap(rest, 96) + "\n\n")
		}
		sb.WriteString("| code | HTTP | message | when |\n|---|---|---|---|\n")
		for _, e := range b.entries {
			d, ok := Lookup(e.code)
			if !ok {
				t.Errorf("%s: code %q is not in the table", e.name, e.code)
				continue
			}
			seen++
			fmt.Fprintf(&sb, "| `%s` | %d | %s | %s |\n", d.Code, d.HTTPStatus, cell(d.Message), cell(e.when))
		}
	}
	if seen != len(table) {
		t.Errorf("the source declares %d entries, the table holds %d", seen, len(table))
	}
	path := filepath.Join(moduleRoot, "docs", "errors.md")
	if *update {
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != sb.String() {
		t.Errorf("docs/errors.md differs from the catalogue; run go test ./apierr -run TestErrorsDoc -update")
	}
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// wrap breaks s into lines of at most width characters.
func wrap(s string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
}
