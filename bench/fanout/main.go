// Command fanout measures the CPU time that `jupygo server` spends relaying
// typed characters to the clients of one collaboration room, and the
// fan-out latency. Its clients cost little, so they leave the CPU to the
// server: N listening clients and one typist in this process, built on the
// yjs package. bench/collab.sh measures the same with the node clients of
// JupyterLab, whose CPU use on a small machine makes its latencies mostly
// the clients'.
//
// Usage:
//
//	go run ./bench/fanout -jupygo bin/jupygo,/tmp/jupygo-old -runs 3
//
// Each run starts the binaries in turn, so that pairs of runs meet the same
// machine load. The server's CPU time is its threads' on-CPU time from
// /proc/PID/task/*/schedstat, in nanoseconds, over the typing and one
// second after it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jupygo/jupygo/bench/internal/benchkit"
)

type config struct {
	binaries []string
	clients  int
	duration time.Duration
	interval time.Duration
	runs     int
	workDir  string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("fanout: ")
	var cfg config
	var binaries string
	flag.StringVar(&binaries, "jupygo", "bin/jupygo", "comma-separated jupygo binaries to measure, in turn")
	flag.IntVar(&cfg.clients, "clients", 50, "listening clients (1 to 500)")
	flag.DurationVar(&cfg.duration, "duration", 20*time.Second, "typing time per run")
	flag.DurationVar(&cfg.interval, "interval", 50*time.Millisecond, "time between typed characters")
	flag.IntVar(&cfg.runs, "runs", 1, "runs of each binary (1 to 20)")
	flag.Parse()
	cfg.binaries = strings.Split(binaries, ",")
	if cfg.clients < 1 || cfg.clients > 500 {
		log.Fatalf("invalid -clients %d: expected 1 to 500", cfg.clients)
	}
	if cfg.runs < 1 || cfg.runs > 20 {
		log.Fatalf("invalid -runs %d: expected 1 to 20", cfg.runs)
	}
	if cfg.duration <= 0 || cfg.interval <= 0 {
		log.Fatal("-duration and -interval must be positive")
	}
	dir, err := os.MkdirTemp("", "jupygo-fanout-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg.workDir = dir

	cpu := map[string][]float64{}
	for run := 1; run <= cfg.runs; run++ {
		for i, bin := range cfg.binaries {
			load := loadAverage()
			res, err := measure(context.Background(), cfg, bin, filepath.Join(dir, fmt.Sprintf("%d-%d", run, i)))
			if err != nil {
				log.Fatalf("%s: %v", bin, err)
			}
			cpu[bin] = append(cpu[bin], res.cpu.Seconds())
			fmt.Printf("run %d  %s  load %.2f  server CPU %.3f s  edits %d  "+
				"fan-out p50 %.2f  p99 %.2f  max %.2f ms  missing %d\n",
				run, bin, load, res.cpu.Seconds(), res.edits,
				res.latency.Median, res.latency.P99, res.latency.Max, res.missing)
		}
	}
	for _, bin := range cfg.binaries {
		values := slices.Sorted(slices.Values(cpu[bin]))
		fmt.Printf("median server CPU of %s: %.3f s over %d runs\n", bin, benchkit.Median(values), len(values))
	}
}
