package main

import (
	"io"
	"net/http"
	"testing"
)

// Profiles are served only on the --pprof listener, never on the API
// address, and not at all unless asked for.
func TestPprofOnlyOnItsOwnListener(t *testing.T) {
	get := func(u string) int {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	plain := startMain(t)
	if code := get(plain.URL() + "/debug/pprof/"); code == http.StatusOK {
		t.Fatalf("without --pprof the API address serves profiles")
	}

	addr := freeAddr(t)
	m := startMain(t, func(m *Main) { m.PprofAddr = addr })
	if code := get("http://" + addr + "/debug/pprof/"); code != http.StatusOK {
		t.Fatalf("--pprof listener answered %d", code)
	}
	if code := get(m.URL() + "/debug/pprof/"); code == http.StatusOK {
		t.Fatalf("with --pprof the API address serves profiles too")
	}

	f := NewMain()
	if err := f.ParseFlags([]string{"--pprof", "127.0.0.1:6060"}, io.Discard); err != nil || f.PprofAddr != "127.0.0.1:6060" {
		t.Fatalf("--pprof parsed to %q (%v)", f.PprofAddr, err)
	}
}
