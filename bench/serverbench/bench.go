package main

import (
	"context"
	"fmt"
	"log/slog"
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
		"jupygo": {Name: "jupygo", Argv: func(port int, root string) []string {
			return []string{cfg.Jupygo, "server", "--no-browser", "--port", strconv.Itoa(port),
				"--token", token, "--root-dir", root}
		}},
	}
}

// runningServer is a started server with a client for it.
type runningServer struct {
	proc  *process
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
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	argv := kind.Argv(ports[0], sb.Root)
	logPath := filepath.Join(sb.Dir, "server.log")

	start := time.Now()
	proc, err := startProcess(argv, sb.Root, sb.env(), logPath, cfg.PIDFile)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", kind.Name, err)
	}
	api := newAPIClient(fmt.Sprintf("http://127.0.0.1:%d", ports[0]), token)
	readyCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := api.waitReady(readyCtx, proc); err != nil {
		proc.stop()
		return nil, fmt.Errorf("starting %s: %w", kind.Name, err)
	}
	return &runningServer{proc: proc, api: api, sb: sb, argv: argv, ready: time.Since(start)}, nil
}

// stop stops the server process and its kernels.
func (s *runningServer) stop() {
	s.api.close()
	s.proc.stop()
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
	status, err := procStatus(pid)
	if err != nil {
		return memory{}, err
	}
	m := memory{Server: status.rss, ServerAnon: status.anon, ServerFile: status.file, Tree: status.rss}
	for _, kid := range descendants(pid) {
		if s, err := procStatus(kid); err == nil {
			m.Tree += s.rss
			m.Children++
		}
	}
	return m, nil
}

// startResult holds the start times and idle memory of repeated starts.
type startResult struct {
	Times  []time.Duration
	Memory []memory
}

// measureStarts starts kind cfg.Starts times, each in a fresh sandbox, and
// records the time to the first 200 and the memory after cfg.Settle.
func measureStarts(ctx context.Context, cfg config, kind serverKind, log *slog.Logger) (startResult, error) {
	var res startResult
	for i := range cfg.Starts {
		s, err := startServer(ctx, cfg, kind)
		if err != nil {
			return res, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(cfg.Settle):
		}
		mem, err := readMemory(s.proc.pid())
		s.stop()
		if err != nil {
			return res, err
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		log.Info("server started", "server", kind.Name, "run", i+1, "duration", s.ready,
			"rss_kib", mem.Server, "children", mem.Children)
		res.Times = append(res.Times, s.ready)
		res.Memory = append(res.Memory, mem)
	}
	return res, nil
}

// measureKernelStarts starts a kernel cfg.KernelStarts times through the
// server: POST /api/kernels, open its WebSocket and send
// kernel_info_request, timed until the reply arrives. Each kernel is
// deleted before the next start.
func measureKernelStarts(ctx context.Context, cfg config, s *runningServer, log *slog.Logger) ([]time.Duration, error) {
	var times []time.Duration
	for range cfg.KernelStarts {
		runCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
		d, err := kernelStartOnce(runCtx, cfg, s)
		cancel()
		if err != nil {
			return times, err
		}
		log.Info("kernel started", "via", "server", "duration", d)
		times = append(times, d)
	}
	return times, nil
}

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

// measureBareKernelStarts starts the kernelspec's kernel by hand
// cfg.KernelStarts times, each in a fresh sandbox, timed from writing the
// connection file until a kernel_info_reply arrives over ZeroMQ.
func measureBareKernelStarts(ctx context.Context, cfg config, spec kernelspec, log *slog.Logger) ([]time.Duration, error) {
	var times []time.Duration
	for range cfg.KernelStarts {
		sb, err := newSandbox(cfg.WorkDir, "bare")
		if err != nil {
			return times, err
		}
		runCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
		d, err := bareKernelStartOnce(runCtx, cfg, spec, sb)
		cancel()
		if err != nil {
			return times, err
		}
		log.Info("kernel started", "via", "zeromq", "duration", d)
		times = append(times, d)
	}
	return times, nil
}

func bareKernelStartOnce(ctx context.Context, cfg config, spec kernelspec, sb *sandbox) (time.Duration, error) {
	start := time.Now()
	bk, err := startBareKernel(spec, sb, cfg.PIDFile)
	if err != nil {
		return 0, err
	}
	defer bk.proc.stop()
	conn, err := dialZMQ(bk.info)
	if err != nil {
		return 0, err
	}
	defer conn.close()
	if _, err := kernelInfo(ctx, conn); err != nil {
		return 0, fmt.Errorf("bare kernel: %w:\n%s", err, bk.proc.logTail())
	}
	return time.Since(start), nil
}

// measureExecutes sends cfg.Warmup untimed and then cfg.Executes timed
// `1+1` execute requests one after another on conn. A timing runs from
// sending the request until both execute_reply and status idle arrived.
func measureExecutes(ctx context.Context, cfg config, conn kernelConn) ([]time.Duration, error) {
	if err := waitIOPub(ctx, conn); err != nil {
		return nil, err
	}
	times := make([]time.Duration, 0, cfg.Executes)
	for i := range cfg.Warmup + cfg.Executes {
		reqCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		start := time.Now()
		err := execute(reqCtx, conn, "1+1")
		d := time.Since(start)
		cancel()
		if err != nil {
			return times, fmt.Errorf("execute %d: %w", i+1, err)
		}
		if i >= cfg.Warmup {
			times = append(times, d)
		}
	}
	return times, nil
}

// measureServerExecutes starts a kernel through the server and measures
// round trips over its WebSocket. It returns the selected subprotocol too.
func measureServerExecutes(ctx context.Context, cfg config, s *runningServer) ([]time.Duration, string, error) {
	k, err := s.api.startKernel(ctx, cfg.KernelName)
	if err != nil {
		return nil, "", err
	}
	defer s.api.deleteKernel(context.WithoutCancel(ctx), k.ID)
	conn, err := dialKernel(ctx, s.api, k.ID, cfg.Legacy)
	if err != nil {
		return nil, "", err
	}
	defer conn.close()
	times, err := measureExecutes(ctx, cfg, conn)
	return times, conn.protocol, err
}

// measureBareExecutes starts a bare kernel and measures round trips over
// direct ZeroMQ.
func measureBareExecutes(ctx context.Context, cfg config, spec kernelspec) ([]time.Duration, error) {
	sb, err := newSandbox(cfg.WorkDir, "bare")
	if err != nil {
		return nil, err
	}
	bk, err := startBareKernel(spec, sb, cfg.PIDFile)
	if err != nil {
		return nil, err
	}
	defer bk.proc.stop()
	conn, err := dialZMQ(bk.info)
	if err != nil {
		return nil, err
	}
	defer conn.close()
	return measureExecutes(ctx, cfg, conn)
}

// notebookSize returns the size of the saved benchmark notebook.
func notebookSize(s *runningServer) int64 {
	fi, err := os.Stat(filepath.Join(s.sb.Root, notebookPath))
	if err != nil {
		return 0
	}
	return fi.Size()
}
