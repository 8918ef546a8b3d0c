package connlimit

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestCaps: connections over the per-IP or the total cap are closed at
// accept, and closing an accepted one frees its slot.
func TestCaps(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(raw, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func(src string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// refused reports whether the server closed c without accepting it.
	refused := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := c.Read(make([]byte, 1))
		return err == io.EOF || isReset(err)
	}
	a1, a2 := dial("127.0.0.1"), dial("127.0.0.1")
	s1, s2 := <-accepted, <-accepted
	if !refused(dial("127.0.0.1")) {
		t.Fatal("a third connection from one address was accepted")
	}
	dial("127.0.0.2")
	<-accepted
	if !refused(dial("127.0.0.3")) {
		t.Fatal("a connection over the total cap was accepted")
	}
	if tot, per := l.Refused(); tot != 1 || per != 1 || l.Open() != 3 {
		t.Fatalf("refused total %d, per IP %d, open %d", tot, per, l.Open())
	}
	s1.Close()
	s1.Close() // a second Close frees nothing more
	a1.Close()
	dial("127.0.0.1")
	<-accepted
	if l.Open() != 3 {
		t.Fatalf("open = %d after one closed and one accepted", l.Open())
	}
	_, _ = a2, s2
	if _, err := New(raw, 4, 4); err == nil {
		t.Fatal("a per-IP cap equal to the total was accepted")
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	if e, ok := err.(*net.OpError); ok {
		ne = e
	}
	return ne != nil && !ne.Timeout()
}
