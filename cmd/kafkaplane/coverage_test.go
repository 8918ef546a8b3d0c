package main

import (
	"bufio"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
)

// newestSDKActions reads the action names of the newest alikafka SDK from
// testdata; the file's header gives the command that regenerates it.
func newestSDKActions(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/alikafka20190916-2.14.0.actions")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names = append(names, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// legacySDKActions derives the legacy Go SDK's actions from its typed
// client: every method X(*XRequest) (*XResponse, error).
func legacySDKActions() []string {
	var names []string
	ct := reflect.TypeFor[*alikafka.Client]()
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		ft := m.Type // receiver first
		if ft.NumIn() != 2 || ft.NumOut() != 2 {
			continue
		}
		in, out := ft.In(1), ft.Out(0)
		if in.Kind() != reflect.Pointer || out.Kind() != reflect.Pointer {
			continue
		}
		if in.Elem().Name() == m.Name+"Request" && out.Elem().Name() == m.Name+"Response" {
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestEveryActionServed fails on any action of the newest SDK or of the
// legacy Go SDK that the running server's registry does not serve, and
// names every one of them.
func TestEveryActionServed(t *testing.T) {
	m := startMain(t)
	reg := m.Server.Registry()
	newest, legacy := newestSDKActions(t), legacySDKActions()
	if len(newest) != 61 {
		t.Errorf("the newest SDK's list holds %d actions, want 61", len(newest))
	}
	if len(legacy) != 44 {
		t.Errorf("the legacy Go SDK's client has %d actions, want 44: %v", len(legacy), legacy)
	}
	for _, l := range legacy {
		if !slices.Contains(newest, l) {
			t.Errorf("legacy action %s is not in the newest SDK's list", l)
		}
	}
	var missing []string
	for _, name := range newest {
		a, err := reg.Lookup("2019-09-16", name)
		if err != nil || a.Extension {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d SDK actions are not served: %s", len(missing), len(newest), strings.Join(missing, ", "))
	}
}
