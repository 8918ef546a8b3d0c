package broker

import "github.com/twmb/franz-go/pkg/kmsg"

// routeAuthorized is route with the connection's SASL state applied:
// SaslHandshake and SaslAuthenticate after login are refused as Kafka
// refuses them, and SASL principals are held to the instance's ACLs.
func (pc *proxyConn) routeAuthorized(h requestHeader, frame []byte) (pending, bool, []byte) {
	switch h.key {
	case kmsg.SASLHandshake.Int16(), kmsg.SASLAuthenticate.Int16():
		if h.version >= 0 && h.version <= pc.ver.maxVersion(h.key) {
			return pending{corr: h.corr, local: saslAfterLogin(h.key, h.version)}, false, nil
		}
	}
	return pc.route(h, frame)
}
