package broker_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawRequest writes one request frame (v1 header) on c and returns the
// response body after the correlation id.
func rawRequest(t *testing.T, c net.Conn, r *bufio.Reader, req kmsg.Request, corr int32) ([]byte, error) {
	t.Helper()
	body := req.AppendTo(nil)
	frame := binary.BigEndian.AppendUint32(nil, 0)
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.Key()))
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.GetVersion()))
	frame = binary.BigEndian.AppendUint32(frame, uint32(corr))
	frame = binary.BigEndian.AppendUint16(frame, 4)
	frame = append(frame, "test"...)
	frame = append(frame, body...)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(frame); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	resp := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(r, resp); err != nil {
		return nil, err
	}
	if got := int32(binary.BigEndian.Uint32(resp)); got != corr {
		t.Fatalf("correlation %d, want %d", got, corr)
	}
	return resp[4:], nil
}

func metadataV7(t *testing.T, addr string) *kmsg.MetadataResponse {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 7
	body, err := rawRequest(t, c, bufio.NewReader(c), req, 1)
	if err != nil {
		t.Fatal(err)
	}
	resp := kmsg.NewPtrMetadataResponse()
	resp.Version = 7
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	return resp
}

// A client that learned a leader epoch from a 2.2.0 broker and next asks
// a 0.10.2 one (Metadata v2 has no epochs) would see the epoch vanish. So
// while an instance runs both, the 2.2.0 brokers report none; once every
// broker is on 2.2.0 the real epochs appear.
func TestLeaderEpochsHiddenWhileVersionsAreMixed(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	const id = "alikafka_post-epochs"
	addrs := startInstance(t, k, id, "0.10.2", freePorts(t, 3))
	createTopic(t, addrs, "0.10.2", "e", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	order, err := k.RollOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	epochs := func(addr string) (hidden, shown int) {
		for _, tp := range metadataV7(t, addr).Topics {
			for _, p := range tp.Partitions {
				if p.LeaderEpoch < 0 {
					hidden++
				} else {
					shown++
				}
			}
		}
		return hidden, shown
	}
	for i, b := range order {
		if err := k.RestartBroker(ctx, id, b, "2.2.0"); err != nil {
			t.Fatal(err)
		}
		hidden, shown := epochs(addrs[b])
		last := i == len(order)-1
		if !last && (shown != 0 || hidden != 3) {
			t.Fatalf("after %d of %d brokers: %d epochs shown, %d hidden; want all hidden", i+1, len(order), shown, hidden)
		}
		if last && (shown != 3 || hidden != 0) {
			t.Fatalf("after the roll: %d epochs shown, %d hidden; want all shown", shown, hidden)
		}
	}
}

// A connection that has had no answer but the ApiVersions handshake when
// its broker restarts is reset, not closed: clients take an orderly close
// before their first real answer for a TLS or SASL mismatch and give up,
// while a reset is a network error they retry.
func TestRestartResetsConnectionsWithoutAnAnswer(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	const id = "alikafka_post-reset"
	addrs := startInstance(t, k, id, "2.2.0", freePorts(t, 3))

	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addrs[1])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		r := bufio.NewReader(c)
		if _, err := rawRequest(t, c, r, kmsg.NewPtrApiVersionsRequest(), 1); err != nil {
			t.Fatal(err)
		}
		return c, r
	}
	fresh, freshR := dial()
	used, usedR := dial()
	meta := kmsg.NewPtrMetadataRequest()
	meta.Version = 7
	if _, err := rawRequest(t, used, usedR, meta, 2); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := k.RestartBroker(ctx, id, 1, "2.2.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := rawRequest(t, fresh, freshR, meta, 3); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("handshake-only connection after restart: %v, want a reset", err)
	}
	if _, err := rawRequest(t, used, usedR, meta, 3); !errors.Is(err, io.EOF) {
		t.Fatalf("answered connection after restart: %v, want an orderly close", err)
	}
}

// Clients that connect while a broker restarts are never refused (a
// refused dial costs them a whole retry back-off): they wait and are
// served by the broker that comes back, at its new version.
func TestClientsConnectingDuringRestartWait(t *testing.T) {
	k := newRuntime(t, t.TempDir())
	defer k.Close()
	const id = "alikafka_post-wait"
	addrs := startInstance(t, k, id, "0.10.2", freePorts(t, 3))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- k.RestartBroker(ctx, id, 1, "2.2.0") }()

	produceMax := func() (int16, error) {
		c, err := net.Dial("tcp", addrs[1])
		if err != nil {
			return 0, err
		}
		defer c.Close()
		body, err := rawRequest(t, c, bufio.NewReader(c), kmsg.NewPtrApiVersionsRequest(), 1)
		if err != nil {
			return 0, err
		}
		resp := kmsg.NewPtrApiVersionsResponse()
		if err := resp.ReadFrom(body); err != nil {
			return 0, err
		}
		for _, key := range resp.ApiKeys {
			if key.ApiKey == 0 {
				return key.MaxVersion, nil
			}
		}
		return -1, nil
	}
	var dials, onNew int
	for restarting := true; restarting; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			restarting = false
		default:
		}
		v, err := produceMax()
		dials++
		switch {
		case errors.Is(err, syscall.ECONNRESET):
			// The broker went down between this client's handshake
			// and its answer: a reset, which clients retry.
		case err != nil:
			t.Fatalf("dial %d during restart: %v", dials, err)
		case v == 7:
			if restarting {
				onNew++
			}
		case v != 2:
			t.Fatalf("Produce max version %d, want 2 (0.10.2) or 7 (2.2.0)", v)
		}
		time.Sleep(3 * time.Millisecond)
	}
	if onNew == 0 {
		t.Fatalf("%d dials, none made during the restart was served by the restarted broker", dials)
	}
	t.Logf("%d dials, %d made during the restart and served at 2.2.0", dials, onNew)
}
