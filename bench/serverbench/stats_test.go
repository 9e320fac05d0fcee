package main

import (
	"encoding/json"
	"os"
	"strings"
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
		want summary
	}{
		{"none", nil, summary{}},
		{"one", ms(5), summary{N: 1, Min: 5, Median: 5, Mean: 5, P99: 5, Max: 5, Samples: []float64{5}}},
		{"odd count", ms(3, 1, 2), summary{N: 3, Min: 1, Median: 2, Mean: 2, P99: 3, Max: 3,
			Samples: []float64{3, 1, 2}}},
		{"even count", ms(4, 1, 2, 3), summary{N: 4, Min: 1, Median: 2.5, Mean: 2.5, P99: 4, Max: 4,
			Samples: []float64{4, 1, 2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarize(tt.in)); diff != "" {
				t.Errorf("summarize (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("p99 nearest rank", func(t *testing.T) {
		if got := summarize(ms(hundred...)).P99; got != 99 {
			t.Errorf("p99 of 1..100 = %v, want 99", got)
		}
	})
}

func TestMakeNotebookShape(t *testing.T) {
	nb := makeNotebook(200000, 6)
	cells := nb["cells"].([]any)
	code := 0
	for _, c := range cells {
		if c.(map[string]any)["cell_type"] == "code" {
			code++
		}
	}
	if want := 200000 / (cellBytes + 6*lineBytes); code != want {
		t.Errorf("code cells = %d, want %d", code, want)
	}
	if markdown := len(cells) - code; markdown != code/9 {
		t.Errorf("markdown cells = %d, want one per 9 code cells (%d)", markdown, code/9)
	}
	data, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(makeNotebook(200000, 6))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(again) {
		t.Error("makeNotebook is not deterministic")
	}
}

func TestReportFromSavedResults(t *testing.T) {
	overhead := 12.5
	r := results{
		Time:     time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Machine:  machine{CPUs: 2, CPUModel: "cpu", MemoryMiB: 1024},
		Settings: runSettings{Starts: 5, KernelStarts: 10, Executes: 200, Warmup: 10, ContentsRuns: 5, Settle: "2s"},
		Bare:     bareResult{Execute: summarize([]time.Duration{5 * time.Millisecond})},
		Servers: []serverResult{
			{Name: pythonName, Start: summarize([]time.Duration{400 * time.Millisecond}),
				KernelOverheadMs: &overhead},
			{Name: jupygoName, Start: summarize([]time.Duration{10 * time.Millisecond}),
				Errors: []string{"contents: status 500"}},
		},
	}

	path, err := writeResults(t.TempDir(), r)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var saved results
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}

	var want, got strings.Builder
	writeReport(&want, r)
	writeReport(&got, saved)
	if diff := cmp.Diff(want.String(), got.String()); diff != "" {
		t.Errorf("report from saved results (-want +got):\n%s", diff)
	}
	for _, line := range []string{"ratio jupyter-server / jupygo: 40.0×", "jupygo error: contents: status 500"} {
		if !strings.Contains(want.String(), line) {
			t.Errorf("report has no line %q:\n%s", line, want.String())
		}
	}
}
