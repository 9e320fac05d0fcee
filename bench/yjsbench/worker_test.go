package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jupygo/jupygo/yjs"
)

// TestMain lets the test binary act as the Go worker, which benchmark
// starts as os.Executable() -worker TASK.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-worker" {
		if err := run(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "yjsbench worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// smallTrace is a short sequential trace, and the length and SHA-256 of
// the state that yjs 13.6.33 encodes after replaying it with client id
// 2147495993 into the root text "t" (from yjs/testdata/traces).
const (
	smallTrace       = "../../yjs/testdata/traces/friendsforever_flat.json.gz"
	smallTraceLength = 81477
	smallTraceSHA256 = "203774107f33e0ffed261c8e8f144b274177d7f5ef876ce82c2a700a5183fa27"
)

// writeEditsForTest writes edits.json for the small trace into a new
// folder and returns the folder and the edits.
func writeEditsForTest(t *testing.T) (string, *editsFile) {
	t.Helper()
	tr, err := loadTrace(smallTrace)
	if err != nil {
		t.Fatal(err)
	}
	edits, err := toUTF16(tr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ef := &editsFile{ClientID: 2147495993, Root: "t", EndContent: tr.endContent, Edits: edits}
	if err := writeJSON(filepath.Join(dir, "edits.json"), ef); err != nil {
		t.Fatal(err)
	}
	return dir, ef
}

// writeUpdatesForTest writes state.bin and updates.bin as bench.mjs's
// prepare does, but from the Go package, so the Go worker can be tested
// without node.
func writeUpdatesForTest(t *testing.T, dir string, ef *editsFile) int {
	t.Helper()
	d := yjs.NewDoc(yjs.WithClientID(ef.ClientID))
	var file []byte
	n := 0
	d.OnUpdate(func(u []byte, _ any, _ *yjs.Transaction) {
		file = binary.LittleEndian.AppendUint32(file, uint32(len(u)))
		file = append(file, u...)
		n++
	})
	if err := replayEdits(d.GetText(ef.Root), ef.Edits); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"updates.bin": file, "state.bin": d.EncodeStateAsUpdate(nil)}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func TestGoWorker(t *testing.T) {
	dir, ef := writeEditsForTest(t)
	updates := writeUpdatesForTest(t, dir, ef)

	t.Run("replay", func(t *testing.T) {
		res, err := replayGo(dir, 2)
		if err != nil {
			t.Fatal(err)
		}
		counts := []int{len(res.MS), len(res.CPUMS), len(res.EncodeFirstMS), len(res.EncodeFirstCPUMS),
			len(res.EncodeMS), len(res.EncodeCPUMS)}
		if diff := cmp.Diff([]int{1, 1, 1, 1, 2, 2}, counts); diff != "" {
			t.Errorf("sample counts of replay, first encode and encode (-want +got):\n%s", diff)
		}
		if res.RetainedHeapBytes == nil || *res.RetainedHeapBytes <= 0 {
			t.Errorf("retained heap = %v, want a positive count", res.RetainedHeapBytes)
		}
		if res.StateLength != smallTraceLength {
			t.Errorf("state length = %d, want %d", res.StateLength, smallTraceLength)
		}
		if res.StateSHA256 != smallTraceSHA256 {
			t.Errorf("state SHA-256 = %s, want yjs's %s", res.StateSHA256, smallTraceSHA256)
		}
	})
	t.Run("decode", func(t *testing.T) {
		res, err := decodeGo(dir, 3)
		if err != nil {
			t.Fatal(err)
		}
		counts := []int{len(res.FirstMS), len(res.FirstCPUMS), len(res.MS), len(res.CPUMS)}
		if diff := cmp.Diff([]int{1, 1, 3, 3}, counts); diff != "" {
			t.Errorf("sample counts of the first decode and the others (-want +got):\n%s", diff)
		}
	})
	t.Run("updates", func(t *testing.T) {
		res, err := updatesGo(dir)
		if err != nil {
			t.Fatal(err)
		}
		if res.Updates != updates {
			t.Errorf("applied %d updates, want %d", res.Updates, updates)
		}
	})
	t.Run("unknown task", func(t *testing.T) {
		if err := runWorker("encode", dir, 1, io.Discard); err == nil {
			t.Error("got no error")
		}
	})
}

// TestBenchmarkSmallTrace runs the whole benchmark, with yjs and ywasm
// under node, on the small trace. It needs node and the packages that
// npm ci installs into node_modules beside bench.mjs.
func TestBenchmarkSmallTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts about 20 processes")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found")
	}
	for _, pkg := range []string{"yjs", "ywasm"} {
		if _, err := os.Stat(filepath.Join("node_modules", pkg)); err != nil {
			t.Skipf("node package %s not installed: run npm ci in bench/yjsbench", pkg)
		}
	}
	cfg := config{
		TracePath: smallTrace, Node: "node", Script: "bench.mjs", Impls: implNames,
		Runs: 2, YwasmReplayRuns: 1, Reps: 1, ClientID: 2147495993, Root: "t",
	}
	out := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := benchmark(context.Background(), cfg, nil, out, io.Discard, log); err != nil {
		t.Fatal(err)
	}
	r := readOnlyResults(t, out)

	if r.Prepared.StateLength != smallTraceLength || r.Prepared.StateSHA256 != smallTraceSHA256 {
		t.Errorf("yjs prepared a state of %d bytes with SHA-256 %s, want %d and %s",
			r.Prepared.StateLength, r.Prepared.StateSHA256, smallTraceLength, smallTraceSHA256)
	}
	counts := map[string]int{}
	for _, m := range r.Measurements {
		counts[m.Phase+" "+m.Impl]++
		if m.Error != "" {
			t.Errorf("%s %s round %d: %s", m.Phase, m.Impl, m.Round, m.Error)
			continue
		}
		if m.Phase == "replay" && m.Result.StateSHA256 != smallTraceSHA256 {
			t.Errorf("%s round %d encoded a state with SHA-256 %s, want %s",
				m.Impl, m.Round, m.Result.StateSHA256, smallTraceSHA256)
		}
	}
	want := map[string]int{
		"replay go": 2, "replay yjs": 2, "replay ywasm": 1,
		"decode go": 2, "decode yjs": 2, "decode ywasm": 2,
		"updates go": 2, "updates yjs": 2, "updates ywasm": 2,
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%d measurements of %s, want %d", counts[k], k, n)
		}
	}
}

// readOnlyResults reads the single results file in dir.
func readOnlyResults(t *testing.T, dir string) *results {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "yjs-*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("results files in %s: %v, %v; want one", dir, files, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}
