package broker

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// roundTrip sends one non-flexible request on a fresh connection and
// decodes the answer. It is for the runtime's own rare admin and health
// traffic; a fresh connection per call keeps it independent of client
// connections and of any broker restart.
func roundTrip(ctx context.Context, addr string, req kmsg.Request) (kmsg.Response, error) {
	if req.IsFlexible() {
		return nil, fmt.Errorf("roundTrip: key %d v%d is flexible", req.Key(), req.GetVersion())
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	clientID := "kafkaplane"
	const corr = 1
	frame := appendRequestFrame(nil, req.Key(), req.GetVersion(), corr, &clientID, req.AppendTo(nil))
	if _, err := conn.Write(frame); err != nil {
		return nil, err
	}
	body, err := readFrame(bufio.NewReader(conn))
	if err != nil {
		return nil, err
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != corr {
		return nil, fmt.Errorf("roundTrip: correlation %d, want %d", got, corr)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if err := resp.ReadFrom(body[4:]); err != nil {
		return nil, err
	}
	return resp, nil
}
