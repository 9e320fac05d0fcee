package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jupygo/jupygo/bench/internal/benchkit"
)

// The benchmark runs in phases, one per metric. Within a phase the servers
// (and the bare kernel) take turns, one measurement each, so a change in
// machine load during the run affects all of them alike. Nothing runs
// concurrently: while one is measured, the others sit idle.

// contender is one server under test and its results.
type contender struct {
	kind serverKind
	res  serverResult
	srv  *runningServer // the instance used by every phase after the starts
}

// usable reports whether later phases can use the contender's server.
func (c *contender) usable() bool { return c.srv != nil }

func (c *contender) fail(step string, err error, log *slog.Logger) {
	log.Error("benchmark step failed", "server", c.res.Name, "step", step, "err", err)
	c.res.Errors = append(c.res.Errors, step+": "+err.Error())
}

func failBare(r *bareResult, step string, err error, log *slog.Logger) {
	log.Error("benchmark step failed", "server", "bare kernel", "step", step, "err", err)
	r.Errors = append(r.Errors, step+": "+err.Error())
}

// runAll runs every phase for the servers named in cfg.Servers and the
// bare kernel, and stops every process it started before it returns.
func runAll(ctx context.Context, cfg config, nb map[string]any, log *slog.Logger) (bareResult, []serverResult) {
	var bare bareResult
	spec, specErr := loadKernelspec(cfg.KernelspecDir)
	if specErr != nil {
		failBare(&bare, "kernelspec", specErr, log)
	}
	kinds := serverKinds(cfg)
	var cs []*contender
	for _, name := range cfg.Servers {
		cs = append(cs, &contender{kind: kinds[name], res: serverResult{Name: name}})
	}

	runStarts(ctx, cfg, cs, log)
	serve(ctx, cfg, cs, log)
	defer func() {
		for _, c := range cs {
			if c.usable() {
				c.srv.stop()
			}
		}
	}()
	if specErr == nil {
		runKernelStarts(ctx, cfg, spec, &bare, cs, log)
		runExecutes(ctx, cfg, spec, &bare, cs, log)
	}
	runContents(ctx, cfg, nb, cs, log)

	var out []serverResult
	for _, c := range cs {
		out = append(out, c.res)
	}
	return bare, out
}

// runStarts starts each server cfg.Starts times in turn and records the
// time to the first 200 and the idle memory. A server that fails to start
// is left out of the rest of the phase.
func runStarts(ctx context.Context, cfg config, cs []*contender, log *slog.Logger) {
	times := make([][]time.Duration, len(cs))
	failed := make([]bool, len(cs))
	for run := range cfg.Starts {
		for i, c := range cs {
			if failed[i] || ctx.Err() != nil {
				continue
			}
			d, mem, err := startOnce(ctx, cfg, c.kind)
			if err != nil {
				c.fail("start", err, log)
				failed[i] = true
				continue
			}
			log.Info("server started", "server", c.res.Name, "run", run+1, "duration", d,
				"rss_kib", mem.Server, "children", mem.Children)
			times[i] = append(times[i], d)
			c.res.Memory = append(c.res.Memory, mem)
		}
	}
	for i, c := range cs {
		c.res.Start = benchkit.Summarize(times[i])
		c.res.MemoryMedian = medianMemory(c.res.Memory)
	}
}

// serve starts the instance of each server that the later phases use.
func serve(ctx context.Context, cfg config, cs []*contender, log *slog.Logger) {
	for _, c := range cs {
		if ctx.Err() != nil {
			return
		}
		s, err := startServer(ctx, cfg, c.kind)
		if err != nil {
			c.fail("start", err, log)
			continue
		}
		c.srv = s
		c.res.Argv = s.argv
		if c.res.Version, err = s.api.version(ctx); err != nil {
			c.fail("version", err, log)
		}
	}
}

// runKernelStarts starts a kernel cfg.KernelStarts times by hand and
// through each server in turn.
func runKernelStarts(ctx context.Context, cfg config, spec kernelspec, bare *bareResult,
	cs []*contender, log *slog.Logger) {
	var bareTimes []time.Duration
	bareFailed := false
	times := make([][]time.Duration, len(cs))
	failed := make([]bool, len(cs))
	for range cfg.KernelStarts {
		if ctx.Err() != nil {
			break
		}
		if !bareFailed {
			d, err := withTimeout(ctx, 90*time.Second, func(ctx context.Context) (time.Duration, error) {
				return bareKernelStartOnce(ctx, cfg, spec)
			})
			if err != nil {
				failBare(bare, "kernel start", err, log)
				bareFailed = true
			} else {
				log.Info("kernel started", "via", "zeromq", "duration", d)
				bareTimes = append(bareTimes, d)
			}
		}
		for i, c := range cs {
			if failed[i] || !c.usable() {
				continue
			}
			d, err := withTimeout(ctx, 90*time.Second, func(ctx context.Context) (time.Duration, error) {
				return kernelStartOnce(ctx, cfg, c.srv)
			})
			if err != nil {
				c.fail("kernel start", err, log)
				failed[i] = true
				continue
			}
			log.Info("kernel started", "via", c.res.Name, "duration", d)
			times[i] = append(times[i], d)
		}
	}

	bare.KernelStart = benchkit.Summarize(bareTimes)
	for i, c := range cs {
		c.res.KernelStart = benchkit.Summarize(times[i])
		if !failed[i] && c.res.KernelStart.N > 0 && bare.KernelStart.N > 0 {
			overhead := c.res.KernelStart.Median - bare.KernelStart.Median
			c.res.KernelOverheadMs = &overhead
		}
	}
}

func withTimeout(ctx context.Context, d time.Duration, f func(context.Context) (time.Duration, error)) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

// executor is one kernel connection in the execute phase. pid is the
// process whose CPU time is measured: the server, or the bare kernel.
type executor struct {
	conn     kernelConn
	pid      int
	times    []time.Duration
	cpuStart time.Duration
	cpu      *float64 // ms per timed request
	idleCPU  *float64 // ms per second while connected and idle
	err      error
}

// measureIdleCPU records the CPU time each executor's process uses per
// second over cfg.IdleWindow, while its kernel is connected and no
// request is sent.
func measureIdleCPU(ctx context.Context, cfg config, execs []*executor) {
	if cfg.IdleWindow <= 0 {
		return
	}
	start := make([]time.Duration, len(execs))
	for i, e := range execs {
		start[i], e.err = benchkit.CPUTime(e.pid)
	}
	began := time.Now()
	select {
	case <-ctx.Done():
		return
	case <-time.After(cfg.IdleWindow):
	}
	seconds := time.Since(began).Seconds()
	for i, e := range execs {
		if e.err != nil {
			continue
		}
		end, err := benchkit.CPUTime(e.pid)
		if err != nil {
			e.err = err
			continue
		}
		perSecond := float64(end-start[i]) / float64(time.Millisecond) / seconds
		e.idleCPU = &perSecond
	}
}

// cpuPerRequest returns the CPU time of pid since start divided by n, in
// milliseconds, or nil when it cannot be read.
func cpuPerRequest(pid int, start time.Duration, n int) *float64 {
	end, err := benchkit.CPUTime(pid)
	if err != nil || n == 0 {
		return nil
	}
	ms := float64(end-start) / float64(time.Millisecond) / float64(n)
	return &ms
}

// runExecutes opens a bare kernel and a kernel through each server,
// measures their idle CPU use, then sends `1+1` cfg.Warmup times untimed
// and cfg.Executes times timed on each. Every round sends one request on each connection, starting at a
// different connection each round, so that no client always goes first.
func runExecutes(ctx context.Context, cfg config, spec kernelspec, bare *bareResult,
	cs []*contender, log *slog.Logger) {
	var execs []*executor
	bareExec := &executor{}
	if conn, pid, closeConn, err := openBareKernel(ctx, cfg, spec); err != nil {
		bareExec.err = err
	} else {
		defer closeConn()
		bareExec.conn, bareExec.pid = conn, pid
		execs = append(execs, bareExec)
	}
	serverExecs := make([]*executor, len(cs))
	for i, c := range cs {
		serverExecs[i] = &executor{}
		if !c.usable() {
			continue
		}
		conn, closeConn, err := openServerKernel(ctx, cfg, c.srv)
		if err != nil {
			serverExecs[i].err = err
			continue
		}
		defer closeConn()
		c.res.Subprotocol = protocolName(conn.protocol)
		serverExecs[i].conn, serverExecs[i].pid = conn, c.srv.proc.PID()
		execs = append(execs, serverExecs[i])
	}

	measureIdleCPU(ctx, cfg, execs)
	// Each round takes the clients in a new order. In a fixed cycle, one
	// server always ran right after jupyter-server. It measured up to 0.5 ms
	// slower than the same build elsewhere in the cycle, for a cause not
	// found.
	order := rand.New(rand.NewPCG(1, 2))
	for round := range cfg.Warmup + cfg.Executes {
		if ctx.Err() != nil {
			break
		}
		for _, j := range order.Perm(len(execs)) {
			e := execs[j]
			if e.err != nil {
				continue
			}
			if round == cfg.Warmup {
				if e.cpuStart, e.err = benchkit.CPUTime(e.pid); e.err != nil {
					continue
				}
			}
			d, err := executeOnce(ctx, e.conn)
			if err != nil {
				e.err = fmt.Errorf("execute %d: %w", round+1, err)
				continue
			}
			if round >= cfg.Warmup {
				e.times = append(e.times, d)
			}
		}
	}

	for _, e := range execs {
		if e.err == nil {
			e.cpu = cpuPerRequest(e.pid, e.cpuStart, len(e.times))
		}
	}
	bare.Execute = benchkit.Summarize(bareExec.times)
	bare.ExecuteCPUMs = bareExec.cpu
	bare.IdleCPUMsPerS = bareExec.idleCPU
	if bareExec.err != nil {
		failBare(bare, "execute", bareExec.err, log)
	}
	log.Info("executes measured", "server", "bare kernel", "p50_ms", bare.Execute.Median)
	for i, c := range cs {
		c.res.Execute = benchkit.Summarize(serverExecs[i].times)
		c.res.ExecuteCPUMs = serverExecs[i].cpu
		c.res.IdleCPUMsPerS = serverExecs[i].idleCPU
		if serverExecs[i].err != nil {
			c.fail("execute", serverExecs[i].err, log)
		}
		log.Info("executes measured", "server", c.res.Name, "protocol", c.res.Subprotocol,
			"p50_ms", c.res.Execute.Median)
	}
}

// runContents saves the notebook with PUT and reads it back with GET on
// each server in turn: one untimed round that creates the file, then
// cfg.ContentsRuns timed rounds. The last GET response of each server is
// checked to hold every cell.
func runContents(ctx context.Context, cfg config, nb map[string]any, cs []*contender, log *slog.Logger) {
	body, err := contentsBody(nb)
	if err != nil {
		for _, c := range cs {
			c.fail("contents", err, log)
		}
		return
	}
	rounds := make([]contentsRounds, len(cs))
	for run := -1; run < cfg.ContentsRuns; run++ {
		for i, c := range cs {
			if rounds[i].failed || !c.usable() || ctx.Err() != nil {
				continue
			}
			if err := rounds[i].run(ctx, c.srv, body, run >= 0); err != nil {
				c.fail("contents", err, log)
				rounds[i].failed = true
			}
		}
	}

	wantCells := len(nb["cells"].([]any))
	for i, c := range cs {
		if !c.usable() {
			continue
		}
		r := &rounds[i]
		c.res.ContentsPut = benchkit.Summarize(r.puts)
		c.res.ContentsGet = benchkit.Summarize(r.gets)
		if !r.failed && len(r.puts) > 0 {
			c.res.ContentsPutCPUMs = msPer(r.putCPU, len(r.puts))
			c.res.ContentsGetCPUMs = msPer(r.getCPU, len(r.gets))
		}
		c.res.NotebookBytes = notebookSize(c.srv)
		if !r.failed && len(r.gets) > 0 {
			if err := checkNotebookModel(r.buf.Bytes(), wantCells); err != nil {
				c.fail("contents", fmt.Errorf("GET /api/contents/%s: %w", notebookPath, err), log)
			}
		}
		log.Info("contents measured", "server", c.res.Name, "put_ms", c.res.ContentsPut.Median,
			"get_ms", c.res.ContentsGet.Median)
	}
}

// contentsRounds holds the contents timings of one server and the server's
// CPU time spent in them.
type contentsRounds struct {
	puts, gets     []time.Duration
	putCPU, getCPU time.Duration
	buf            bytes.Buffer // the last GET response
	failed         bool
}

// run does one PUT and one GET of the notebook, and records them when
// timed is set.
func (r *contentsRounds) run(ctx context.Context, s *runningServer, body []byte, timed bool) error {
	pid := s.proc.PID()
	cpu0, err := benchkit.CPUTime(pid)
	if err != nil {
		return err
	}
	put, err := putNotebook(ctx, s.api, body, &r.buf)
	if err != nil {
		return err
	}
	cpu1, err := benchkit.CPUTime(pid)
	if err != nil {
		return err
	}
	get, err := getNotebook(ctx, s.api, &r.buf)
	if err != nil {
		return err
	}
	cpu2, err := benchkit.CPUTime(pid)
	if err != nil {
		return err
	}
	if timed {
		r.puts = append(r.puts, put)
		r.gets = append(r.gets, get)
		r.putCPU += cpu1 - cpu0
		r.getCPU += cpu2 - cpu1
	}
	return nil
}

// msPer returns total divided by n, in milliseconds.
func msPer(total time.Duration, n int) *float64 {
	ms := float64(total) / float64(time.Millisecond) / float64(n)
	return &ms
}
