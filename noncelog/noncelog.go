// Package noncelog remembers the signature nonces of each AccessKey in
// memory, backed by append-only segment files, so that a replayed request
// is refused even after the process restarts.
//
// It is the single-process alternative to keeping nonces in the database:
// recording a nonce is one write(2) to a file opened O_APPEND instead of a
// SQLite transaction, which is what every signed request would otherwise
// wait for. A process crash loses nothing (the page cache survives it); a
// machine crash may lose the last writes, as with any store that does not
// fsync each request. Replicas sharing PostgreSQL use the database instead.
package noncelog

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// Log implements kafkaplane.NonceService.
type Log struct {
	dir         string
	rotateEvery time.Duration

	mu       sync.Mutex
	keys     map[string]*keyNonces
	f        *os.File
	segStart int64     // unix microseconds of the current segment's start
	segMax   int64     // latest expiry written to the current segment
	closed   []segment // earlier segments, oldest first
	calls    int
}

// keyNonces are one AccessKey's remembered nonces.
type keyNonces struct {
	expires map[string]int64 // nonce → expiry, unix microseconds
	// earliest is a lower bound of the expiries in the map, so that a
	// key with nothing expired is not scanned.
	earliest int64
}

var _ kafkaplane.NonceService = (*Log)(nil)

const segPrefix, segSuffix = "nonces-", ".log"

// legacyRetention is how long a line of the older format, which recorded
// when a nonce was used rather than when it expires, is kept.
const legacyRetention = 15 * time.Minute

// Open loads the unexpired nonces from dir (created if missing) and starts
// a new segment; a new segment is started every rotateEvery.
func Open(dir string, rotateEvery time.Duration, now time.Time) (*Log, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	l := &Log{dir: dir, rotateEvery: rotateEvery, keys: map[string]*keyNonces{}}
	segs, err := l.segments()
	if err != nil {
		return nil, err
	}
	nowUS := now.UnixMicro()
	for _, s := range segs {
		s.maxExpiry, err = l.load(s.path, nowUS)
		if err != nil {
			return nil, err
		}
		l.closed = append(l.closed, s)
	}
	if err := l.rotate(nowUS); err != nil {
		return nil, err
	}
	return l, nil
}

type segment struct {
	path      string
	start     int64
	maxExpiry int64 // latest expiry of its entries
}

// segments lists the segment files oldest first.
func (l *Log) segments() ([]segment, error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var out []segment
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, segPrefix) || !strings.HasSuffix(name, segSuffix) {
			continue
		}
		start, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, segPrefix), segSuffix), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, segment{path: filepath.Join(l.dir, name), start: start})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out, nil
}

// load reads one segment and returns the latest expiry in it. A torn last
// line (a crash mid-write) is skipped: its request never got an answer.
func (l *Log) load(path string, now int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var latest int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		exp, key, nonce, ok := parseLine(sc.Text())
		if !ok {
			continue
		}
		latest = max(latest, exp)
		if exp > now {
			l.remember(key, nonce, exp)
		}
	}
	return latest, sc.Err()
}

// remember records an expiry, keeping the later one of a nonce seen twice.
func (l *Log) remember(key, nonce string, exp int64) {
	k := l.keys[key]
	if k == nil {
		k = &keyNonces{expires: map[string]int64{}, earliest: exp}
		l.keys[key] = k
	}
	if exp > k.expires[nonce] {
		k.expires[nonce] = exp
	}
	k.earliest = min(k.earliest, exp)
}

// forget drops a key's expired nonces, unless none can have expired.
func (k *keyNonces) forget(now int64) {
	if k.earliest > now {
		return
	}
	k.earliest = math.MaxInt64
	for n, exp := range k.expires {
		if exp <= now {
			delete(k.expires, n)
		} else {
			k.earliest = min(k.earliest, exp)
		}
	}
}

// A line is "e<expiry, unix µs> <quoted key> <quoted nonce>": quoting keeps
// any byte of a nonce (a newline, say) on its own line. Lines of the older
// format start with the time of use instead, without the "e".
func formatLine(exp int64, key, nonce string) string {
	return "e" + strconv.FormatInt(exp, 10) + " " + strconv.Quote(key) + " " + strconv.Quote(nonce) + "\n"
}

func parseLine(s string) (exp int64, key, nonce string, ok bool) {
	ts, rest, found := strings.Cut(s, " ")
	if !found {
		return 0, "", "", false
	}
	legacy := !strings.HasPrefix(ts, "e")
	exp, err := strconv.ParseInt(strings.TrimPrefix(ts, "e"), 10, 64)
	if err != nil {
		return 0, "", "", false
	}
	if legacy {
		exp += legacyRetention.Microseconds()
	}
	qk, err := strconv.QuotedPrefix(rest)
	if err != nil || len(rest) < len(qk)+2 {
		return 0, "", "", false
	}
	key, err = strconv.Unquote(qk)
	if err != nil {
		return 0, "", "", false
	}
	nonce, err = strconv.Unquote(rest[len(qk)+1:])
	if err != nil {
		return 0, "", "", false
	}
	return exp, key, nonce, true
}

// rotate starts a new segment at now and removes the earlier segments
// whose entries have all expired.
func (l *Log) rotate(now int64) error {
	path := filepath.Join(l.dir, fmt.Sprintf("%s%d%s", segPrefix, now, segSuffix))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if l.f != nil {
		l.f.Close()
		l.closed = append(l.closed, segment{path: l.f.Name(), start: l.segStart, maxExpiry: l.segMax})
	}
	l.f, l.segStart, l.segMax = f, now, 0
	kept := l.closed[:0]
	for _, s := range l.closed {
		if s.maxExpiry <= now && s.path != path {
			os.Remove(s.path)
			continue
		}
		kept = append(kept, s)
	}
	l.closed = kept
	return nil
}

// UseNonce implements kafkaplane.NonceService. The nonce is written to the
// log before the answer, so a fresh answer is never given twice.
func (l *Log) UseNonce(_ context.Context, accessKeyID, nonce string, now, expires time.Time, limit int) (bool, error) {
	at, exp := now.UnixMicro(), expires.UnixMicro()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return false, fmt.Errorf("noncelog: closed")
	}
	if k := l.keys[accessKeyID]; k != nil {
		if e, ok := k.expires[nonce]; ok && e > at {
			return false, nil
		}
		if len(k.expires) >= limit {
			k.forget(at)
			if len(k.expires) >= limit {
				return false, &kafkaplane.NonceLimitError{Limit: limit, RetryAfter: time.Duration(k.earliest-at) * time.Microsecond}
			}
		}
	}
	if at-l.segStart > l.rotateEvery.Microseconds() {
		if err := l.rotate(at); err != nil {
			return false, err
		}
	}
	if _, err := l.f.WriteString(formatLine(exp, accessKeyID, nonce)); err != nil {
		return false, fmt.Errorf("noncelog: %w", err)
	}
	l.segMax = max(l.segMax, exp)
	l.remember(accessKeyID, nonce, exp)
	if l.calls++; l.calls%4096 == 0 {
		for id, k := range l.keys {
			if k.forget(at); len(k.expires) == 0 {
				delete(l.keys, id)
			}
		}
	}
	return true, nil
}

// Len reports how many nonces are remembered.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, k := range l.keys {
		n += len(k.expires)
	}
	return n
}

// Close closes the current segment.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
