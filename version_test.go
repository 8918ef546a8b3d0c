package kafkaplane

import (
	"testing"
)

// TestPlanUpgradeSeedTable covers the four rows of UpgradeInstanceVersion's
// TargetVersion table and every refusal.
func TestPlanUpgradeSeedTable(t *testing.T) {
	c := DefaultVersionCatalogue()
	oldMinor, latest010 := "0.10.2-1.0.0", "0.10.2-1.1.0"
	old220, latest220 := "2.2.0-1.0.0", "2.2.0-1.1.0"
	tests := []struct {
		name                   string
		version, minor, target string
		wantVersion, wantMinor string
		wantCode               string
	}{
		// docs/upgrade.md, TargetVersion table, row by row.
		{"0.10.2 not latest → 0.10.2", "0.10.2", oldMinor, "0.10.2", "0.10.2", latest010, ""},
		{"0.10.2 not latest → 2.2.0", "0.10.2", oldMinor, "2.2.0", "2.2.0", latest220, ""},
		{"0.10.2 latest → 2.2.0", "0.10.2", latest010, "2.2.0", "2.2.0", latest220, ""},
		{"2.2.0 not latest → 2.2.0", "2.2.0", old220, "2.2.0", "2.2.0", latest220, ""},
		// Refusals.
		{"0.10.2 latest → 0.10.2", "0.10.2", latest010, "0.10.2", "", "", CodeNothingToUpgrade},
		{"2.2.0 latest → 2.2.0", "2.2.0", latest220, "2.2.0", "", "", CodeNothingToUpgrade},
		{"downgrade from latest", "2.2.0", latest220, "0.10.2", "", "", CodeDowngrade},
		{"downgrade from old minor", "2.2.0", old220, "0.10.2", "", "", CodeDowngrade},
		{"unknown target", "0.10.2", latest010, "2.6.2", "", "", CodeInvalidTarget},
		{"empty target", "0.10.2", latest010, "", "", "", CodeInvalidTarget},
		{"garbage target", "0.10.2", latest010, "latest", "", "", CodeInvalidTarget},
		{"instance on a withdrawn version", "0.9.0", "0.9.0-1", "2.2.0", "", "", CodeUnsupportedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.PlanUpgrade(tt.version, tt.minor, tt.target)
			if got := ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code %q (%v), want %q", got, err, tt.wantCode)
			}
			if tt.wantCode != "" {
				return
			}
			if p.TargetVersion != tt.wantVersion || p.TargetMinor != tt.wantMinor || p.SourceVersion != tt.version || p.SourceMinor != tt.minor {
				t.Errorf("plan %+v, want → %s %s", p, tt.wantVersion, tt.wantMinor)
			}
		})
	}
}

// TestNewMinorPublished shows an operator publishing a minor version: an
// instance on the old latest minor may then upgrade within its version.
func TestNewMinorPublished(t *testing.T) {
	c := DefaultVersionCatalogue()
	if _, err := c.PlanUpgrade("2.2.0", "2.2.0-1.1.0", "2.2.0"); ErrorCode(err) != CodeNothingToUpgrade {
		t.Fatalf("before publishing: %v", err)
	}
	c.Versions[1].Minors = append(c.Versions[1].Minors, "2.2.0-1.2.0")
	p, err := c.PlanUpgrade("2.2.0", "2.2.0-1.1.0", "2.2.0")
	if err != nil || p.TargetMinor != "2.2.0-1.2.0" {
		t.Fatalf("after publishing: %+v %v", p, err)
	}
	if got := c.UpgradeTargets("2.2.0", "2.2.0-1.1.0"); len(got) != 1 || got[0] != "2.2.0" {
		t.Errorf("UpgradeTargets = %v", got)
	}
	if got := c.UpgradeTargets("0.10.2", "0.10.2-1.1.0"); len(got) != 1 || got[0] != "2.2.0" {
		t.Errorf("UpgradeTargets(0.10.2 latest) = %v", got)
	}
}

func TestParseVersionCatalogue(t *testing.T) {
	good := `{"versions":[{"version":"0.10.2","minors":["a","b"]},{"version":"2.2.0","minors":["c"]}],"upgrades":{"0.10.2":["2.2.0"]},"default":"2.2.0"}`
	if _, err := ParseVersionCatalogue([]byte(good)); err != nil {
		t.Fatal(err)
	}
	bad := []string{
		`{`,
		`{"versions":[]}`,
		`{"versions":[{"version":"1","minors":[]}]}`,
		`{"versions":[{"version":"1","minors":["a","a"]}]}`,
		`{"versions":[{"version":"1","minors":["a"]},{"version":"1","minors":["b"]}]}`,
		`{"versions":[{"version":"1","minors":["a"]}],"upgrades":{"1":["9"]}}`,
		`{"versions":[{"version":"1","minors":["a"]},{"version":"2","minors":["b"]}],"upgrades":{"1":["2"],"2":["1"]}}`,
		`{"versions":[{"version":"1","minors":["a"]}],"default":"3"}`,
	}
	for _, b := range bad {
		if _, err := ParseVersionCatalogue([]byte(b)); err == nil {
			t.Errorf("accepted %s", b)
		}
	}
}

// TestCatalogueUpgradeGraph checks that Validate refuses every upgrade
// graph an instance could go round in or step back through, not only the
// two-version loop: cycles of any length, self-loops and paths to an older
// version.
func TestCatalogueUpgradeGraph(t *testing.T) {
	versions := []OpenSourceVersion{
		{Version: "0.10.2", Minors: []string{"a"}},
		{Version: "2.2.0", Minors: []string{"b"}},
		{Version: "2.6.2", Minors: []string{"c"}},
		{Version: "3.3.1", Minors: []string{"d"}},
	}
	tests := []struct {
		name     string
		upgrades map[string][]string
		ok       bool
	}{
		{"chain", map[string][]string{"0.10.2": {"2.2.0", "2.6.2"}, "2.2.0": {"2.6.2"}, "2.6.2": {"3.3.1"}}, true},
		{"numeric not textual order", map[string][]string{"2.2.0": {"2.6.2"}, "0.10.2": {"2.2.0"}}, true},
		{"self-loop", map[string][]string{"2.2.0": {"2.2.0"}}, false},
		{"two-version cycle", map[string][]string{"0.10.2": {"2.2.0"}, "2.2.0": {"0.10.2"}}, false},
		{"three-version cycle", map[string][]string{"0.10.2": {"2.2.0"}, "2.2.0": {"2.6.2"}, "2.6.2": {"0.10.2"}}, false},
		{"four-version cycle", map[string][]string{"0.10.2": {"2.2.0"}, "2.2.0": {"2.6.2"}, "2.6.2": {"3.3.1"}, "3.3.1": {"0.10.2"}}, false},
		{"downgrade path", map[string][]string{"2.6.2": {"2.2.0"}}, false},
		{"downgrade beside a good path", map[string][]string{"0.10.2": {"2.2.0"}, "3.3.1": {"0.10.2"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &VersionCatalogue{Versions: versions, Upgrades: tt.upgrades}
			err := c.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"0.10.2", "2.2.0", -1},
		{"2.10.0", "2.9.0", 1},
		{"2.2.0", "2.2.0", 0},
		{"2.2", "2.2.0", -1},
		{"2.2.0-rc", "2.2.0-rc", 0},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
