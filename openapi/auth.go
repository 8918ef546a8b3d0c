package openapi

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
	"github.com/kafkaplane/kafkaplane/rpcsig"
)

// verifyV1 authenticates a request signed with HMAC-SHA1.
// The nonce is recorded only after the signature matched, so nobody can
// burn another key's nonces with unsigned requests.
func (s *Server) verifyV1(r *http.Request, params url.Values, now time.Time) (*kafkaplane.AccessKey, error) {
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp", "SignatureVersion"} {
		if params.Get(name) == "" {
			return nil, apierr.Missing(name)
		}
	}
	if params.Get("SignatureMethod") != "HMAC-SHA1" {
		return nil, apierr.InvalidSignatureMethod.New()
	}
	if params.Get("SignatureVersion") != "1.0" {
		return nil, apierr.InvalidSignatureVersion.New()
	}
	if st := params.Get("SignatureType"); st != "" {
		// BEARERTOKEN and other schemes are not AccessKey signatures.
		return nil, apierr.InvalidSignatureMethod.Errorf("Specified signature type %q is not supported.", st)
	}
	ts, err := checkTime(params.Get("Timestamp"), now)
	if err != nil {
		return nil, err
	}
	key, err := s.findKey(r, params.Get("AccessKeyId"))
	if err != nil {
		return nil, err
	}
	sts, ok := rpcsig.VerifyV1(r.Method, params, key.Secret)
	if !ok {
		return nil, signatureMismatch(sts)
	}
	if err := s.useNonce(r, key, params.Get("SignatureNonce"), ts, now); err != nil {
		return nil, err
	}
	return key, nil
}

// verifyV3 authenticates an ACS3-HMAC-SHA256 request.
func (s *Server) verifyV3(r *http.Request, query url.Values, body []byte, now time.Time) (*kafkaplane.AccessKey, error) {
	auth, err := rpcsig.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		if errors.Is(err, rpcsig.ErrUnsupportedAlgorithm) {
			return nil, apierr.InvalidSignatureMethod.New()
		}
		return nil, apierr.IncompleteSignature.New()
	}
	// A V3 request carries the common parameters as headers; a missing
	// one gets the same Missing code as its V1 parameter.
	date := r.Header.Get("x-acs-date")
	if date == "" {
		return nil, missingHeader("Timestamp", "x-acs-date")
	}
	nonce := r.Header.Get("x-acs-signature-nonce")
	if nonce == "" {
		return nil, missingHeader("SignatureNonce", "x-acs-signature-nonce")
	}
	ts, err := checkTime(date, now)
	if err != nil {
		return nil, err
	}
	key, err := s.findKey(r, auth.AccessKeyID)
	if err != nil {
		return nil, err
	}
	// The V3 signature covers the query only; a form body is bound through
	// x-acs-content-sha256.
	q, _ := url.ParseQuery(r.URL.RawQuery)
	sts, ok, err := rpcsig.VerifyV3(r.Method, r.URL.Path, q, rpcsig.HeaderWithHost(r.Header, r.Host), body, auth, key.Secret)
	switch {
	case errors.Is(err, rpcsig.ErrPayloadHashMismatch):
		return nil, apierr.SignatureDoesNotMatch.Errorf("The x-acs-content-sha256 header does not match the request body.")
	case errors.Is(err, rpcsig.ErrIncompleteSignature):
		return nil, apierr.IncompleteSignature.Errorf("The request signature does not conform to Aliyun standards: %v.", err)
	case errors.Is(err, rpcsig.ErrUnsupportedAlgorithm):
		return nil, apierr.InvalidSignatureMethod.New()
	case err != nil:
		return nil, apierr.IncompleteSignature.New()
	case !ok:
		return nil, signatureMismatch(sts)
	}
	if err := s.useNonce(r, key, nonce, ts, now); err != nil {
		return nil, err
	}
	return key, nil
}

func missingHeader(param, header string) error {
	e := apierr.Missing(param)
	e.Message = "The " + header + " header is mandatory for this action."
	return e
}

// signatureMismatch carries our string to sign after the exact marker the
// legacy SDK looks for: it compares it with its own and tells the user
// whether the secret or the canonicalisation is wrong.
func signatureMismatch(stringToSign string) error {
	return apierr.SignatureDoesNotMatch.Errorf("Specified signature is not matched with our calculation. server string to sign is:%s", stringToSign)
}

// checkTime parses a request's timestamp and refuses it unless it is within
// skew of the server's clock.
func checkTime(s string, now time.Time) (time.Time, error) {
	t, err := rpcsig.ParseTimestamp(s)
	if err != nil {
		return time.Time{}, apierr.TimeStampFormat.New()
	}
	if d := now.Sub(t); d > skew || d < -skew {
		return time.Time{}, apierr.TimeStampExpired.New()
	}
	return t, nil
}

func (s *Server) findKey(r *http.Request, id string) (*kafkaplane.AccessKey, error) {
	key, err := s.cfg.Keys.FindAccessKey(r.Context(), id)
	if err != nil {
		if code := kafkaplane.ErrorCode(err); code == kafkaplane.CodeNotFound {
			return nil, apierr.InvalidAccessKeyNotFound.New()
		}
		return nil, err
	}
	if key.Status != kafkaplane.AccessKeyActive {
		return nil, apierr.InvalidAccessKeyInactive.New()
	}
	return key, nil
}

// nonceExpiry is how long a nonce must be remembered: as long as checkTime
// would still accept its request's timestamp ts, which for a request dated
// ahead of the server's clock is later than skew after now.
func nonceExpiry(ts, now time.Time) time.Time {
	if ts.After(now) {
		return ts.Add(skew)
	}
	return now.Add(skew)
}

// useNonce records a verified request's nonce until nonceExpiry. A key
// that holds Config.NonceCap unexpired nonces is refused with
// Throttling.User until some expire; its nonces are never forgotten early,
// since that would let their requests be replayed.
func (s *Server) useNonce(r *http.Request, key *kafkaplane.AccessKey, nonce string, ts, now time.Time) error {
	if len(nonce) > 128 {
		return apierr.Invalid("SignatureNonce", "It is longer than 128 characters.")
	}
	fresh, err := s.cfg.Nonces.UseNonce(r.Context(), key.ID, nonce, now, nonceExpiry(ts, now), s.cfg.NonceCap)
	var lim *kafkaplane.NonceLimitError
	if errors.As(err, &lim) {
		return &rateLimited{
			err:   apierr.ThrottlingUser.Errorf("Request was denied due to user flow control: the AccessKey has %d signature nonces that have not expired, its limit; retry later.", lim.Limit),
			limit: lim.Limit, retryAfter: lim.RetryAfter,
		}
	}
	if err != nil {
		return err
	}
	if !fresh {
		return apierr.SignatureNonceUsed.New()
	}
	return nil
}
