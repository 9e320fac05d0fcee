package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name   string
		in     []float64
		want   float64
		wantOK bool
	}{
		{"empty", nil, 0, false},
		{"one", []float64{3}, 3, true},
		{"odd", []float64{5, 1, 3}, 3, true},
		{"even", []float64{4, 1, 3, 2}, 2.5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := median(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("median(%v) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{thousands(0), "0"},
		{thousands(311035), "311,035"},
		{thousands(1234567), "1,234,567"},
		{thousands(-1000), "-1,000"},
		{formatMS(0.512), "0.51 ms"},
		{formatMS(35.04), "35.0 ms"},
		{formatMS(357.4), "357 ms"},
		{formatMS(2704), "2.70 s"},
		{formatMS(28012), "28.0 s"},
		{formatMB(7.9e6), "7.90 MB"},
		{formatMB(12.34e6), "12.3 MB"},
		{formatRatio(78.4), "78×"},
		{formatRatio(7.56), "7.6×"},
		{formatRatio(0.5), "0.50×"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestRotate(t *testing.T) {
	s := []string{"go", "yjs", "ywasm"}
	tests := []struct {
		n    int
		want []string
	}{
		{0, []string{"go", "yjs", "ywasm"}},
		{1, []string{"yjs", "ywasm", "go"}},
		{5, []string{"ywasm", "go", "yjs"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, rotate(s, tt.n)); diff != "" {
			t.Errorf("rotate(%d) (-want +got):\n%s", tt.n, diff)
		}
	}
}

// TestReportGoals builds results by hand and checks the verdicts the
// report prints for them.
func TestReportGoals(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	r := &results{
		Settings: config{Impls: []string{"go", "yjs"}, Reps: 1},
		Trace:    traceInfo{File: "automerge-paper.json.gz", Edits: 10},
		Prepared: prepared{StateLength: 311035, StateSHA256: "aa"},
		Measurements: []measurement{
			{Phase: "replay", Impl: "go", Result: &workerResult{
				MS: []float64{1200}, CPUMS: []float64{400}, RetainedHeapBytes: i64(2e6),
				EncodeMS: []float64{3}, EncodeCPUMS: []float64{3}, StateLength: 311035, StateSHA256: "aa",
			}},
			{Phase: "replay", Impl: "yjs", Result: &workerResult{
				MS: []float64{2400}, CPUMS: []float64{2000}, RetainedHeapBytes: i64(4e6),
				RetainedExternalBytes: i64(1e6), EncodeMS: []float64{30}, EncodeCPUMS: []float64{30},
				StateLength: 311035, StateSHA256: "aa",
			}},
			{Phase: "decode", Impl: "go", Result: &workerResult{MS: []float64{20}, CPUMS: []float64{20}}},
			{Phase: "updates", Impl: "yjs", Round: 1, Error: "exit status 1"},
		},
	}
	var b strings.Builder
	writeReport(&b, r)
	out := b.String()
	for _, want := range []string{
		"replay under 0.9 s: not met on wall-clock time, met on CPU time (1.20 s wall, 400 ms CPU)",
		"at most 8 MB retained after the replay: met (2.00 MB)",
		"encode within 5 ms: met (3.00 ms wall, 3.00 ms CPU)",
		"decode within 16 ms: not met (20.0 ms wall, 20.0 ms CPU)",
		"the same 311,035 bytes as yjs: met (1 of 1 replays, SHA-256 aa)",
		"updates yjs round 1: exit status 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "5.00 MB") {
		t.Errorf("report lacks yjs's retained heap plus external memory, 5.00 MB:\n%s", out)
	}
}
