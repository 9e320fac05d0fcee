package main

import (
	"math"
	"slices"
	"time"
)

// summary describes a set of timings in milliseconds. Samples keeps every
// timing in measurement order.
type summary struct {
	N       int       `json:"n"`
	Min     float64   `json:"min_ms"`
	Median  float64   `json:"median_ms"`
	Mean    float64   `json:"mean_ms"`
	P99     float64   `json:"p99_ms"`
	Max     float64   `json:"max_ms"`
	Samples []float64 `json:"samples_ms"`
}

// summarize returns the summary of ds. The median of an even count is the
// mean of the two middle values, and p99 is the nearest-rank percentile
// (the value at rank ceil(0.99 n)). The zero summary stands for no timings.
func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
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
	return summary{
		N:       n,
		Min:     sorted[0],
		Median:  median(sorted),
		Mean:    total / float64(n),
		P99:     sorted[int(math.Ceil(0.99*float64(n)))-1],
		Max:     sorted[n-1],
		Samples: samples,
	}
}

// median returns the median of sorted values, which must not be empty.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
