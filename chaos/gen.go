package chaos

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
)

// op is one step the driver takes. The sequence of ops is a function of
// the seed alone: what an op targets is a slot (an index), not an id, so
// the same seed issues the same operations whatever the server answered.
type op struct {
	kind string
	slot int    // instance slot
	n, m int    // topic/group/user index, policy index
	arg  string // version, hostile variant
	sig  string // v1 or v3
}

func (o op) String() string {
	return fmt.Sprintf("%s slot=%d n=%d m=%d arg=%q sig=%s", o.kind, o.slot, o.n, o.m, o.arg, o.sig)
}

// Sizes of the model's name spaces: small, so that operations collide.
const (
	instanceSlots = 4
	topicNames    = 4
	groupNames    = 3
	userNames     = 4
	policyNames   = 3
)

// weights is the mix of operations: lifecycle, upgrades, topics, RAM
// changes, calls as RAM users and hostile requests.
var weights = []struct {
	kind string
	w    int
}{
	{"CreatePostPayOrder", 6}, {"StartInstance", 8}, {"StopInstance", 3}, {"ReopenInstance", 3},
	{"ReleaseInstance", 4}, {"DeleteInstance", 4}, {"UpgradeInstanceVersion", 6}, {"ModifyInstanceName", 3},
	{"UpgradeDataInstance", 1},
	{"CreateTopic", 8}, {"DeleteTopic", 5}, {"ModifyTopicRemark", 3},
	{"CreateConsumerGroup", 3}, {"DeleteConsumerGroup", 2},
	{"GetInstanceList", 5}, {"GetTopicList", 4}, {"ListInstanceOperations", 2},
	{"CreateUser", 4}, {"DeleteUser", 3}, {"CreatePolicy", 3}, {"DeletePolicy", 2},
	{"AttachPolicyToUser", 4}, {"DetachPolicyFromUser", 3}, {"ListUsers", 2},
	{"FullUserCreateTopic", 3}, {"ReadOnlyUserRead", 2}, {"ReadOnlyUserWrite", 3},
	{"Hostile", 14},
}

// hostileKinds are the malformed or unauthorised requests; every one of
// them must be refused with an error envelope and change nothing.
var hostileKinds = []string{
	"unknown-action", "bad-signature", "unknown-key", "stale-timestamp", "bad-version",
	"negative-disk", "negative-partitions", "huge-partitions", "negative-page", "bad-max-items",
	"huge-query-string", "huge-form-body", "duplicate-instance-id", "missing-required",
	"injection-id", "nul-topic", "bad-config-json", "bad-target-version", "replay",
	"duplicate-action", "long-topic-name", "bad-path", "wrong-method", "xml-default",
}

type generator struct {
	r     *rand.Rand
	total int
}

func newGenerator(seed uint64, stream uint64) *generator {
	g := &generator{r: rand.New(rand.NewPCG(seed, stream))}
	for _, w := range weights {
		g.total += w.w
	}
	return g
}

func (g *generator) next() op {
	x := g.r.IntN(g.total)
	var o op
	for _, w := range weights {
		if x < w.w {
			o.kind = w.kind
			break
		}
		x -= w.w
	}
	o.slot = g.r.IntN(instanceSlots)
	o.n = g.r.IntN(max(topicNames, groupNames, userNames))
	o.m = g.r.IntN(policyNames)
	o.sig = []string{"v1", "v3"}[g.r.IntN(2)]
	// Slot 0 is never released, so one instance lives long enough to
	// gather topics and groups for the final check; topic and group calls
	// aim at it half the time.
	switch o.kind {
	case "ReleaseInstance", "DeleteInstance":
		if o.slot == 0 {
			o.slot = 1 + g.r.IntN(instanceSlots-1)
		}
	case "CreateTopic", "DeleteTopic", "FullUserCreateTopic", "ModifyTopicRemark", "CreateConsumerGroup", "DeleteConsumerGroup":
		if g.r.IntN(2) == 0 {
			o.slot = 0
		}
	}
	switch o.kind {
	case "StartInstance":
		o.arg = []string{"0.10.2", "2.2.0"}[g.r.IntN(2)]
	case "UpgradeInstanceVersion":
		o.arg = []string{"2.2.0", "2.2.0", "0.10.2", "9.9.9"}[g.r.IntN(4)]
	case "Hostile":
		o.arg = hostileKinds[g.r.IntN(len(hostileKinds))]
	}
	return o
}

// sequenceDigest is a digest of the first n operations of seed's account
// streams: the same seed gives the same digest.
func sequenceDigest(seed uint64, accounts, n int) string {
	h := sha256.New()
	for a := range accounts {
		g := newGenerator(seed, uint64(a))
		for range n {
			fmt.Fprintln(h, g.next())
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
