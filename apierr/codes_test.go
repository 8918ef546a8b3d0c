package apierr

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// moduleRoot is the directory of go.mod, one up from this package.
const moduleRoot = ".."

// finding is one error code written as a string outside the catalogue.
type finding struct {
	pos  token.Position
	code string
	what string
}

func (f finding) String() string {
	where := "a wire code outside apierr"
	if _, ok := Lookup(f.code); !ok {
		where = "not in the catalogue"
	}
	return fmt.Sprintf("%s: %s %q is %s", f.pos, f.what, f.code, where)
}

var codeName = regexp.MustCompile(`^(?i:code)`)

// scanCodes reports every string literal that file uses as an error code:
// the code of kafkaplane.Errorf, the Code of an Error or Def literal, a
// constant or variable named code… (the root package's exported Code*
// constants excepted: they are the domain's codes), and a literal compared
// with or switched against an error code. root says whether file belongs
// to the module's root package, where Errorf and Error need no qualifier.
func scanCodes(fset *token.FileSet, file *ast.File, root bool) []finding {
	var out []finding
	lit := func(e ast.Expr, what string) {
		if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
			// The empty string is "no code", not a code.
			if s, _ := strconv.Unquote(b.Value); s != "" {
				out = append(out, finding{fset.Position(b.Pos()), s, what})
			}
		}
	}
	// named reports whether e is pkg.name, or name itself in the root
	// package (pkg "kafkaplane") or anywhere (pkg "").
	named := func(e ast.Expr, pkg string, names ...string) bool {
		switch e := e.(type) {
		case *ast.SelectorExpr:
			x, ok := e.X.(*ast.Ident)
			return ok && (pkg == "" || x.Name == pkg) && slices.Contains(names, e.Sel.Name)
		case *ast.Ident:
			return (pkg == "" || pkg == "kafkaplane" && root) && slices.Contains(names, e.Name)
		}
		return false
	}
	// isCode reports whether e evaluates to an error code: ErrorCode(…)
	// or an operation's ErrorCode field. (A field called Code is not
	// enough: drivers have codes of their own, such as SQLSTATEs.)
	isCode := func(e ast.Expr) bool {
		if c, ok := e.(*ast.CallExpr); ok {
			return named(c.Fun, "kafkaplane", "ErrorCode")
		}
		s, ok := e.(*ast.SelectorExpr)
		return ok && s.Sel.Name == "ErrorCode"
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if named(n.Fun, "kafkaplane", "Errorf") && len(n.Args) > 0 {
				lit(n.Args[0], "kafkaplane.Errorf code")
			}
			// Any function of this package called with a literal (a
			// registration outside the catalogue), except the parameter
			// families, which take a parameter name.
			if s, ok := n.Fun.(*ast.SelectorExpr); ok && len(n.Args) > 0 && s.Sel.Name != "Missing" && s.Sel.Name != "Invalid" {
				if x, ok := s.X.(*ast.Ident); ok && x.Name == "apierr" {
					lit(n.Args[0], "apierr."+s.Sel.Name+" code")
				}
			}
		case *ast.CompositeLit:
			if named(n.Type, "kafkaplane", "Error") || named(n.Type, "apierr", "Def") {
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok && named(kv.Key, "", "Code") {
						lit(kv.Value, "Code field")
					}
				}
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if i < len(n.Values) && codeName.MatchString(name.Name) && !(root && strings.HasPrefix(name.Name, "Code")) {
					lit(n.Values[i], "constant or variable "+name.Name)
				}
			}
		case *ast.BinaryExpr:
			if n.Op == token.EQL || n.Op == token.NEQ {
				if isCode(n.X) {
					lit(n.Y, "comparison")
				}
				if isCode(n.Y) {
					lit(n.X, "comparison")
				}
			}
		case *ast.SwitchStmt:
			if n.Tag != nil && isCode(n.Tag) {
				for _, s := range n.Body.List {
					for _, e := range s.(*ast.CaseClause).List {
						lit(e, "case")
					}
				}
			}
		}
		return true
	})
	return out
}

// TestScanCodesFindsEveryForm proves the scanner on a file that writes
// codes in each form it must catch, and in the forms it must accept.
func TestScanCodesFindsEveryForm(t *testing.T) {
	const src = `package store
const codeGone = "DeleteConflict.User.Group"
const CodeExported = "Thing"
var a = kafkaplane.Errorf("BIZ_TYPO", "x")
var b = &kafkaplane.Error{Code: "InternalError"}
var c = apierr.Def{Code: "Custom", HTTPStatus: 400}
var d = apierr.Register("BIZ_OWN", 400, "x")
var e = apierr.Missing("InstanceId")
func f(err error, op *Operation) {
	if kafkaplane.ErrorCode(err) == "EntityNotExist" {}
	if "X" != op.ErrorCode || kafkaplane.ErrorCode(err) == "" || pgErr.Code == "23505" {}
	switch kafkaplane.ErrorCode(err) {
	case "Y", kafkaplane.CodeNotFound:
	}
	_ = kafkaplane.Errorf(kafkaplane.CodeNotFound, "fine")
	_ = apierr.InternalError.Errorf("fine %s", "too")
	_ = fmt.Errorf("not an error code %s", "ok")
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "fixture.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fi := range scanCodes(fset, f, false) {
		got = append(got, fi.code)
	}
	want := []string{"DeleteConflict.User.Group", "Thing", "BIZ_TYPO", "InternalError", "Custom", "BIZ_OWN", "EntityNotExist", "X", "Y"}
	if !slices.Equal(got, want) {
		t.Errorf("found %q, want %q", got, want)
	}
}

// TestNoCodeOutsideCatalogue walks every non-test Go file of the module: no
// error code is written as a string anywhere but in this package's
// catalogue and in the root package's Code* constants.
func TestNoCodeOutsideCatalogue(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != moduleRoot && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(path)
		if dir == "." { // this package: the catalogue itself
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		for _, fi := range scanCodes(fset, f, dir == moduleRoot) {
			t.Error(fi)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("scanned only %d files; is the module root %s?", files, moduleRoot)
	}
}

// domainCodes returns the root package's Code* string constants.
func domainCodes(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, moduleRoot, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i >= len(vs.Values) {
							break
						}
						if b, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(n.Name, "Code") && b.Kind == token.STRING {
							out[n.Name], _ = strconv.Unquote(b.Value)
						}
					}
				}
			}
		}
	}
	return out
}
