package broker

import (
	"encoding/base64"
	"testing"
)

// TestScramRFC7677Vector runs the server side of RFC 7677's SCRAM-SHA-256
// example exchange (user "user", password "pencil") and checks the proof
// is accepted and the server signature is the RFC's.
func TestScramRFC7677Vector(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	cred, err := NewScramCredential(MechanismScramSHA256, "pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	sec := &security{users: map[string]*SaslUser{"user": {Name: "user", Scram: map[string]ScramCredential{MechanismScramSHA256: cred}}}}
	srv := newSaslServer(MechanismScramSHA256, sec).(*scramServer)
	first, done, err := srv.step([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
	if err != nil || done || string(first[:22]) != "r=rOprNGfwEbeRWgbNEkqO" {
		t.Fatalf("client-first: %q %v %v", first, done, err)
	}
	// Put the RFC's server nonce in place of the random one.
	srv.nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	srv.serverFirst = "r=" + srv.nonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	final := "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	ans, done, err := srv.step([]byte(final))
	if err != nil || !done || string(ans) != "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Fatalf("client-final: %q %v %v", ans, done, err)
	}
	if srv.user() != "user" {
		t.Fatalf("user %q", srv.user())
	}

	// A wrong proof, a replayed or foreign nonce and a channel-binding
	// header other than the one sent all fail.
	for _, bad := range []string{
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAAZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	} {
		s := newSaslServer(MechanismScramSHA256, sec).(*scramServer)
		if _, _, err := s.step([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")); err != nil {
			t.Fatal(err)
		}
		s.nonce, s.serverFirst = srv.nonce, srv.serverFirst
		if _, done, err := s.step([]byte(bad)); err == nil || done {
			t.Fatalf("%q accepted", bad)
		}
	}
	// SCRAM-SHA-256 credentials do not log in with SCRAM-SHA-512.
	if _, _, err := newSaslServer(MechanismScramSHA512, sec).step([]byte("n,,n=user,r=abc")); err == nil {
		t.Fatal("SCRAM-SHA-512 login with only a SHA-256 credential")
	}
}
