package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// phases are the measured tasks, in the order they run.
var phases = []string{"replay", "decode", "updates"}

// bench runs the worker processes of one benchmark run.
type bench struct {
	cfg  config
	dir  string // work folder with edits.json, state.bin and updates.bin
	self string // this executable, the Go worker
	log  *slog.Logger
}

// measurement is one worker process: what it measured, or why it failed.
type measurement struct {
	Phase   string        `json:"phase"`
	Impl    string        `json:"impl"`
	Round   int           `json:"round"`
	LoadAvg [3]float64    `json:"loadAvg"` // 1, 5 and 15 minutes, before the start
	Result  *workerResult `json:"result,omitempty"`
	Error   string        `json:"error,omitempty"`
}

// prepared describes the input that yjs generated for decode and updates.
type prepared struct {
	Updates     int    `json:"updates"`
	StateLength int    `json:"stateLength"`
	StateSHA256 string `json:"stateSHA256"`
}

// traceInfo describes the trace of a run.
type traceInfo struct {
	File    string `json:"file"`
	Patches int    `json:"patches"`
	Edits   int    `json:"edits"`
}

// setup writes edits.json, reads the versions of node and its packages,
// and has yjs write the per-edit updates and the final state.
func (b *bench) setup(ctx context.Context, r *results) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this executable: %w", err)
	}
	b.self = self

	tr, err := loadTrace(b.cfg.TracePath)
	if err != nil {
		return err
	}
	edits, err := toUTF16(tr)
	if err != nil {
		return fmt.Errorf("converting %s to UTF-16 positions: %w", b.cfg.TracePath, err)
	}
	ef := editsFile{ClientID: b.cfg.ClientID, Root: b.cfg.Root, EndContent: tr.endContent, Edits: edits}
	if err := writeJSON(filepath.Join(b.dir, "edits.json"), ef); err != nil {
		return err
	}
	r.Trace = traceInfo{File: filepath.Base(b.cfg.TracePath), Patches: len(tr.patches), Edits: len(edits)}

	if err := b.node(ctx, &r.Machine.Versions, "versions", "yjs"); err != nil {
		return fmt.Errorf("reading node and package versions: %w", err)
	}
	b.log.Info("preparing updates with yjs", "edits", len(edits))
	if err := b.node(ctx, &r.Prepared, "prepare", "yjs"); err != nil {
		return fmt.Errorf("preparing updates with yjs: %w", err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

// runPhases runs every phase. Within a phase, each round measures every
// implementation once, starting with a different one each round, so that
// changes of the machine's load reach all of them. It stops early when
// ctx ends.
func (b *bench) runPhases(ctx context.Context) []measurement {
	var out []measurement
	for _, phase := range phases {
		for round := range b.cfg.Runs {
			for _, impl := range rotate(b.cfg.Impls, round) {
				if ctx.Err() != nil {
					return out
				}
				if phase == "replay" && impl == "ywasm" && round >= b.cfg.YwasmReplayRuns {
					continue
				}
				out = append(out, b.measure(ctx, phase, impl, round+1))
			}
		}
	}
	return out
}

// rotate returns s started at index n modulo its length.
func rotate(s []string, n int) []string {
	if len(s) == 0 {
		return nil
	}
	n %= len(s)
	return append(append([]string(nil), s[n:]...), s[:n]...)
}

// measure runs one worker process and logs its result.
func (b *bench) measure(ctx context.Context, phase, impl string, round int) measurement {
	m := measurement{Phase: phase, Impl: impl, Round: round, LoadAvg: loadAvg()}
	var res workerResult
	var err error
	if impl == "go" {
		cmd := exec.CommandContext(ctx, b.self, "-worker", phase, "-dir", b.dir,
			"-reps", strconv.Itoa(b.cfg.Reps))
		err = runJSON(cmd, &res)
	} else {
		err = b.node(ctx, &res, phase, impl)
	}
	attrs := []any{"phase", phase, "impl", impl, "round", round, "load", m.LoadAvg[0]}
	if err != nil {
		m.Error = err.Error()
		b.log.Error("measurement failed", append(attrs, "err", err)...)
		return m
	}
	m.Result = &res
	b.log.Info("measured", append(attrs, "wall_ms", res.MS, "cpu_ms", res.CPUMS)...)
	return m
}

// node runs bench.mjs for a task and decodes its output into v.
func (b *bench) node(ctx context.Context, v any, task, impl string) error {
	cmd := exec.CommandContext(ctx, b.cfg.Node, "--expose-gc", b.cfg.Script,
		task, impl, b.dir, strconv.Itoa(b.cfg.Reps))
	return runJSON(cmd, v)
}

// runJSON runs a worker and decodes the last line it prints into v. A
// failing worker's error includes the end of its standard error.
func runJSON(cmd *exec.Cmd, v any) error {
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running %s: %w: %s", cmd.Args[0], err, tail(stderr.String(), 2000))
	}
	out := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("decoding the output of %s: %w", cmd.Args[0], err)
	}
	return nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

// loadAvg returns the 1, 5 and 15 minute load averages, or zeros when
// /proc/loadavg cannot be read.
func loadAvg() [3]float64 {
	var out [3]float64
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out
	}
	for i, f := range strings.Fields(string(data)) {
		if i == len(out) {
			break
		}
		out[i], _ = strconv.ParseFloat(f, 64)
	}
	return out
}
