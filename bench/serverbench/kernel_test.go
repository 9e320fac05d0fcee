package main

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"testing"
	"time"
)

const (
	testPython     = "/usr/bin/python3"
	testKernelspec = "/usr/share/jupyter/kernels/python3"
)

// requirePython skips the test unless testPython imports every module.
func requirePython(t *testing.T, modules ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real kernels")
	}
	for _, m := range modules {
		if err := exec.Command(testPython, "-c", "import "+m).Run(); err != nil {
			t.Skipf("%s cannot import %s: %v", testPython, m, err)
		}
	}
}

func testConfig(t *testing.T) config {
	return config{
		Python: testPython, KernelspecDir: testKernelspec, KernelName: "python3",
		Starts: 1, KernelStarts: 1, Executes: 3, Warmup: 1, ContentsRuns: 1,
		NotebookSize: 100000, OutputLines: 6, WorkDir: t.TempDir(),
	}
}

func TestBareKernelExecute(t *testing.T) {
	requirePython(t, "ipykernel")
	cfg := testConfig(t)
	spec, err := loadKernelspec(cfg.KernelspecDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	starts, err := measureBareKernelStarts(ctx, cfg, spec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(starts) != 1 {
		t.Errorf("kernel starts = %d, want 1", len(starts))
	}
	execs, err := measureBareExecutes(ctx, cfg, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(execs) != cfg.Executes {
		t.Errorf("timed executes = %d, want %d", len(execs), cfg.Executes)
	}
}

// TestJupyterServerFramings runs the kernel and contents steps against
// jupyter-server in both WebSocket framings, which checks the client
// against the reference server.
func TestJupyterServerFramings(t *testing.T) {
	requirePython(t, "ipykernel", "jupyter_server")
	for _, legacy := range []bool{false, true} {
		name := map[bool]string{false: subprotocolV1, true: "legacy"}[legacy]
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Legacy = legacy
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			s, err := startServer(ctx, cfg, serverKinds(cfg)[pythonName])
			if err != nil {
				t.Fatal(err)
			}
			defer s.stop()

			if _, err := kernelStartOnce(ctx, cfg, s); err != nil {
				t.Fatalf("kernel start: %v", err)
			}
			times, protocol, err := measureServerExecutes(ctx, cfg, s)
			if err != nil {
				t.Fatalf("executes: %v", err)
			}
			if len(times) != cfg.Executes {
				t.Errorf("timed executes = %d, want %d", len(times), cfg.Executes)
			}
			if got := protocolName(protocol); got != name {
				t.Errorf("subprotocol = %q, want %q", got, name)
			}
			if _, err := benchContents(ctx, s.api, makeNotebook(cfg.NotebookSize, cfg.OutputLines), 1); err != nil {
				t.Fatalf("contents: %v", err)
			}
		})
	}
}
