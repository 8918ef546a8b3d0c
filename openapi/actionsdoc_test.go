package openapi

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// servedRegistry is the registry serve builds, with every product's
// actions.
func servedRegistry() *Registry {
	g := NewRegistry()
	(&Instances{}).Register(g)
	(&RAM{}).Register(g)
	return g
}

// products orders the sections of docs/actions.md.
var docProducts = []struct{ product, title string }{
	{"alikafka", "alikafka"},
	{"ram", "RAM"},
}

// TestActionsDoc walks the registry: every action declares a RAM action of
// its own product, a resource and a QPS, and docs/actions.md is the
// registry's table (-update rewrites it).
func TestActionsDoc(t *testing.T) {
	g := servedRegistry()
	var sb strings.Builder
	sb.WriteString(`# Actions

Every action served on the endpoint, as the registry declares it: each action is declared once,
in the openapi file of its entity, with its parameters, RAM action, resource, QPS and handler.
This file is generated from those declarations; regenerate it with
` + "`go test ./openapi -run TestActionsDoc -update`" + `.

- **RAM action** is what a policy must allow, on **resource** (placeholders in braces are the
  request's values; docs/ram.md). A resource placeholder marked "derived" is not a parameter but
  computed from the request (the caller's own name, an operation's instance, the instance of the
  tagged resources).
- **QPS** is the per-account limit (docs/quotas.md says where each figure comes from);
  ` + "`serve --qps`" + ` overrides it.
- **Parameters:** required ones in bold. ` + "`Name.N`" + ` is a repeated parameter (` + "`Name.1`" + `,
  ` + "`Name.2`" + `, …), ` + "`Name.N.Key/N.Value`" + ` a tag list. Integers show their range, strings are
  capped at 256 characters unless a cap is shown (docs/limits.md).
`)
	seen := 0
	for _, p := range docProducts {
		var rows []*Action
		for _, a := range g.Actions() {
			if a.Product == p.product {
				rows = append(rows, a)
			}
		}
		if len(rows) == 0 {
			t.Errorf("no %s actions registered", p.product)
			continue
		}
		fmt.Fprintf(&sb, "\n## %s (%s)\n\n", p.title, rows[0].Version)
		sb.WriteString("| action | RAM action | resource | QPS | parameters | notes |\n|---|---|---|---|---|---|\n")
		for _, a := range rows {
			seen++
			if !strings.HasPrefix(a.RAMAction, a.Product+":") {
				t.Errorf("%s: RAM action %q is not one of %s", a.Name, a.RAMAction, a.Product)
			}
			if a.QPS <= 0 || a.Resource == "" {
				t.Errorf("%s: QPS %v, resource %q", a.Name, a.QPS, a.Resource)
			}
			fmt.Fprintf(&sb, "| `%s` | `%s` | `%s` | %s | %s | %s |\n",
				a.Name, a.RAMAction, a.Resource, strconv.FormatFloat(a.QPS, 'f', -1, 64), docParams(a.Params), docNotes(a))
		}
	}
	if all := len(g.Actions()); seen != all {
		t.Errorf("docs/actions.md shows %d of %d actions; add the product to docProducts", seen, all)
	}
	path := filepath.Join("..", "docs", "actions.md")
	if *update {
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != sb.String() {
		t.Errorf("docs/actions.md differs from the registry; run go test ./openapi -run TestActionsDoc -update")
	}
}

// docParams renders an action's parameters for docs/actions.md.
func docParams(ps []Param) string {
	if len(ps) == 0 {
		return "—"
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		name := "`" + p.Name + "`"
		switch p.Kind {
		case RepeatList:
			name = "`" + p.Name + ".N`"
		case TagList:
			name = "`" + p.Name + ".N.Key/N.Value`"
		}
		if p.Required {
			name = "**" + name + "**"
		}
		var what []string
		switch p.Kind {
		case Integer:
			what = append(what, fmt.Sprintf("%d–%d", p.Min, p.Max))
		case Boolean:
			what = append(what, "bool")
		case JSON:
			what = append(what, "JSON")
		}
		if len(p.Enum) > 0 {
			what = append(what, strings.Join(p.Enum, "/"))
		}
		if p.MaxLen > 0 && p.Kind != Integer && p.Kind != Boolean {
			what = append(what, fmt.Sprintf("≤%d", p.MaxLen))
		}
		if len(what) > 0 {
			name += " (" + strings.Join(what, ", ") + ")"
		}
		out = append(out, name)
	}
	return strings.Join(out, ", ")
}

// docNotes renders what sets an action apart from its product's others.
func docNotes(a *Action) string {
	var notes []string
	if a.Extension {
		notes = append(notes, "kafkaplane extension")
	}
	if a.Product == "alikafka" && !a.Envelope {
		notes = append(notes, "answer without Code/Message/Success")
	}
	var derived []string
	for k := range a.Derive {
		derived = append(derived, "{"+k+"}")
	}
	slices.Sort(derived)
	if len(derived) > 0 {
		notes = append(notes, strings.Join(derived, ", ")+" derived")
	}
	return strings.Join(notes, "; ")
}

// docTable returns the cells of the first Markdown table after the line
// heading in the file at path (repository-relative), header row left out.
func docTable(t *testing.T, path, heading string) [][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("%s has no line %q", path, heading)
	}
	var rows [][]string
	started := false
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	if len(rows) < 3 {
		t.Fatalf("%s: no table after %q", path, heading)
	}
	return rows[2:]
}

// docNames reads the action names of a table cell: "A, B (kafkaplane)".
func docNames(cell string) []string {
	var out []string
	for _, n := range strings.Split(cell, ",") {
		n, _, _ = strings.Cut(strings.TrimSpace(n), " ")
		out = append(out, strings.Trim(n, "`"))
	}
	return out
}

// TestActionTablesAgree checks the hand-written tables that explain the
// registry's figures (where each QPS and RAM action comes from) against
// it: every alikafka action is in each, with the registry's values.
func TestActionTablesAgree(t *testing.T) {
	g := servedRegistry()
	byName := map[string]*Action{}
	for _, a := range g.Actions() {
		byName[a.Name] = a
	}
	check := func(doc string, rows [][]string, want func(a *Action, row []string) string, every func(a *Action) bool) {
		t.Helper()
		listed := map[string]bool{}
		for _, row := range rows {
			for _, n := range docNames(row[0]) {
				a, ok := byName[n]
				if !ok {
					if !strings.HasPrefix(row[0], "every ") {
						t.Errorf("%s names %q, which is not served", doc, n)
					}
					continue
				}
				listed[n] = true
				if why := want(a, row); why != "" {
					t.Errorf("%s, %s: %s", doc, n, why)
				}
			}
		}
		for _, a := range g.Actions() {
			if every(a) && !listed[a.Name] {
				t.Errorf("%s does not list %s", doc, a.Name)
			}
		}
	}
	alikafka := func(a *Action) bool { return a.Product == "alikafka" }

	quotas := docTable(t, "docs/quotas.md", "## Per-action QPS")
	check("docs/quotas.md", quotas, func(a *Action, row []string) string {
		if got := strconv.FormatFloat(a.QPS, 'f', -1, 64); row[1] != got {
			return fmt.Sprintf("QPS %s, the registry says %s", row[1], got)
		}
		return ""
	}, alikafka)
	for _, row := range quotas {
		if row[0] == "every RAM action" {
			for _, a := range g.Actions() {
				if a.Product == "ram" && strconv.FormatFloat(a.QPS, 'f', -1, 64) != row[1] {
					t.Errorf("docs/quotas.md: RAM actions %s, %s has %v", row[1], a.Name, a.QPS)
				}
			}
		}
	}

	resources := map[string]string{"instance": instanceARN, "account": accountARN}
	check("docs/ram.md", docTable(t, "docs/ram.md", "## Resources per action"), func(a *Action, row []string) string {
		ram, _, _ := strings.Cut(strings.TrimPrefix(row[1], "`"), "`")
		kind, _, _ := strings.Cut(row[2], " ")
		if ram != a.RAMAction || resources[kind] != a.Resource {
			return fmt.Sprintf("%s on %s, the registry says %s on %s", ram, kind, a.RAMAction, a.Resource)
		}
		return ""
	}, alikafka)

	check("README.md", docTable(t, "README.md", "### Extension actions (kafkaplane only; same protocol, signatures and RAM rules)"), func(a *Action, row []string) string {
		ram, _, _ := strings.Cut(strings.TrimPrefix(row[1], "`"), "`")
		if !a.Extension || ram != a.RAMAction {
			return fmt.Sprintf("extension %v with %s, the registry says %v with %s", true, ram, a.Extension, a.RAMAction)
		}
		return ""
	}, func(a *Action) bool { return a.Extension })
}
