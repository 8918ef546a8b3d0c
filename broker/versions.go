package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// apiVersion is the protocol surface of one open-source Kafka release as a
// front broker presents it.
type apiVersion struct {
	name  string // "0.10.2", "2.2.0"
	guess string // what kversion.VersionGuess says about it ("v0.10.2", "v2.2")
	vs    *kversion.Versions
	// legacy is true for releases that predate record batches (magic 2):
	// their produce and fetch traffic uses message sets and has to be
	// converted for the storage engine.
	legacy bool
}

// apiVersionFor maps an instance version string onto the API table of
// that release. Only the releases alikafka sells are known; anything else
// is refused rather than guessed, because a wrong table would be a lie on
// the wire.
func apiVersionFor(version string) (*apiVersion, error) {
	switch version {
	case "0.10.2":
		return &apiVersion{name: version, guess: "v0.10.2", vs: kversion.V0_10_2(), legacy: true}, nil
	case "2.2.0":
		return &apiVersion{name: version, guess: "v2.2", vs: kversion.V2_2_0()}, nil
	}
	return nil, fmt.Errorf("broker: unknown Kafka version %q (want 0.10.2 or 2.2.0)", version)
}

// maxVersion returns the highest version of key this release accepts, or
// -1 when the release does not know the key at all.
func (a *apiVersion) maxVersion(key int16) int16 {
	v, ok := a.vs.LookupMaxKeyVersion(key)
	if !ok {
		return -1
	}
	return v
}

// apiVersionsBody encodes an ApiVersions response body (without the
// correlation id) at version, listing exactly this release's table with
// minimum 0 as the open-source brokers of these releases did.
func (a *apiVersion) apiVersionsBody(version int16) []byte {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = version
	a.vs.EachMaxKeyVersion(func(k, v int16) {
		key := kmsg.NewApiVersionsResponseApiKey()
		key.ApiKey = k
		key.MinVersion = 0
		key.MaxVersion = v
		resp.ApiKeys = append(resp.ApiKeys, key)
	})
	return resp.AppendTo(nil)
}

// unsupportedApiVersionsBody is what 0.10.x–2.3 brokers answer to an
// ApiVersions request newer than they know: a version-0 body carrying
// UNSUPPORTED_VERSION and no keys (KIP-511's hint only arrived in 2.4).
// Clients fall back to version 0 on seeing it.
func unsupportedApiVersionsBody() []byte {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	return resp.AppendTo(nil)
}
