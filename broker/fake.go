package broker

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// FakeCallLogSize is how many of its most recent successful calls a Fake
// remembers. The fake runtime also serves `serve --broker-runtime fake`,
// which runs for as long as the process does, so its log is a window rather
// than a history.
const FakeCallLogSize = 1024

// Fake is a deterministic in-memory Runtime for tests of the control
// plane's state machine. It keeps per-broker versions and a log of its
// latest FakeCallLogSize calls, and can be told to fail a call.
type Fake struct {
	mu        sync.Mutex
	instances map[string]*fakeInstance
	calls     []string
	// FailOn, when set, is consulted before every call with its log line
	// (e.g. "restart alikafka_post-cn-x 1 2.2.0"); a non-nil error fails the
	// call.
	FailOn func(call string) error
	// OnCall, when set, runs after a call succeeded, outside the lock.
	OnCall func(call string)
}

type fakeInstance struct {
	spec     Spec
	versions map[int32]string
	up       bool
	config   map[string]string
	security Security
	// topics outlive Stop, as the brokers' data does.
	topics map[string]*fakeTopic
}

type fakeTopic struct {
	partitions int32
	configs    map[string]string
}

// NewFake returns an empty Fake.
func NewFake() *Fake { return &Fake{instances: map[string]*fakeInstance{}} }

var _ Runtime = (*Fake)(nil)

// Calls returns the log of successful calls so far, oldest first: all of
// them, or the latest FakeCallLogSize.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls[max(0, len(f.calls)-FakeCallLogSize):])
}

// logCall appends call to the log. The slice holds at most twice
// FakeCallLogSize entries: when it is full the older half is dropped in one
// copy, so appending stays amortised O(1) and memory stays bounded.
func (f *Fake) logCall(call string) {
	if len(f.calls) >= 2*FakeCallLogSize {
		f.calls = append(make([]string, 0, 2*FakeCallLogSize), f.calls[len(f.calls)-FakeCallLogSize:]...)
	}
	f.calls = append(f.calls, call)
}

func (f *Fake) do(call string, fn func() error) error {
	f.mu.Lock()
	if f.FailOn != nil {
		if err := f.FailOn(call); err != nil {
			f.mu.Unlock()
			return err
		}
	}
	err := fn()
	if err == nil {
		f.logCall(call)
	}
	hook := f.OnCall
	f.mu.Unlock()
	if err == nil && hook != nil {
		hook(call)
	}
	return err
}

func (f *Fake) status(in *fakeInstance) []BrokerStatus {
	out := make([]BrokerStatus, len(in.spec.Ports))
	for i, p := range in.spec.Ports {
		id := int32(i)
		out[i] = BrokerStatus{ID: id, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), Version: in.versions[id], Up: in.up}
	}
	return out
}

// Start implements Runtime.
func (f *Fake) Start(_ context.Context, spec Spec) ([]BrokerStatus, error) {
	var out []BrokerStatus
	err := f.do("start "+spec.InstanceID, func() error {
		if _, err := compileSecurity(spec.Security, nil); err != nil {
			return err
		}
		in := f.instances[spec.InstanceID]
		if in == nil || !in.up {
			topics := map[string]*fakeTopic{}
			if in != nil {
				topics = in.topics
			}
			in = &fakeInstance{spec: spec, versions: map[int32]string{}, up: true, config: maps.Clone(spec.Config), topics: topics,
				security: spec.Security}
			for i := range spec.Ports {
				in.versions[int32(i)] = spec.VersionOf(int32(i))
			}
			f.instances[spec.InstanceID] = in
		}
		out = f.status(in)
		return nil
	})
	return out, err
}

// Stop implements Runtime.
func (f *Fake) Stop(_ context.Context, id string) error {
	return f.do("stop "+id, func() error {
		if in := f.instances[id]; in != nil {
			in.up = false
		}
		return nil
	})
}

// Destroy implements Runtime.
func (f *Fake) Destroy(_ context.Context, id string) error {
	return f.do("destroy "+id, func() error {
		delete(f.instances, id)
		return nil
	})
}

// Status implements Runtime.
func (f *Fake) Status(_ context.Context, id string) ([]BrokerStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.instances[id]
	if in == nil || !in.up {
		return nil, nil
	}
	return f.status(in), nil
}

// RestartBroker implements Runtime.
func (f *Fake) RestartBroker(_ context.Context, id string, broker int32, version string) error {
	return f.do(fmt.Sprintf("restart %s %d %s", id, broker, version), func() error {
		in := f.instances[id]
		if in == nil || !in.up {
			return fmt.Errorf("instance %s is not running", id)
		}
		if _, ok := in.versions[broker]; !ok {
			return fmt.Errorf("instance %s has no broker %d", id, broker)
		}
		in.versions[broker] = version
		return nil
	})
}

// CheckBroker implements Runtime.
func (f *Fake) CheckBroker(_ context.Context, id string, broker int32, version string) error {
	return f.do(fmt.Sprintf("check %s %d %s", id, broker, version), func() error {
		in := f.instances[id]
		if in == nil || !in.up {
			return fmt.Errorf("instance %s is not running", id)
		}
		if got := in.versions[broker]; got != version {
			return fmt.Errorf("broker %d answers as %s, want %s", broker, got, version)
		}
		return nil
	})
}

// ApplyConfig implements Runtime.
func (f *Fake) ApplyConfig(_ context.Context, id string, config map[string]string) error {
	return f.do("config "+id, func() error {
		if in := f.instances[id]; in != nil {
			in.config = maps.Clone(config)
		}
		return nil
	})
}

// ApplySecurity implements Runtime: it validates sec as the real data
// plane does and records it.
func (f *Fake) ApplySecurity(_ context.Context, id string, sec Security) error {
	return f.do("security "+id, func() error {
		in, err := f.running(id)
		if err != nil {
			return err
		}
		if _, err := compileSecurity(sec, nil); err != nil {
			return err
		}
		in.security = sec
		return nil
	})
}

// Security returns the Security last applied to (or started with) an
// instance.
func (f *Fake) Security(id string) (Security, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in := f.instances[id]; in != nil {
		return in.security, true
	}
	return Security{}, false
}

// RollOrder implements Runtime: the highest broker id is treated as the
// controller and rolled last.
func (f *Fake) RollOrder(_ context.Context, id string) ([]int32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.instances[id]
	if in == nil {
		return nil, fmt.Errorf("instance %s is not running", id)
	}
	order := make([]int32, len(in.spec.Ports))
	for i := range order {
		order[i] = int32(i)
	}
	return order, nil
}

// BrokerVersions returns the per-broker versions of an instance.
func (f *Fake) BrokerVersions(id string) map[int32]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in := f.instances[id]; in != nil {
		return maps.Clone(in.versions)
	}
	return nil
}

// Config returns the AllConfig last applied to an instance.
func (f *Fake) Config(id string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in := f.instances[id]; in != nil {
		return maps.Clone(in.config)
	}
	return nil
}

// running returns the instance if its brokers are up.
func (f *Fake) running(id string) (*fakeInstance, error) {
	in := f.instances[id]
	if in == nil || !in.up {
		return nil, notStarted(id)
	}
	return in, nil
}

// CreateTopic implements Runtime.
func (f *Fake) CreateTopic(_ context.Context, id string, t TopicSpec) error {
	return f.do(fmt.Sprintf("create-topic %s %s %d", id, t.Name, t.Partitions), func() error {
		in, err := f.running(id)
		if err != nil {
			return err
		}
		if err := checkTopicName(t.Name); err != nil {
			return err
		}
		if t.Partitions < 1 {
			return fmt.Errorf("broker: topic %s: %d partitions, want at least 1", t.Name, t.Partitions)
		}
		if in.topics[t.Name] != nil {
			return fmt.Errorf("%w: %s", ErrTopicExists, t.Name)
		}
		in.topics[t.Name] = &fakeTopic{partitions: t.Partitions, configs: maps.Clone(t.Configs)}
		return nil
	})
}

// DeleteTopic implements Runtime.
func (f *Fake) DeleteTopic(_ context.Context, id, topic string) error {
	return f.do(fmt.Sprintf("delete-topic %s %s", id, topic), func() error {
		in, err := f.running(id)
		if err != nil {
			return err
		}
		if in.topics[topic] == nil {
			return fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		}
		delete(in.topics, topic)
		return nil
	})
}

// CreatePartitions implements Runtime.
func (f *Fake) CreatePartitions(_ context.Context, id, topic string, total int32) error {
	return f.do(fmt.Sprintf("create-partitions %s %s %d", id, topic, total), func() error {
		in, err := f.running(id)
		if err != nil {
			return err
		}
		t := in.topics[topic]
		if t == nil {
			return fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		}
		if total <= t.partitions {
			return fmt.Errorf("broker: topic %s has %d partitions; partitions can only be added, so %d is not allowed", topic, t.partitions, total)
		}
		t.partitions = total
		return nil
	})
}

// AddPartitions implements Runtime.
func (f *Fake) AddPartitions(_ context.Context, id, topic string, add, max int32) (int32, error) {
	var total int32
	err := f.do(fmt.Sprintf("add-partitions %s %s %d", id, topic, add), func() error {
		in, err := f.running(id)
		if err != nil {
			return err
		}
		t := in.topics[topic]
		if t == nil {
			return fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		}
		n, err := partitionsAfter(topic, t.partitions, add, max)
		if err != nil {
			return err
		}
		t.partitions, total = n, n
		return nil
	})
	return total, err
}

// partitionsAfter is a topic's partition count once add are added to have:
// an error unless add is positive and the sum at most max. The sum is taken
// in 64 bits, so no count overflows.
func partitionsAfter(topic string, have, add, max int32) (int32, error) {
	if add < 1 {
		return 0, fmt.Errorf("broker: topic %s: adding %d partitions; want at least 1", topic, add)
	}
	if n := int64(have) + int64(add); n > int64(max) {
		return 0, fmt.Errorf("%w: topic %s has %d partitions; %d more would exceed %d", ErrPartitionLimit, topic, have, add, max)
	}
	return have + add, nil
}

// Topics implements Runtime: every partition reports an empty log.
func (f *Fake) Topics(_ context.Context, id string) ([]TopicState, error) {
	var out []TopicState
	err := f.do("topics "+id, func() error {
		in, err := f.running(id)
		if err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(in.topics)) {
			ts := TopicState{Name: name, Partitions: make([]PartitionState, in.topics[name].partitions)}
			for p := range ts.Partitions {
				ts.Partitions[p].Partition = int32(p)
			}
			out = append(out, ts)
		}
		return nil
	})
	return out, err
}

// TopicConfigs returns the configs a topic of an instance was created
// with, nil when there is no such topic.
func (f *Fake) TopicConfigs(id, topic string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in := f.instances[id]; in != nil && in.topics[topic] != nil {
		if c := in.topics[topic].configs; c != nil {
			return maps.Clone(c)
		}
		return map[string]string{}
	}
	return nil
}

// Close implements Runtime.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.instances {
		in.up = false
	}
	return nil
}

// SetTopicConfig implements Runtime with the real brokers' rules for
// names and values.
func (f *Fake) SetTopicConfig(_ context.Context, id, topic, name, value string) (string, error) {
	if err := checkTopicConfig(name, value); err != nil {
		return "", err
	}
	err := f.do(fmt.Sprintf("set-topic-config %s %s %s=%s", id, topic, name, value), func() error {
		in, err := f.running(id)
		if err != nil {
			return err
		}
		t := in.topics[topic]
		if t == nil {
			return fmt.Errorf("%w: %s", ErrTopicNotFound, topic)
		}
		if t.configs == nil {
			t.configs = map[string]string{}
		}
		t.configs[name] = value
		return nil
	})
	if err != nil {
		return "", err
	}
	return value, nil
}

// Groups implements Runtime: the fake's brokers have no clients, so they
// hold no groups.
func (f *Fake) Groups(_ context.Context, id string) ([]GroupState, error) {
	return nil, f.do("groups "+id, func() error {
		_, err := f.running(id)
		return err
	})
}

// ConsumedTimes implements Runtime: the fake holds no records.
func (f *Fake) ConsumedTimes(_ context.Context, id string, _ []GroupOffset) (map[TopicPartition]time.Time, error) {
	return map[TopicPartition]time.Time{}, f.do("consumed-times "+id, func() error {
		_, err := f.running(id)
		return err
	})
}

// ResetOffsets implements Runtime: with no records and no groups there is
// nothing to move.
func (f *Fake) ResetOffsets(_ context.Context, id, group string, r OffsetReset) ([]GroupOffset, error) {
	return nil, f.do(fmt.Sprintf("reset-offsets %s %s", id, group), func() error {
		in, err := f.running(id)
		if err != nil {
			return err
		}
		for _, t := range r.Topics {
			if in.topics[t] == nil {
				return fmt.Errorf("%w: %s", ErrTopicNotFound, t)
			}
		}
		return nil
	})
}

// ReadRecords implements Runtime: every log of the fake is empty.
func (f *Fake) ReadRecords(_ context.Context, id string, q RecordQuery) ([]Record, error) {
	return nil, f.do(fmt.Sprintf("read-records %s %s", id, q.Topic), func() error {
		in, err := f.running(id)
		if err != nil {
			return err
		}
		t := in.topics[q.Topic]
		if t == nil || (!q.ByTime && (q.Partition < 0 || q.Partition >= t.partitions)) {
			return fmt.Errorf("%w: %s", ErrTopicNotFound, q.Topic)
		}
		return nil
	})
}

// Observed implements Runtime: the fake's brokers have no clients.
func (f *Fake) Observed(_ context.Context, id string) (Observations, error) {
	return Observations{}, f.do("observed "+id, func() error {
		_, err := f.running(id)
		return err
	})
}

// DiskUsed implements Runtime: the fake's logs are empty.
func (f *Fake) DiskUsed(_ context.Context, id string) (int64, error) {
	return 0, f.do("disk-used "+id, func() error {
		_, err := f.running(id)
		return err
	})
}

// InjectsFaults marks Fake as a FaultInjector, as the runtime it stands
// in for.
func (f *Fake) InjectsFaults() {}
