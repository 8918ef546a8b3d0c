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
	dir    string
	window time.Duration

	mu       sync.Mutex
	seen     map[string]int64 // key "\x00" nonce → unix microseconds
	f        *os.File
	segStart int64 // unix microseconds of the current segment's start
	calls    int
}

var _ kafkaplane.NonceService = (*Log)(nil)

const segPrefix, segSuffix = "nonces-", ".log"

// Open loads the nonces of the last window from dir (created if missing)
// and starts a new segment.
func Open(dir string, window time.Duration, now time.Time) (*Log, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	l := &Log{dir: dir, window: window, seen: map[string]int64{}}
	segs, err := l.segments()
	if err != nil {
		return nil, err
	}
	cutoff := now.Add(-window).UnixMicro()
	for _, s := range segs {
		if err := l.load(s.path, cutoff); err != nil {
			return nil, err
		}
	}
	if err := l.rotate(now.UnixMicro()); err != nil {
		return nil, err
	}
	return l, nil
}

type segment struct {
	path  string
	start int64
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
		out = append(out, segment{filepath.Join(l.dir, name), start})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out, nil
}

// load reads one segment. A torn last line (a crash mid-write) is skipped:
// its request never got an answer.
func (l *Log) load(path string, cutoff int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		at, key, nonce, ok := parseLine(sc.Text())
		if !ok || at < cutoff {
			continue
		}
		k := key + "\x00" + nonce
		if at > l.seen[k] {
			l.seen[k] = at
		}
	}
	return sc.Err()
}

// A line is "<unix µs> <quoted key> <quoted nonce>": quoting keeps any byte
// of a nonce (a newline, say) on its own line.
func formatLine(at int64, key, nonce string) string {
	return strconv.FormatInt(at, 10) + " " + strconv.Quote(key) + " " + strconv.Quote(nonce) + "\n"
}

func parseLine(s string) (at int64, key, nonce string, ok bool) {
	ts, rest, found := strings.Cut(s, " ")
	if !found {
		return 0, "", "", false
	}
	at, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, "", "", false
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
	return at, key, nonce, true
}

// rotate starts a new segment at now and removes segments whose entries
// are all older than the window: a segment ends where the next one starts.
func (l *Log) rotate(now int64) error {
	path := filepath.Join(l.dir, fmt.Sprintf("%s%d%s", segPrefix, now, segSuffix))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.segStart = f, now
	segs, err := l.segments()
	if err != nil {
		return err
	}
	cutoff := now - l.window.Microseconds()
	for i := 0; i+1 < len(segs); i++ {
		if segs[i+1].start < cutoff {
			os.Remove(segs[i].path)
		}
	}
	return nil
}

// UseNonce implements kafkaplane.NonceService. The nonce is written to the
// log before the answer, so a fresh answer is never given twice.
func (l *Log) UseNonce(_ context.Context, accessKeyID, nonce string, now time.Time, window time.Duration) (bool, error) {
	at := now.UnixMicro()
	cutoff := now.Add(-window).UnixMicro()
	k := accessKeyID + "\x00" + nonce
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return false, fmt.Errorf("noncelog: closed")
	}
	if t, ok := l.seen[k]; ok && t >= cutoff {
		return false, nil
	}
	if at-l.segStart > l.window.Microseconds() {
		if err := l.rotate(at); err != nil {
			return false, err
		}
	}
	if _, err := l.f.WriteString(formatLine(at, accessKeyID, nonce)); err != nil {
		return false, fmt.Errorf("noncelog: %w", err)
	}
	l.seen[k] = at
	if l.calls++; l.calls%4096 == 0 {
		for key, t := range l.seen {
			if t < cutoff {
				delete(l.seen, key)
			}
		}
	}
	return true, nil
}

// Len reports how many nonces are remembered.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
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
