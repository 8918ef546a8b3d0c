package broker

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Bounds of what the fronts remember of an instance's clients: the most
// (address, role, name) entries and rebalances kept. When full, the entry
// seen least recently (the oldest rebalance) makes room for the new one,
// so a busy instance costs at most these many entries.
const (
	maxClientsSeen = 1024
	maxRebalances  = 256
	// sampleEvery is how often one connection's produce requests are
	// looked into for the topics they write: a producer is seen within
	// this long, and the hot path pays for one decode per period.
	sampleEvery = time.Second
)

type clientKey struct{ ip, role, name, group string }

// observer records an instance's clients; it is shared by its fronts and
// safe for concurrent use.
type observer struct {
	mu      sync.Mutex
	clients map[clientKey]*ClientSeen
	// joining holds, per group, when the current round's first JoinGroup
	// arrived and why.
	joining    map[string]joinStart
	rebalances []Rebalance
	forgotten  bool
}

type joinStart struct {
	at     time.Time
	reason string
}

func newObserver() *observer {
	return &observer{clients: map[clientKey]*ClientSeen{}, joining: map[string]joinStart{}}
}

func (o *observer) client(ip, role, name, group string, now time.Time) {
	if ip == "" {
		return
	}
	k := clientKey{ip, role, name, group}
	o.mu.Lock()
	defer o.mu.Unlock()
	if c := o.clients[k]; c != nil {
		c.Count++
		c.Last = now
		return
	}
	if len(o.clients) >= maxClientsSeen {
		var oldest clientKey
		var at time.Time
		for k, c := range o.clients {
			if at.IsZero() || c.Last.Before(at) {
				oldest, at = k, c.Last
			}
		}
		delete(o.clients, oldest)
		o.forgotten = true
	}
	o.clients[k] = &ClientSeen{IP: ip, Role: role, Name: name, Group: group, Count: 1, First: now, Last: now}
}

func (o *observer) joinRequested(group, reason string, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.joining[group]; !ok {
		if len(o.joining) >= maxRebalances {
			clear(o.joining)
		}
		o.joining[group] = joinStart{at: now, reason: reason}
	}
}

// joinAnswered records a JoinGroup answer: the round that formed
// generation gen of group (or failed) ends, or is extended by a later
// member's answer.
func (o *observer) joinAnswered(group string, gen int32, ok bool, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.rebalances) - 1; i >= 0 && ok; i-- {
		r := &o.rebalances[i]
		if r.Group == group && r.Generation == gen {
			r.Finished = now
			return
		}
	}
	st, found := o.joining[group]
	if !found {
		st = joinStart{at: now, reason: "member rejoined"}
	}
	delete(o.joining, group)
	if len(o.rebalances) >= maxRebalances {
		o.rebalances = slices.Delete(o.rebalances, 0, len(o.rebalances)-maxRebalances+1)
		o.forgotten = true
	}
	o.rebalances = append(o.rebalances, Rebalance{Group: group, Generation: gen, Started: st.at, Finished: now, Success: ok, Reason: st.reason})
}

func (o *observer) snapshot() Observations {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := Observations{Forgotten: o.forgotten}
	for _, c := range o.clients {
		out.Clients = append(out.Clients, *c)
	}
	slices.SortFunc(out.Clients, func(a, b ClientSeen) int {
		return cmp.Or(b.Last.Compare(a.Last), cmp.Compare(a.IP, b.IP), cmp.Compare(a.Name, b.Name))
	})
	// Newest first: the latest recorded leads among rounds that began at
	// the same time.
	out.Rebalances = slices.Clone(o.rebalances)
	slices.Reverse(out.Rebalances)
	slices.SortStableFunc(out.Rebalances, func(a, b Rebalance) int { return b.Started.Compare(a.Started) })
	return out
}

// observeProduce records the topics a produce request writes, at most
// once per sampleEvery on one connection.
func (pc *proxyConn) observeProduce(h requestHeader, body []byte) {
	now := time.Now()
	if now.Sub(pc.lastSample) < sampleEvery {
		return
	}
	pc.lastSample = now
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(h.version)
	if req.ReadFrom(body) != nil {
		return
	}
	for _, t := range req.Topics {
		pc.b.inst.seen.client(pc.host, RoleProducer, t.Topic, "", now)
	}
}

// observeJoin records a consumer group member's address with the topics it
// subscribes to, and the start of a rebalance round; the answer's
// generation is read from the response.
func (pc *proxyConn) observeJoin(h requestHeader, body []byte) func([]byte) ([]byte, error) {
	req := kmsg.NewPtrJoinGroupRequest()
	req.SetVersion(h.version)
	if req.ReadFrom(body) != nil {
		return nil
	}
	now := time.Now()
	seen := pc.b.inst.seen
	reason := "member rejoined"
	if req.MemberID == "" {
		reason = "new member joined"
	}
	if h.clientID != nil && *h.clientID != "" {
		reason += " (client " + *h.clientID + ")"
	}
	seen.joinRequested(req.Group, reason, now)
	if req.ProtocolType == "consumer" && len(req.Protocols) > 0 {
		var meta kmsg.ConsumerMemberMetadata
		if meta.ReadFrom(req.Protocols[0].Metadata) == nil {
			for _, t := range meta.Topics {
				seen.client(pc.host, RoleConsumer, t, req.Group, now)
			}
		}
	}
	return func(resp []byte) ([]byte, error) {
		r := kmsg.NewPtrJoinGroupResponse()
		r.SetVersion(h.version)
		// MEMBER_ID_REQUIRED hands a new member its id to join with;
		// the round goes on with its next JoinGroup.
		if r.ReadFrom(resp) == nil && r.ErrorCode != kerr.MemberIDRequired.Code {
			seen.joinAnswered(req.Group, r.Generation, r.ErrorCode == 0, time.Now())
		}
		return resp, nil
	}
}

// Observed returns what the instance's fronts saw of its clients.
func (k *Kafka) Observed(_ context.Context, instanceID string) (Observations, error) {
	inst, err := k.get(instanceID)
	if err != nil {
		return Observations{}, err
	}
	return inst.seen.snapshot(), nil
}

// DiskUsed sums the sizes of the instance's partitions in storage; see
// Runtime.
func (k *Kafka) DiskUsed(ctx context.Context, instanceID string) (int64, error) {
	var used int64
	err := k.withStorage(ctx, instanceID, func(_ *instance, adm *kadm.Client) error {
		dirs, err := adm.DescribeAllLogDirs(ctx, nil)
		if err != nil {
			return fmt.Errorf("broker: describe log dirs: %w", err)
		}
		dirs.Each(func(d kadm.DescribedLogDir) {
			d.Topics.Each(func(p kadm.DescribedLogDirPartition) { used += p.Size })
		})
		return nil
	})
	return used, err
}

// InjectsFaults marks Kafka as a FaultInjector: RestartBroker restarts a
// broker whatever version it runs.
func (k *Kafka) InjectsFaults() {}
