package benchkit

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		var ds []time.Duration
		for _, v := range vs {
			ds = append(ds, time.Duration(v)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Summary
	}{
		{"none", nil, Summary{}},
		{"one", ms(5), Summary{N: 1, Min: 5, Median: 5, Mean: 5, P99: 5, Max: 5, Samples: []float64{5}}},
		{"odd count", ms(3, 1, 2), Summary{N: 3, Min: 1, Median: 2, Mean: 2, P99: 3, Max: 3,
			Samples: []float64{3, 1, 2}}},
		{"even count", ms(4, 1, 2, 3), Summary{N: 4, Min: 1, Median: 2.5, Mean: 2.5, P99: 4, Max: 4,
			Samples: []float64{4, 1, 2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Summarize(tt.in)); diff != "" {
				t.Errorf("Summarize (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("p99 nearest rank", func(t *testing.T) {
		if got := Summarize(ms(hundred...)).P99; got != 99 {
			t.Errorf("p99 of 1..100 = %v, want 99", got)
		}
	})
}
