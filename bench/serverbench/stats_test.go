package main

import (
	"encoding/json"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

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
		Bare:     bareResult{Execute: benchkit.Summarize([]time.Duration{5 * time.Millisecond})},
		Servers: []serverResult{
			{Name: pythonName, Start: benchkit.Summarize([]time.Duration{400 * time.Millisecond}),
				KernelOverheadMs: &overhead},
			{Name: jupygoName, Start: benchkit.Summarize([]time.Duration{10 * time.Millisecond}),
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

func TestMedianDifference(t *testing.T) {
	cases := []struct {
		name string
		a, b []float64
		want float64
		ok   bool
	}{
		{"same rounds", []float64{7, 9, 6}, []float64{6, 7, 6}, 1, true},
		{"load cancels", []float64{5.5, 20.5, 6.5}, []float64{5, 20, 6}, 0.5, true},
		{"shorter side", []float64{8, 9, 100}, []float64{7, 7}, 1.5, true},
		{"no samples", nil, []float64{1}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := medianDifference(c.a, c.b)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			if got != c.want {
				t.Errorf("median difference = %v, want %v", got, c.want)
			}
		})
	}
}
