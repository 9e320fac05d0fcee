package main

import (
	"context"
	"fmt"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// token is the fixed token every benchmarked server is started with.
const token = "jupygo-bench-token"

// config holds the benchmark settings from the command line.
type config struct {
	Python        string        // Python with jupyter_server and ipykernel
	Jupygo        string        // jupygo binary
	JupygoNoHub   string        // jupygo built with the nohub tag
	Servers       []string      // server names to run, in order
	KernelspecDir string        // kernelspec used for bare kernels
	KernelName    string        // kernelspec name sent to POST /api/kernels
	Starts        int           // server starts for the start time and idle RSS
	KernelStarts  int           // kernel starts per server and bare
	Executes      int           // timed 1+1 round trips
	Warmup        int           // untimed round trips before them
	ContentsRuns  int           // timed PUT and GET of the notebook
	NotebookSize  int           // notebook size on disk, in bytes
	OutputLines   int           // stream output lines per notebook code cell
	Settle        time.Duration // wait after the first 200 before reading RSS
	IdleWindow    time.Duration // idle time over which idle CPU use is measured
	Legacy        bool          // offer no subprotocol on the kernel WebSocket
	WorkDir       string        // parent of all sandboxes
	PIDFile       string        // file that started pids are appended to
}

// serverKind describes how to start one of the benchmarked servers.
type serverKind struct {
	Name string
	Argv func(port int, root string) []string
}

func serverKinds(cfg config) map[string]serverKind {
	return map[string]serverKind{
		"jupyter-server": {Name: "jupyter-server", Argv: func(port int, root string) []string {
			argv := []string{cfg.Python, "-m", "jupyter_server", "--no-browser",
				"--ServerApp.token=" + token, "--ServerApp.port=" + strconv.Itoa(port),
				"--ServerApp.ip=127.0.0.1", "--ServerApp.root_dir=" + root,
				"--ServerApp.open_browser=False"}
			if os.Geteuid() == 0 {
				// jupyter-server exits at start as root without it.
				argv = append(argv, "--ServerApp.allow_root=True")
			}
			return argv
		}},
		jupygoName: {Name: jupygoName, Argv: func(port int, root string) []string {
			return []string{cfg.Jupygo, "server", "--no-browser", "--port", strconv.Itoa(port),
				"--token", token, "--root-dir", root}
		}},
		noHubName: {Name: noHubName, Argv: func(port int, root string) []string {
			return []string{cfg.JupygoNoHub, "server", "--no-browser", "--port", strconv.Itoa(port),
				"--token", token, "--root-dir", root}
		}},
	}
}

// runningServer is a started server with a client for it.
type runningServer struct {
	proc  *benchkit.Process
	api   *apiClient
	sb    *sandbox
	argv  []string
	ready time.Duration // from starting the process to the first 200
}

// startServer starts kind in a fresh sandbox on a free loopback port and
// waits for GET /api/status to return 200.
func startServer(ctx context.Context, cfg config, kind serverKind) (*runningServer, error) {
	sb, err := newSandbox(cfg.WorkDir, kind.Name)
	if err != nil {
		return nil, err
	}
	ports, err := benchkit.FreePorts(1)
	if err != nil {
		return nil, err
	}
	argv := kind.Argv(ports[0], sb.Root)
	logPath := filepath.Join(sb.Dir, "server.log")

	start := time.Now()
	proc, err := benchkit.Start(argv, sb.Root, sb.env(), logPath, cfg.PIDFile)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", kind.Name, err)
	}
	api := newAPIClient(fmt.Sprintf("http://127.0.0.1:%d", ports[0]), token)
	readyCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := api.waitReady(readyCtx, proc); err != nil {
		proc.Stop()
		return nil, fmt.Errorf("starting %s: %w", kind.Name, err)
	}
	return &runningServer{proc: proc, api: api, sb: sb, argv: argv, ready: time.Since(start)}, nil
}

// stop stops the server process and its kernels.
func (s *runningServer) stop() {
	s.api.close()
	s.proc.Stop()
}

// memory is the resident memory of an idle server in KiB, from
// /proc/PID/status. Server is the VmRSS of the server process, which is
// ServerAnon (RssAnon) plus ServerFile (RssFile, mapped files such as the
// executable and libraries) plus shared memory. Tree adds the VmRSS of the
// server's descendant processes, whose count is Children.
type memory struct {
	Server     int `json:"server_kib"`
	ServerAnon int `json:"server_anon_kib"`
	ServerFile int `json:"server_file_kib"`
	Tree       int `json:"tree_kib"`
	Children   int `json:"children"`
}

func readMemory(pid int) (memory, error) {
	status, err := benchkit.ReadResident(pid)
	if err != nil {
		return memory{}, err
	}
	m := memory{Server: status.RSS, ServerAnon: status.Anon, ServerFile: status.File, Tree: status.RSS}
	for _, kid := range benchkit.Descendants(pid) {
		if s, err := benchkit.ReadResident(kid); err == nil {
			m.Tree += s.RSS
			m.Children++
		}
	}
	return m, nil
}

// startOnce starts kind in a fresh sandbox and returns the time to the
// first 200 and the memory after cfg.Settle. It stops the server before it
// returns.
func startOnce(ctx context.Context, cfg config, kind serverKind) (time.Duration, memory, error) {
	s, err := startServer(ctx, cfg, kind)
	if err != nil {
		return 0, memory{}, err
	}
	defer s.stop()
	select {
	case <-ctx.Done():
		return 0, memory{}, ctx.Err()
	case <-time.After(cfg.Settle):
	}
	mem, err := readMemory(s.proc.PID())
	return s.ready, mem, err
}

// kernelStartOnce starts a kernel through the server: POST /api/kernels,
// open its WebSocket and send kernel_info_request, timed until the reply
// arrives. The kernel is deleted before it returns.
func kernelStartOnce(ctx context.Context, cfg config, s *runningServer) (time.Duration, error) {
	start := time.Now()
	k, err := s.api.startKernel(ctx, cfg.KernelName)
	if err != nil {
		return 0, err
	}
	defer s.api.deleteKernel(context.WithoutCancel(ctx), k.ID)
	conn, err := dialKernel(ctx, s.api, k.ID, cfg.Legacy)
	if err != nil {
		return 0, err
	}
	defer conn.close()
	if _, err := kernelInfo(ctx, conn); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// bareKernelStartOnce starts the kernelspec's kernel by hand in a fresh
// sandbox, timed from writing the connection file until a
// kernel_info_reply arrives over ZeroMQ. The kernel is stopped before it
// returns.
func bareKernelStartOnce(ctx context.Context, cfg config, spec kernelspec) (time.Duration, error) {
	sb, err := newSandbox(cfg.WorkDir, "bare")
	if err != nil {
		return 0, err
	}
	start := time.Now()
	bk, err := startBareKernel(spec, sb, cfg.PIDFile)
	if err != nil {
		return 0, err
	}
	defer bk.proc.Stop()
	conn, err := dialZMQ(bk.info)
	if err != nil {
		return 0, err
	}
	defer conn.close()
	if _, err := kernelInfo(ctx, conn); err != nil {
		return 0, fmt.Errorf("bare kernel: %w:\n%s", err, bk.proc.LogTail())
	}
	return time.Since(start), nil
}

// executeOnce runs `1+1` on conn, timed from sending the execute_request
// until both execute_reply and status idle arrived.
func executeOnce(ctx context.Context, conn kernelConn) (time.Duration, error) {
	reqCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := execute(reqCtx, conn, "1+1"); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// openServerKernel starts a kernel through the server, waits until its
// iopub channel is live, and returns a synchronous connection to its
// WebSocket. The timed round trips then read in the caller's goroutine, as
// the bare kernel's client does. close disconnects and deletes the kernel.
func openServerKernel(ctx context.Context, cfg config, s *runningServer) (conn *wsKernel, close func(), err error) {
	k, err := s.api.startKernel(ctx, cfg.KernelName)
	if err != nil {
		return nil, nil, err
	}
	remove := func() { s.api.deleteKernel(context.WithoutCancel(ctx), k.ID) }
	probe, err := dialKernel(ctx, s.api, k.ID, cfg.Legacy)
	if err != nil {
		remove()
		return nil, nil, err
	}
	err = waitIOPub(ctx, probe)
	probe.close()
	if err != nil {
		remove()
		return nil, nil, err
	}
	if conn, err = dialKernelSync(ctx, s.api, k.ID, cfg.Legacy); err != nil {
		remove()
		return nil, nil, err
	}
	close = func() { conn.close(); remove() }
	// The kernel is live, so the reply and its status idle come. A
	// synchronous connection closes when its read gives up, so this waits
	// once, for longer than an attempt of waitIOPub.
	if _, err := withTimeout(ctx, 20*time.Second, func(ctx context.Context) (time.Duration, error) {
		_, err := request(ctx, conn, "kernel_info_request", map[string]any{}, true)
		return 0, err
	}); err != nil {
		close()
		return nil, nil, fmt.Errorf("first request on the kernel websocket: %w", err)
	}
	return conn, close, nil
}

// openBareKernel starts a bare kernel in a fresh sandbox and connects to
// it over ZeroMQ once the iopub channel is live. It returns the kernel's
// pid too. close disconnects and stops the kernel.
func openBareKernel(ctx context.Context, cfg config, spec kernelspec) (conn *zmqKernel, pid int, close func(), err error) {
	sb, err := newSandbox(cfg.WorkDir, "bare")
	if err != nil {
		return nil, 0, nil, err
	}
	bk, err := startBareKernel(spec, sb, cfg.PIDFile)
	if err != nil {
		return nil, 0, nil, err
	}
	if conn, err = dialZMQ(bk.info); err != nil {
		bk.proc.Stop()
		return nil, 0, nil, err
	}
	close = func() { conn.close(); bk.proc.Stop() }
	if err := waitIOPub(ctx, conn); err != nil {
		close()
		return nil, 0, nil, fmt.Errorf("bare kernel: %w:\n%s", err, bk.proc.LogTail())
	}
	return conn, bk.proc.PID(), close, nil
}

// notebookSize returns the size of the saved benchmark notebook.
func notebookSize(s *runningServer) int64 {
	fi, err := os.Stat(filepath.Join(s.sb.Root, notebookPath))
	if err != nil {
		return 0
	}
	return fi.Size()
}
