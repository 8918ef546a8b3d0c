package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// Session lifetimes: a session ends AbsoluteTTL after sign-in however busy
// it is, and IdleTTL after its last request.
const (
	AbsoluteTTL = 12 * time.Hour
	IdleTTL     = 30 * time.Minute
	// maxSessions bounds the memory sessions take; signing in beyond it
	// drops the sessions idle the longest.
	maxSessions = 10000
)

// session is one signed-in browser. The AccessKey secret lives here, in
// memory only: it is never written to the cookie, a log or the store.
type session struct {
	keyID, secret string
	userName      string // the RAM user's name when known, "" for root
	csrf          string
	created, seen time.Time
}

// sessions holds the live sessions, keyed by the SHA-256 of their id, so
// that a lookup does not compare secret ids byte by byte and a memory dump
// of the map does not hold usable cookies.
type sessions struct {
	mu sync.Mutex
	m  map[[32]byte]*session
}

func newSessions() *sessions { return &sessions{m: map[[32]byte]*session{}} }

// randomToken returns 256 random bits, URL-safe base64.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("console: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session and returns its id.
func (s *sessions) create(sess *session, now time.Time) string {
	id := randomToken()
	sess.csrf = randomToken()
	sess.created, sess.seen = now, now
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	for len(s.m) >= maxSessions {
		var oldest [32]byte
		var at time.Time
		for k, v := range s.m {
			if at.IsZero() || v.seen.Before(at) {
				oldest, at = k, v.seen
			}
		}
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(id))] = sess
	return id
}

// get returns the live session with id and marks it used; an expired one
// is removed.
func (s *sessions) get(id string, now time.Time) *session {
	if id == "" {
		return nil
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[k]
	if !ok {
		return nil
	}
	if expired(sess, now) {
		delete(s.m, k)
		return nil
	}
	sess.seen = now
	return sess
}

// remove ends the session with id.
func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(id)))
}

func (s *sessions) sweep(now time.Time) {
	for k, v := range s.m {
		if expired(v, now) {
			delete(s.m, k)
		}
	}
}

func expired(sess *session, now time.Time) bool {
	return now.Sub(sess.created) >= AbsoluteTTL || now.Sub(sess.seen) >= IdleTTL
}

// validCSRF compares a request's token with the session's in constant
// time.
func (sess *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) == 1
}
