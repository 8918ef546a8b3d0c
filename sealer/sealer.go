// Package sealer encrypts short secrets (AccessKey secrets, passwords) for
// storage, with a key kept apart from the data.
//
// A sealed value is text: the version prefix "kps1:" and the unpadded
// base64url encoding of a random 12-byte nonce followed by the AES-256-GCM
// ciphertext and its 16-byte tag. The caller passes a context string (for
// example the table, column and row id) that is authenticated but not
// stored, so a sealed value copied to another row or column does not open.
// The prefix names the format, so stored values can be told apart from
// plaintext written by older releases and from a future format.
package sealer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Prefix starts every value sealed in the current format.
const Prefix = "kps1:"

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// ErrOpen reports a sealed value that does not open with this key and
// context: another key, another row, or damaged data.
var ErrOpen = errors.New("sealer: sealed value does not open with this key")

// Sealer seals and opens values with one key. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer for a KeySize-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealer: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to context.
func (s *Sealer) Seal(plaintext, context string) string {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return Prefix + base64.RawURLEncoding.EncodeToString(out)
}

// Open decrypts a value Seal made with the same key and context.
func (s *Sealer) Open(sealed, context string) (string, error) {
	body, ok := strings.CutPrefix(sealed, Prefix)
	if !ok {
		return "", fmt.Errorf("sealer: value is not sealed in format %q", Prefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n+s.aead.Overhead() {
		return "", ErrOpen
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// IsSealed reports whether v is in the current sealed format. Anything
// else is plaintext from before secrets were sealed.
func IsSealed(v string) bool { return strings.HasPrefix(v, Prefix) }

// KeyFileEnv names the environment variable that points at a key file kept
// outside the data directory.
const KeyFileEnv = "KAFKAPLANE_SECRETS_KEY_FILE"

// DefaultKeyFile is the name of the key file in a data directory.
const DefaultKeyFile = "secrets.key"

// LoadKeyFile reads the key in path: KeySize bytes as hex, optionally
// followed by a newline. When the file does not exist and create is true,
// a random key is written there first, readable by its owner only. An
// existing key file readable by group or others is refused.
func LoadKeyFile(path string, create bool) (*Sealer, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := writeNewKey(path); err != nil {
			return nil, err
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("sealer: key file: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sealer: key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("sealer: key file %s has mode %v; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("sealer: key file %s does not hold a %d-byte hex key", path, KeySize)
	}
	return New(key)
}

// writeNewKey creates path with a random key, mode 0600 whatever the
// umask, and never overwrites an existing file (two processes starting at
// once: one creates it, the other reads it).
func writeNewKey(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sealer: key file: %w", err)
	}
	key := make([]byte, KeySize)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secrets-key-*")
	if err != nil {
		return fmt.Errorf("sealer: key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sealer: key file: %w", err)
	}
	// A hard link fails if path exists, unlike a rename, so a key another
	// process wrote first is kept.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("sealer: key file: %w", err)
	}
	return nil
}
