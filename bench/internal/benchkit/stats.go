package benchkit

import (
	"math"
	"slices"
	"time"
)

// Summary describes a set of timings in milliseconds. Samples keeps every
// timing in measurement order.
type Summary struct {
	N       int       `json:"n"`
	Min     float64   `json:"min_ms"`
	Median  float64   `json:"median_ms"`
	Mean    float64   `json:"mean_ms"`
	P99     float64   `json:"p99_ms"`
	Max     float64   `json:"max_ms"`
	Samples []float64 `json:"samples_ms"`
}

// Summarize returns the Summary of ds. The median of an even count is the
// mean of the two middle values, and p99 is the nearest-rank percentile
// (the value at rank ceil(0.99 n)). The zero Summary stands for no timings.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	samples := make([]float64, len(ds))
	for i, d := range ds {
		samples[i] = float64(d) / float64(time.Millisecond)
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	var total float64
	for _, v := range sorted {
		total += v
	}
	n := len(sorted)
	return Summary{
		N:       n,
		Min:     sorted[0],
		Median:  Median(sorted),
		Mean:    total / float64(n),
		P99:     sorted[int(math.Ceil(0.99*float64(n)))-1],
		Max:     sorted[n-1],
		Samples: samples,
	}
}

// Median returns the median of sorted values, which must not be empty.
func Median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// MedianInt returns the median of vs, rounded down, or 0 for none.
func MedianInt(vs []int) int {
	if len(vs) == 0 {
		return 0
	}
	sorted := slices.Clone(vs)
	slices.Sort(sorted)
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
