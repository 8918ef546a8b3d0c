package policy

import "strings"

// wildcardMatch reports whether s matches pattern, where "*" matches any run
// of characters (including none) and "?" matches exactly one character. The
// comparison is by Unicode code point and case-sensitive. It runs in
// O(len(pattern)*len(s)) worst case without recursion, so hostile patterns
// such as "*a*a*a*b" cannot blow the stack.
func wildcardMatch(pattern, s string) bool {
	p := []rune(pattern)
	t := []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			// Let the last "*" swallow one more character and retry.
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchAction compares RAM action names case-insensitively (doc 93738:
// Action values are "not case-sensitive in most cases").
func matchAction(pattern, action string) bool {
	return wildcardMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// matchResource compares ARNs case-sensitively; see the package doc.
func matchResource(pattern, resource string) bool {
	return wildcardMatch(pattern, resource)
}

func matchAny(patterns []string, s string, match func(p, s string) bool) bool {
	for _, p := range patterns {
		if match(p, s) {
			return true
		}
	}
	return false
}
