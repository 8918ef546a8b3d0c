package broker

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// frontBroker is one broker as clients see it: a listener on the
// instance's stable port that speaks exactly its version's protocol and
// proxies to the storage engine's node of the same id.
type frontBroker struct {
	inst *instance
	id   int32
	host string // advertised
	port int
	// saslPort and sslPort are the broker's SASL_PLAINTEXT and SASL_SSL
	// listeners; 0 when the instance has none.
	saslPort, sslPort int

	ver atomic.Pointer[apiVersion]
	// up is what metadata says: a broker that is restarting is left out
	// of the broker list, as a real broker that deregistered would be.
	up atomic.Bool
	// produceInFlight counts produce requests forwarded but not yet
	// answered (the answer flushed to the client), so a restart can let
	// them finish instead of cutting them off (a cut-off acked-by-storage
	// produce would be retried by a non-idempotent client and duplicated).
	produceInFlight atomic.Int64
	// draining is set when the broker stops for good: it takes no more
	// requests, so those it took can all be answered before dropConns.
	draining atomic.Bool

	mu sync.Mutex
	// lns are the broker's listeners, one per kind it has; nil while it
	// is stopped.
	lns   []net.Listener
	conns map[*proxyConn]struct{}
	// gate is non-nil while the broker restarts: clients that connect
	// meanwhile are left in the listen queue and served once it closes.
	gate chan struct{}
}

func (b *frontBroker) addr() string { return net.JoinHostPort(b.host, strconv.Itoa(b.port)) }

// portOf is the broker's port for listener kind l (0 when it has none).
func (b *frontBroker) portOf(l Listener) int {
	switch l {
	case ListenerSasl:
		return b.saslPort
	case ListenerSaslSSL:
		return b.sslPort
	}
	return b.port
}

// listen starts accepting clients on every listener the broker has.
func (b *frontBroker) listen(listenHost string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lns != nil {
		b.openGateLocked()
		b.up.Store(true)
		return nil
	}
	var lns []net.Listener
	kinds := make([]Listener, 0, len(Listeners))
	for _, kind := range Listeners {
		port := b.portOf(kind)
		if port == 0 {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(listenHost, strconv.Itoa(port)))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("broker %d: %s: %w", b.id, kind, err)
		}
		lns = append(lns, ln)
		kinds = append(kinds, kind)
	}
	b.lns = lns
	if b.conns == nil {
		b.conns = map[*proxyConn]struct{}{}
	}
	b.up.Store(true)
	for i, ln := range lns {
		go b.accept(ln, kinds[i])
	}
	return nil
}

func (b *frontBroker) accept(ln net.Listener, kind Listener) {
	// Start binds the ports before the storage engine picks its own
	// ephemeral ones, so clients may only be served once it is up.
	<-b.inst.ready
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go b.admit(c, kind)
	}
}

// serve dials the storage node for a new, admitted client connection and
// starts proxying. Dialling happens off the accept loop so a slow dial
// does not hold up other clients.
func (b *frontBroker) serve(c net.Conn, upAddr string, s session) {
	up, err := net.Dial("tcp", upAddr)
	if err != nil {
		b.inst.log.Warn("dial storage node", "broker", b.id, "err", err)
		c.Close()
		return
	}
	if tc := tcpConn(c); tc != nil {
		tc.SetNoDelay(true)
	}
	pc := &proxyConn{
		b:       b,
		client:  c,
		up:      up,
		pending: make(chan pending, 256),
		created: time.Now(),
		session: s,
	}
	b.mu.Lock()
	for b.gate != nil {
		// The broker is restarting: the client waits, as those still in
		// the listen queue do, and is served by the broker that comes
		// back. Registering under the same lock that pause takes means
		// no connection slips past dropConns with the old version.
		gate := b.gate
		b.mu.Unlock()
		<-gate
		b.mu.Lock()
	}
	pc.ver = b.ver.Load()
	if b.lns == nil {
		// The broker stopped while this client connected. Closing now
		// would cut the client off right after its first request, which
		// clients take for an authentication failure and do not retry;
		// a broker that goes away answers what it has accepted. So the
		// connection gets one answer and is then closed, an ordinary
		// disconnect the client retries elsewhere.
		pc.doomed = true
		time.AfterFunc(2*time.Second, pc.abort)
	}
	b.conns[pc] = struct{}{}
	b.mu.Unlock()
	go pc.writeLoop()
	pc.readLoop()
}

// stopListening closes the listener and hides the broker from metadata;
// connected clients keep working until dropConns.
func (b *frontBroker) stopListening() {
	b.up.Store(false)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ln := range b.lns {
		ln.Close()
	}
	b.lns = nil
	b.openGateLocked()
}

// pause stops taking new clients off the listen queue while the port
// stays bound, as when a restarting broker's successor inherits its
// socket: a client connecting meanwhile is neither refused nor served
// by the old broker, it waits and is served once listen resumes. A
// refused dial would instead cost clients a full retry back-off.
func (b *frontBroker) pause() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gate == nil {
		b.gate = make(chan struct{})
	}
}

func (b *frontBroker) openGateLocked() {
	if b.gate != nil {
		close(b.gate)
		b.gate = nil
	}
}

// connCount is how many client connections the broker has.
func (b *frontBroker) connCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

// dropConns closes every client connection, the way a broker process
// going away does. Clients see the disconnect at once instead of waiting
// for a request timeout.
func (b *frontBroker) dropConns() {
	// A connection whose first request is still unanswered is given a
	// moment to get its answer; one that does not is reset by abort
	// rather than closed, which clients retry.
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) && b.hasFreshRequest() {
		time.Sleep(2 * time.Millisecond)
	}
	b.mu.Lock()
	conns := make([]*proxyConn, 0, len(b.conns))
	for pc := range b.conns {
		conns = append(conns, pc)
	}
	b.mu.Unlock()
	for _, pc := range conns {
		pc.abort()
	}
	if b.draining.Load() {
		// Answered connections of a broker stopping for good close
		// gently (see abort): wait, briefly, for their clients to read
		// the last answers and hang up.
		deadline := time.Now().Add(gentleClose)
		for time.Now().Before(deadline) && b.connCount() > 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// gentleClose bounds how long a stopping broker waits for a client to
// hang up after the broker's last answer.
const gentleClose = 500 * time.Millisecond

// hasFreshRequest reports a connection that has not had a real answer
// yet but is about to: it has a request in flight, or it is young enough
// that its client is still between the handshake and its first request.
func (b *frontBroker) hasFreshRequest() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for pc := range b.conns {
		if pc.answered.Load() {
			continue
		}
		if pc.requests.Load() > 1 || (pc.requests.Load() > 0 && time.Since(pc.created) < 500*time.Millisecond) {
			return true
		}
	}
	return false
}

func (b *frontBroker) stop() {
	b.stopListening()
	b.dropConns()
}

// pending is one request's place in the response order of a connection.
type pending struct {
	corr int32
	// local, when non-nil, is a response body the front answers itself.
	local []byte
	// upstream means a response comes from the storage node; convert,
	// when set, rewrites its body (after the correlation id) for the
	// client, otherwise it is passed through untouched.
	upstream bool
	convert  func([]byte) ([]byte, error)
	// closeConn ends the connection once earlier responses are out: what
	// a real broker does for a request it cannot parse.
	closeConn bool
	produce   bool
	// handshake marks ApiVersions, which clients do not count as a
	// successful response of the connection.
	handshake bool
}

// proxyConn is one client connection and its storage-node connection.
// The version is fixed at accept time: a broker switches versions only
// across a restart, which drops its connections.
type proxyConn struct {
	b       *frontBroker
	ver     *apiVersion
	client  net.Conn
	up      net.Conn
	pending chan pending
	once    sync.Once
	// requests and answered tell dropConns whether the client is still
	// waiting for the first answer on this connection; answered counts
	// only answers after the ApiVersions handshake.
	requests atomic.Int64
	answered atomic.Bool
	created  time.Time
	// doomed connections arrived while the broker stopped: they are
	// closed after their first answer (see serve).
	doomed bool
	// lastSample is when observeProduce last looked into a request; only
	// the read loop uses it.
	lastSample time.Time
	session
}

// abort ends a connection because the broker is going away. A connection
// that has delivered a real answer is closed normally; clients retry an
// ordinary disconnect. One that has not is reset instead: clients take an
// orderly close before the first answer for a TLS or SASL mismatch and
// fail their requests for good, while a reset is a network error they
// retry elsewhere, which is what a broker restart calls for.
//
// When the broker stops for good (draining), an answered connection is
// closed gently instead: its write side is shut after the last answer and
// the read loop, which discards what arrives while draining, closes it
// when the client hangs up or gentleClose has passed. Closing at once with
// requests the client sent meanwhile still unread would reset the
// connection, and a reset can destroy answers the client had not read
// yet; a producer without idempotence would then send written records
// again.
func (pc *proxyConn) abort() {
	if !pc.answered.Load() {
		if tc := tcpConn(pc.client); tc != nil {
			tc.SetLinger(0)
		}
		pc.close()
		return
	}
	if tc := tcpConn(pc.client); tc != nil && pc.b.draining.Load() {
		if tc.CloseWrite() == nil && pc.client.SetReadDeadline(time.Now().Add(gentleClose)) == nil {
			return
		}
	}
	pc.close()
}

func (pc *proxyConn) close() {
	pc.once.Do(func() {
		pc.client.Close()
		pc.up.Close()
		pc.b.mu.Lock()
		delete(pc.b.conns, pc)
		pc.b.mu.Unlock()
	})
}

const maxFrame = 100 << 20

func readFrame(r *bufio.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 4 || n > maxFrame {
		return nil, fmt.Errorf("bad frame size %d", n)
	}
	buf := make([]byte, n)
	_, err := io.ReadFull(r, buf)
	return buf, err
}

// requestHeader is the part of a (non-flexible, v1) request header the
// front needs.
type requestHeader struct {
	key, version int16
	corr         int32
	clientID     *string
	bodyAt       int
}

func parseRequestHeader(frame []byte) (requestHeader, error) {
	if len(frame) < 10 {
		return requestHeader{}, errors.New("short request header")
	}
	h := requestHeader{
		key:     int16(binary.BigEndian.Uint16(frame[0:2])),
		version: int16(binary.BigEndian.Uint16(frame[2:4])),
		corr:    int32(binary.BigEndian.Uint32(frame[4:8])),
	}
	n := int16(binary.BigEndian.Uint16(frame[8:10]))
	h.bodyAt = 10
	if n >= 0 {
		if len(frame) < 10+int(n) {
			return requestHeader{}, errors.New("short client id")
		}
		s := string(frame[10 : 10+int(n)])
		h.clientID = &s
		h.bodyAt += int(n)
	}
	return h, nil
}

// appendRequestFrame encodes a complete request frame (size prefix and
// v1 header) for body at version.
func appendRequestFrame(dst []byte, key, version int16, corr int32, clientID *string, body []byte) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(key))
	dst = binary.BigEndian.AppendUint16(dst, uint16(version))
	dst = binary.BigEndian.AppendUint32(dst, uint32(corr))
	if clientID == nil {
		dst = binary.BigEndian.AppendUint16(dst, 0xffff)
	} else {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(*clientID)))
		dst = append(dst, *clientID...)
	}
	dst = append(dst, body...)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

func (pc *proxyConn) readLoop() {
	// A client that went away gets no more answers: closing both sides
	// at once also frees the writer if it waits on a long-poll fetch.
	// A refused request instead leaves the writer to flush earlier
	// answers and close.
	refused := false
	defer func() {
		close(pc.pending)
		if !refused {
			pc.close()
		}
	}()
	cr := pc.reader
	if cr == nil {
		cr = bufio.NewReaderSize(pc.client, 32<<10)
	}
	uw := bufio.NewWriterSize(pc.up, 32<<10)
	var sizeBuf [4]byte
	for {
		frame, err := readFrame(cr)
		if err != nil {
			return
		}
		if pc.b.draining.Load() {
			// The broker is stopping: this request is not taken (the
			// client sends it again after the restart); those taken go
			// out and are answered, and dropConns ends the connection.
			uw.Flush()
			for {
				if _, err := readFrame(cr); err != nil {
					return
				}
			}
		}
		h, err := parseRequestHeader(frame)
		if err != nil {
			refused = true
			pc.pending <- pending{closeConn: true}
			return
		}
		p, send, out := pc.routeAuthorized(h, frame)
		p.handshake = h.key == kmsg.ApiVersions.Int16()
		if p.produce {
			pc.b.produceInFlight.Add(1)
		}
		if p.upstream || p.local != nil || p.closeConn {
			pc.requests.Add(1)
			pc.pending <- p
		}
		if p.closeConn {
			refused = true
			pc.b.inst.log.Debug("closing connection on unsupported request", "broker", pc.b.id,
				"key", h.key, "version", h.version, "broker_version", pc.ver.name)
			return
		}
		if send {
			if out == nil { // pass-through: the client's frame goes out unchanged
				binary.BigEndian.PutUint32(sizeBuf[:], uint32(len(frame)))
				if _, err := uw.Write(sizeBuf[:]); err != nil {
					return
				}
				out = frame
			}
			if _, err := uw.Write(out); err != nil {
				return
			}
		}
		if cr.Buffered() == 0 {
			if err := uw.Flush(); err != nil {
				return
			}
		}
	}
}

func (pc *proxyConn) writeLoop() {
	// owed counts produce answers written to cw but not yet flushed: they
	// leave produceInFlight only once the client can have them.
	var owed int64
	defer func() {
		pc.close()
		pc.b.produceInFlight.Add(-owed)
		for p := range pc.pending { // unblock the reader and settle counters
			if p.produce {
				pc.b.produceInFlight.Add(-1)
			}
		}
	}()
	ur := bufio.NewReaderSize(pc.up, 64<<10)
	cw := bufio.NewWriterSize(pc.client, 64<<10)
	var hdr [8]byte
	// real is set once a response other than the handshake is written;
	// answered follows only when it has left the buffer, because abort
	// relies on the client having it.
	real := false
	for p := range pc.pending {
		err := pc.respond(p, ur, cw, hdr[:])
		if err == nil && !p.handshake {
			real = true
		}
		if p.produce {
			owed++
		}
		if err == nil && len(pc.pending) == 0 {
			err = cw.Flush()
			if err == nil {
				if real {
					pc.answered.Store(true)
				}
				pc.b.produceInFlight.Add(-owed)
				owed = 0
			}
		}
		if err != nil || p.closeConn || (pc.doomed && !p.handshake) {
			if cw.Flush() == nil && real {
				pc.answered.Store(true)
			}
			return
		}
	}
}

func (pc *proxyConn) respond(p pending, ur *bufio.Reader, cw *bufio.Writer, hdr []byte) error {
	if p.closeConn {
		return nil
	}
	if !p.upstream {
		return writeResponse(cw, p.corr, p.local)
	}
	if p.convert == nil {
		// Stream the response through without buffering it whole:
		// fetch responses can be large.
		if _, err := io.ReadFull(ur, hdr); err != nil {
			return err
		}
		n := int32(binary.BigEndian.Uint32(hdr[:4]))
		if corr := int32(binary.BigEndian.Uint32(hdr[4:8])); corr != p.corr || n < 4 || n > maxFrame {
			return fmt.Errorf("storage answered correlation %d size %d, want %d", corr, n, p.corr)
		}
		if _, err := cw.Write(hdr); err != nil {
			return err
		}
		_, err := io.CopyN(cw, ur, int64(n-4))
		return err
	}
	frame, err := readFrame(ur)
	if err != nil {
		return err
	}
	if corr := int32(binary.BigEndian.Uint32(frame[:4])); corr != p.corr {
		return fmt.Errorf("storage answered correlation %d, want %d", corr, p.corr)
	}
	body, err := p.convert(frame[4:])
	if err != nil {
		return err
	}
	return writeResponse(cw, p.corr, body)
}

func writeResponse(w *bufio.Writer, corr int32, body []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(body)+4))
	binary.BigEndian.PutUint32(hdr[4:], uint32(corr))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}
