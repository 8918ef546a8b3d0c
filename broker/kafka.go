package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// KafkaConfig configures the real data plane.
type KafkaConfig struct {
	// DataDir holds one directory per instance (DataDir/<instanceID>).
	DataDir string
	// AdvertisedHost is the host clients are told to connect to; it
	// defaults to 127.0.0.1.
	AdvertisedHost string
	// ListenHost is the address the brokers bind; it defaults to
	// 127.0.0.1 because instance ports come from a loopback range.
	ListenHost string
	// Logger receives the data plane's logs; nil discards them.
	Logger *slog.Logger
	// RestartDowntime is how long a rolling broker stays away between
	// dropping its clients and listening again. It defaults to 100 ms: long
	// enough for clients to notice and fail over, short enough that a
	// three-broker roll stays well under a second of downtime each.
	RestartDowntime time.Duration
	// DrainTimeout bounds how long a restart waits for produce requests
	// already handed to storage to be answered before dropping clients.
	// It defaults to 2 s.
	DrainTimeout time.Duration
	// LeaderRebalanceDelay is how long after a restart the broker gets
	// back the partitions it led; it defaults to 1 s, and a negative
	// value keeps leadership where the restart moved it.
	LeaderRebalanceDelay time.Duration
	// HandoffTimeout is how long a restarting broker, its leaders moved,
	// keeps serving clients that have not yet left it before dropping
	// them; it defaults to 250 ms.
	HandoffTimeout time.Duration
	// LeaderChangeSpacing is the least time between two rounds of
	// leader moves in one instance; it defaults to 500 ms, twice the
	// metadata refresh back-off clients are asked to use.
	LeaderChangeSpacing time.Duration
}

// Kafka is the real broker.Runtime: every started instance is a kfake
// cluster used as storage behind per-broker protocol fronts that listen on
// the instance's ports and speak the broker's own Kafka version.
type Kafka struct {
	cfg KafkaConfig
	log *slog.Logger

	mu        sync.Mutex
	instances map[string]*instance
	closed    bool
	// caMu serialises making and reading the installation CA.
	caMu sync.Mutex
}

var _ Runtime = (*Kafka)(nil)

// NewKafka returns a data plane storing instances under cfg.DataDir.
func NewKafka(cfg KafkaConfig) (*Kafka, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("broker: KafkaConfig.DataDir is required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("broker: data dir: %w", err)
	}
	if cfg.AdvertisedHost == "" {
		cfg.AdvertisedHost = "127.0.0.1"
	}
	if cfg.ListenHost == "" {
		cfg.ListenHost = "127.0.0.1"
	}
	if cfg.RestartDowntime <= 0 {
		cfg.RestartDowntime = 100 * time.Millisecond
	}
	if cfg.LeaderRebalanceDelay == 0 {
		cfg.LeaderRebalanceDelay = time.Second
	}
	if cfg.LeaderChangeSpacing <= 0 {
		cfg.LeaderChangeSpacing = 500 * time.Millisecond
	}
	if cfg.HandoffTimeout <= 0 {
		cfg.HandoffTimeout = 250 * time.Millisecond
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 2 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Kafka{cfg: cfg, log: log, instances: map[string]*instance{}}, nil
}

// instance is one started instance.
type instance struct {
	id       string
	dir      string
	log      *slog.Logger
	cluster  *kfake.Cluster
	upstream []string // storage node addresses by node id; they change per start
	// ready is closed once upstream is known (or Start failed).
	ready   chan struct{}
	brokers []*frontBroker
	// rollMu serialises restarts, config changes and stopping of the
	// instance; stopped is guarded by it and tells late leader
	// rebalances that the storage engine is gone.
	rollMu  sync.Mutex
	stopped bool
	// restore maps partitions moved off a restarting broker to that
	// broker, until leadership is handed back; guarded by rollMu.
	restore      map[topicPartition]int32
	restoreTimer *time.Timer
	// lastLeaderChange is when leadership last moved; guarded by rollMu.
	lastLeaderChange time.Time
	// autoTopics and autoPartitions are AllConfig's automatic topic
	// creation, read by the fronts on every Metadata request so that a
	// change applies without a restart.
	// seen is what the fronts observe of the instance's clients.
	seen           *observer
	autoTopics     atomic.Bool
	autoPartitions atomic.Int32
	// sec is the instance's compiled Security (see ApplySecurity).
	sec atomic.Pointer[security]
	// drainTimeout bounds how long stop waits for produce answers.
	drainTimeout time.Duration
	// recovered is the idempotent-producer state rebuilt from the logs
	// when the instance started on existing data (see idempotence.go);
	// nil for a new instance. Set before ready is closed.
	recovered *recoveredProducers
}

// setAutoCreate applies AllConfig's automatic topic creation keys.
func (i *instance) setAutoCreate(all map[string]string) {
	i.autoTopics.Store(autoCreate(all))
	i.autoPartitions.Store(autoCreatePartitions(all))
}

func (i *instance) front(id int32) *frontBroker {
	if id < 0 || int(id) >= len(i.brokers) {
		return nil
	}
	return i.brokers[id]
}

func (i *instance) upstreamAddr(id int32) string { return i.upstream[id] }

// mixedLeaderEpochs reports whether some of the instance's brokers answer
// Metadata with leader epochs (v7 and later) and some cannot, as during a
// roll from 0.10.2 to 2.2.0.
func (i *instance) mixedLeaderEpochs() bool {
	with, without := false, false
	for _, b := range i.brokers {
		if b.ver.Load().maxVersion(kmsg.Metadata.Int16()) >= 7 {
			with = true
		} else {
			without = true
		}
	}
	return with && without
}

// stop takes the instance down in order, as a broker's controlled
// shutdown does: the brokers stop taking connections and requests, the
// produce requests they took are answered (a lost answer makes the client
// send the records again, and one without idempotence then writes them
// twice), and only then are connections dropped and storage closed, which
// writes out its state.
func (i *instance) stop() {
	i.rollMu.Lock()
	defer i.rollMu.Unlock()
	i.stopped = true
	for _, b := range i.brokers {
		b.draining.Store(true)
		b.stopListening()
	}
	until := time.Now().Add(i.drainTimeout)
	for time.Now().Before(until) && slices.ContainsFunc(i.brokers, func(b *frontBroker) bool { return b.produceInFlight.Load() > 0 }) {
		time.Sleep(2 * time.Millisecond)
	}
	for _, b := range i.brokers {
		b.dropConns()
	}
	i.cluster.Close()
}

func (k *Kafka) instanceDir(id string) (string, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
		return "", fmt.Errorf("broker: invalid instance id %q", id)
	}
	return filepath.Join(k.cfg.DataDir, id), nil
}

func (k *Kafka) get(id string) (*instance, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	inst, ok := k.instances[id]
	if !ok {
		return nil, notStarted(id)
	}
	return inst, nil
}

// Start brings up the instance's brokers; see Runtime.
func (k *Kafka) Start(ctx context.Context, spec Spec) ([]BrokerStatus, error) {
	dir, err := k.instanceDir(spec.InstanceID)
	if err != nil {
		return nil, err
	}
	if len(spec.Ports) == 0 {
		return nil, fmt.Errorf("broker: instance %s has no ports", spec.InstanceID)
	}
	versions := make([]*apiVersion, len(spec.Ports))
	for i := range spec.Ports {
		if versions[i], err = apiVersionFor(spec.VersionOf(int32(i))); err != nil {
			return nil, err
		}
	}
	bcfg, err := brokerConfigs(spec.Config)
	if err != nil {
		return nil, err
	}
	sec, err := k.compileFor(spec.InstanceID, spec.Security, len(spec.SslPorts) > 0)
	if err != nil {
		return nil, err
	}

	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return nil, errors.New("broker: runtime closed")
	}
	if inst, ok := k.instances[spec.InstanceID]; ok {
		k.mu.Unlock()
		return inst.startDown(k.cfg.ListenHost, versions)
	}
	defer k.mu.Unlock()

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	log := k.log.With("instance", spec.InstanceID)
	opts := []kfake.Opt{
		kfake.NumBrokers(len(spec.Ports)),
		kfake.DataDir(filepath.Join(dir, "kfake")),
		kfake.ClusterID(spec.InstanceID),
		kfake.WithLogger(kfakeLogger{log}),
		// Every version the fronts may translate to must be accepted,
		// so storage runs uncapped; the fronts enforce each broker's
		// own version.
		kfake.MaxVersions(kversion.Stable()),
	}
	if len(bcfg) > 0 {
		opts = append(opts, kfake.BrokerConfigs(bcfg))
	}
	_, statErr := os.Stat(filepath.Join(dir, "kfake"))
	existing := statErr == nil
	start := time.Now()
	inst := &instance{id: spec.InstanceID, dir: dir, log: log, ready: make(chan struct{}), drainTimeout: k.cfg.DrainTimeout, seen: newObserver()}
	// Storage never creates topics on its own: the fronts do, with the
	// instance's partition count, while AllConfig allows it.
	inst.setAutoCreate(spec.Config)
	inst.sec.Store(sec)
	for i, port := range spec.Ports {
		b := &frontBroker{inst: inst, id: int32(i), host: k.cfg.AdvertisedHost, port: port,
			saslPort: portAt(spec.SaslPorts, i), sslPort: portAt(spec.SslPorts, i)}
		b.ver.Store(versions[i])
		inst.brokers = append(inst.brokers, b)
	}
	// The instance's ports are claimed before the storage engine starts:
	// its nodes listen on ephemeral ports, which could otherwise land on
	// a port the control plane allocated to this instance.
	fail := func(err error) ([]BrokerStatus, error) {
		for _, b := range inst.brokers {
			b.stop()
		}
		close(inst.ready)
		return nil, err
	}
	for _, b := range inst.brokers {
		if err := b.listen(k.cfg.ListenHost); err != nil {
			return fail(err)
		}
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return fail(fmt.Errorf("broker: start storage for %s: %w", spec.InstanceID, err))
	}
	inst.cluster = cluster
	inst.upstream = cluster.ListenAddrs()
	if existing {
		// Clients are held back until the producer state is known, so
		// no retried batch can slip past it.
		rebuildStart := time.Now()
		rec, err := inst.rebuildProducerState(ctx)
		if err != nil {
			cluster.Close()
			return fail(fmt.Errorf("broker: rebuild producer state of %s: %w", spec.InstanceID, err))
		}
		if len(rec.m) > 0 {
			inst.recovered = rec
		}
		log.Info("producer state rebuilt", "producers", len(rec.m), "took", time.Since(rebuildStart))
	}
	close(inst.ready)
	k.instances[spec.InstanceID] = inst
	log.Info("instance started", "brokers", len(inst.brokers), "took", time.Since(start))
	return inst.status(), nil
}

// startDown makes Start idempotent for a started instance: brokers that
// are up stay as they are, and one left down by an interrupted restart
// comes back on its spec version. It holds rollMu, so it never races a
// restart in progress: a broker a restart took down is brought back by
// that restart and found up here.
func (i *instance) startDown(host string, versions []*apiVersion) ([]BrokerStatus, error) {
	i.rollMu.Lock()
	defer i.rollMu.Unlock()
	if i.stopped {
		return nil, notStarted(i.id)
	}
	for n, b := range i.brokers {
		if b.up.Load() {
			continue
		}
		b.ver.Store(versions[n])
		if err := b.listen(host); err != nil {
			return nil, err
		}
	}
	return i.status(), nil
}

func (i *instance) status() []BrokerStatus {
	out := make([]BrokerStatus, 0, len(i.brokers))
	for _, b := range i.brokers {
		out = append(out, BrokerStatus{ID: b.id, Addr: b.addr(), Version: b.ver.Load().name, Up: b.up.Load()})
	}
	return out
}

// Stop takes the brokers down and keeps their data.
func (k *Kafka) Stop(ctx context.Context, instanceID string) error {
	k.mu.Lock()
	inst, ok := k.instances[instanceID]
	delete(k.instances, instanceID)
	k.mu.Unlock()
	if ok {
		inst.stop()
	}
	return nil
}

// Destroy stops the brokers and removes the instance's data.
func (k *Kafka) Destroy(ctx context.Context, instanceID string) error {
	dir, err := k.instanceDir(instanceID)
	if err != nil {
		return err
	}
	if err := k.Stop(ctx, instanceID); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// Status reports the brokers of a started instance, none otherwise.
func (k *Kafka) Status(ctx context.Context, instanceID string) ([]BrokerStatus, error) {
	k.mu.Lock()
	inst, ok := k.instances[instanceID]
	k.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return inst.status(), nil
}

// Close stops every instance and keeps the data.
func (k *Kafka) Close() error {
	k.mu.Lock()
	insts := make([]*instance, 0, len(k.instances))
	for _, inst := range k.instances {
		insts = append(insts, inst)
	}
	k.instances = map[string]*instance{}
	k.closed = true
	k.mu.Unlock()
	for _, inst := range insts {
		inst.stop()
	}
	return nil
}

func (k *Kafka) dialHost() string {
	switch k.cfg.ListenHost {
	case "", "0.0.0.0", "::":
		return "127.0.0.1"
	}
	return k.cfg.ListenHost
}

// kfakeLogger routes the storage engine's logs into slog, at debug level
// except for its warnings and errors.
type kfakeLogger struct{ l *slog.Logger }

// Logf implements kfake.Logger.
func (k kfakeLogger) Logf(level kfake.LogLevel, msg string, args ...any) {
	var lv slog.Level
	switch level {
	case kfake.LogLevelError:
		lv = slog.LevelError
	case kfake.LogLevelWarn:
		lv = slog.LevelWarn
	default:
		lv = slog.LevelDebug
	}
	if !k.l.Enabled(context.Background(), lv) {
		return
	}
	k.l.Log(context.Background(), lv, "storage: "+fmt.Sprintf(msg, args...))
}
