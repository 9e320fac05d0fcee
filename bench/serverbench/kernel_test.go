package main

import (
	"bytes"
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
		Servers: []string{pythonName}, Starts: 1, KernelStarts: 1, Executes: 3, Warmup: 1,
		ContentsRuns: 1, NotebookSize: 100000, OutputLines: 6, WorkDir: t.TempDir(),
		IdleWindow: 100 * time.Millisecond,
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
	if _, err := bareKernelStartOnce(ctx, cfg, spec); err != nil {
		t.Fatalf("kernel start: %v", err)
	}
	conn, _, closeConn, err := openBareKernel(ctx, cfg, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn()
	for i := range 3 {
		if _, err := executeOnce(ctx, conn); err != nil {
			t.Fatalf("execute %d: %v", i+1, err)
		}
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
			conn, closeConn, err := openServerKernel(ctx, cfg, s)
			if err != nil {
				t.Fatal(err)
			}
			defer closeConn()
			if got := protocolName(conn.protocol); got != name {
				t.Errorf("subprotocol = %q, want %q", got, name)
			}
			if _, err := executeOnce(ctx, conn); err != nil {
				t.Fatalf("execute: %v", err)
			}

			nb := makeNotebook(cfg.NotebookSize, cfg.OutputLines)
			body, err := contentsBody(nb)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := putNotebook(ctx, s.api, body, &buf); err != nil {
				t.Fatal(err)
			}
			if _, err := getNotebook(ctx, s.api, &buf); err != nil {
				t.Fatal(err)
			}
			if err := checkNotebookModel(buf.Bytes(), len(nb["cells"].([]any))); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRunAllJupyterServer runs every phase with small counts and checks
// that each metric got its measurements.
func TestRunAllJupyterServer(t *testing.T) {
	requirePython(t, "ipykernel", "jupyter_server")
	cfg := testConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	nb := makeNotebook(cfg.NotebookSize, cfg.OutputLines)
	bare, servers := runAll(ctx, cfg, nb, slog.New(slog.NewTextHandler(io.Discard, nil)))

	if len(bare.Errors) > 0 {
		t.Errorf("bare kernel errors: %q", bare.Errors)
	}
	if bare.KernelStart.N != 1 || bare.Execute.N != cfg.Executes {
		t.Errorf("bare kernel measured %d starts and %d executes, want 1 and %d",
			bare.KernelStart.N, bare.Execute.N, cfg.Executes)
	}
	if len(servers) != 1 {
		t.Fatalf("got %d server results, want 1", len(servers))
	}
	s := servers[0]
	if len(s.Errors) > 0 {
		t.Errorf("server errors: %q", s.Errors)
	}
	counts := []struct {
		metric string
		got    int
		want   int
	}{
		{"start", s.Start.N, 1},
		{"memory", len(s.Memory), 1},
		{"kernel start", s.KernelStart.N, 1},
		{"execute", s.Execute.N, cfg.Executes},
		{"contents put", s.ContentsPut.N, 1},
		{"contents get", s.ContentsGet.N, 1},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: %d measurements, want %d", c.metric, c.got, c.want)
		}
	}
	if s.KernelOverheadMs == nil {
		t.Error("kernel start overhead not computed")
	}
	if s.ExecuteCPUMs == nil || bare.ExecuteCPUMs == nil {
		t.Error("execute CPU time not computed")
	}
	if s.IdleCPUMsPerS == nil || bare.IdleCPUMsPerS == nil {
		t.Error("idle CPU time not computed")
	}
	if s.ContentsPutCPUMs == nil || s.ContentsGetCPUMs == nil {
		t.Error("contents CPU time not computed")
	}
	if s.NotebookBytes == 0 {
		t.Error("saved notebook size is 0")
	}
	if s.Version == "" {
		t.Error("version is empty")
	}
}
