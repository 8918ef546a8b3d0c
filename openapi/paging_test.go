package openapi

import (
	"math"
	"testing"
)

func TestPagingNeverLeavesTheSlice(t *testing.T) {
	big := []int{math.MaxInt, math.MaxInt - 1, math.MaxInt / 2, math.MaxInt/2 + 1, math.MinInt, -1, 0, 1, 2, 3, 7, 10000}
	for _, n := range []int{0, 1, 5, 10, 10001} {
		for _, a := range big {
			for _, b := range big {
				from, to := numberedPage(n, a, b)
				if from < 0 || from > to || to > n {
					t.Errorf("numberedPage(%d, %d, %d) = [%d, %d)", n, a, b, from, to)
				}
				from, to = itemRange(n, a, b)
				if from < 0 || from > to || to > n {
					t.Errorf("itemRange(%d, %d, %d) = [%d, %d)", n, a, b, from, to)
				}
			}
		}
	}
	for _, tt := range []struct{ n, current, size, from, to int }{
		{10, 1, 3, 0, 3}, {10, 4, 3, 9, 10}, {10, 5, 3, 10, 10}, {10, 2, 10, 10, 10}, {9, 3, 3, 6, 9},
	} {
		if from, to := numberedPage(tt.n, tt.current, tt.size); from != tt.from || to != tt.to {
			t.Errorf("numberedPage(%d, %d, %d) = [%d, %d), want [%d, %d)", tt.n, tt.current, tt.size, from, to, tt.from, tt.to)
		}
	}
}
