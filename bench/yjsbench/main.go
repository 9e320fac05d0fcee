// Command yjsbench measures three Yjs implementations side by side on an
// editing trace: the Go package github.com/jupygo/jupygo/yjs, yjs under
// node and ywasm (yrs compiled to WebAssembly) under node. It times
// replaying the trace into one text, encoding the final state, decoding
// that state into a fresh document and applying the trace as one update
// per edit, and measures the memory the replayed document retains.
//
// Every measurement runs in a fresh process: this program itself with
// -worker for Go, and bench.mjs beside it for yjs and ywasm. The
// implementations take turns within each phase.
//
// bench/yjs.sh installs the node packages, builds and runs it; see
// docs/benchmarks.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "yjsbench:", err)
		os.Exit(1)
	}
}

// config is the settings of a benchmark run, saved in its results.
type config struct {
	TracePath       string   `json:"trace"`
	Node            string   `json:"node"`
	Script          string   `json:"script"`
	Impls           []string `json:"impls"`
	Runs            int      `json:"runs"`
	YwasmReplayRuns int      `json:"ywasmReplayRuns"`
	Reps            int      `json:"reps"`
	ClientID        uint64   `json:"clientID"`
	Root            string   `json:"root"`
}

// implNames are the implementations in the order the report shows them.
var implNames = []string{"go", "yjs", "ywasm"}

func run(args []string) error {
	fs := flag.NewFlagSet("yjsbench", flag.ContinueOnError)
	var cfg config
	var impls, outDir, report, worker, workDir string
	var timeout time.Duration
	fs.StringVar(&cfg.TracePath, "trace", "yjs/testdata/traces/automerge-paper.json.gz",
		"sequential editing trace (gzipped JSON of josephg/editing-traces)")
	fs.StringVar(&cfg.Node, "node", "node", "node executable (version 20 or later)")
	fs.StringVar(&cfg.Script, "script", "bench/yjsbench/bench.mjs",
		"node script that measures yjs and ywasm; its folder must contain node_modules")
	fs.StringVar(&impls, "impls", strings.Join(implNames, ","),
		"comma-separated implementations to measure: go, yjs, ywasm")
	fs.IntVar(&cfg.Runs, "runs", 5, "rounds, each one process per implementation and phase")
	fs.IntVar(&cfg.YwasmReplayRuns, "ywasm-replay-runs", 2,
		"rounds in which ywasm replays; each replay of automerge-paper takes about 14 s of CPU time")
	fs.IntVar(&cfg.Reps, "reps", 5,
		"encodes per replay process and decodes per decode process after the first, which is reported apart")
	fs.Uint64Var(&cfg.ClientID, "client-id", 2147495993, "client id of the replaying document")
	fs.StringVar(&cfg.Root, "root", "t", "name of the root text")
	fs.StringVar(&outDir, "out", "bench/results", "folder for the JSON results")
	fs.DurationVar(&timeout, "timeout", time.Hour, "maximum duration of the whole run")
	fs.StringVar(&report, "report", "", "print the report of a saved results `file` and exit")
	fs.StringVar(&worker, "worker", "", "internal: measure Go for one `task` and print JSON")
	fs.StringVar(&workDir, "dir", "", "internal: the work folder of a -worker")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}

	switch {
	case worker != "":
		return runWorker(worker, workDir, cfg.Reps, os.Stdout)
	case report != "":
		return printSaved(report)
	}
	var err error
	if cfg.Impls, err = parseImpls(impls); err != nil {
		return err
	}
	if cfg.Runs < 1 || cfg.YwasmReplayRuns < 1 || cfg.Reps < 1 {
		return errors.New("-runs, -ywasm-replay-runs and -reps must be at least 1")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return benchmark(ctx, cfg, args, outDir, os.Stdout, log)
}

func parseImpls(s string) ([]string, error) {
	var out []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(implNames, name) {
			return nil, fmt.Errorf("-impls: unknown implementation %q: want go, yjs or ywasm", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// benchmark prepares the input, runs every phase, prints the report to w
// and writes the results file.
func benchmark(ctx context.Context, cfg config, args []string, outDir string, w io.Writer,
	log *slog.Logger) error {
	dir, err := os.MkdirTemp("", "yjsbench-")
	if err != nil {
		return fmt.Errorf("creating work folder: %w", err)
	}
	defer os.RemoveAll(dir)

	r := &results{
		Time:     time.Now().UTC(),
		Command:  append([]string{"yjsbench"}, args...),
		Settings: cfg,
		Machine:  readMachine(),
	}
	b := &bench{cfg: cfg, dir: dir, log: log}
	if err := b.setup(ctx, r); err != nil {
		return err
	}
	r.Measurements = b.runPhases(ctx)
	r.Machine.LoadAvgEnd = loadAvg()

	writeReport(w, r)
	path, err := writeResults(outDir, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nresults written to %s\n", path)
	if ctx.Err() != nil {
		return fmt.Errorf("benchmark interrupted: %w", context.Cause(ctx))
	}
	if n := r.failures(); n > 0 {
		return fmt.Errorf("%d measurements failed; their errors are in the report", n)
	}
	return nil
}
