// Command serverbench measures Jupyter servers side by side: start time,
// idle memory, kernel start overhead, execute round trips and notebook
// reads and writes. It uses only the public Jupyter Server REST API and
// kernel WebSocket protocols, so it measures any Jupyter server the same
// way. A kernel without a server, over direct ZeroMQ, is the baseline.
//
// bench/server.sh builds and runs it; see docs/benchmarks.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "serverbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 2 && args[0] == "-report" {
		return printSaved(args[1])
	}
	cfg, outDir, timeout, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "serverbench-")
		if err != nil {
			return fmt.Errorf("creating work folder: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.WorkDir = dir
	}

	r := results{
		Time:     time.Now().UTC(),
		Command:  append([]string{"serverbench"}, args...),
		Machine:  readMachine(),
		Settings: settings(cfg),
	}
	nb := makeNotebook(cfg.NotebookSize, cfg.OutputLines)
	r.Bare, r.Servers = runAll(ctx, cfg, nb, log)

	r.Machine.LoadAvgEnd = loadAvg()
	writeReport(os.Stdout, r)
	path, err := writeResults(outDir, r)
	if err != nil {
		return err
	}
	fmt.Printf("\nresults written to %s\n", path)
	if ctx.Err() != nil {
		return fmt.Errorf("benchmark interrupted: %w", context.Cause(ctx))
	}
	return nil
}

// printSaved prints the report of a results file written by an earlier run.
func printSaved(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading results: %w", err)
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("reading results %s: %w", path, err)
	}
	writeReport(os.Stdout, r)
	return nil
}

func parseFlags(args []string) (config, string, time.Duration, error) {
	var cfg config
	fs := flag.NewFlagSet("serverbench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: serverbench [flags]\n       serverbench -report RESULTS.json\n\nflags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Python, "python", "/usr/bin/python3", "Python interpreter that has jupyter_server and ipykernel")
	fs.StringVar(&cfg.Jupygo, "jupygo", "bin/jupygo", "jupygo binary")
	fs.StringVar(&cfg.JupygoNoHub, "jupygo-nohub", "", "jupygo binary built with the nohub tag, measured as jupygo-nohub")
	servers := fs.String("servers", "jupyter-server,jupygo", "comma-separated servers to measure: jupyter-server, jupygo, jupygo-nohub")
	fs.StringVar(&cfg.KernelspecDir, "kernelspec", "/usr/share/jupyter/kernels/python3", "kernelspec folder of the bare kernel")
	fs.StringVar(&cfg.KernelName, "kernel", "python3", "kernelspec name sent to POST /api/kernels")
	fs.IntVar(&cfg.Starts, "starts", 5, "server starts for the start time and idle RSS")
	fs.IntVar(&cfg.KernelStarts, "kernel-starts", 10, "kernel starts per server and for the bare kernel")
	fs.IntVar(&cfg.Executes, "executes", 200, "timed 1+1 execute round trips")
	fs.IntVar(&cfg.Warmup, "warmup", 10, "untimed execute round trips before the timed ones")
	fs.IntVar(&cfg.ContentsRuns, "contents-runs", 5, "timed PUT and GET runs of the notebook")
	fs.IntVar(&cfg.OutputLines, "output-lines", 6, "lines of the stream output of each code cell in the notebook")
	notebookMB := fs.Float64("notebook-mb", 5, "size of the generated notebook on disk, in MB (10^6 bytes)")
	fs.DurationVar(&cfg.Settle, "settle", 2*time.Second, "wait after the first 200 before reading the idle RSS")
	fs.DurationVar(&cfg.IdleWindow, "idle", 5*time.Second, "idle time with a kernel connected over which idle CPU use is measured (0 skips it)")
	fs.BoolVar(&cfg.Legacy, "legacy", false, "offer no subprotocol on the kernel WebSocket, forcing the legacy framing")
	fs.StringVar(&cfg.WorkDir, "workdir", "", "parent folder of the sandboxes (default: a temporary folder, removed at exit)")
	fs.StringVar(&cfg.PIDFile, "pidfile", "", "file that the pid of every started process is appended to")
	outDir := fs.String("out", "bench/results", "folder for the JSON results")
	timeout := fs.Duration("timeout", 30*time.Minute, "time limit of the whole run")
	if err := fs.Parse(args); err != nil {
		return cfg, "", 0, err
	}

	// Servers run in their sandbox root folder, so a relative program path
	// must be made absolute here.
	for _, prog := range []*string{&cfg.Python, &cfg.Jupygo, &cfg.JupygoNoHub} {
		if strings.Contains(*prog, "/") {
			abs, err := filepath.Abs(*prog)
			if err != nil {
				return cfg, "", 0, fmt.Errorf("resolving %s: %w", *prog, err)
			}
			*prog = abs
		}
	}
	cfg.NotebookSize = int(*notebookMB * 1e6)
	for name := range strings.SplitSeq(*servers, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case pythonName, jupygoName:
		case noHubName:
			if cfg.JupygoNoHub == "" {
				return cfg, "", 0, errors.New("-servers: jupygo-nohub needs -jupygo-nohub")
			}
		default:
			return cfg, "", 0, fmt.Errorf("-servers: unknown server %q, want jupyter-server, jupygo or jupygo-nohub", name)
		}
		cfg.Servers = append(cfg.Servers, name)
	}
	limits := []struct {
		name  string
		value int
	}{
		{"starts", cfg.Starts}, {"kernel-starts", cfg.KernelStarts}, {"executes", cfg.Executes},
		{"contents-runs", cfg.ContentsRuns},
	}
	for _, l := range limits {
		if l.value < 1 || l.value > 100000 {
			return cfg, "", 0, fmt.Errorf("-%s: %d is out of range, want 1 to 100000", l.name, l.value)
		}
	}
	if cfg.OutputLines < 0 || cfg.OutputLines > 100000 {
		return cfg, "", 0, fmt.Errorf("-output-lines: %d is out of range, want 0 to 100000", cfg.OutputLines)
	}
	if cfg.Warmup < 0 || cfg.Warmup > 100000 {
		return cfg, "", 0, fmt.Errorf("-warmup: %d is out of range, want 0 to 100000", cfg.Warmup)
	}
	return cfg, *outDir, *timeout, nil
}

// settings returns the part of cfg that is recorded with the results.
func settings(cfg config) runSettings {
	return runSettings{
		Python: cfg.Python, Jupygo: cfg.Jupygo, JupygoNoHub: cfg.JupygoNoHub, Kernelspec: cfg.KernelspecDir,
		Starts: cfg.Starts, KernelStarts: cfg.KernelStarts, Executes: cfg.Executes,
		Warmup: cfg.Warmup, ContentsRuns: cfg.ContentsRuns, NotebookSize: cfg.NotebookSize,
		OutputLines: cfg.OutputLines, Settle: cfg.Settle.String(), Idle: cfg.IdleWindow.String(),
		Legacy: cfg.Legacy,
	}
}
