package broker

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxSaslToken bounds one SASL token; real tokens are a few hundred bytes.
const maxSaslToken = 64 << 10

// authenticate runs the SASL exchange that opens every connection on a
// SASL listener and returns the authenticated user. It follows what the
// broker's own Kafka version does:
//
//   - before the handshake only ApiVersions and SaslHandshake are
//     answered; any other request closes the connection;
//   - an unknown mechanism is answered UNSUPPORTED_SASL_MECHANISM with
//     the enabled ones listed, then the connection is closed;
//   - after SaslHandshake v0 (0.10.2, or an old client on 2.2.0) the
//     tokens travel raw, length-prefixed without a request header, and a
//     failed login closes the connection without an answer;
//   - after SaslHandshake v1 (2.2.0) the tokens travel in
//     SaslAuthenticate, and a failed login is answered
//     SASL_AUTHENTICATION_FAILED with a message before the close.
func (b *frontBroker) authenticate(c net.Conn, r *bufio.Reader, sec *security) (string, error) {
	ver := b.ver.Load()
	for {
		frame, err := readFrame(r)
		if err != nil {
			return "", err
		}
		h, err := parseRequestHeader(frame)
		if err != nil {
			return "", err
		}
		switch h.key {
		case kmsg.ApiVersions.Int16():
			if err := writeFrameTo(c, h.corr, apiVersionsAnswer(ver, h.version)); err != nil {
				return "", err
			}
		case kmsg.SASLHandshake.Int16():
			if h.version < 0 || h.version > ver.maxVersion(h.key) {
				return "", fmt.Errorf("SaslHandshake v%d on a %s broker", h.version, ver.name)
			}
			req := kmsg.NewPtrSASLHandshakeRequest()
			req.Version = h.version
			if err := req.ReadFrom(frame[h.bodyAt:]); err != nil {
				return "", err
			}
			resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
			resp.SupportedMechanisms = slices.Clone(saslMechanisms)
			srv := newSaslServer(req.Mechanism, sec)
			if srv == nil {
				resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
			}
			if err := writeFrameTo(c, h.corr, resp.AppendTo(nil)); err != nil {
				return "", err
			}
			if srv == nil {
				return "", fmt.Errorf("unsupported SASL mechanism %q", req.Mechanism)
			}
			if h.version == 0 {
				return rawSaslTokens(c, r, srv)
			}
			return saslAuthenticate(c, r, srv, ver)
		default:
			return "", errSaslState
		}
	}
}

// apiVersionsAnswer is the ApiVersions body for a request at version.
func apiVersionsAnswer(v *apiVersion, version int16) []byte {
	if version > v.maxVersion(kmsg.ApiVersions.Int16()) || version < 0 {
		return unsupportedApiVersionsBody()
	}
	return v.apiVersionsBody(version)
}

// rawSaslTokens runs the exchange of a SaslHandshake v0 connection.
func rawSaslTokens(c net.Conn, r *bufio.Reader, srv saslServer) (string, error) {
	var size [4]byte
	for {
		if _, err := io.ReadFull(r, size[:]); err != nil {
			return "", err
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		if n < 0 || n > maxSaslToken {
			return "", fmt.Errorf("SASL token of %d bytes", n)
		}
		tok := make([]byte, n)
		if _, err := io.ReadFull(r, tok); err != nil {
			return "", err
		}
		ans, done, err := srv.step(tok)
		if err != nil {
			return "", err
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(len(ans)))
		if _, err := c.Write(append(out, ans...)); err != nil {
			return "", err
		}
		if done {
			return srv.user(), nil
		}
	}
}

// saslAuthenticate runs the exchange of a SaslHandshake v1 connection.
func saslAuthenticate(c net.Conn, r *bufio.Reader, srv saslServer, ver *apiVersion) (string, error) {
	for {
		frame, err := readFrame(r)
		if err != nil {
			return "", err
		}
		h, err := parseRequestHeader(frame)
		if err != nil {
			return "", err
		}
		if h.key != kmsg.SASLAuthenticate.Int16() || h.version < 0 || h.version > ver.maxVersion(h.key) {
			return "", errSaslState
		}
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.Version = h.version
		if err := req.ReadFrom(frame[h.bodyAt:]); err != nil {
			return "", err
		}
		resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		ans, done, stepErr := srv.step(req.SASLAuthBytes)
		if stepErr != nil {
			resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
			msg := stepErr.Error()
			var af *errAuthFailed
			if !errors.As(stepErr, &af) {
				msg = "Authentication failed"
			}
			resp.ErrorMessage = &msg
		} else {
			resp.SASLAuthBytes = ans
		}
		if err := writeFrameTo(c, h.corr, resp.AppendTo(nil)); err != nil {
			return "", err
		}
		if stepErr != nil {
			return "", stepErr
		}
		if done {
			return srv.user(), nil
		}
	}
}

func writeFrameTo(w io.Writer, corr int32, body []byte) error {
	out := make([]byte, 8, 8+len(body))
	binary.BigEndian.PutUint32(out[:4], uint32(len(body)+4))
	binary.BigEndian.PutUint32(out[4:], uint32(corr))
	_, err := w.Write(append(out, body...))
	return err
}

// saslAfterLogin answers SaslHandshake and SaslAuthenticate on a
// connection that is past authentication or on the plaintext listener:
// ILLEGAL_SASL_STATE, as Kafka's request handler answers them.
func saslAfterLogin(key, version int16) []byte {
	if key == kmsg.SASLHandshake.Int16() {
		resp := kmsg.NewPtrSASLHandshakeResponse()
		resp.Version = version
		resp.ErrorCode = kerr.IllegalSaslState.Code
		resp.SupportedMechanisms = slices.Clone(saslMechanisms)
		return resp.AppendTo(nil)
	}
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.Version = version
	resp.ErrorCode = kerr.IllegalSaslState.Code
	msg := "SaslAuthenticate request received after successful authentication"
	resp.ErrorMessage = &msg
	return resp.AppendTo(nil)
}
