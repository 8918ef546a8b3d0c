package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// rootCodes returns the domain's Code* string constants, read from the
// root package's source so that a new one cannot be forgotten here.
func rootCodes(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, "..", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				g, ok := n.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					return true
				}
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if i >= len(vs.Values) {
							break
						}
						b, ok := vs.Values[i].(*ast.BasicLit)
						if ok && b.Kind == token.STRING && strings.HasPrefix(name.Name, "Code") {
							out[name.Name], _ = strconv.Unquote(b.Value)
						}
					}
				}
				return false
			})
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d domain codes", len(out))
	}
	return out
}

// TestEveryDomainCodeHasAWireEntry: every kafkaplane.Code* constant is
// mapped, and maps to a catalogue entry other than InternalError; the
// mapping lists nothing else.
func TestEveryDomainCodeHasAWireEntry(t *testing.T) {
	codes := rootCodes(t)
	values := map[string]bool{}
	for name, code := range codes {
		values[code] = true
		if _, ok := domainWire[code]; !ok {
			t.Errorf("kafkaplane.%s (%q) has no entry in domainWire", name, code)
			continue
		}
		got := kafkaplane.ErrorCode(wireError(kafkaplane.Errorf(code, "from the store"), entity{}))
		if d, ok := apierr.Lookup(got); !ok || d == apierr.InternalError {
			t.Errorf("kafkaplane.%s answers %q, which is not a catalogue entry", name, got)
		}
	}
	for code := range domainWire {
		if !values[code] {
			t.Errorf("domainWire maps %q, which is no kafkaplane.Code* constant", code)
		}
	}
}

// TestUnknownCodeIsInternalError: a handler error whose code is not in the
// catalogue reaches the caller as InternalError (500), not as a business
// error, and is logged; a domain code without a handler mapping answers its
// generic entry.
func TestUnknownCodeIsInternalError(t *testing.T) {
	srv, _ := goldenServerFor(t)
	var log bytes.Buffer
	srv.cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
	for name, err := range map[string]error{
		"BrokenCode":    kafkaplane.Errorf("BIZ_TOPIC_NOT_FUOND", "A typo in a code."),
		"DomainInUse":   kafkaplane.Errorf(kafkaplane.CodeHasPolicies, "The thing still has policies."),
		"DomainRowGone": kafkaplane.Errorf(kafkaplane.CodeNotFound, "The row is gone."),
	} {
		srv.cfg.Registry.Add(&Action{
			Name: name, Product: "alikafka", Version: "2019-09-16", RAMAction: "alikafka:" + name, Resource: "*",
			Handler: func(context.Context, *Request) (Object, error) { return nil, err },
		})
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i, tt := range []struct {
		action, code, msg string
		status            int
	}{
		{"BrokenCode", "InternalError", apierr.InternalError.Message, 500},
		{"DomainInUse", "DeleteConflict", apierr.DeleteConflict.Message, 409},
		{"DomainRowGone", "EntityNotExist", "The row is gone.", 404},
	} {
		p := url.Values{"Action": {tt.action}, "Version": {"2019-09-16"}, "RegionId": {"cn-hangzhou"}, "Format": {"JSON"}}
		rpcsig.SignV1("POST", p, "testid", "testsecret", now, "unknown-code-"+strconv.Itoa(i))
		resp, err := http.Post(hs.URL+"/?"+p.Encode(), "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got struct{ Code, Message string }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: %v: %s", tt.action, err, body)
		}
		if resp.StatusCode != tt.status || got.Code != tt.code || got.Message != tt.msg {
			t.Errorf("%s: HTTP %d %s %q, want %d %s %q", tt.action, resp.StatusCode, got.Code, got.Message, tt.status, tt.code, tt.msg)
		}
	}
	if !strings.Contains(log.String(), "BIZ_TOPIC_NOT_FUOND") {
		t.Errorf("the unknown code was not logged:\n%s", log.String())
	}
}
