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
	entries map[string]cachedRead
}

// cachedRead is one stored result: a list of the query's rows (a slice
// of instances, topics or consumer groups), valid while gen is current.
type cachedRead struct {
	gen  uint64
	list any
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
	return cachedQuery(ctx, db, query, args, load, cloneInstances)
}

// cachedQuery runs query through load unless an unchanged result is
// cached; clone copies a result so that callers and the cache share no
// memory. Instance, topic and consumer-group lists go through it, so
// GetInstanceList's use counts cost no query while nothing was written.
func cachedQuery[T any](ctx context.Context, db *DB, query string, args []any,
	load func(context.Context, string, []any) ([]T, error), clone func([]T) []T) ([]T, error) {
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
		if list, isT := e.list.([]T); ok && isT && e.gen == gen {
			return clone(list), nil
		}
	}
	list, err := load(ctx, query, args)
	if err != nil || gen%2 != 0 || c.gen.Load() != gen {
		return list, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCachedReads {
		c.entries = map[string]cachedRead{}
	}
	c.entries[key] = cachedRead{gen: gen, list: clone(list)}
	c.mu.Unlock()
	return list, nil
}

// cloneTopics and cloneGroups copy topic and consumer-group lists deeply
// enough that no slice or map is shared with the cache.
func cloneTopics(list []*kafkaplane.Topic) []*kafkaplane.Topic {
	if list == nil {
		return nil
	}
	out := make([]*kafkaplane.Topic, len(list))
	for i, t := range list {
		c := *t
		c.Tags = slices.Clone(t.Tags)
		c.Config = maps.Clone(t.Config)
		out[i] = &c
	}
	return out
}

func cloneGroups(list []*kafkaplane.ConsumerGroup) []*kafkaplane.ConsumerGroup {
	if list == nil {
		return nil
	}
	out := make([]*kafkaplane.ConsumerGroup, len(list))
	for i, g := range list {
		c := *g
		c.Tags = slices.Clone(g.Tags)
		out[i] = &c
	}
	return out
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
		c.Deployment.VSwitchIDs = slices.Clone(inst.Deployment.VSwitchIDs)
		c.Deployment.UserDefinedSGs = slices.Clone(inst.Deployment.UserDefinedSGs)
		c.Deployment.ScalingRules = slices.Clone(inst.Deployment.ScalingRules)
		for j := range c.Deployment.ScalingRules {
			c.Deployment.ScalingRules[j].WeeklyTypes = slices.Clone(c.Deployment.ScalingRules[j].WeeklyTypes)
		}
		if p := inst.Deployment.PendingSpec; p != nil {
			cp := *p
			c.Deployment.PendingSpec = &cp
		}
		c.SaslPorts = slices.Clone(inst.SaslPorts)
		c.SslPorts = slices.Clone(inst.SslPorts)
		out[i] = &c
	}
	return out
}
