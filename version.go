package kafkaplane

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Codes returned by VersionCatalogue.PlanUpgrade. ONS_INIT_ENV_ERROR is the
// code the real service returns when there is nothing to upgrade (Terraform
// swallows it); the others are kafkaplane's documented names for refusals
// alikafka does not name (docs/upgrade.md, Refusals).
const (
	CodeNothingToUpgrade   = "ONS_INIT_ENV_ERROR"
	CodeDowngrade          = "BIZ_VERSION_DOWNGRADE_NOT_SUPPORTED"
	CodeInvalidTarget      = "InvalidTargetVersion"
	CodeUnsupportedVersion = "BIZ_SERVICE_VERSION_NOT_SUPPORTED"
)

// OpenSourceVersion is one open-source Kafka version the service offers and
// its internal minor versions, oldest first: the last one is the latest.
type OpenSourceVersion struct {
	Version string   `json:"version"`
	Minors  []string `json:"minors"`
}

// VersionCatalogue lists the versions instances may run and the allowed
// major upgrade paths. Operators publish a new minor version by adding it to
// the end of a version's Minors and restarting with the new catalogue.
type VersionCatalogue struct {
	Versions []OpenSourceVersion `json:"versions"`
	// Upgrades maps a version to the versions it may be upgraded to. An
	// upgrade to the same version (latest minor) is always allowed and is
	// not listed.
	Upgrades map[string][]string `json:"upgrades"`
	// Default is the version StartInstance uses when ServiceVersion is not
	// given.
	Default string `json:"default"`
}

// DefaultVersionCatalogue returns the built-in catalogue: 0.10.2 and 2.2.0,
// each with two minor versions, and the single path 0.10.2 → 2.2.0.
func DefaultVersionCatalogue() *VersionCatalogue {
	return &VersionCatalogue{
		Versions: []OpenSourceVersion{
			{Version: "0.10.2", Minors: []string{"0.10.2-1.0.0", "0.10.2-1.1.0"}},
			{Version: "2.2.0", Minors: []string{"2.2.0-1.0.0", "2.2.0-1.1.0"}},
		},
		Upgrades: map[string][]string{"0.10.2": {"2.2.0"}},
		Default:  "2.2.0",
	}
}

// ParseVersionCatalogue decodes and validates a catalogue in its JSON form.
func ParseVersionCatalogue(data []byte) (*VersionCatalogue, error) {
	var c VersionCatalogue
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("version catalogue: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks that every version has at least one minor, that minors
// are unique, and that the upgrade paths form a graph an instance can only
// move forward through: every path names known versions, leads to a newer
// version (compareVersions), and no chain of paths of any length returns to
// where it started. The order rule alone already excludes cycles; the cycle
// search is kept separate so that its message names the loop.
func (c *VersionCatalogue) Validate() error {
	if len(c.Versions) == 0 {
		return fmt.Errorf("version catalogue: no versions")
	}
	seen := map[string]bool{}
	for _, v := range c.Versions {
		if v.Version == "" {
			return fmt.Errorf("version catalogue: a version has no name")
		}
		if seen[v.Version] {
			return fmt.Errorf("version catalogue: version %q listed twice", v.Version)
		}
		seen[v.Version] = true
		if len(v.Minors) == 0 {
			return fmt.Errorf("version catalogue: version %q has no minor versions", v.Version)
		}
		minors := map[string]bool{}
		for _, m := range v.Minors {
			if m == "" || minors[m] {
				return fmt.Errorf("version catalogue: version %q has an empty or repeated minor %q", v.Version, m)
			}
			minors[m] = true
		}
	}
	// Sorted so that the error for a bad catalogue is always the same one.
	froms := slices.Sorted(maps.Keys(c.Upgrades))
	for _, from := range froms {
		if !seen[from] {
			return fmt.Errorf("version catalogue: upgrade path from unknown version %q", from)
		}
		for _, to := range c.Upgrades[from] {
			if !seen[to] {
				return fmt.Errorf("version catalogue: upgrade path %s → unknown version %q", from, to)
			}
		}
	}
	if cycle := c.upgradeCycle(froms); cycle != nil {
		return fmt.Errorf("version catalogue: upgrade paths form a cycle %s", strings.Join(cycle, " → "))
	}
	for _, from := range froms {
		for _, to := range c.Upgrades[from] {
			if compareVersions(to, from) <= 0 {
				return fmt.Errorf("version catalogue: upgrade path %s → %s is not to a newer version", from, to)
			}
		}
	}
	if c.Default != "" && !seen[c.Default] {
		return fmt.Errorf("version catalogue: default version %q is not listed", c.Default)
	}
	return nil
}

// upgradeCycle returns a closed chain of upgrade paths (first and last
// element equal), or nil when there is none. It is a depth-first search that
// colours versions: a path to a version still on the search stack closes a
// cycle, whatever its length, including a version that lists itself.
func (c *VersionCatalogue) upgradeCycle(froms []string) []string {
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(v string) []string
	visit = func(v string) []string {
		state[v] = onStack
		stack = append(stack, v)
		for _, n := range c.Upgrades[v] {
			switch state[n] {
			case onStack:
				i := slices.Index(stack, n)
				return append(slices.Clone(stack[i:]), n)
			case unvisited:
				if cyc := visit(n); cyc != nil {
					return cyc
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[v] = done
		return nil
	}
	for _, v := range froms {
		if state[v] == unvisited {
			if cyc := visit(v); cyc != nil {
				return cyc
			}
		}
	}
	return nil
}

// compareVersions orders open-source version names such as 0.10.2 and
// 2.2.0: dot-separated fields compare as numbers when both are numbers and
// as text otherwise, and a name that is a prefix of another (2.2 against
// 2.2.0) is the older one. It returns -1, 0 or +1.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range min(len(as), len(bs)) {
		x, errx := strconv.ParseUint(as[i], 10, 64)
		y, erry := strconv.ParseUint(bs[i], 10, 64)
		var d int
		if errx == nil && erry == nil {
			d = cmp.Compare(x, y)
		} else {
			d = strings.Compare(as[i], bs[i])
		}
		if d != 0 {
			return d
		}
	}
	return cmp.Compare(len(as), len(bs))
}

// Lookup returns the catalogue entry of version.
func (c *VersionCatalogue) Lookup(version string) (OpenSourceVersion, bool) {
	for _, v := range c.Versions {
		if v.Version == version {
			return v, true
		}
	}
	return OpenSourceVersion{}, false
}

// LatestMinor returns the latest minor version of version, or "" when the
// version is not in the catalogue.
func (c *VersionCatalogue) LatestMinor(version string) string {
	v, ok := c.Lookup(version)
	if !ok {
		return ""
	}
	return v.Minors[len(v.Minors)-1]
}

// IsLatestMinor reports whether minor is the latest minor of version.
func (c *VersionCatalogue) IsLatestMinor(version, minor string) bool {
	return c.LatestMinor(version) == minor
}

// UpgradeTargets returns the versions an instance on version/minor may be
// upgraded to, in catalogue order: its own version when it is not on the
// latest minor, then every allowed major path.
func (c *VersionCatalogue) UpgradeTargets(version, minor string) []string {
	var out []string
	if _, ok := c.Lookup(version); ok && !c.IsLatestMinor(version, minor) {
		out = append(out, version)
	}
	for _, v := range c.Versions {
		if slices.Contains(c.Upgrades[version], v.Version) {
			out = append(out, v.Version)
		}
	}
	return out
}

// UpgradePlan is what UpgradeInstanceVersion will do: move an instance from
// one version/minor to another.
type UpgradePlan struct {
	SourceVersion, SourceMinor string
	TargetVersion, TargetMinor string
}

// Major reports whether the plan changes the open-source version.
func (p UpgradePlan) Major() bool { return p.SourceVersion != p.TargetVersion }

// PlanUpgrade applies UpgradeInstanceVersion's rules (docs/upgrade.md,
// TargetVersion table) to an instance on version/minor:
//
//   - target equals the current version and the minor is not the latest:
//     upgrade to the latest minor of that version;
//   - target equals the current version on its latest minor:
//     CodeNothingToUpgrade (ONS_INIT_ENV_ERROR);
//   - target is an allowed major path: upgrade to the target's latest minor,
//     whether or not the current minor is the latest;
//   - target not in the catalogue: CodeInvalidTarget;
//   - target is a version that may upgrade to the current one: CodeDowngrade;
//   - any other target: CodeInvalidTarget.
func (c *VersionCatalogue) PlanUpgrade(version, minor, target string) (UpgradePlan, error) {
	plan := UpgradePlan{SourceVersion: version, SourceMinor: minor, TargetVersion: target}
	if _, ok := c.Lookup(target); !ok {
		return plan, Errorf(CodeInvalidTarget, "Specified parameter TargetVersion is not valid: %q is not an offered version.", target)
	}
	if _, ok := c.Lookup(version); !ok {
		return plan, Errorf(CodeUnsupportedVersion, "The instance runs version %q, which is no longer in the version catalogue.", version)
	}
	plan.TargetMinor = c.LatestMinor(target)
	switch {
	case target == version:
		if minor == plan.TargetMinor {
			return plan, Errorf(CodeNothingToUpgrade, "The instance already runs the latest minor version %s of %s; no need to update version.", minor, version)
		}
		return plan, nil
	case slices.Contains(c.Upgrades[version], target):
		return plan, nil
	case c.reaches(target, version):
		return plan, Errorf(CodeDowngrade, "Downgrading from %s to %s is not supported: the message storage format of %s cannot be rolled back.", version, target, version)
	default:
		return plan, Errorf(CodeInvalidTarget, "Upgrading from %s to %s is not an offered upgrade path.", version, target)
	}
}

// reaches reports whether from can reach to through upgrade paths.
func (c *VersionCatalogue) reaches(from, to string) bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[v] {
			continue
		}
		seen[v] = true
		for _, n := range c.Upgrades[v] {
			if n == to {
				return true
			}
			stack = append(stack, n)
		}
	}
	return false
}
