package openapi

// Every list action cuts its page out of a slice with one of these two
// functions. Page numbers and sizes come from the caller and may be as
// large as an int holds, so neither multiplies nor adds them without first
// comparing against the slice length: the result is always a valid
// half-open range [from, to) with 0 ≤ from ≤ to ≤ n.

// numberedPage returns the range that page current (counting from 1) of
// size items per page covers among n items. Pages past the end are empty.
func numberedPage(n, current, size int) (from, to int) {
	if n <= 0 || size <= 0 || current < 1 {
		return 0, 0
	}
	// (current-1)*size ≥ n exactly when current-1 ≥ ceil(n/size); the
	// comparison uses a division, which cannot overflow.
	pages := n / size
	if n%size != 0 {
		pages++
	}
	if current-1 >= pages {
		return n, n
	}
	return itemRange(n, (current-1)*size, size)
}

// itemRange returns the range of at most size items starting at item from
// among n items, clamped to [0, n].
func itemRange(n, from, size int) (int, int) {
	from = min(max(from, 0), max(n, 0))
	if size <= 0 {
		return from, from
	}
	return from, from + min(size, n-from)
}
