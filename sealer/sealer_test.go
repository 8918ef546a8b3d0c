package sealer

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func testSealer(t *testing.T, b byte) *Sealer {
	s, err := New(bytes.Repeat([]byte{b}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := testSealer(t, 1)
	a := s.Seal("top secret", "access_keys/secret/LTAI1")
	b := s.Seal("top secret", "access_keys/secret/LTAI1")
	if !IsSealed(a) || strings.Contains(a, "top secret") {
		t.Fatalf("sealed %q", a)
	}
	if a == b {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if got, err := s.Open(a, "access_keys/secret/LTAI1"); err != nil || got != "top secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(a, "access_keys/secret/LTAI2"); !errors.Is(err, ErrOpen) {
		t.Errorf("opened under another context: %v", err)
	}
	if _, err := testSealer(t, 2).Open(a, "access_keys/secret/LTAI1"); !errors.Is(err, ErrOpen) {
		t.Errorf("opened with another key: %v", err)
	}
	for _, bad := range []string{"top secret", Prefix, Prefix + "!!", a[:len(a)-2]} {
		if _, err := s.Open(bad, "access_keys/secret/LTAI1"); err == nil {
			t.Errorf("opened %q", bad)
		}
	}
	if _, err := New(make([]byte, 16)); err == nil {
		t.Error("accepted a 16-byte key")
	}
}

func TestLoadKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultKeyFile)
	if _, err := LoadKeyFile(path, false); err == nil {
		t.Fatal("loaded a missing key file without create")
	}
	// Concurrent first starts agree on one key.
	var wg sync.WaitGroup
	sealers := make([]*Sealer, 8)
	for i := range sealers {
		wg.Go(func() {
			s, err := LoadKeyFile(path, true)
			if err != nil {
				t.Error(err)
			}
			sealers[i] = s
		})
	}
	wg.Wait()
	sealed := sealers[0].Seal("v", "c")
	for _, s := range sealers {
		if got, err := s.Open(sealed, "c"); err != nil || got != "v" {
			t.Fatalf("sealers disagree: %v", err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode().Perm(), err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(path, true); err == nil {
		t.Error("loaded a key file others may read")
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o600)
	if _, err := LoadKeyFile(path, true); err == nil {
		t.Error("loaded a malformed key file")
	}
}
