package openapi

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/broker"
	"github.com/kafkaplane/kafkaplane/rpcsig"
	"github.com/kafkaplane/kafkaplane/sqlstore"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenServer is the real pipeline over a real SQLite store, with a fixed
// clock and RequestId, so response bodies are byte-stable.
func goldenServer(t *testing.T) (*httptest.Server, *sqlstore.DB) {
	t.Helper()
	srv, db := goldenServerFor(t)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs, db
}

// goldenServerFor builds the pipeline itself, for tests and fuzz targets
// that call ServeHTTP directly.
func goldenServerFor(t testing.TB) (*Server, *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "kp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if err := db.CreateAccessKey(ctx, &kafkaplane.AccessKey{ID: "testid", Secret: "testsecret", AccountID: "1234567890123456", Status: kafkaplane.AccessKeyActive, CreateDate: now}, 0); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"alikafka_post-cn-v0h1fgs2json", "alikafka_post-cn-v0h1fgs2xml0"} {
		inst := &kafkaplane.Instance{
			ID: id, AccountID: "1234567890123456", RegionID: "cn-hangzhou",
			Version: "0.10.2", MinorVersion: "0.10.2-1.1.0", BrokerPorts: []int{19092, 19093, 19094},
			ServiceStatus: kafkaplane.ServiceStatusRunning, ViewStatus: kafkaplane.ViewStatusRunning, CreateTime: now,
		}
		if err := db.CreateInstance(ctx, inst, 0); err != nil {
			t.Fatal(err)
		}
	}
	reg := NewRegistry()
	(&Instances{Store: db, Operations: db, Topics: db, Catalogue: kafkaplane.DefaultVersionCatalogue(), Runtime: broker.NewFake(),
		Brokers: 3, AdvertisedHost: "127.0.0.1", DomainHost: "localhost", Now: func() time.Time { return now }}).Register(reg)
	srv := NewServer(Config{
		Registry: reg, Keys: db, Nonces: db,
		Regions: []string{"cn-hangzhou"}, Now: func() time.Time { return now },
		RequestID: func() string { return "ABA4A7FD-E10F-45C7-9774-A5236015A2D6" },
	})
	return srv, db
}

func TestGoldenResponses(t *testing.T) {
	hs, _ := goldenServer(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, format, instance string
		status                 int
	}{
		// 2.2.0 is accepted from 0.10.2: the seed's sample response.
		{"upgrade_success", "JSON", "alikafka_post-cn-v0h1fgs2json", 200},
		{"upgrade_success", "XML", "alikafka_post-cn-v0h1fgs2xml0", 200},
		// The instances are upgrading now, so a second call is refused.
		{"upgrade_refused", "JSON", "alikafka_post-cn-v0h1fgs2json", 400},
		{"upgrade_refused", "XML", "alikafka_post-cn-v0h1fgs2xml0", 400},
	}
	for i, tt := range tests {
		t.Run(tt.name+"_"+tt.format, func(t *testing.T) {
			p := url.Values{
				"Action": {"UpgradeInstanceVersion"}, "Version": {"2019-09-16"}, "Format": {tt.format},
				"RegionId": {"cn-hangzhou"}, "InstanceId": {tt.instance}, "TargetVersion": {"2.2.0"},
				"SignatureType": {""},
			}
			rpcsig.SignV1("POST", p, "testid", "testsecret", now, "nonce-"+string(rune('a'+i)))
			resp, err := http.Post(hs.URL+"/?"+p.Encode(), "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
			}
			// HostId is the test server's address; pin it for the file.
			body = []byte(strings.ReplaceAll(string(body), resp.Request.URL.Host, "alikafka.cn-hangzhou.aliyuncs.com"))
			ext := map[string]string{"JSON": ".json", "XML": ".xml"}[tt.format]
			path := filepath.Join("testdata", tt.name+ext)
			if *update {
				if err := os.WriteFile(path, body, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if string(want) != string(body) {
				t.Errorf("body differs from %s:\n got: %s\nwant: %s", path, body, want)
			}
		})
	}
}
