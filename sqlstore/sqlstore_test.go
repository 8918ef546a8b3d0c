package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/sealer"
)

// newStoreFunc returns the dsn of a fresh, empty store that lives until the
// test ends. Opening the dsn again reaches the same data, which the reopen
// tests rely on.
type newStoreFunc func(t *testing.T) string

// TestConformance runs one suite against every engine, as River's
// riverdrivertest does for its drivers: SQLite always, PostgreSQL when
// KAFKAPLANE_TEST_POSTGRES_URL is set (scripts/postgres.sh start prints it).
// In CI (CI=true) a missing URL fails, so PostgreSQL can never silently drop
// out of the suite.
func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		runSuite(t, func(t *testing.T) string {
			return "sqlite://" + filepath.Join(t.TempDir(), "kafkaplane.db")
		})
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("KAFKAPLANE_TEST_POSTGRES_URL")
		if base == "" {
			if os.Getenv("CI") == "true" {
				t.Fatal("KAFKAPLANE_TEST_POSTGRES_URL is not set; CI must run the PostgreSQL conformance suite (eval \"$(scripts/postgres.sh start)\")")
			}
			t.Skip("KAFKAPLANE_TEST_POSTGRES_URL is not set; run eval \"$(scripts/postgres.sh start)\" to include PostgreSQL")
		}
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Close() })
		runSuite(t, func(t *testing.T) string {
			// A fresh schema per subtest, reached through search_path, keeps
			// subtests apart at a fraction of the cost of a database each.
			b := make([]byte, 6)
			rand.Read(b)
			schema := "conformance_" + hex.EncodeToString(b)
			if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
					t.Errorf("drop schema %s: %v", schema, err)
				}
			})
			u, err := url.Parse(base)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		})
	})
}

// suiteCase is one conformance test, given a fresh dsn.
type suiteCase struct {
	name string
	fn   func(t *testing.T, dsn string)
}

func runSuite(t *testing.T, newStore newStoreFunc) {
	cases := []suiteCase{
		{"Migrations", testMigrations},
		{"InstanceCRUD", testInstanceCRUD},
		{"InstanceFilters", testInstanceFilters},
		{"TimePrecision", testTimePrecision},
		{"StartOperation", testStartOperation},
		{"StartOperationConcurrent", testStartOperationConcurrent},
		{"FindOperations", testFindOperations},
		{"ClaimLease", testClaimLease},
		{"ClaimConcurrent", testClaimConcurrent},
		{"ClaimBackoff", testClaimBackoff},
		{"UpdateOperation", testUpdateOperation},
		{"FinishOperation", testFinishOperation},
		{"AccessKeys", testAccessKeys},
		{"AccessKeyLimitConcurrent", testAccessKeyLimitConcurrent},
		{"DeleteUserRacesAccessKey", testDeleteUserRacesAccessKey},
		{"RootAccessKeys", testRootAccessKeys},
		{"Bootstrap", testBootstrap},
		{"Users", testUsers},
		{"Policies", testPolicies},
		{"Attachments", testAttachments},
		{"Groups", testGroups},
		{"GroupMembershipsAndAttachments", testGroupMembershipsAndAttachments},
		{"Topics", testTopics},
		{"ConsumerGroups", testConsumerGroups},
		{"QuotasConcurrent", testQuotasConcurrent},
		{"DeleteInstanceTakesTopics", testDeleteInstanceTakesTopics},
		{"Nonce", testNonce},
		{"GCRA", testGCRA},
		{"StatementCacheBounded", testStatementCacheBounded},
		{"SecretsSealed", testSecretsSealed},
		{"Security", testSecurity},
		{"DataPlaneLease", testDataPlaneLease},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, newStore(t))
		})
	}
}

// ---- helpers ----

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// testSealer is the secrets key of the PostgreSQL stores of the suite; an
// SQLite store takes its key file beside the database, as in production.
var testSealer = func() *sealer.Sealer {
	s, err := sealer.New([]byte("kafkaplane conformance suite key"))
	if err != nil {
		panic(err)
	}
	return s
}()

// storeOptions are the Open options of the suite for dsn.
func storeOptions(dsn string) []Option {
	if strings.HasPrefix(dsn, "postgres") {
		return []Option{WithSealer(testSealer)}
	}
	return nil
}

// openStore opens dsn with a fixed clock and closes it when the test ends.
func openStore(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, storeOptions(dsn)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	db.Now = func() time.Time { return t0 }
	t.Cleanup(func() { db.Close() })
	return db
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := kafkaplane.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var cmpOpts = cmp.Options{cmpopts.EquateEmpty()}

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func newInstance(id, account, region string) *kafkaplane.Instance {
	return &kafkaplane.Instance{
		ID: id, AccountID: account, RegionID: region, OrderID: "order-" + id,
		Name: "name-" + id, PaidType: 1, SpecType: "normal", DeployType: 5, DiskType: 1, DiskSize: 500,
		IoMax: 20, IoMaxSpec: "alikafka.hw.2xlarge", EipMax: 0, TopicQuota: 50, PartitionNum: 1000,
		ResourceGroupID: "rg-default",
		ServiceStatus:   kafkaplane.ServiceStatusRunning, ViewStatus: kafkaplane.ViewStatusRunning,
		Version: "0.10.2", MinorVersion: "0.10.2-1.0.0",
	}
}

func mustCreateInstance(t *testing.T, db *DB, inst *kafkaplane.Instance) *kafkaplane.Instance {
	t.Helper()
	must(t, db.CreateInstance(context.Background(), inst, 0))
	return inst
}

func newOperation(id string, inst *kafkaplane.Instance) *kafkaplane.Operation {
	return &kafkaplane.Operation{
		ID: id, AccountID: inst.AccountID, RegionID: inst.RegionID, InstanceID: inst.ID,
		Type: kafkaplane.OperationUpgradeInstanceVersion, State: kafkaplane.OperationPending,
		SourceVersion: "0.10.2", SourceMinor: "0.10.2-1.0.0", TargetVersion: "2.2.0", TargetMinor: "2.2.0-1.1.0",
		Steps: []kafkaplane.OperationStep{
			{Name: "prepare", Status: kafkaplane.StepPending, BrokerID: -1},
			{Name: "roll-broker-0", Status: kafkaplane.StepPending, BrokerID: 0},
		},
	}
}

// startOp moves inst to upgrading and starts op on it.
func startOp(t *testing.T, db *DB, inst *kafkaplane.Instance, op *kafkaplane.Operation) {
	t.Helper()
	inst.ServiceStatus, inst.ViewStatus = kafkaplane.ServiceStatusUpgrading, kafkaplane.ViewStatusUpgrading
	must(t, db.StartOperation(context.Background(), inst, op))
}

// ---- migrations ----

func testMigrations(t *testing.T, dsn string) {
	ctx := context.Background()
	sq, err := migrations(EngineSQLite)
	must(t, err)
	pg, err := migrations(EnginePostgres)
	must(t, err)
	if len(sq) == 0 || len(sq) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(sq), len(pg))
	}
	for i := range sq {
		if sq[i].version != pg[i].version || sq[i].name != pg[i].name {
			t.Errorf("migration %d: sqlite %s, postgres %s: numbering must align", i, sq[i].name, pg[i].name)
		}
	}
	latest := sq[len(sq)-1].version

	// Several replicas open a fresh database at once: each migration is
	// applied exactly once.
	openAll := func() []*DB {
		t.Helper()
		var wg sync.WaitGroup
		dbs := make([]*DB, 4)
		errs := make([]error, len(dbs))
		for i := range dbs {
			wg.Go(func() { dbs[i], errs[i] = Open(ctx, dsn, storeOptions(dsn)...) })
		}
		wg.Wait()
		for i, err := range errs {
			must(t, err)
			t.Cleanup(func() { dbs[i].Close() })
		}
		return dbs
	}
	check := func(db *DB) {
		t.Helper()
		v, err := db.SchemaVersion(ctx)
		must(t, err)
		var n int
		must(t, db.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n))
		if v != latest || n != len(sq) {
			t.Fatalf("schema version %d with %d records, want %d with %d", v, n, latest, len(sq))
		}
	}
	first := openAll()
	check(first[0])
	wantEngine := EngineSQLite
	if strings.HasPrefix(dsn, "postgres") {
		wantEngine = EnginePostgres
	}
	if first[0].Engine() != wantEngine {
		t.Fatalf("Engine() = %q, want %q", first[0].Engine(), wantEngine)
	}
	inst := mustCreateInstance(t, first[1], newInstance("alikafka_post-cn-mig", "acct1", "cn-hangzhou"))
	for _, db := range first {
		must(t, db.Close())
	}

	// Reopening applies nothing again and keeps the data.
	again := openAll()
	check(again[2])
	got, err := again[3].FindInstance(ctx, "acct1", "cn-hangzhou", inst.ID)
	must(t, err)
	diff(t, "instance after reopen", got, inst)
}

// ---- instances ----

func testInstanceCRUD(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	in := newInstance("alikafka_post-cn-crud", "acct1", "cn-hangzhou")
	in.Tags = []kafkaplane.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: ""}}
	in.Config = map[string]string{"enable.vpc_sasl_ssl": "false", "message.max.bytes": "1048576"}
	in.BrokerPorts = []int{19092, 19093, 19094}
	in.ExpiredTime = t0.Add(365 * 24 * time.Hour)
	in.Deployment = kafkaplane.Deployment{VSwitchIDs: []string{"vsw-a", "vsw-b"}, SelectedZones: `[["zonea"],["zoneb"]]`,
		CrossZone: true, KMSKeyID: "key-1", DeployModule: "eip", IsEipInner: true}
	in.AutoCreateGroup = true
	must(t, db.CreateInstance(ctx, in, 0))
	if in.ModifyIndex != 1 || !in.CreateTime.Equal(t0) {
		t.Fatalf("after create: index %d, create time %v", in.ModifyIndex, in.CreateTime)
	}
	wantCode(t, db.CreateInstance(ctx, newInstance(in.ID, "acct2", "cn-beijing"), 0), kafkaplane.CodeAlreadyExists)

	got, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	must(t, err)
	diff(t, "found instance", got, in)
	_, err = db.FindInstance(ctx, "acct1", "cn-beijing", in.ID)
	wantCode(t, err, kafkaplane.CodeInstanceNotFound)
	_, err = db.FindInstance(ctx, "acct2", "cn-hangzhou", in.ID)
	wantCode(t, err, kafkaplane.CodeInstanceNotFound)
	_, err = db.FindInstance(ctx, "acct1", "cn-hangzhou", "alikafka_post-cn-none")
	wantCode(t, err, kafkaplane.CodeInstanceNotFound)

	// Compare-and-set: the writer holding the current index wins, a writer
	// holding the old one loses and changes nothing.
	stale := *got
	got.Name, got.Config = "renamed", map[string]string{"a": "b"}
	got.BrokerPorts = nil
	got.Deployment.VSwitchIDs, got.Deployment.KMSKeyID, got.AutoCreateGroup = []string{"vsw-c"}, "", false
	must(t, db.UpdateInstance(ctx, got))
	if got.ModifyIndex != 2 {
		t.Fatalf("index after update %d, want 2", got.ModifyIndex)
	}
	stale.Name = "lost"
	wantCode(t, db.UpdateInstance(ctx, &stale), kafkaplane.CodeConflict)
	if stale.ModifyIndex != 1 {
		t.Fatalf("a lost update changed the index to %d", stale.ModifyIndex)
	}
	again, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	must(t, err)
	diff(t, "instance after update", again, got)
	wantCode(t, db.UpdateInstance(ctx, newInstance("alikafka_post-cn-none", "acct1", "cn-hangzhou")), kafkaplane.CodeInstanceNotFound)

	// Delete is compare-and-set as well, and leaves a tombstone.
	wantCode(t, db.DeleteInstance(ctx, &stale), kafkaplane.CodeConflict)
	must(t, db.DeleteInstance(ctx, again))
	if again.ModifyIndex != 3 {
		t.Fatalf("index after delete %d, want 3", again.ModifyIndex)
	}
	_, err = db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	wantCode(t, err, kafkaplane.CodeInstanceNotFound)
	wantCode(t, db.UpdateInstance(ctx, again), kafkaplane.CodeInstanceNotFound)
	wantCode(t, db.DeleteInstance(ctx, again), kafkaplane.CodeInstanceNotFound)
	list, err := db.FindInstances(ctx, kafkaplane.InstanceFilter{AccountID: "acct1"})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("deleted instance listed: %v", list)
	}
	list, err = db.FindInstances(ctx, kafkaplane.InstanceFilter{AccountID: "acct1", IncludeDeleted: true})
	must(t, err)
	diff(t, "tombstone", list, []*kafkaplane.Instance{again})
}

func testInstanceFilters(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	mk := func(id, account, region, order, rg string, age time.Duration, tags ...kafkaplane.Tag) string {
		in := newInstance(id, account, region)
		in.OrderID, in.ResourceGroupID, in.Tags = order, rg, tags
		in.CreateTime = t0.Add(-age)
		mustCreateInstance(t, db, in)
		return id
	}
	a := mk("i-a", "acct1", "cn-hangzhou", "o1", "rg1", 5*time.Minute, kafkaplane.Tag{Key: "env", Value: "prod"}, kafkaplane.Tag{Key: "team", Value: "x"})
	b := mk("i-b", "acct1", "cn-hangzhou", "o2", "rg2", 4*time.Minute, kafkaplane.Tag{Key: "env", Value: "dev"})
	c := mk("i-c", "acct1", "cn-beijing", "o3", "rg1", 3*time.Minute, kafkaplane.Tag{Key: "env", Value: "prod"})
	// Same create time as c: the id breaks the tie.
	d := mk("i-0d", "acct1", "cn-hangzhou", "o4", "rg1", 3*time.Minute)
	mk("i-e", "acct2", "cn-hangzhou", "o1", "rg1", 6*time.Minute, kafkaplane.Tag{Key: "env", Value: "prod"})

	for _, tc := range []struct {
		name string
		f    kafkaplane.InstanceFilter
		want []string
	}{
		{"account all regions", kafkaplane.InstanceFilter{AccountID: "acct1"}, []string{a, b, d, c}},
		{"every account", kafkaplane.InstanceFilter{OrderID: "o1"}, []string{"i-e", a}},
		{"tag value, any key", kafkaplane.InstanceFilter{AccountID: "acct1", Tags: []kafkaplane.Tag{{Value: "prod"}}}, []string{a, c}},
		{"region", kafkaplane.InstanceFilter{AccountID: "acct1", RegionID: "cn-hangzhou"}, []string{a, b, d}},
		{"ids", kafkaplane.InstanceFilter{AccountID: "acct1", IDs: []string{c, a, "i-e"}}, []string{a, c}},
		{"order", kafkaplane.InstanceFilter{AccountID: "acct1", OrderID: "o2"}, []string{b}},
		{"order other account", kafkaplane.InstanceFilter{AccountID: "acct2", OrderID: "o1"}, []string{"i-e"}},
		{"resource group", kafkaplane.InstanceFilter{AccountID: "acct1", ResourceGroupID: "rg1"}, []string{a, d, c}},
		{"tag value", kafkaplane.InstanceFilter{AccountID: "acct1", Tags: []kafkaplane.Tag{{Key: "env", Value: "prod"}}}, []string{a, c}},
		{"tag any value", kafkaplane.InstanceFilter{AccountID: "acct1", Tags: []kafkaplane.Tag{{Key: "env"}}}, []string{a, b, c}},
		{"all tags must match", kafkaplane.InstanceFilter{AccountID: "acct1", Tags: []kafkaplane.Tag{{Key: "env", Value: "prod"}, {Key: "team"}}}, []string{a}},
		{"tag mismatch", kafkaplane.InstanceFilter{AccountID: "acct1", Tags: []kafkaplane.Tag{{Key: "env", Value: "qa"}}}, nil},
		{"combined", kafkaplane.InstanceFilter{AccountID: "acct1", RegionID: "cn-hangzhou", ResourceGroupID: "rg1", Tags: []kafkaplane.Tag{{Key: "env"}}}, []string{a}},
		{"unknown account", kafkaplane.InstanceFilter{AccountID: "acct9"}, nil},
	} {
		got, err := db.FindInstances(ctx, tc.f)
		must(t, err)
		var ids []string
		for _, in := range got {
			ids = append(ids, in.ID)
		}
		diff(t, tc.name, ids, tc.want)
	}
}

func testTimePrecision(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	loc := time.FixedZone("UTC+8", 8*3600)
	created := time.Date(2026, 1, 2, 3, 4, 5, 123456789, loc)
	in := newInstance("i-time", "acct1", "cn-hangzhou")
	in.CreateTime = created
	must(t, db.CreateInstance(ctx, in, 0))
	want := time.Date(2026, 1, 1, 19, 4, 5, 123456000, time.UTC)
	if in.CreateTime != want {
		t.Fatalf("CreateTime normalised to %v, want %v", in.CreateTime, want)
	}
	got, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	must(t, err)
	if got.CreateTime != want || !got.ExpiredTime.IsZero() {
		t.Fatalf("read back %v / %v, want %v / zero", got.CreateTime, got.ExpiredTime, want)
	}
}

// ---- operations ----

func testStartOperation(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	in := mustCreateInstance(t, db, newInstance("i-start", "acct1", "cn-hangzhou"))
	op := newOperation("op-1", in)
	startOp(t, db, in, op)
	if in.ModifyIndex != 2 || op.ModifyIndex != 1 || !op.CreatedAt.Equal(t0) || !op.UpdatedAt.Equal(t0) {
		t.Fatalf("after start: inst index %d, op index %d, created %v updated %v", in.ModifyIndex, op.ModifyIndex, op.CreatedAt, op.UpdatedAt)
	}
	got, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	must(t, err)
	diff(t, "instance", got, in)
	gotOp, err := db.FindOperation(ctx, "acct1", "op-1")
	must(t, err)
	diff(t, "operation", gotOp, op)
	_, err = db.FindOperation(ctx, "acct2", "op-1")
	wantCode(t, err, kafkaplane.CodeOperationNotFound)
	_, err = db.FindOperation(ctx, "acct1", "op-none")
	wantCode(t, err, kafkaplane.CodeOperationNotFound)

	// With the current index the instance CAS succeeds, so it is the
	// one-active-operation index that refuses the second operation; the
	// instance write rolls back with it.
	before := *got
	got.Name = "should not stick"
	wantCode(t, db.StartOperation(ctx, got, newOperation("op-2", got)), kafkaplane.CodeConflict)
	diff(t, "caller's instance after refusal", got.ModifyIndex, before.ModifyIndex)
	after, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	must(t, err)
	diff(t, "stored instance after refusal", after, &before)
	_, err = db.FindOperation(ctx, "acct1", "op-2")
	wantCode(t, err, kafkaplane.CodeOperationNotFound)

	// A stale instance index is refused too.
	stale := before
	stale.ModifyIndex = 1
	wantCode(t, db.StartOperation(ctx, &stale, newOperation("op-3", &stale)), kafkaplane.CodeConflict)
	// And an unknown instance is not found.
	ghost := newInstance("i-ghost", "acct1", "cn-hangzhou")
	wantCode(t, db.StartOperation(ctx, ghost, newOperation("op-4", ghost)), kafkaplane.CodeInstanceNotFound)
}

func testStartOperationConcurrent(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	in := mustCreateInstance(t, db, newInstance("i-race", "acct1", "cn-hangzhou"))
	const n = 100
	var (
		wg        sync.WaitGroup
		ok, lost  atomic.Int32
		otherErrs = make(chan error, n)
		start     = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			mine := *in // every caller read the same instance
			mine.ServiceStatus, mine.ViewStatus = kafkaplane.ServiceStatusUpgrading, kafkaplane.ViewStatusUpgrading
			<-start
			err := db.StartOperation(ctx, &mine, newOperation(fmt.Sprintf("op-%03d", i), &mine))
			switch kafkaplane.ErrorCode(err) {
			case "":
				if err != nil {
					otherErrs <- err
					return
				}
				ok.Add(1)
			case kafkaplane.CodeConflict:
				lost.Add(1)
			default:
				otherErrs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(otherErrs)
	for err := range otherErrs {
		t.Errorf("unexpected error: %v", err)
	}
	if ok.Load() != 1 || lost.Load() != n-1 {
		t.Fatalf("%d accepted, %d conflicts; want 1 and %d", ok.Load(), lost.Load(), n-1)
	}
	ops, err := db.FindOperations(ctx, kafkaplane.OperationFilter{InstanceID: in.ID})
	must(t, err)
	if len(ops) != 1 {
		t.Fatalf("%d operations stored, want 1", len(ops))
	}
	got, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	must(t, err)
	if got.ModifyIndex != 2 || got.ServiceStatus != kafkaplane.ServiceStatusUpgrading {
		t.Fatalf("instance index %d status %d", got.ModifyIndex, got.ServiceStatus)
	}
}

func testFindOperations(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	clock := t0
	db.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	i1 := mustCreateInstance(t, db, newInstance("i-1", "acct1", "cn-hangzhou"))
	i2 := mustCreateInstance(t, db, newInstance("i-2", "acct1", "cn-beijing"))
	i3 := mustCreateInstance(t, db, newInstance("i-3", "acct2", "cn-hangzhou"))
	startOp(t, db, i1, newOperation("op-a", i1))
	// Finish op-a so that i1 can run a second one.
	a, err := db.FindOperation(ctx, "acct1", "op-a")
	must(t, err)
	a.State = kafkaplane.OperationComplete
	i1.ServiceStatus = kafkaplane.ServiceStatusRunning
	must(t, db.FinishOperation(ctx, a, i1))
	if !a.FinishedAt.After(a.CreatedAt) {
		t.Fatalf("FinishedAt %v not set after %v", a.FinishedAt, a.CreatedAt)
	}
	startOp(t, db, i1, newOperation("op-b", i1))
	startOp(t, db, i2, newOperation("op-c", i2))
	startOp(t, db, i3, newOperation("op-d", i3))

	for _, tc := range []struct {
		name string
		f    kafkaplane.OperationFilter
		want []string
	}{
		{"account newest first", kafkaplane.OperationFilter{AccountID: "acct1"}, []string{"op-c", "op-b", "op-a"}},
		{"region", kafkaplane.OperationFilter{AccountID: "acct1", RegionID: "cn-hangzhou"}, []string{"op-b", "op-a"}},
		{"instance", kafkaplane.OperationFilter{AccountID: "acct1", InstanceID: "i-1"}, []string{"op-b", "op-a"}},
		{"active", kafkaplane.OperationFilter{AccountID: "acct1", InstanceID: "i-1", Active: true}, []string{"op-b"}},
		{"other account", kafkaplane.OperationFilter{AccountID: "acct2"}, []string{"op-d"}},
		{"everything active", kafkaplane.OperationFilter{Active: true}, []string{"op-d", "op-c", "op-b"}},
	} {
		ops, err := db.FindOperations(ctx, tc.f)
		must(t, err)
		var ids []string
		for _, op := range ops {
			ids = append(ids, op.ID)
		}
		diff(t, tc.name, ids, tc.want)
	}
}

func testClaimLease(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	i1 := mustCreateInstance(t, db, newInstance("i-1", "acct1", "cn-hangzhou"))
	i2 := mustCreateInstance(t, db, newInstance("i-2", "acct1", "cn-hangzhou"))
	o1, o2 := newOperation("op-old", i1), newOperation("op-new", i2)
	o1.CreatedAt, o2.CreatedAt = t0.Add(-time.Minute), t0
	startOp(t, db, i1, o1)
	startOp(t, db, i2, o2)

	const lease = 30 * time.Second
	c1, err := db.ClaimOperation(ctx, "worker-a", t0, lease)
	must(t, err)
	if c1 == nil || c1.ID != "op-old" || c1.State != kafkaplane.OperationInProgress || c1.Attempts != 1 ||
		c1.LeaseOwner != "worker-a" || !c1.LeaseUntil.Equal(t0.Add(lease)) || c1.ModifyIndex != 2 {
		t.Fatalf("first claim: %+v", c1)
	}
	c2, err := db.ClaimOperation(ctx, "worker-b", t0.Add(time.Second), lease)
	must(t, err)
	if c2 == nil || c2.ID != "op-new" {
		t.Fatalf("second claim: %+v", c2)
	}
	none, err := db.ClaimOperation(ctx, "worker-c", t0.Add(2*time.Second), lease)
	must(t, err)
	if none != nil {
		t.Fatalf("claimed a leased operation: %+v", none)
	}

	// worker-a records its first step and then dies.
	c1.Steps[0].Status, c1.Steps[0].StartedAt, c1.Steps[0].FinishedAt = kafkaplane.StepComplete, t0, t0.Add(time.Second)
	must(t, db.UpdateOperation(ctx, c1))

	// Exactly at expiry the lease is free again: the same operation resumes
	// at its first unfinished step with a second attempt.
	c3, err := db.ClaimOperation(ctx, "worker-c", t0.Add(lease), lease)
	must(t, err)
	if c3 == nil || c3.ID != "op-old" || c3.Attempts != 2 || c3.LeaseOwner != "worker-c" || c3.NextStep() != 1 {
		t.Fatalf("claim after expiry: %+v", c3)
	}
	diff(t, "steps after resume", c3.Steps, c1.Steps)
	// The dead worker's copy is stale now.
	c1.Steps[1].Status = kafkaplane.StepComplete
	wantCode(t, db.UpdateOperation(ctx, c1), kafkaplane.CodeConflict)

	// Finished operations are never claimed.
	c3.State = kafkaplane.OperationComplete
	c3.LeaseOwner, c3.LeaseUntil = "", time.Time{}
	in1, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", "i-1")
	must(t, err)
	must(t, db.FinishOperation(ctx, c3, in1))
	c4, err := db.ClaimOperation(ctx, "worker-d", t0.Add(time.Hour), lease)
	must(t, err)
	if c4 == nil || c4.ID != "op-new" || c4.Attempts != 2 {
		t.Fatalf("claim after finish: %+v", c4)
	}
	c5, err := db.ClaimOperation(ctx, "worker-d", t0.Add(time.Hour), lease)
	must(t, err)
	if c5 != nil {
		t.Fatalf("claimed again: %+v", c5)
	}
}

// testClaimBackoff: an operation released with a next-attempt time is not
// claimed before it, other operations are, and the attempt count and the
// time survive a reopen of the store (a restarted process).
func testClaimBackoff(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	i1 := mustCreateInstance(t, db, newInstance("i-1", "acct1", "cn-hangzhou"))
	i2 := mustCreateInstance(t, db, newInstance("i-2", "acct1", "cn-hangzhou"))
	o1, o2 := newOperation("op-old", i1), newOperation("op-new", i2)
	o1.CreatedAt, o2.CreatedAt = t0.Add(-time.Minute), t0
	startOp(t, db, i1, o1)
	startOp(t, db, i2, o2)

	const lease = 30 * time.Second
	c1, err := db.ClaimOperation(ctx, "worker-a", t0, lease)
	must(t, err)
	if c1 == nil || c1.ID != "op-old" || c1.Attempts != 1 {
		t.Fatalf("first claim: %+v", c1)
	}
	// The attempt failed; the worker releases the lease with a back-off.
	c1.LeaseOwner, c1.LeaseUntil, c1.NextAttemptAt = "", time.Time{}, t0.Add(8*time.Second)
	must(t, db.UpdateOperation(ctx, c1))

	// Before its time the older operation is passed over for the newer.
	c2, err := db.ClaimOperation(ctx, "worker-b", t0.Add(time.Second), lease)
	must(t, err)
	if c2 == nil || c2.ID != "op-new" {
		t.Fatalf("claim during back-off: %+v", c2)
	}
	none, err := db.ClaimOperation(ctx, "worker-b", t0.Add(8*time.Second-time.Microsecond), lease)
	must(t, err)
	if none != nil {
		t.Fatalf("claimed before its next attempt: %+v", none)
	}

	db.Close()
	db = openStore(t, dsn)
	got, err := db.FindOperation(ctx, "acct1", "op-old")
	must(t, err)
	if got.Attempts != 1 || !got.NextAttemptAt.Equal(t0.Add(8*time.Second)) {
		t.Fatalf("after reopen: attempts %d, next attempt %v", got.Attempts, got.NextAttemptAt)
	}
	c3, err := db.ClaimOperation(ctx, "worker-c", t0.Add(8*time.Second), lease)
	must(t, err)
	if c3 == nil || c3.ID != "op-old" || c3.Attempts != 2 || !c3.NextAttemptAt.Equal(t0.Add(8*time.Second)) {
		t.Fatalf("claim when due: %+v", c3)
	}
}

func testClaimConcurrent(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	const ops, workers = 20, 8
	for i := range ops {
		in := mustCreateInstance(t, db, newInstance(fmt.Sprintf("i-%02d", i), "acct1", "cn-hangzhou"))
		op := newOperation(fmt.Sprintf("op-%02d", i), in)
		op.CreatedAt = t0.Add(time.Duration(i) * time.Millisecond)
		startOp(t, db, in, op)
	}
	var (
		mu      sync.Mutex
		claimed = map[string]string{}
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			owner := fmt.Sprintf("w%d", w)
			for {
				op, err := db.ClaimOperation(ctx, owner, t0.Add(time.Second), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if op == nil {
					return
				}
				mu.Lock()
				if prev, dup := claimed[op.ID]; dup {
					t.Errorf("%s claimed by %s and %s", op.ID, prev, owner)
				}
				claimed[op.ID] = owner
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != ops {
		t.Fatalf("%d operations claimed, want %d", len(claimed), ops)
	}
}

func testUpdateOperation(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	in := mustCreateInstance(t, db, newInstance("i-1", "acct1", "cn-hangzhou"))
	op := newOperation("op-1", in)
	startOp(t, db, in, op)
	stale := *op
	op.Steps[0].Status, op.Steps[0].Detail = kafkaplane.StepInProgress, "checking brokers"
	op.Steps[0].StartedAt = t0.Add(1500 * time.Nanosecond)
	op.UpdatedAt = time.Time{}
	must(t, db.UpdateOperation(ctx, op))
	if op.ModifyIndex != 2 || op.Steps[0].StartedAt != t0.Add(time.Microsecond) || !op.UpdatedAt.Equal(t0) {
		t.Fatalf("after update: %+v", op)
	}
	got, err := db.FindOperation(ctx, "acct1", op.ID)
	must(t, err)
	diff(t, "operation", got, op)
	wantCode(t, db.UpdateOperation(ctx, &stale), kafkaplane.CodeConflict)
	ghost := newOperation("op-none", in)
	wantCode(t, db.UpdateOperation(ctx, ghost), kafkaplane.CodeOperationNotFound)
}

func testFinishOperation(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	in := mustCreateInstance(t, db, newInstance("i-1", "acct1", "cn-hangzhou"))
	op := newOperation("op-1", in)
	startOp(t, db, in, op)

	// The instance changed behind the worker's back: the operation's write
	// must roll back with the instance's lost compare-and-set.
	other := *in
	other.Name = "renamed meanwhile"
	must(t, db.UpdateInstance(ctx, &other))
	op.State = kafkaplane.OperationComplete
	for i := range op.Steps {
		op.Steps[i].Status = kafkaplane.StepComplete
	}
	in.Version, in.MinorVersion = "2.2.0", "2.2.0-1.1.0"
	in.ServiceStatus, in.ViewStatus = kafkaplane.ServiceStatusRunning, kafkaplane.ViewStatusRunning
	opIndex, inIndex := op.ModifyIndex, in.ModifyIndex
	wantCode(t, db.FinishOperation(ctx, op, in), kafkaplane.CodeConflict)
	if op.ModifyIndex != opIndex || in.ModifyIndex != inIndex || !op.FinishedAt.IsZero() {
		t.Fatalf("failed finish changed the caller's structs: op %d→%d, inst %d→%d, finished %v",
			opIndex, op.ModifyIndex, inIndex, in.ModifyIndex, op.FinishedAt)
	}
	stored, err := db.FindOperation(ctx, "acct1", op.ID)
	must(t, err)
	if stored.State != kafkaplane.OperationPending || stored.ModifyIndex != 1 || stored.Steps[0].Status != kafkaplane.StepPending {
		t.Fatalf("failed finish wrote the operation: %+v", stored)
	}

	// Re-read the instance and finish for real: both rows change together.
	fresh, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	must(t, err)
	fresh.Version, fresh.MinorVersion = "2.2.0", "2.2.0-1.1.0"
	fresh.ServiceStatus, fresh.ViewStatus = kafkaplane.ServiceStatusRunning, kafkaplane.ViewStatusRunning
	must(t, db.FinishOperation(ctx, op, fresh))
	if op.ModifyIndex != 2 || !op.FinishedAt.Equal(t0) || fresh.ModifyIndex != 4 {
		t.Fatalf("after finish: op index %d finished %v, inst index %d", op.ModifyIndex, op.FinishedAt, fresh.ModifyIndex)
	}
	gotOp, err := db.FindOperation(ctx, "acct1", op.ID)
	must(t, err)
	diff(t, "finished operation", gotOp, op)
	gotIn, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	must(t, err)
	diff(t, "finished instance", gotIn, fresh)

	// An operation CAS loss also leaves the instance untouched.
	staleOp := *gotOp
	staleOp.ModifyIndex = 1
	gotIn.Name = "must not stick"
	wantCode(t, db.FinishOperation(ctx, &staleOp, gotIn), kafkaplane.CodeConflict)
	again, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", in.ID)
	must(t, err)
	diff(t, "instance after lost op CAS", again, fresh)

	// The instance is free for the next operation.
	startOp(t, db, again, newOperation("op-2", again))
}

// ---- identities ----

func testAccessKeys(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	root := &kafkaplane.AccessKey{ID: "LTAIroot1", Secret: "s1", AccountID: "acct1"}
	must(t, db.CreateAccessKey(ctx, root, 0))
	if root.Status != kafkaplane.AccessKeyActive || root.ModifyIndex != 1 || !root.CreateDate.Equal(t0) {
		t.Fatalf("after create: %+v", root)
	}
	wantCode(t, db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "LTAIroot1", Secret: "x", AccountID: "acct2"}, 0), kafkaplane.CodeAlreadyExists)
	wantCode(t, db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "LTAIuser1", Secret: "x", AccountID: "acct1", UserName: "alice"}, 0), kafkaplane.CodeNotFound)
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: "alice"}))
	u1 := &kafkaplane.AccessKey{ID: "LTAIuser1", Secret: "s2", AccountID: "acct1", UserName: "alice", CreateDate: t0.Add(time.Second)}
	u2 := &kafkaplane.AccessKey{ID: "LTAIuser2", Secret: "s3", AccountID: "acct1", UserName: "alice", Status: kafkaplane.AccessKeyInactive, CreateDate: t0.Add(2 * time.Second)}
	must(t, db.CreateAccessKey(ctx, u1, 0))
	must(t, db.CreateAccessKey(ctx, u2, 0))

	got, err := db.FindAccessKey(ctx, "LTAIuser2")
	must(t, err)
	diff(t, "key", got, u2)
	_, err = db.FindAccessKey(ctx, "LTAInone")
	wantCode(t, err, kafkaplane.CodeNotFound)

	keys, err := db.ListAccessKeys(ctx, "acct1", "alice")
	must(t, err)
	diff(t, "alice's keys", keys, []*kafkaplane.AccessKey{u1, u2})
	keys, err = db.ListAccessKeys(ctx, "acct1", "")
	must(t, err)
	diff(t, "root keys", keys, []*kafkaplane.AccessKey{root})

	stale := *got
	got.Status = kafkaplane.AccessKeyActive
	must(t, db.UpdateAccessKey(ctx, got))
	if got.ModifyIndex != 2 {
		t.Fatalf("index %d", got.ModifyIndex)
	}
	wantCode(t, db.UpdateAccessKey(ctx, &stale), kafkaplane.CodeConflict)
	again, err := db.FindAccessKey(ctx, "LTAIuser2")
	must(t, err)
	diff(t, "updated key", again, got)
	wrongAccount := *again
	wrongAccount.AccountID = "acct2"
	wantCode(t, db.UpdateAccessKey(ctx, &wrongAccount), kafkaplane.CodeNotFound)

	wantCode(t, db.DeleteAccessKey(ctx, "acct2", "LTAIuser2"), kafkaplane.CodeNotFound)
	must(t, db.DeleteAccessKey(ctx, "acct1", "LTAIuser2"))
	wantCode(t, db.DeleteAccessKey(ctx, "acct1", "LTAIuser2"), kafkaplane.CodeNotFound)
	_, err = db.FindAccessKey(ctx, "LTAIuser2")
	wantCode(t, err, kafkaplane.CodeNotFound)
}

// testRootAccessKeys: ReplaceRootAccessKeys leaves exactly the given root
// key, Active with the given secret; the last active root key can be
// neither deleted nor disabled, also when two handles each delete one of
// two keys at the same time.
func testRootAccessKeys(t *testing.T, dsn string) {
	ctx := context.Background()
	dbs := []*DB{openStore(t, dsn), openStore(t, dsn)}
	db := dbs[0]
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: "alice"}))
	must(t, db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "LTAIalice", Secret: "a", AccountID: "acct1", UserName: "alice"}, 0))
	must(t, db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "LTAIother", Secret: "o", AccountID: "acct2"}, 0))
	for _, id := range []string{"LTAIr1", "LTAIr2"} {
		must(t, db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: id, Secret: "old", AccountID: "acct1", Status: kafkaplane.AccessKeyInactive}, 0))
	}

	k := &kafkaplane.AccessKey{ID: "LTAIr1", Secret: "new", AccountID: "acct1"}
	must(t, db.ReplaceRootAccessKeys(ctx, k))
	got, err := db.FindAccessKey(ctx, "LTAIr1")
	must(t, err)
	if got.Secret != "new" || got.Status != kafkaplane.AccessKeyActive || !got.Root() {
		t.Fatalf("replaced key: %+v", got)
	}
	diff(t, "returned key", k, got)
	keys, err := db.ListAccessKeys(ctx, "acct1", "")
	must(t, err)
	if len(keys) != 1 || keys[0].ID != "LTAIr1" {
		t.Fatalf("root keys after replace: %+v", keys)
	}
	for _, id := range []string{"LTAIalice", "LTAIother"} {
		_, err := db.FindAccessKey(ctx, id)
		must(t, err)
	}
	wantCode(t, db.ReplaceRootAccessKeys(ctx, &kafkaplane.AccessKey{ID: "LTAIalice", Secret: "x", AccountID: "acct1"}), kafkaplane.CodeAlreadyExists)
	wantCode(t, db.ReplaceRootAccessKeys(ctx, &kafkaplane.AccessKey{ID: "LTAIother", Secret: "x", AccountID: "acct1"}), kafkaplane.CodeAlreadyExists)

	// The last active root key stays.
	wantCode(t, db.DeleteAccessKey(ctx, "acct1", "LTAIr1"), kafkaplane.CodeLastRootKey)
	got.Status = kafkaplane.AccessKeyInactive
	wantCode(t, db.UpdateAccessKey(ctx, got), kafkaplane.CodeLastRootKey)
	// A user's only key is not protected.
	must(t, db.DeleteAccessKey(ctx, "acct1", "LTAIalice"))

	// Two active root keys deleted at once: exactly one delete succeeds.
	for round := range 8 {
		second := fmt.Sprintf("LTAIsecond%d", round)
		must(t, db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: second, Secret: "s", AccountID: "acct1"}, 0))
		keys, err := db.ListAccessKeys(ctx, "acct1", "")
		must(t, err)
		if len(keys) != 2 {
			t.Fatalf("round %d: %d root keys before the race", round, len(keys))
		}
		var (
			wg      sync.WaitGroup
			deleted atomic.Int32
			start   = make(chan struct{})
		)
		for i, k := range keys {
			wg.Go(func() {
				<-start
				err := dbs[i].DeleteAccessKey(ctx, "acct1", k.ID)
				switch kafkaplane.ErrorCode(err) {
				case "":
					deleted.Add(1)
				case kafkaplane.CodeLastRootKey:
				default:
					t.Errorf("round %d: delete %s: %v", round, k.ID, err)
				}
			})
		}
		close(start)
		wg.Wait()
		keys, err = db.ListAccessKeys(ctx, "acct1", "")
		must(t, err)
		if deleted.Load() != 1 || len(keys) != 1 || keys[0].Status != kafkaplane.AccessKeyActive {
			t.Fatalf("round %d: %d deletes succeeded, root keys left %+v", round, deleted.Load(), keys)
		}
	}
}

// testAccessKeyLimitConcurrent creates keys for one owner from many
// goroutines across two handles on the same database, as two kafkaplane
// processes would: exactly limit of them may succeed.
func testAccessKeyLimitConcurrent(t *testing.T, dsn string) {
	ctx := context.Background()
	dbs := []*DB{openStore(t, dsn), openStore(t, dsn)}
	must(t, dbs[0].CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: "alice"}))
	const n, limit = 24, 2
	for _, owner := range []string{"alice", ""} {
		var (
			wg        sync.WaitGroup
			ok, over  atomic.Int32
			otherErrs = make(chan error, n)
			start     = make(chan struct{})
		)
		for i := range n {
			wg.Go(func() {
				k := &kafkaplane.AccessKey{ID: fmt.Sprintf("LTAI%s%02d", owner, i), Secret: "s", AccountID: "acct1", UserName: owner}
				<-start
				err := dbs[i%2].CreateAccessKey(ctx, k, limit)
				switch {
				case err == nil:
					ok.Add(1)
				case kafkaplane.ErrorCode(err) == kafkaplane.CodeLimitExceeded:
					over.Add(1)
				default:
					otherErrs <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(otherErrs)
		for err := range otherErrs {
			t.Errorf("owner %q: unexpected error: %v", owner, err)
		}
		keys, err := dbs[0].ListAccessKeys(ctx, "acct1", owner)
		must(t, err)
		if ok.Load() != limit || over.Load() != n-limit || len(keys) != limit {
			t.Fatalf("owner %q: %d created, %d refused, %d stored; want %d, %d, %d",
				owner, ok.Load(), over.Load(), len(keys), limit, n-limit, limit)
		}
	}
	// Without a limit nothing is counted.
	must(t, dbs[1].CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "LTAIextra", Secret: "s", AccountID: "acct1", UserName: "alice"}, 0))
}

// testDeleteUserRacesAccessKey deletes users while keys are created for
// them through a second handle: whichever wins, no key may be left whose
// user is gone.
func testDeleteUserRacesAccessKey(t *testing.T, dsn string) {
	ctx := context.Background()
	a, b := openStore(t, dsn), openStore(t, dsn)
	for i := range 40 {
		name := fmt.Sprintf("racer%02d", i)
		must(t, a.CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: name}))
		var wg sync.WaitGroup
		var delErr, keyErr error
		start := make(chan struct{})
		wg.Go(func() { <-start; delErr = a.DeleteUser(ctx, "acct1", name) })
		wg.Go(func() {
			<-start
			keyErr = b.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "LTAI" + name, Secret: "s", AccountID: "acct1", UserName: name}, 2)
		})
		close(start)
		wg.Wait()
		_, findErr := a.FindUser(ctx, "acct1", name)
		keys, err := a.ListAccessKeys(ctx, "acct1", name)
		must(t, err)
		switch {
		case delErr == nil && (len(keys) != 0 || kafkaplane.ErrorCode(findErr) != kafkaplane.CodeNotFound):
			t.Fatalf("%s: deleted, but %d keys remain (create: %v)", name, len(keys), keyErr)
		case delErr != nil && kafkaplane.ErrorCode(delErr) != kafkaplane.CodeHasAccessKeys:
			t.Fatalf("%s: delete failed with %v", name, delErr)
		case delErr != nil && (keyErr != nil || len(keys) != 1):
			t.Fatalf("%s: delete refused, yet create returned %v and %d keys exist", name, keyErr, len(keys))
		case delErr == nil && keyErr != nil && kafkaplane.ErrorCode(keyErr) != kafkaplane.CodeNotFound:
			t.Fatalf("%s: create after the delete failed with %v", name, keyErr)
		}
	}
}

func testUsers(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	seedSystemPolicies(t, db)
	alice := &kafkaplane.User{AccountID: "acct1", UserName: "alice", DisplayName: "Alice", Email: "a@example.com", Comments: "ops"}
	must(t, db.CreateUser(ctx, alice))
	if len(alice.UserID) != 16 || alice.ModifyIndex != 1 || !alice.CreateDate.Equal(t0) || !alice.UpdateDate.Equal(t0) {
		t.Fatalf("after create: %+v", alice)
	}
	wantCode(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: "alice"}), kafkaplane.CodeAlreadyExists)
	// Names are unique per account only.
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct2", UserName: "alice", UserID: "2000000000000001"}))
	bob := &kafkaplane.User{AccountID: "acct1", UserName: "bob", CreateDate: t0.Add(time.Minute)}
	must(t, db.CreateUser(ctx, bob))

	got, err := db.FindUser(ctx, "acct1", "alice")
	must(t, err)
	diff(t, "user", got, alice)
	_, err = db.FindUser(ctx, "acct3", "alice")
	wantCode(t, err, kafkaplane.CodeNotFound)
	users, err := db.ListUsers(ctx, "acct1")
	must(t, err)
	diff(t, "users", users, []*kafkaplane.User{alice, bob})

	// Update with compare-and-set, including a rename that carries over to
	// the user's keys and attachments.
	must(t, db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "LTAIalice", Secret: "s", AccountID: "acct1", UserName: "alice"}, 0))
	must(t, db.AttachPolicy(ctx, &kafkaplane.PolicyAttachment{AccountID: "acct1", UserName: "alice", PolicyType: kafkaplane.PolicyTypeSystem, PolicyName: "AliyunKafkaFullAccess"}))
	stale := *got
	got.UserName, got.DisplayName, got.UpdateDate = "alice2", "Alice II", t0.Add(time.Hour)
	must(t, db.UpdateUser(ctx, got))
	if got.ModifyIndex != 2 {
		t.Fatalf("index %d", got.ModifyIndex)
	}
	wantCode(t, db.UpdateUser(ctx, &stale), kafkaplane.CodeConflict)
	renamed, err := db.FindUser(ctx, "acct1", "alice2")
	must(t, err)
	diff(t, "renamed user", renamed, got)
	_, err = db.FindUser(ctx, "acct1", "alice")
	wantCode(t, err, kafkaplane.CodeNotFound)
	k, err := db.FindAccessKey(ctx, "LTAIalice")
	must(t, err)
	if k.UserName != "alice2" {
		t.Fatalf("key still belongs to %q", k.UserName)
	}
	att, err := db.ListAttachments(ctx, "acct1", kafkaplane.AttachmentFilter{UserName: "alice2"})
	must(t, err)
	if len(att) != 1 {
		t.Fatalf("attachments of renamed user: %v", att)
	}
	clash := *renamed
	clash.UserName = "bob"
	wantCode(t, db.UpdateUser(ctx, &clash), kafkaplane.CodeAlreadyExists)
	ghost := &kafkaplane.User{AccountID: "acct1", UserName: "ghost", UserID: "1999999999999999"}
	wantCode(t, db.UpdateUser(ctx, ghost), kafkaplane.CodeNotFound)

	// Delete needs the keys and attachments gone first, as in RAM.
	wantCode(t, db.DeleteUser(ctx, "acct1", "alice2"), kafkaplane.CodeHasAccessKeys)
	must(t, db.DeleteAccessKey(ctx, "acct1", "LTAIalice"))
	wantCode(t, db.DeleteUser(ctx, "acct1", "alice2"), kafkaplane.CodeHasPolicies)
	must(t, db.DetachPolicy(ctx, att[0]))
	must(t, db.DeleteUser(ctx, "acct1", "alice2"))
	wantCode(t, db.DeleteUser(ctx, "acct1", "alice2"), kafkaplane.CodeNotFound)
	users, err = db.ListUsers(ctx, "acct1")
	must(t, err)
	diff(t, "users after delete", users, []*kafkaplane.User{bob})
}

// seedSystemPolicies stores the two kafka system policies (docs/ram.md, System policies).
func seedSystemPolicies(t *testing.T, db *DB) {
	t.Helper()
	for _, name := range []string{"AliyunKafkaFullAccess", "AliyunKafkaReadOnlyAccess"} {
		must(t, db.CreatePolicy(context.Background(), &kafkaplane.Policy{
			PolicyName: name, PolicyType: kafkaplane.PolicyTypeSystem, Document: `{"Version":"1","Statement":[]}`,
		}))
	}
}

func testPolicies(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	seedSystemPolicies(t, db)
	wantCode(t, db.CreatePolicy(ctx, &kafkaplane.Policy{AccountID: "acct1", PolicyName: "AliyunKafkaFullAccess", PolicyType: kafkaplane.PolicyTypeSystem}),
		kafkaplane.CodeAlreadyExists)
	custom := &kafkaplane.Policy{AccountID: "acct1", PolicyName: "upgrade-one", Description: "d", Document: `{"Version":"1"}`}
	must(t, db.CreatePolicy(ctx, custom))
	if custom.PolicyType != kafkaplane.PolicyTypeCustom || custom.DefaultVersion != "1" || custom.ModifyIndex != 1 {
		t.Fatalf("after create: %+v", custom)
	}
	wantCode(t, db.CreatePolicy(ctx, &kafkaplane.Policy{AccountID: "acct1", PolicyName: "upgrade-one"}), kafkaplane.CodeAlreadyExists)
	must(t, db.CreatePolicy(ctx, &kafkaplane.Policy{AccountID: "acct2", PolicyName: "upgrade-one"}))

	got, err := db.FindPolicy(ctx, "acct1", kafkaplane.PolicyTypeCustom, "upgrade-one")
	must(t, err)
	diff(t, "custom policy", got, custom)
	sys, err := db.FindPolicy(ctx, "acct9", kafkaplane.PolicyTypeSystem, "AliyunKafkaFullAccess")
	must(t, err)
	if sys.AccountID != "" || sys.PolicyType != kafkaplane.PolicyTypeSystem {
		t.Fatalf("system policy: %+v", sys)
	}
	_, err = db.FindPolicy(ctx, "acct1", kafkaplane.PolicyTypeCustom, "AliyunKafkaFullAccess")
	wantCode(t, err, kafkaplane.CodeNotFound)
	_, err = db.FindPolicy(ctx, "acct3", kafkaplane.PolicyTypeCustom, "upgrade-one")
	wantCode(t, err, kafkaplane.CodeNotFound)
	either, err := db.FindPolicy(ctx, "acct1", "", "upgrade-one")
	must(t, err)
	diff(t, "policy of any type", either, custom)

	names := func(ps []*kafkaplane.Policy) (out []string) {
		for _, p := range ps {
			out = append(out, p.PolicyType+"/"+p.PolicyName)
		}
		return out
	}
	all, err := db.ListPolicies(ctx, "acct1", "")
	must(t, err)
	diff(t, "all policies", names(all), []string{"Custom/upgrade-one", "System/AliyunKafkaFullAccess", "System/AliyunKafkaReadOnlyAccess"})
	sysList, err := db.ListPolicies(ctx, "acct3", kafkaplane.PolicyTypeSystem)
	must(t, err)
	diff(t, "system policies", names(sysList), []string{"System/AliyunKafkaFullAccess", "System/AliyunKafkaReadOnlyAccess"})

	// Attachment counts are per account, and block deleting a custom policy.
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: "alice"}))
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: "bob"}))
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct2", UserName: "carol"}))
	attach := func(account, user, typ, name string) *kafkaplane.PolicyAttachment {
		a := &kafkaplane.PolicyAttachment{AccountID: account, UserName: user, PolicyType: typ, PolicyName: name}
		must(t, db.AttachPolicy(ctx, a))
		return a
	}
	a1 := attach("acct1", "alice", kafkaplane.PolicyTypeCustom, "upgrade-one")
	attach("acct1", "alice", kafkaplane.PolicyTypeSystem, "AliyunKafkaFullAccess")
	attach("acct1", "bob", kafkaplane.PolicyTypeSystem, "AliyunKafkaFullAccess")
	attach("acct2", "carol", kafkaplane.PolicyTypeSystem, "AliyunKafkaFullAccess")
	counts := func(account string) map[string]int {
		ps, err := db.ListPolicies(ctx, account, "")
		must(t, err)
		m := map[string]int{}
		for _, p := range ps {
			m[p.PolicyName] = p.AttachmentCount
		}
		return m
	}
	diff(t, "acct1 counts", counts("acct1"), map[string]int{"upgrade-one": 1, "AliyunKafkaFullAccess": 2, "AliyunKafkaReadOnlyAccess": 0})
	diff(t, "acct2 counts", counts("acct2"), map[string]int{"upgrade-one": 0, "AliyunKafkaFullAccess": 1, "AliyunKafkaReadOnlyAccess": 0})
	one, err := db.FindPolicy(ctx, "acct1", kafkaplane.PolicyTypeSystem, "AliyunKafkaFullAccess")
	must(t, err)
	if one.AttachmentCount != 2 {
		t.Fatalf("FindPolicy count %d, want 2", one.AttachmentCount)
	}

	wantCode(t, db.DeletePolicy(ctx, "acct1", "upgrade-one"), kafkaplane.CodeHasUsers)
	must(t, db.DetachPolicy(ctx, a1))
	must(t, db.DeletePolicy(ctx, "acct1", "upgrade-one"))
	wantCode(t, db.DeletePolicy(ctx, "acct1", "upgrade-one"), kafkaplane.CodeNotFound)
	wantCode(t, db.DeletePolicy(ctx, "acct1", "AliyunKafkaFullAccess"), kafkaplane.CodeNotFound)
	// acct2's policy of the same name is untouched.
	_, err = db.FindPolicy(ctx, "acct2", kafkaplane.PolicyTypeCustom, "upgrade-one")
	must(t, err)
}

func testAttachments(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	seedSystemPolicies(t, db)
	must(t, db.CreatePolicy(ctx, &kafkaplane.Policy{AccountID: "acct1", PolicyName: "p1"}))
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: "alice"}))
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: "bob"}))
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct2", UserName: "alice"}))

	at := func(account, user, typ, name string, sec int) *kafkaplane.PolicyAttachment {
		return &kafkaplane.PolicyAttachment{AccountID: account, UserName: user, PolicyType: typ, PolicyName: name,
			AttachDate: t0.Add(time.Duration(sec) * time.Second)}
	}
	a1 := at("acct1", "alice", kafkaplane.PolicyTypeCustom, "p1", 1)
	a2 := at("acct1", "alice", kafkaplane.PolicyTypeSystem, "AliyunKafkaReadOnlyAccess", 2)
	a3 := at("acct1", "bob", kafkaplane.PolicyTypeCustom, "p1", 3)
	a4 := at("acct2", "alice", kafkaplane.PolicyTypeSystem, "AliyunKafkaReadOnlyAccess", 4)
	for _, a := range []*kafkaplane.PolicyAttachment{a1, a2, a3, a4} {
		must(t, db.AttachPolicy(ctx, a))
	}
	wantCode(t, db.AttachPolicy(ctx, at("acct1", "alice", kafkaplane.PolicyTypeCustom, "p1", 9)), kafkaplane.CodeAlreadyExists)
	wantCode(t, db.AttachPolicy(ctx, at("acct1", "carol", kafkaplane.PolicyTypeCustom, "p1", 9)), kafkaplane.CodeNotFound)
	wantCode(t, db.AttachPolicy(ctx, at("acct1", "alice", kafkaplane.PolicyTypeCustom, "nope", 9)), kafkaplane.CodeNotFound)
	wantCode(t, db.AttachPolicy(ctx, at("acct2", "alice", kafkaplane.PolicyTypeCustom, "p1", 9)), kafkaplane.CodeNotFound)
	wantCode(t, db.AttachPolicy(ctx, at("acct1", "alice", kafkaplane.PolicyTypeSystem, "p1", 9)), kafkaplane.CodeNotFound)

	for _, tc := range []struct {
		name    string
		account string
		f       kafkaplane.AttachmentFilter
		want    []*kafkaplane.PolicyAttachment
	}{
		{"of a user", "acct1", kafkaplane.AttachmentFilter{UserName: "alice"}, []*kafkaplane.PolicyAttachment{a1, a2}},
		{"of a policy", "acct1", kafkaplane.AttachmentFilter{PolicyType: kafkaplane.PolicyTypeCustom, PolicyName: "p1"}, []*kafkaplane.PolicyAttachment{a1, a3}},
		{"of a system policy in one account", "acct2", kafkaplane.AttachmentFilter{PolicyType: kafkaplane.PolicyTypeSystem, PolicyName: "AliyunKafkaReadOnlyAccess"}, []*kafkaplane.PolicyAttachment{a4}},
		{"user and policy", "acct1", kafkaplane.AttachmentFilter{UserName: "bob", PolicyType: kafkaplane.PolicyTypeCustom, PolicyName: "p1"}, []*kafkaplane.PolicyAttachment{a3}},
		{"of the account", "acct1", kafkaplane.AttachmentFilter{}, []*kafkaplane.PolicyAttachment{a1, a2, a3}},
		{"none", "acct1", kafkaplane.AttachmentFilter{UserName: "bob", PolicyType: kafkaplane.PolicyTypeSystem}, nil},
	} {
		got, err := db.ListAttachments(ctx, tc.account, tc.f)
		must(t, err)
		diff(t, tc.name, got, tc.want)
	}

	must(t, db.DetachPolicy(ctx, a2))
	wantCode(t, db.DetachPolicy(ctx, a2), kafkaplane.CodeNotFound)
	got, err := db.ListAttachments(ctx, "acct1", kafkaplane.AttachmentFilter{UserName: "alice"})
	must(t, err)
	diff(t, "after detach", got, []*kafkaplane.PolicyAttachment{a1})
}

// ---- groups ----

func testGroups(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	seedSystemPolicies(t, db)
	ops := &kafkaplane.Group{AccountID: "acct1", GroupName: "ops", Comments: "operators"}
	must(t, db.CreateGroup(ctx, ops))
	if len(ops.GroupID) != 16 || ops.ModifyIndex != 1 || !ops.CreateDate.Equal(t0) || !ops.UpdateDate.Equal(t0) {
		t.Fatalf("after create: %+v", ops)
	}
	wantCode(t, db.CreateGroup(ctx, &kafkaplane.Group{AccountID: "acct1", GroupName: "ops"}), kafkaplane.CodeAlreadyExists)
	// Names are unique per account only.
	must(t, db.CreateGroup(ctx, &kafkaplane.Group{AccountID: "acct2", GroupName: "ops"}))
	// A given GroupID is kept, and is unique per account like the name.
	dev := &kafkaplane.Group{AccountID: "acct1", GroupName: "dev", GroupID: "3000000000000001", CreateDate: t0.Add(time.Minute)}
	must(t, db.CreateGroup(ctx, dev))
	if dev.GroupID != "3000000000000001" || !dev.UpdateDate.Equal(dev.CreateDate) {
		t.Fatalf("after create: %+v", dev)
	}
	wantCode(t, db.CreateGroup(ctx, &kafkaplane.Group{AccountID: "acct1", GroupName: "dev2", GroupID: dev.GroupID}),
		kafkaplane.CodeAlreadyExists)

	got, err := db.FindGroup(ctx, "acct1", "ops")
	must(t, err)
	diff(t, "group", got, ops)
	_, err = db.FindGroup(ctx, "acct3", "ops")
	wantCode(t, err, kafkaplane.CodeNotFound)
	// By name, though dev was created after ops.
	groups, err := db.ListGroups(ctx, "acct1")
	must(t, err)
	diff(t, "groups", groups, []*kafkaplane.Group{dev, ops})

	// Update with compare-and-set, including a rename that carries over to
	// the group's members and attachments.
	must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: "acct1", UserName: "alice"}))
	must(t, db.AddUserToGroup(ctx, &kafkaplane.GroupMembership{AccountID: "acct1", GroupName: "ops", UserName: "alice"}))
	must(t, db.AttachPolicy(ctx, &kafkaplane.PolicyAttachment{AccountID: "acct1", GroupName: "ops",
		PolicyType: kafkaplane.PolicyTypeSystem, PolicyName: "AliyunKafkaReadOnlyAccess"}))
	stale := *got
	got.GroupName, got.Comments, got.UpdateDate = "sre", "site reliability", t0.Add(time.Hour)
	must(t, db.UpdateGroup(ctx, got))
	if got.ModifyIndex != 2 {
		t.Fatalf("index %d", got.ModifyIndex)
	}
	wantCode(t, db.UpdateGroup(ctx, &stale), kafkaplane.CodeConflict)
	renamed, err := db.FindGroup(ctx, "acct1", "sre")
	must(t, err)
	diff(t, "renamed group", renamed, got)
	_, err = db.FindGroup(ctx, "acct1", "ops")
	wantCode(t, err, kafkaplane.CodeNotFound)
	members, err := db.ListGroupMemberships(ctx, "acct1", "sre", "")
	must(t, err)
	diff(t, "members of renamed group", members, []*kafkaplane.GroupMembership{
		{AccountID: "acct1", GroupName: "sre", UserName: "alice", JoinDate: t0},
	})
	att, err := db.ListAttachments(ctx, "acct1", kafkaplane.AttachmentFilter{GroupName: "sre"})
	must(t, err)
	diff(t, "attachments of renamed group", att, []*kafkaplane.PolicyAttachment{
		{AccountID: "acct1", GroupName: "sre", PolicyType: kafkaplane.PolicyTypeSystem, PolicyName: "AliyunKafkaReadOnlyAccess", AttachDate: t0},
	})
	old, err := db.ListAttachments(ctx, "acct1", kafkaplane.AttachmentFilter{GroupName: "ops"})
	must(t, err)
	diff(t, "attachments of the old name", old, []*kafkaplane.PolicyAttachment(nil))
	// A renamed user keeps its memberships too.
	alice, err := db.FindUser(ctx, "acct1", "alice")
	must(t, err)
	alice.UserName = "alice2"
	must(t, db.UpdateUser(ctx, alice))
	members, err = db.ListGroupMemberships(ctx, "acct1", "", "alice2")
	must(t, err)
	diff(t, "memberships of renamed user", members, []*kafkaplane.GroupMembership{
		{AccountID: "acct1", GroupName: "sre", UserName: "alice2", JoinDate: t0},
	})
	clash := *renamed
	clash.GroupName = "dev"
	wantCode(t, db.UpdateGroup(ctx, &clash), kafkaplane.CodeAlreadyExists)
	ghost := &kafkaplane.Group{AccountID: "acct1", GroupName: "ghost", GroupID: "3999999999999999"}
	wantCode(t, db.UpdateGroup(ctx, ghost), kafkaplane.CodeNotFound)

	// Delete needs the members and attachments gone first, as in RAM.
	wantCode(t, db.DeleteGroup(ctx, "acct1", "nope"), kafkaplane.CodeNotFound)
	wantCode(t, db.DeleteGroup(ctx, "acct1", "sre"), kafkaplane.CodeHasUsers)
	must(t, db.RemoveUserFromGroup(ctx, "acct1", "sre", "alice2"))
	wantCode(t, db.DeleteGroup(ctx, "acct1", "sre"), kafkaplane.CodeHasPolicies)
	must(t, db.DetachPolicy(ctx, att[0]))
	must(t, db.DeleteGroup(ctx, "acct1", "sre"))
	wantCode(t, db.DeleteGroup(ctx, "acct1", "sre"), kafkaplane.CodeNotFound)
	groups, err = db.ListGroups(ctx, "acct1")
	must(t, err)
	diff(t, "groups after delete", groups, []*kafkaplane.Group{dev})
	// acct2's group of the same name is untouched.
	_, err = db.FindGroup(ctx, "acct2", "ops")
	must(t, err)
}

func testGroupMembershipsAndAttachments(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	seedSystemPolicies(t, db)
	must(t, db.CreatePolicy(ctx, &kafkaplane.Policy{AccountID: "acct1", PolicyName: "p1"}))
	for _, u := range []struct{ account, name string }{{"acct1", "alice"}, {"acct1", "bob"}, {"acct2", "carol"}} {
		must(t, db.CreateUser(ctx, &kafkaplane.User{AccountID: u.account, UserName: u.name}))
	}
	for _, g := range []struct{ account, name string }{{"acct1", "ops"}, {"acct1", "dev"}, {"acct2", "ops"}} {
		must(t, db.CreateGroup(ctx, &kafkaplane.Group{AccountID: g.account, GroupName: g.name}))
	}

	// Memberships.
	member := func(account, group, user string, sec int) *kafkaplane.GroupMembership {
		return &kafkaplane.GroupMembership{AccountID: account, GroupName: group, UserName: user,
			JoinDate: t0.Add(time.Duration(sec) * time.Second)}
	}
	m1 := member("acct1", "ops", "alice", 1)
	m2 := member("acct1", "dev", "alice", 2)
	m3 := member("acct1", "ops", "bob", 3)
	for _, m := range []*kafkaplane.GroupMembership{m1, m2, m3} {
		must(t, db.AddUserToGroup(ctx, m))
	}
	m4 := &kafkaplane.GroupMembership{AccountID: "acct2", GroupName: "ops", UserName: "carol"}
	must(t, db.AddUserToGroup(ctx, m4))
	if !m4.JoinDate.Equal(t0) {
		t.Fatalf("JoinDate %v, want the store clock", m4.JoinDate)
	}
	wantCode(t, db.AddUserToGroup(ctx, member("acct1", "ops", "alice", 9)), kafkaplane.CodeAlreadyExists)
	wantCode(t, db.AddUserToGroup(ctx, member("acct1", "ops", "carol", 9)), kafkaplane.CodeNotFound)
	wantCode(t, db.AddUserToGroup(ctx, member("acct1", "nope", "alice", 9)), kafkaplane.CodeNotFound)
	wantCode(t, db.AddUserToGroup(ctx, member("acct2", "dev", "carol", 9)), kafkaplane.CodeNotFound)
	for _, tc := range []struct {
		name                 string
		account, group, user string
		want                 []*kafkaplane.GroupMembership
	}{
		{"of a group", "acct1", "ops", "", []*kafkaplane.GroupMembership{m1, m3}},
		{"of a user", "acct1", "", "alice", []*kafkaplane.GroupMembership{m1, m2}},
		{"group and user", "acct1", "ops", "bob", []*kafkaplane.GroupMembership{m3}},
		{"of the account", "acct1", "", "", []*kafkaplane.GroupMembership{m1, m2, m3}},
		{"of another account", "acct2", "", "", []*kafkaplane.GroupMembership{m4}},
		{"none", "acct1", "dev", "bob", nil},
	} {
		got, err := db.ListGroupMemberships(ctx, tc.account, tc.group, tc.user)
		must(t, err)
		diff(t, "memberships "+tc.name, got, tc.want)
	}
	wantCode(t, db.RemoveUserFromGroup(ctx, "acct1", "dev", "bob"), kafkaplane.CodeNotFound)
	wantCode(t, db.RemoveUserFromGroup(ctx, "acct1", "nope", "alice"), kafkaplane.CodeNotFound)
	wantCode(t, db.RemoveUserFromGroup(ctx, "acct2", "ops", "alice"), kafkaplane.CodeNotFound)

	// Attachments to users and groups.
	at := func(user, group, typ, name string, sec int) *kafkaplane.PolicyAttachment {
		return &kafkaplane.PolicyAttachment{AccountID: "acct1", UserName: user, GroupName: group, PolicyType: typ, PolicyName: name,
			AttachDate: t0.Add(time.Duration(sec) * time.Second)}
	}
	const (
		custom   = kafkaplane.PolicyTypeCustom
		system   = kafkaplane.PolicyTypeSystem
		full     = "AliyunKafkaFullAccess"
		readOnly = "AliyunKafkaReadOnlyAccess"
	)
	u1 := at("alice", "", custom, "p1", 10)
	g1 := at("", "ops", custom, "p1", 11)
	g2 := at("", "ops", system, readOnly, 12)
	// At the same instant, attachments sort by the principal's name
	// whichever kind it is.
	g3 := at("", "dev", system, full, 13)
	u2 := at("bob", "", system, readOnly, 13)
	for _, a := range []*kafkaplane.PolicyAttachment{u1, g1, g2, g3, u2} {
		must(t, db.AttachPolicy(ctx, a))
	}
	wantCode(t, db.AttachPolicy(ctx, at("", "ops", custom, "p1", 20)), kafkaplane.CodeAlreadyExists)
	wantCode(t, db.AttachPolicy(ctx, at("", "nope", custom, "p1", 20)), kafkaplane.CodeNotFound)
	wantCode(t, db.AttachPolicy(ctx, at("", "ops", custom, "nope", 20)), kafkaplane.CodeNotFound)
	wantCode(t, db.AttachPolicy(ctx, at("", "ops", system, "p1", 20)), kafkaplane.CodeNotFound)
	wantCode(t, db.AttachPolicy(ctx, &kafkaplane.PolicyAttachment{AccountID: "acct2", GroupName: "ops", PolicyType: custom, PolicyName: "p1"}),
		kafkaplane.CodeNotFound)
	// An attachment names one principal; naming two is the caller's bug.
	for _, err := range []error{
		db.AttachPolicy(ctx, at("alice", "dev", custom, "p1", 20)),
		db.DetachPolicy(ctx, at("alice", "ops", custom, "p1", 20)),
	} {
		if err == nil || kafkaplane.ErrorCode(err) != "" {
			t.Fatalf("attachment naming a user and a group: err %v", err)
		}
	}

	for _, tc := range []struct {
		name    string
		account string
		f       kafkaplane.AttachmentFilter
		want    []*kafkaplane.PolicyAttachment
	}{
		{"of a user", "acct1", kafkaplane.AttachmentFilter{UserName: "alice"}, []*kafkaplane.PolicyAttachment{u1}},
		{"of a group", "acct1", kafkaplane.AttachmentFilter{GroupName: "ops"}, []*kafkaplane.PolicyAttachment{g1, g2}},
		{"group and policy type", "acct1", kafkaplane.AttachmentFilter{GroupName: "ops", PolicyType: system}, []*kafkaplane.PolicyAttachment{g2}},
		{"of a policy", "acct1", kafkaplane.AttachmentFilter{PolicyType: custom, PolicyName: "p1"}, []*kafkaplane.PolicyAttachment{u1, g1}},
		{"of a system policy", "acct1", kafkaplane.AttachmentFilter{PolicyType: system, PolicyName: readOnly}, []*kafkaplane.PolicyAttachment{g2, u2}},
		{"of the account", "acct1", kafkaplane.AttachmentFilter{}, []*kafkaplane.PolicyAttachment{u1, g1, g2, u2, g3}},
		{"user and group", "acct1", kafkaplane.AttachmentFilter{UserName: "alice", GroupName: "ops"}, nil},
		{"of another account", "acct2", kafkaplane.AttachmentFilter{}, nil},
	} {
		got, err := db.ListAttachments(ctx, tc.account, tc.f)
		must(t, err)
		diff(t, "attachments "+tc.name, got, tc.want)
	}

	// In effect: the user's own grants and its groups', each naming where
	// it comes from.
	inEffect := func(account, user string, want ...*kafkaplane.PolicyAttachment) {
		t.Helper()
		got, err := db.ListAttachmentsInEffect(ctx, account, user)
		must(t, err)
		diff(t, "in effect for "+user, got, want)
	}
	inEffect("acct1", "alice", u1, g1, g2, g3)
	inEffect("acct1", "bob", g1, g2, u2)
	inEffect("acct2", "carol")
	inEffect("acct1", "nobody")
	must(t, db.RemoveUserFromGroup(ctx, "acct1", "dev", "alice"))
	wantCode(t, db.RemoveUserFromGroup(ctx, "acct1", "dev", "alice"), kafkaplane.CodeNotFound)
	inEffect("acct1", "alice", u1, g1, g2)

	// Attachment counts include groups'.
	counts := func(account string) map[string]int {
		ps, err := db.ListPolicies(ctx, account, "")
		must(t, err)
		m := map[string]int{}
		for _, p := range ps {
			m[p.PolicyName] = p.AttachmentCount
		}
		return m
	}
	diff(t, "acct1 counts", counts("acct1"), map[string]int{"p1": 2, full: 1, readOnly: 2})
	diff(t, "acct2 counts", counts("acct2"), map[string]int{full: 0, readOnly: 0})
	p1, err := db.FindPolicy(ctx, "acct1", custom, "p1")
	must(t, err)
	if p1.AttachmentCount != 2 {
		t.Fatalf("FindPolicy count %d, want 2", p1.AttachmentCount)
	}

	// A user in a group cannot be deleted, nor a policy attached to one.
	must(t, db.DetachPolicy(ctx, u2))
	wantCode(t, db.DeleteUser(ctx, "acct1", "bob"), kafkaplane.CodeHasGroups)
	must(t, db.RemoveUserFromGroup(ctx, "acct1", "ops", "bob"))
	must(t, db.DeleteUser(ctx, "acct1", "bob"))
	wantCode(t, db.DeletePolicy(ctx, "acct1", "p1"), kafkaplane.CodeHasUsers)
	must(t, db.DetachPolicy(ctx, u1))
	wantCode(t, db.DeletePolicy(ctx, "acct1", "p1"), kafkaplane.CodeHasGroups)
	// A group's attachment is not detached through a user of that name.
	wantCode(t, db.DetachPolicy(ctx, at("ops", "", custom, "p1", 0)), kafkaplane.CodeNotFound)
	must(t, db.DetachPolicy(ctx, g1))
	wantCode(t, db.DetachPolicy(ctx, g1), kafkaplane.CodeNotFound)
	must(t, db.DeletePolicy(ctx, "acct1", "p1"))
	inEffect("acct1", "alice", g2)
}

// ---- topics and consumer groups ----

func testTopics(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	a := mustCreateInstance(t, db, newInstance("alikafka_post-cn-topics1", "acct1", "cn-hangzhou"))
	b := mustCreateInstance(t, db, newInstance("alikafka_post-cn-topics2", "acct2", "cn-hangzhou"))

	// Both flags set, tags, and a CreateTime below the stored precision.
	orders := &kafkaplane.Topic{InstanceID: a.ID, Name: "orders", Remark: "order events", PartitionNum: 12,
		CompactTopic: true, LocalTopic: true, Config: map[string]string{"retention.ms": "3600000", "max.message.bytes": "10485760"},
		Tags:       []kafkaplane.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: ""}},
		CreateTime: t0.Add(time.Minute + 1500*time.Nanosecond)}
	must(t, db.CreateTopic(ctx, orders, 0))
	if orders.ModifyIndex != 1 || !orders.CreateTime.Equal(t0.Add(time.Minute+time.Microsecond)) {
		t.Fatalf("after create: index %d, create time %v", orders.ModifyIndex, orders.CreateTime)
	}
	// Neither flag, no tags, CreateTime from the clock. Two topics of one
	// microsecond list by name.
	logs := &kafkaplane.Topic{InstanceID: a.ID, Name: "logs", PartitionNum: 6}
	must(t, db.CreateTopic(ctx, logs, 0))
	if logs.ModifyIndex != 1 || !logs.CreateTime.Equal(t0) {
		t.Fatalf("after create: index %d, create time %v", logs.ModifyIndex, logs.CreateTime)
	}
	audit := &kafkaplane.Topic{InstanceID: a.ID, Name: "audit", PartitionNum: 1, LocalTopic: true}
	must(t, db.CreateTopic(ctx, audit, 0))

	wantCode(t, db.CreateTopic(ctx, &kafkaplane.Topic{InstanceID: a.ID, Name: "orders"}, 0), kafkaplane.CodeAlreadyExists)
	wantCode(t, db.CreateTopic(ctx, &kafkaplane.Topic{InstanceID: "alikafka_post-cn-none", Name: "orders"}, 0),
		kafkaplane.CodeInstanceNotFound)

	got, err := db.FindTopic(ctx, a.ID, "orders")
	must(t, err)
	diff(t, "topic", got, orders)
	found, err := db.FindTopic(ctx, a.ID, "logs")
	must(t, err)
	diff(t, "topic", found, logs)
	_, err = db.FindTopic(ctx, a.ID, "nope")
	wantCode(t, err, kafkaplane.CodeNotFound)
	_, err = db.FindTopic(ctx, b.ID, "orders")
	wantCode(t, err, kafkaplane.CodeNotFound)

	list, err := db.ListTopics(ctx, a.ID)
	must(t, err)
	diff(t, "topics", list, []*kafkaplane.Topic{audit, logs, orders})
	list, err = db.ListTopics(ctx, b.ID)
	must(t, err)
	diff(t, "topics of another instance", list, []*kafkaplane.Topic(nil))

	// Names are unique per instance only.
	other := &kafkaplane.Topic{InstanceID: b.ID, Name: "orders", Remark: "elsewhere", PartitionNum: 3}
	must(t, db.CreateTopic(ctx, other, 0))

	// Compare-and-set on the written fields; the flags stay as created.
	stale := *got
	got.Remark, got.PartitionNum, got.Tags = "renamed", 24, []kafkaplane.Tag{{Key: "env", Value: "staging"}}
	got.Config = map[string]string{"retention.ms": "3600000"}
	flipped := *got
	flipped.CompactTopic, flipped.LocalTopic = false, false
	must(t, db.UpdateTopic(ctx, &flipped))
	if flipped.ModifyIndex != 2 {
		t.Fatalf("index after update %d, want 2", flipped.ModifyIndex)
	}
	got.ModifyIndex = 2
	again, err := db.FindTopic(ctx, a.ID, "orders")
	must(t, err)
	diff(t, "topic after update", again, got)
	stale.Remark = "lost"
	wantCode(t, db.UpdateTopic(ctx, &stale), kafkaplane.CodeConflict)
	if stale.ModifyIndex != 1 {
		t.Fatalf("a lost update changed the index to %d", stale.ModifyIndex)
	}
	again.Tags = nil
	must(t, db.UpdateTopic(ctx, again))
	cleared, err := db.FindTopic(ctx, a.ID, "orders")
	must(t, err)
	diff(t, "topic with tags cleared", cleared, again)
	wantCode(t, db.UpdateTopic(ctx, &kafkaplane.Topic{InstanceID: a.ID, Name: "ghost", ModifyIndex: 1}), kafkaplane.CodeNotFound)

	must(t, db.DeleteTopic(ctx, a.ID, "orders"))
	wantCode(t, db.DeleteTopic(ctx, a.ID, "orders"), kafkaplane.CodeNotFound)
	_, err = db.FindTopic(ctx, a.ID, "orders")
	wantCode(t, err, kafkaplane.CodeNotFound)
	wantCode(t, db.UpdateTopic(ctx, again), kafkaplane.CodeNotFound)
	list, err = db.ListTopics(ctx, a.ID)
	must(t, err)
	diff(t, "topics after delete", list, []*kafkaplane.Topic{audit, logs})
	// The other instance's topic of that name is untouched.
	kept, err := db.FindTopic(ctx, b.ID, "orders")
	must(t, err)
	diff(t, "topic of another instance", kept, other)
}

func testConsumerGroups(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	a := mustCreateInstance(t, db, newInstance("alikafka_post-cn-groups1", "acct1", "cn-hangzhou"))
	b := mustCreateInstance(t, db, newInstance("alikafka_post-cn-groups2", "acct2", "cn-hangzhou"))

	billing := &kafkaplane.ConsumerGroup{InstanceID: a.ID, ConsumerID: "CID-billing", Remark: "billing readers",
		Tags:       []kafkaplane.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: ""}},
		CreateTime: t0.Add(time.Minute + 1500*time.Nanosecond)}
	must(t, db.CreateConsumerGroup(ctx, billing, 0))
	if billing.ModifyIndex != 1 || !billing.CreateTime.Equal(t0.Add(time.Minute+time.Microsecond)) {
		t.Fatalf("after create: index %d, create time %v", billing.ModifyIndex, billing.CreateTime)
	}
	// Two groups of one microsecond list by id.
	search := &kafkaplane.ConsumerGroup{InstanceID: a.ID, ConsumerID: "CID-search"}
	must(t, db.CreateConsumerGroup(ctx, search, 0))
	if search.ModifyIndex != 1 || !search.CreateTime.Equal(t0) {
		t.Fatalf("after create: index %d, create time %v", search.ModifyIndex, search.CreateTime)
	}
	audit := &kafkaplane.ConsumerGroup{InstanceID: a.ID, ConsumerID: "CID-audit", Remark: "auditors"}
	must(t, db.CreateConsumerGroup(ctx, audit, 0))

	wantCode(t, db.CreateConsumerGroup(ctx, &kafkaplane.ConsumerGroup{InstanceID: a.ID, ConsumerID: "CID-billing"}, 0),
		kafkaplane.CodeAlreadyExists)
	wantCode(t, db.CreateConsumerGroup(ctx, &kafkaplane.ConsumerGroup{InstanceID: "alikafka_post-cn-none", ConsumerID: "CID-billing"}, 0),
		kafkaplane.CodeInstanceNotFound)

	got, err := db.FindConsumerGroup(ctx, a.ID, "CID-billing")
	must(t, err)
	diff(t, "consumer group", got, billing)
	found, err := db.FindConsumerGroup(ctx, a.ID, "CID-search")
	must(t, err)
	diff(t, "consumer group", found, search)
	_, err = db.FindConsumerGroup(ctx, a.ID, "CID-nope")
	wantCode(t, err, kafkaplane.CodeNotFound)
	_, err = db.FindConsumerGroup(ctx, b.ID, "CID-billing")
	wantCode(t, err, kafkaplane.CodeNotFound)

	list, err := db.ListConsumerGroups(ctx, a.ID)
	must(t, err)
	diff(t, "consumer groups", list, []*kafkaplane.ConsumerGroup{audit, search, billing})
	list, err = db.ListConsumerGroups(ctx, b.ID)
	must(t, err)
	diff(t, "consumer groups of another instance", list, []*kafkaplane.ConsumerGroup(nil))

	// Ids are unique per instance only.
	other := &kafkaplane.ConsumerGroup{InstanceID: b.ID, ConsumerID: "CID-billing", Remark: "elsewhere"}
	must(t, db.CreateConsumerGroup(ctx, other, 0))

	// Remark and tags change with compare-and-set; the loser changes
	// nothing.
	stale := *audit
	audit.Remark, audit.Tags = "audit readers", []kafkaplane.Tag{{Key: "owner", Value: "sec"}}
	must(t, db.UpdateConsumerGroup(ctx, audit))
	if audit.ModifyIndex != 2 {
		t.Fatalf("index after update %d, want 2", audit.ModifyIndex)
	}
	stale.Remark = "lost"
	wantCode(t, db.UpdateConsumerGroup(ctx, &stale), kafkaplane.CodeConflict)
	got, err = db.FindConsumerGroup(ctx, a.ID, "CID-audit")
	must(t, err)
	diff(t, "consumer group after update", got, audit)
	wantCode(t, db.UpdateConsumerGroup(ctx, &kafkaplane.ConsumerGroup{InstanceID: a.ID, ConsumerID: "CID-nope", ModifyIndex: 1}), kafkaplane.CodeNotFound)

	must(t, db.DeleteConsumerGroup(ctx, a.ID, "CID-billing"))
	wantCode(t, db.DeleteConsumerGroup(ctx, a.ID, "CID-billing"), kafkaplane.CodeNotFound)
	_, err = db.FindConsumerGroup(ctx, a.ID, "CID-billing")
	wantCode(t, err, kafkaplane.CodeNotFound)
	list, err = db.ListConsumerGroups(ctx, a.ID)
	must(t, err)
	diff(t, "consumer groups after delete", list, []*kafkaplane.ConsumerGroup{audit, search})
	// The other instance's group of that id is untouched.
	kept, err := db.FindConsumerGroup(ctx, b.ID, "CID-billing")
	must(t, err)
	diff(t, "consumer group of another instance", kept, other)
}

// ---- nonces and GCRA ----

func testNonce(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	const window = 15 * time.Minute
	use := func(db *DB, key, nonce string, at time.Time) bool {
		t.Helper()
		fresh, err := db.UseNonce(ctx, key, nonce, at, at.Add(window), 1<<20)
		must(t, err)
		return fresh
	}
	if !use(db, "LTAI1", "n1", t0) {
		t.Fatal("first use not fresh")
	}
	if use(db, "LTAI1", "n1", t0.Add(time.Second)) {
		t.Fatal("replay was fresh")
	}
	if !use(db, "LTAI2", "n1", t0) {
		t.Fatal("same nonce of another key not fresh")
	}

	// Concurrent replays: exactly one wins.
	var wg sync.WaitGroup
	var wins atomic.Int32
	for range 20 {
		wg.Go(func() {
			fresh, err := db.UseNonce(ctx, "LTAI1", "race", t0, t0.Add(window), 1<<20)
			if err != nil {
				t.Error(err)
			}
			if fresh {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses were fresh, want 1", wins.Load())
	}

	// Nonces survive a restart.
	must(t, db.Close())
	db2 := openStore(t, dsn)
	if use(db2, "LTAI1", "n1", t0.Add(time.Minute)) {
		t.Fatal("replay after reopen was fresh")
	}
	// Beyond the window a nonce may be forgotten; the store forgets it
	// deterministically.
	if !use(db2, "LTAI1", "n1", t0.Add(window+time.Minute)) {
		t.Fatal("nonce older than the window not fresh")
	}

	// The periodic prune removes expired rows.
	later := t0.Add(10 * window)
	for i := range pruneEvery {
		if !use(db2, "LTAI3", fmt.Sprintf("bulk-%d", i), later) {
			t.Fatalf("bulk nonce %d not fresh", i)
		}
	}
	var old int
	must(t, db2.db.QueryRowContext(ctx, `SELECT count(*) FROM nonces WHERE expires_at <= $1`, later.UnixMicro()).Scan(&old))
	if old != 0 {
		t.Fatalf("%d expired nonces left after prune", old)
	}
	must(t, db2.db.QueryRowContext(ctx, `SELECT count(*) FROM nonce_counts WHERE bucket < $1`, later.UnixMicro()/nonceBucket).Scan(&old))
	if old != 0 {
		t.Fatalf("%d expired nonce counts left after prune", old)
	}

	// A nonce is kept until its own expiry, however long after its use
	// (a request dated ahead of the server's clock).
	if !use2(t, db2, "LTAI4", "ahead", later, later.Add(29*time.Minute), 10) {
		t.Fatal("first use not fresh")
	}
	if use2(t, db2, "LTAI4", "ahead", later.Add(20*time.Minute), later.Add(35*time.Minute), 10) {
		t.Fatal("replay 20 minutes later, before the nonce's expiry, was fresh")
	}
	if !use2(t, db2, "LTAI4", "ahead", later.Add(29*time.Minute+time.Second), later.Add(40*time.Minute), 10) {
		t.Fatal("use after the nonce's expiry not fresh")
	}

	// A key holds at most limit unexpired nonces: beyond it the key is
	// refused, replays are still recognised and other keys are unaffected.
	const limit = 3
	at := later.Add(time.Hour)
	for i := range limit {
		if !use2(t, db2, "LTAI5", fmt.Sprint(i), at, at.Add(time.Duration(10+i)*time.Minute), limit) {
			t.Fatalf("nonce %d not fresh", i)
		}
	}
	fresh, err := db2.UseNonce(ctx, "LTAI5", "over", at, at.Add(15*time.Minute), limit)
	var lim *kafkaplane.NonceLimitError
	if fresh || !errors.As(err, &lim) || lim.Limit != limit || lim.RetryAfter <= 0 || lim.RetryAfter > 11*time.Minute {
		t.Fatalf("over the limit: fresh=%v err=%v", fresh, err)
	}
	if use2(t, db2, "LTAI5", "1", at, at.Add(15*time.Minute), limit) {
		t.Fatal("replay at the limit was fresh")
	}
	if !use2(t, db2, "LTAI6", "over", at, at.Add(15*time.Minute), limit) {
		t.Fatal("another key was refused")
	}
	// Once the first nonce's minute has passed there is room again, and
	// the others are still remembered.
	at2 := at.Add(11 * time.Minute)
	if !use2(t, db2, "LTAI5", "over", at2, at2.Add(15*time.Minute), limit) {
		t.Fatal("no room after a nonce expired")
	}
	if use2(t, db2, "LTAI5", "2", at2, at2.Add(15*time.Minute), limit) {
		t.Fatal("an unexpired nonce was forgotten")
	}
}

func use2(t *testing.T, db *DB, key, nonce string, at, expires time.Time, limit int) bool {
	t.Helper()
	fresh, err := db.UseNonce(context.Background(), key, nonce, at, expires, limit)
	must(t, err)
	return fresh
}

func testGCRA(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	const (
		interval  = 500 * time.Millisecond // 2 per second
		tolerance = interval * (2 - 1)     // burst 2
	)
	take := func(key string, at time.Time) (bool, time.Duration) {
		t.Helper()
		ok, retry, err := db.TakeGCRA(ctx, key, at, interval, tolerance)
		must(t, err)
		return ok, retry
	}
	// Two keys interleaved over a simulated 5 s, a call every 10 ms each:
	// exactly 2 + 9 = 11 allowed per key, at 0, 10 ms, 0.5 s, 1 s, … 4.5 s.
	allowed := map[string][]time.Duration{}
	for ms := 0; ms < 5000; ms += 10 {
		at := t0.Add(time.Duration(ms) * time.Millisecond)
		for _, key := range []string{"acct1:cn-hangzhou:UpgradeInstanceVersion", "acct2:cn-hangzhou:UpgradeInstanceVersion"} {
			if ok, _ := take(key, at); ok {
				allowed[key] = append(allowed[key], at.Sub(t0))
			}
		}
	}
	want := []time.Duration{0, 10 * time.Millisecond}
	for s := 1; s <= 9; s++ {
		want = append(want, time.Duration(s)*interval)
	}
	for key, got := range allowed {
		diff(t, key, got, want)
	}
	if len(allowed) != 2 {
		t.Fatalf("allowed keys: %v", allowed)
	}

	// retryAfter says when the next call would pass.
	k := "acct3:x"
	at := t0.Add(time.Hour)
	take(k, at)
	take(k, at)
	ok, retry := take(k, at.Add(100*time.Millisecond))
	if ok || retry != 400*time.Millisecond {
		t.Fatalf("third call: allowed %v retry %v, want throttled, 400ms", ok, retry)
	}
	if ok, _ := take(k, at.Add(100*time.Millisecond+retry)); !ok {
		t.Fatal("call after retryAfter throttled")
	}

	// Concurrent callers at one instant: exactly the burst passes.
	var wg sync.WaitGroup
	var n atomic.Int32
	for range 50 {
		wg.Go(func() {
			ok, _, err := db.TakeGCRA(ctx, "acct4:x", t0, interval, tolerance)
			if err != nil {
				t.Error(err)
			}
			if ok {
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if n.Load() != 2 {
		t.Fatalf("%d concurrent calls allowed, want 2", n.Load())
	}
}

// TestSQLiteDSN covers the SQLite dsn forms Open accepts.
func TestSQLiteDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn, path, query string
		bad              bool
	}{
		{dsn: "sqlite:///var/lib/kafkaplane/k.db", path: "/var/lib/kafkaplane/k.db"},
		{dsn: "sqlite://data/k.db?_pragma=cache_size(-2000)", path: "data/k.db", query: "_pragma=cache_size(-2000)"},
		{dsn: "/tmp/k.db", path: "/tmp/k.db"},
		{dsn: "k.db", path: "k.db"},
		{dsn: "sqlite://:memory:", bad: true},
		{dsn: "", bad: true},
	} {
		path, query, err := sqlitePath(tc.dsn)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: accepted", tc.dsn)
			}
			continue
		}
		if err != nil || path != tc.path || query != tc.query {
			t.Errorf("%q: got %q %q %v, want %q %q", tc.dsn, path, query, err, tc.path, tc.query)
		}
	}

	// A plain path opens the same file as its sqlite:// form.
	file := filepath.Join(t.TempDir(), "plain.db")
	db, err := Open(context.Background(), file)
	must(t, err)
	must(t, db.CreateInstance(context.Background(), newInstance("i-plain", "acct1", "cn-hangzhou"), 0))
	must(t, db.Close())
	db = openStore(t, "sqlite://"+file)
	_, err = db.FindInstance(context.Background(), "acct1", "cn-hangzhou", "i-plain")
	must(t, err)
	if db.Engine() != EngineSQLite {
		t.Fatalf("engine %q", db.Engine())
	}
	var mode string
	must(t, db.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	if mode != "wal" {
		t.Fatalf("journal_mode %q, want wal", mode)
	}
}

// testStatementCacheBounded drives the statement cache past its size with
// as many query shapes as InstanceId.N lists of every length give, from
// several goroutines at once: the cache keeps at most maxCachedStatements
// statements, every statement it let go is closed, and queries that were
// using an evicted statement still succeed.
func testStatementCacheBounded(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	mustCreateInstance(t, db, newInstance("i-stmt", "acct1", "cn-hangzhou"))

	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for n := 1; n <= maxCachedStatements+40; n++ {
				ids := []string{"i-stmt"}
				for i := range n - 1 {
					ids = append(ids, fmt.Sprintf("i-none-%d-%d", g, i))
				}
				got, err := db.FindInstances(ctx, kafkaplane.InstanceFilter{AccountID: "acct1", IDs: ids})
				if err != nil || len(got) != 1 {
					t.Errorf("FindInstances with %d ids: %d instances, %v", n, len(got), err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := db.stmts.len(); n > maxCachedStatements {
		t.Fatalf("%d statements cached, want at most %d", n, maxCachedStatements)
	}

	// Every statement the cache handed out is cached or closed.
	var handed []*sql.Stmt
	for n := range 3 * maxCachedStatements {
		s, release, err := db.prepared(ctx, fmt.Sprintf("SELECT %d AS shape", n))
		must(t, err)
		release()
		handed = append(handed, s)
	}
	open := 0
	for _, s := range handed {
		var x int
		if err := s.QueryRowContext(ctx).Scan(&x); err == nil {
			open++
		}
	}
	if open != maxCachedStatements {
		t.Errorf("%d of %d prepared statements still open, want %d", open, len(handed), maxCachedStatements)
	}
}

// storedSecret reads the access_keys.secret column of id as stored.
func storedSecret(t *testing.T, db *DB, id string) string {
	t.Helper()
	var v string
	must(t, db.db.QueryRow(`SELECT secret FROM access_keys WHERE id = $1`, id).Scan(&v))
	return v
}

// testSecretsSealed: AccessKey secrets are stored sealed, bound to their
// row; plaintext rows of an older database are sealed when it is opened;
// and a store opened with another key refuses to open rather than serve
// garbage secrets.
func testSecretsSealed(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	const secret = "plain-secret-4f1c9e"
	k := &kafkaplane.AccessKey{ID: "LTAIsealed1", Secret: secret, AccountID: "acct1"}
	must(t, db.CreateAccessKey(ctx, k, 0))
	stored := storedSecret(t, db, k.ID)
	if !sealer.IsSealed(stored) || strings.Contains(stored, secret) {
		t.Fatalf("stored secret %q", stored)
	}
	got, err := db.FindAccessKey(ctx, k.ID)
	must(t, err)
	if got.Secret != secret {
		t.Fatalf("secret read back as %q", got.Secret)
	}

	// A sealed value moved to another row does not open there.
	must(t, db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "LTAIsealed2", Secret: "other", AccountID: "acct1"}, 0))
	if _, err := db.db.Exec(`UPDATE access_keys SET secret = $1 WHERE id = $2`, stored, "LTAIsealed2"); err != nil {
		t.Fatal(err)
	}
	db.forgetKeys()
	if _, err := db.FindAccessKey(ctx, "LTAIsealed2"); err == nil {
		t.Fatal("a secret copied from another row opened")
	}
	if _, err := db.db.Exec(`DELETE FROM access_keys WHERE id = $1`, "LTAIsealed2"); err != nil {
		t.Fatal(err)
	}

	// A row in plaintext, as a database from before sealing holds it, is
	// sealed by the next Open.
	if _, err := db.db.Exec(`INSERT INTO access_keys (id, secret, account_id, user_name, status, create_date, modify_index)
		VALUES ('LTAIlegacy', 'legacy-plain-7d2a', 'acct1', '', 'Active', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	must(t, db.Close())
	db = openStore(t, dsn)
	if v := storedSecret(t, db, "LTAIlegacy"); !sealer.IsSealed(v) || strings.Contains(v, "legacy-plain") {
		t.Fatalf("legacy secret stored as %q after reopen", v)
	}
	for id, want := range map[string]string{"LTAIlegacy": "legacy-plain-7d2a", k.ID: secret} {
		got, err := db.FindAccessKey(ctx, id)
		must(t, err)
		if got.Secret != want {
			t.Errorf("%s: secret %q, want %q", id, got.Secret, want)
		}
	}
	keys, err := db.ListAccessKeys(ctx, "acct1", "")
	must(t, err)
	for _, k := range keys {
		if sealer.IsSealed(k.Secret) {
			t.Errorf("ListAccessKeys returned a sealed secret for %s", k.ID)
		}
	}

	// Another key does not open this database.
	other, err := sealer.New([]byte("a different key of thirty-two b."))
	must(t, err)
	if db2, err := Open(ctx, dsn, WithSealer(other)); err == nil {
		db2.Close()
		t.Fatal("opened with another secrets key")
	}
}

func testSecurity(t *testing.T, dsn string) {
	ctx := context.Background()
	db := openStore(t, dsn)
	inst := newInstance("alikafka_post-cn-sec1", "acct1", "cn-hangzhou")
	inst.BrokerPorts, inst.SaslPorts, inst.SslPorts = []int{1, 2, 3}, []int{4, 5, 6}, []int{7, 8, 9}
	mustCreateInstance(t, db, inst)
	got, err := db.FindInstance(ctx, "acct1", "cn-hangzhou", inst.ID)
	must(t, err)
	diff(t, "listener ports", [][]int{got.SaslPorts, got.SslPorts}, [][]int{{4, 5, 6}, {7, 8, 9}})
	got.SslPorts = nil
	must(t, db.UpdateInstance(ctx, got))
	got, err = db.FindInstance(ctx, "acct1", "cn-hangzhou", inst.ID)
	must(t, err)
	diff(t, "listener ports after update", [][]int{got.SaslPorts, got.SslPorts}, [][]int{{4, 5, 6}, nil})

	// SASL users: put creates, a second put replaces the password, the
	// password is sealed at rest, and the limit counts new users only.
	const pw = "sasl-secret-83be"
	u := &kafkaplane.SaslUserRecord{InstanceID: inst.ID, Username: "alice", Type: "scram", Mechanism: "SCRAM-SHA-256", Password: pw, Credentials: `{"v":1}`}
	must(t, db.PutSaslUser(ctx, u, 2))
	must(t, db.PutSaslUser(ctx, &kafkaplane.SaslUserRecord{InstanceID: inst.ID, Username: "alice", Type: "plain", Password: "p2", Credentials: "{}"}, 2))
	wantCode(t, db.PutSaslUser(ctx, &kafkaplane.SaslUserRecord{InstanceID: inst.ID, Username: "bob", Type: "plain", Password: "p3", Credentials: "{}"}, 2), kafkaplane.CodeLimitExceeded)
	must(t, db.PutSaslUser(ctx, &kafkaplane.SaslUserRecord{InstanceID: inst.ID, Username: "alice", Type: "scram", Mechanism: "SCRAM-SHA-512", Password: "new", Credentials: `{"v":2}`}, 2))
	var stored string
	must(t, db.db.QueryRow(`SELECT password FROM sasl_users WHERE username = 'alice' AND type = 'scram'`).Scan(&stored))
	if !sealer.IsSealed(stored) || strings.Contains(stored, "new") {
		t.Fatalf("stored SASL password %q", stored)
	}
	users, err := db.ListSaslUsers(ctx, inst.ID)
	must(t, err)
	diff(t, "users", users, []*kafkaplane.SaslUserRecord{
		{InstanceID: inst.ID, Username: "alice", Type: "plain", Password: "p2", Credentials: "{}", CreateTime: t0},
		{InstanceID: inst.ID, Username: "alice", Type: "scram", Mechanism: "SCRAM-SHA-512", Password: "new", Credentials: `{"v":2}`, CreateTime: t0},
	})
	must(t, db.DeleteSaslUser(ctx, inst.ID, "plain", "alice"))
	wantCode(t, db.DeleteSaslUser(ctx, inst.ID, "plain", "alice"), kafkaplane.CodeNotFound)
	wantCode(t, db.PutSaslUser(ctx, &kafkaplane.SaslUserRecord{InstanceID: "alikafka_post-cn-none", Username: "x", Type: "plain", Credentials: "{}"}, 0), kafkaplane.CodeInstanceNotFound)

	// ACLs: identity is every field; duplicates and the limit are refused.
	acl := kafkaplane.ACLRecord{InstanceID: inst.ID, Username: "alice", ResourceType: "Topic", ResourceName: "orders",
		PatternType: "LITERAL", Operation: "Write", Permission: "ALLOW", Host: "*"}
	a1 := acl
	must(t, db.CreateACL(ctx, &a1, 2))
	a2 := acl
	wantCode(t, db.CreateACL(ctx, &a2, 2), kafkaplane.CodeAlreadyExists)
	a2.Operation = "Read"
	must(t, db.CreateACL(ctx, &a2, 2))
	a3 := acl
	a3.Permission = "DENY"
	wantCode(t, db.CreateACL(ctx, &a3, 2), kafkaplane.CodeLimitExceeded)
	acls, err := db.ListACLs(ctx, inst.ID)
	must(t, err)
	if len(acls) != 2 {
		t.Fatalf("ACLs: %+v", acls)
	}
	wantCode(t, db.DeleteACL(ctx, &a3), kafkaplane.CodeNotFound)
	must(t, db.DeleteACL(ctx, &a1))

	// Allowlists: additions are idempotent, the limit counts the list
	// after the addition and a refused addition adds nothing.
	entry := func(ip string) kafkaplane.AllowedIP {
		return kafkaplane.AllowedIP{InstanceID: inst.ID, ListType: "vpc", PortRange: "9092/9092", IP: ip, Description: "d"}
	}
	must(t, db.AddAllowedIPs(ctx, []kafkaplane.AllowedIP{entry("10.0.0.0/8"), entry("192.168.0.1")}, 3))
	must(t, db.AddAllowedIPs(ctx, []kafkaplane.AllowedIP{entry("10.0.0.0/8")}, 3))
	wantCode(t, db.AddAllowedIPs(ctx, []kafkaplane.AllowedIP{entry("1.1.1.1"), entry("2.2.2.2")}, 3), kafkaplane.CodeLimitExceeded)
	must(t, db.AddAllowedIPs(ctx, []kafkaplane.AllowedIP{{InstanceID: inst.ID, ListType: "internet", PortRange: "9093/9093", IP: "0.0.0.0/0"}}, 3))
	must(t, db.DeleteAllowedIPs(ctx, inst.ID, "vpc", "9092/9092", []string{"192.168.0.1", "absent"}))
	ips, err := db.ListAllowedIPs(ctx, inst.ID)
	must(t, err)
	diff(t, "allowed IPs", ips, []*kafkaplane.AllowedIP{
		{InstanceID: inst.ID, ListType: "internet", PortRange: "9093/9093", IP: "0.0.0.0/0", CreateTime: t0},
		{InstanceID: inst.ID, ListType: "vpc", PortRange: "9092/9092", IP: "10.0.0.0/8", Description: "d", CreateTime: t0},
	})

	// Deleting the instance takes its users, ACLs and allowlists.
	got, err = db.FindInstance(ctx, "acct1", "cn-hangzhou", inst.ID)
	must(t, err)
	must(t, db.DeleteInstance(ctx, got))
	users, _ = db.ListSaslUsers(ctx, inst.ID)
	acls, _ = db.ListACLs(ctx, inst.ID)
	ips, _ = db.ListAllowedIPs(ctx, inst.ID)
	if len(users)+len(acls)+len(ips) != 0 {
		t.Fatalf("left after DeleteInstance: %d users, %d ACLs, %d allowlist entries", len(users), len(acls), len(ips))
	}
}
