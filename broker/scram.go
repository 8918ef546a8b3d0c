package broker

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/kafkaplane/kafkaplane"
)

// SASL mechanisms the brokers offer, in the order SaslHandshake lists them.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

var saslMechanisms = []string{MechanismPlain, MechanismScramSHA256, MechanismScramSHA512}

// scramIterations is the PBKDF2 iteration count of new credentials: 4096,
// the least Kafka accepts for SCRAM.
const scramIterations = 4096

// The SASL user types belong to the domain (package kafkaplane); these
// names keep the broker package's spelling.
type (
	// SaslUser is one SASL user with salted credentials.
	SaslUser = kafkaplane.SaslUser
	// PlainCredential is a salted hash of a PLAIN password.
	PlainCredential = kafkaplane.PlainCredential
	// ScramCredential is a SCRAM credential as RFC 5802 defines it.
	ScramCredential = kafkaplane.ScramCredential
)

func scramHash(mechanism string) func() hash.Hash {
	switch mechanism {
	case MechanismScramSHA256:
		return sha256.New
	case MechanismScramSHA512:
		return sha512.New
	}
	return nil
}

// NewSaslUser derives credentials for name and password for each of
// mechanisms (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).
func NewSaslUser(name, password string, mechanisms ...string) (SaslUser, error) {
	u := SaslUser{Name: name}
	for _, m := range mechanisms {
		salt := make([]byte, 16)
		rand.Read(salt)
		switch m {
		case MechanismPlain:
			h, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
			if err != nil {
				return SaslUser{}, err
			}
			u.Plain = &PlainCredential{Salt: salt, Iterations: scramIterations, Hash: h}
		case MechanismScramSHA256, MechanismScramSHA512:
			c, err := NewScramCredential(m, password, salt, scramIterations)
			if err != nil {
				return SaslUser{}, err
			}
			if u.Scram == nil {
				u.Scram = map[string]ScramCredential{}
			}
			u.Scram[m] = c
		default:
			return SaslUser{}, invalid("unknown SASL mechanism %q", m)
		}
	}
	return u, nil
}

// NewScramCredential derives the SCRAM credential of password.
func NewScramCredential(mechanism, password string, salt []byte, iterations int) (ScramCredential, error) {
	h := scramHash(mechanism)
	if h == nil {
		return ScramCredential{}, invalid("unknown SCRAM mechanism %q", mechanism)
	}
	salted, err := pbkdf2.Key(h, password, salt, iterations, h().Size())
	if err != nil {
		return ScramCredential{}, err
	}
	clientKey := hmacSum(h, salted, []byte("Client Key"))
	stored := h()
	stored.Write(clientKey)
	return ScramCredential{
		Salt:       salt,
		Iterations: iterations,
		StoredKey:  stored.Sum(nil),
		ServerKey:  hmacSum(h, salted, []byte("Server Key")),
	}, nil
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// validateUser checks that u's credentials are well formed.
func validateUser(u *SaslUser) error {
	if u.Plain != nil && (len(u.Plain.Salt) == 0 || u.Plain.Iterations <= 0 || len(u.Plain.Hash) != sha256.Size) {
		return invalid("SASL user %q: malformed PLAIN credential", u.Name)
	}
	for m, c := range u.Scram {
		h := scramHash(m)
		if h == nil {
			return invalid("SASL user %q: unknown SCRAM mechanism %q", u.Name, m)
		}
		if len(c.Salt) == 0 || c.Iterations < scramIterations || len(c.StoredKey) != h().Size() || len(c.ServerKey) != h().Size() {
			return invalid("SASL user %q: malformed %s credential", u.Name, m)
		}
	}
	return nil
}

// errAuthFailed is a failed login: wrong password, unknown user or a
// malformed exchange. The message is what a 2.2.0 broker puts in
// SaslAuthenticate's error message.
type errAuthFailed struct{ msg string }

func (e *errAuthFailed) Error() string { return e.msg }

func authFailed(format string, args ...any) error {
	return &errAuthFailed{fmt.Sprintf(format, args...)}
}

// saslServer is one SASL exchange on the server side. step takes the
// client's next token and returns the server's answer; done is set when
// the client is authenticated, user naming it.
type saslServer interface {
	step(token []byte) (answer []byte, done bool, err error)
	user() string
}

func newSaslServer(mechanism string, sec *security) saslServer {
	switch mechanism {
	case MechanismPlain:
		return &plainServer{sec: sec}
	case MechanismScramSHA256, MechanismScramSHA512:
		return &scramServer{sec: sec, mechanism: mechanism, h: scramHash(mechanism)}
	}
	return nil
}

// plainServer verifies an RFC 4616 message: authzid NUL authcid NUL passwd.
type plainServer struct {
	sec  *security
	name string
}

func (p *plainServer) user() string { return p.name }

func (p *plainServer) step(token []byte) ([]byte, bool, error) {
	const failed = "Authentication failed: Invalid username or password"
	parts := bytes.Split(token, []byte{0})
	if len(parts) != 3 {
		return nil, false, authFailed("Invalid SASL/PLAIN response: expected 3 tokens, got %d", len(parts))
	}
	authzid, authcid, passwd := string(parts[0]), string(parts[1]), parts[2]
	if authcid == "" {
		return nil, false, authFailed("Authentication failed: username not specified")
	}
	if len(passwd) == 0 {
		return nil, false, authFailed("Authentication failed: password not specified")
	}
	if authzid != "" && authzid != authcid {
		return nil, false, authFailed("Authentication failed: Client requested an authorization id that is different from username")
	}
	u := p.sec.users[authcid]
	if u == nil || u.Plain == nil {
		return nil, false, authFailed(failed)
	}
	got, err := pbkdf2.Key(sha256.New, string(passwd), u.Plain.Salt, u.Plain.Iterations, len(u.Plain.Hash))
	if err != nil || subtle.ConstantTimeCompare(got, u.Plain.Hash) != 1 {
		return nil, false, authFailed(failed)
	}
	p.name = authcid
	return []byte{}, true, nil
}

// scramServer is the server side of RFC 5802 (SCRAM-SHA-256 per RFC 7677,
// and SCRAM-SHA-512) without channel binding, as Kafka runs it.
type scramServer struct {
	sec       *security
	mechanism string
	h         func() hash.Hash

	state       int // 0: want client-first, 1: want client-final, 2: done
	name        string
	cred        ScramCredential
	gs2Header   string
	clientFirst string // client-first-message-bare
	serverFirst string
	nonce       string
}

func (s *scramServer) user() string { return s.name }

// failed is the message a 2.2.0 broker gives every SCRAM failure.
func (s *scramServer) failed() error {
	return authFailed("Authentication failed during authentication due to invalid credentials with SASL mechanism %s", s.mechanism)
}

// scramAttrs splits "a=1,b=2" into its attributes in order.
func scramAttrs(s string) ([][2]string, bool) {
	var out [][2]string
	for _, f := range strings.Split(s, ",") {
		if len(f) < 2 || f[1] != '=' {
			return nil, false
		}
		out = append(out, [2]string{f[:1], f[2:]})
	}
	return out, true
}

// scramName decodes a saslname (",": "=2C", "=": "=3D").
func scramName(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

func (s *scramServer) step(token []byte) ([]byte, bool, error) {
	switch s.state {
	case 0:
		return s.clientFirstMessage(string(token))
	case 1:
		return s.clientFinalMessage(string(token))
	}
	return nil, false, s.failed()
}

func (s *scramServer) clientFirstMessage(msg string) ([]byte, bool, error) {
	// gs2-header: "n," or "y," (no channel binding), optional "a=authzid", ",".
	cb, rest, ok := strings.Cut(msg, ",")
	if !ok || (cb != "n" && cb != "y") {
		return nil, false, s.failed()
	}
	authzid, bare, ok := strings.Cut(rest, ",")
	if !ok || (authzid != "" && !strings.HasPrefix(authzid, "a=")) {
		return nil, false, s.failed()
	}
	attrs, ok := scramAttrs(bare)
	if !ok || len(attrs) < 2 || attrs[0][0] != "n" || attrs[1][0] != "r" || attrs[1][1] == "" {
		return nil, false, s.failed()
	}
	name, ok := scramName(attrs[0][1])
	if !ok {
		return nil, false, s.failed()
	}
	if authzid != "" {
		if z, ok := scramName(authzid[2:]); !ok || z != name {
			return nil, false, s.failed()
		}
	}
	u := s.sec.users[name]
	if u == nil {
		return nil, false, s.failed()
	}
	cred, ok := u.Scram[s.mechanism]
	if !ok {
		return nil, false, s.failed()
	}
	var r [24]byte
	rand.Read(r[:])
	s.name, s.cred = name, cred
	s.gs2Header = cb + "," + authzid + ","
	s.clientFirst = bare
	s.nonce = attrs[1][1] + base64.RawURLEncoding.EncodeToString(r[:])
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(cred.Salt) + ",i=" + strconv.Itoa(cred.Iterations)
	s.state = 1
	return []byte(s.serverFirst), false, nil
}

func (s *scramServer) clientFinalMessage(msg string) ([]byte, bool, error) {
	s.state = 2
	withoutProof, proofAttr, ok := strings.Cut(msg, ",p=")
	if !ok {
		return nil, false, s.failed()
	}
	attrs, ok := scramAttrs(withoutProof)
	if !ok || len(attrs) < 2 || attrs[0][0] != "c" || attrs[1][0] != "r" {
		return nil, false, s.failed()
	}
	if cbind, err := base64.StdEncoding.DecodeString(attrs[0][1]); err != nil || string(cbind) != s.gs2Header {
		return nil, false, s.failed()
	}
	// Kafka accepts a final nonce that ends with the server's, and
	// librdkafka (kcat) relies on that: it sends its own nonce again in
	// front of the combined one. The proof covers the nonce as sent, so
	// nothing is weakened.
	if !strings.HasSuffix(attrs[1][1], s.nonce) {
		return nil, false, s.failed()
	}
	proof, err := base64.StdEncoding.DecodeString(proofAttr)
	if err != nil || len(proof) != len(s.cred.StoredKey) {
		return nil, false, s.failed()
	}
	authMessage := []byte(s.clientFirst + "," + s.serverFirst + "," + withoutProof)
	clientSig := hmacSum(s.h, s.cred.StoredKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	stored := s.h()
	stored.Write(clientKey)
	if subtle.ConstantTimeCompare(stored.Sum(nil), s.cred.StoredKey) != 1 {
		return nil, false, s.failed()
	}
	serverSig := hmacSum(s.h, s.cred.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSig)), true, nil
}

var errSaslState = errors.New("request not allowed before SASL authentication")
