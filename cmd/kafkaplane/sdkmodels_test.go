package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateModels = flag.Bool("update-models", false, "regenerate testdata/alikafka20190916-2.14.0.models.json with npm")

// newestModelsFile holds the response models of the newest SDK: for each
// action, the tree of its answer's fields ("" a value, an object a nested
// model, a one-element list a list of that model). Regenerate it with
// go test ./cmd/kafkaplane -run TestNewestSDKModels -update-models
// (needs npm and the registry).
const newestModelsFile = "testdata/alikafka20190916-2.14.0.models.json"

var (
	jsClassRE = regexp.MustCompile(`(?s)class (\w+) extends [\w$.]+ \{.*?static names\(\) \{\s*return \{(.*?)\};\s*\}\s*static types\(\) \{\s*return \{(.*?)\};\s*\}`)
	jsNameRE  = regexp.MustCompile(`(\w+): '([^']*)'`)
	jsTypeRE  = regexp.MustCompile(`(\w+): (\{[^}]*\}|'[^']*'|[\w$.]+)`)
	jsItemRE  = regexp.MustCompile(`'itemType': ('[^']*'|[\w$.]+)`)
)

// TestNewestSDKModels checks the stored models file against the npm
// package when -update-models is given, and otherwise that it holds a
// model for every action of the newest SDK.
func TestNewestSDKModels(t *testing.T) {
	if *updateModels {
		if _, err := exec.LookPath("npm"); err != nil {
			t.Skip("npm is not installed")
		}
		dir := t.TempDir()
		cmd := exec.Command("npm", "pack", "@alicloud/alikafka20190916@2.14.0")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm pack: %v\n%s", err, out)
		}
		if out, err := exec.Command("tar", "xzf", filepath.Join(dir, "alicloud-alikafka20190916-2.14.0.tgz"), "-C", dir).CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		models := map[string]any{}
		for _, action := range newestSDKActions(t) {
			src, err := os.ReadFile(filepath.Join(dir, "package", "dist", "models", action+"ResponseBody.js"))
			if err != nil {
				t.Fatal(err)
			}
			models[action] = jsModelTree(t, string(src), action+"ResponseBody")
		}
		out, err := json.MarshalIndent(models, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(newestModelsFile, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	models := newestModels(t)
	for _, a := range newestSDKActions(t) {
		if _, ok := models[a]; !ok {
			t.Errorf("%s has no model in %s", a, newestModelsFile)
		}
	}
}

// jsModelTree reads the model classes of one compiled response-body file
// and returns the field tree of root.
func jsModelTree(t *testing.T, src, root string) any {
	t.Helper()
	type field struct{ wire, typ string }
	classes := map[string][]field{}
	for _, m := range jsClassRE.FindAllStringSubmatch(src, -1) {
		names := map[string]string{}
		for _, n := range jsNameRE.FindAllStringSubmatch(m[2], -1) {
			names[n[1]] = n[2]
		}
		var fs []field
		for _, ty := range jsTypeRE.FindAllStringSubmatch(m[3], -1) {
			fs = append(fs, field{names[ty[1]], ty[2]})
		}
		classes[m[1]] = fs
	}
	var tree func(typ string, depth int) any
	tree = func(typ string, depth int) any {
		if depth > 20 {
			t.Fatalf("%s: model nesting too deep", root)
		}
		if strings.HasPrefix(typ, "{") {
			if it := jsItemRE.FindStringSubmatch(typ); it != nil {
				return []any{tree(it[1], depth+1)}
			}
			return ""
		}
		fs, ok := classes[typ]
		if !ok {
			return "" // a primitive ('string', 'number', …)
		}
		obj := map[string]any{}
		for _, f := range fs {
			obj[f.wire] = tree(f.typ, depth+1)
		}
		return obj
	}
	if _, ok := classes[root]; !ok {
		t.Fatalf("no class %s in the package", root)
	}
	return tree(root, 0)
}

func newestModels(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(newestModelsFile)
	if err != nil {
		t.Fatal(err)
	}
	var models map[string]any
	if err := json.Unmarshal(data, &models); err != nil {
		t.Fatal(err)
	}
	return models
}

// missingNewest lists the fields of the newest SDK's model tree that the
// answer v lacks, recursively into objects and every element of lists.
func missingNewest(model, v any, path string) []string {
	switch m := model.(type) {
	case map[string]any:
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: not an object (%T)", path, v)}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var out []string
		for _, k := range keys {
			sub, ok := obj[k]
			if !ok {
				out = append(out, path+"."+k)
				continue
			}
			out = append(out, missingNewest(m[k], sub, path+"."+k)...)
		}
		return out
	case []any:
		l, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: not a list (%T)", path, v)}
		}
		var out []string
		for i, e := range l {
			out = append(out, missingNewest(m[0], e, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	return nil
}
