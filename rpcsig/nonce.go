package rpcsig

import (
	"crypto/rand"
	"encoding/hex"
)

// NewNonce returns a fresh SignatureNonce (V1) or x-acs-signature-nonce
// (V3): 32 hexadecimal digits from crypto/rand, unique per request as the
// server's replay check requires.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
