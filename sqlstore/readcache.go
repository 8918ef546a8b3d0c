package sqlstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kafkaplane/kafkaplane"
)

// maxCachedReads bounds the instance read cache; it is emptied when full.
const maxCachedReads = 1024

// readCache keeps the results of instance list queries on SQLite, where
// this process is the only writer. Every SQLite write in this package runs
// under writing(), which advances gen when it takes the write lock and
// again when it releases it (after the commit), so gen is odd while a write
// may be in progress and changes with every write. A result is stored only
// if gen was even and unchanged across its query, and served only while
// gen still has that value: any write, to any table, empties the cache in
// effect. PostgreSQL is shared with other replicas and is never cached.
type readCache struct {
	gen     atomic.Uint64
	mu      sync.Mutex
	entries map[string]cachedInstances
}

type cachedInstances struct {
	gen  uint64
	list []*kafkaplane.Instance
}

// readKey is the cache key of one query with its arguments.
func readKey(query string, args []any) string {
	var b strings.Builder
	b.WriteString(query)
	for _, a := range args {
		b.WriteByte(0)
		if s, ok := a.(string); ok {
			b.WriteString(s)
		} else {
			fmt.Fprint(&b, a)
		}
	}
	return b.String()
}

// cachedInstanceQuery runs query through load unless an unchanged result is
// cached. Callers get copies they may change freely.
func (db *DB) cachedInstanceQuery(ctx context.Context, query string, args []any,
	load func(context.Context, string, []any) ([]*kafkaplane.Instance, error)) ([]*kafkaplane.Instance, error) {
	if db.d.engine != EngineSQLite {
		return load(ctx, query, args)
	}
	c := &db.reads
	key := readKey(query, args)
	gen := c.gen.Load()
	if gen%2 == 0 {
		c.mu.Lock()
		e, ok := c.entries[key]
		c.mu.Unlock()
		if ok && e.gen == gen {
			return cloneInstances(e.list), nil
		}
	}
	list, err := load(ctx, query, args)
	if err != nil || gen%2 != 0 || c.gen.Load() != gen {
		return list, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCachedReads {
		c.entries = map[string]cachedInstances{}
	}
	c.entries[key] = cachedInstances{gen: gen, list: cloneInstances(list)}
	c.mu.Unlock()
	return list, nil
}

// cloneInstances copies instances deeply enough that no slice or map is
// shared with the cache.
func cloneInstances(list []*kafkaplane.Instance) []*kafkaplane.Instance {
	if list == nil {
		return nil
	}
	out := make([]*kafkaplane.Instance, len(list))
	for i, inst := range list {
		c := *inst
		c.Tags = slices.Clone(inst.Tags)
		c.Config = maps.Clone(inst.Config)
		c.BrokerPorts = slices.Clone(inst.BrokerPorts)
		c.SaslPorts = slices.Clone(inst.SaslPorts)
		c.SslPorts = slices.Clone(inst.SslPorts)
		out[i] = &c
	}
	return out
}
