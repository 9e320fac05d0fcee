// Command hubbench measures jupygo hub against JupyterHub with
// configurable-http-proxy side by side: cold start, spawn latency through
// the proxy, memory with idle users, and proxy throughput and latency with
// wrk. It drives both hubs through the JupyterHub REST API with the token
// of a service from their configuration.
//
// bench/hub.sh builds and runs it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	// JupyterHub stops its proxy and user servers in this window.
	benchkit.StopGrace = 15 * time.Second
	if len(os.Args) == 3 && os.Args[1] == "-upstream" {
		if err := runUpstream(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "hubbench upstream:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hubbench:", err)
		os.Exit(1)
	}
}

// results is everything one run measured; it is written as JSON.
type results struct {
	Time     time.Time `json:"time"`
	Command  []string  `json:"command"`
	Settings any       `json:"settings"`
	// CHPVersion is the output of `configurable-http-proxy --version`.
	CHPVersion string      `json:"chp_version,omitempty"`
	Hubs       []hubResult `json:"hubs"`
}

func run(args []string) error {
	if len(args) == 2 && args[0] == "-report" {
		data, err := os.ReadFile(args[1])
		if err != nil {
			return fmt.Errorf("reading results: %w", err)
		}
		var r results
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("reading results %s: %w", args[1], err)
		}
		writeReport(os.Stdout, r)
		return nil
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
		dir, err := os.MkdirTemp("", "hubbench-")
		if err != nil {
			return fmt.Errorf("creating work folder: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.WorkDir = dir
	}

	r := results{
		Time:    time.Now().UTC(),
		Command: append([]string{"hubbench"}, args...),
		Settings: map[string]any{
			"users": cfg.Users, "settle": cfg.Settle.String(), "wrk_duration": cfg.WrkTime.String(),
			"wrk_threads": 2, "wrk_connections": 50, "routes": cfg.Routes,
			"chp": cfg.CHP, "singleuser": cfg.Singleuser, "jupygo": cfg.Jupygo,
		},
	}
	if slices.Contains(cfg.Hubs, jupyterhubName) {
		out, err := exec.CommandContext(ctx, cfg.CHP, "--version").Output()
		if err != nil {
			return fmt.Errorf("running %s --version: %w", cfg.CHP, err)
		}
		r.CHPVersion = strings.TrimSpace(string(out))
		log.Info("configurable-http-proxy version", "command", cfg.CHP, "version", r.CHPVersion)
	}
	for _, name := range cfg.Hubs {
		if ctx.Err() != nil {
			break
		}
		r.Hubs = append(r.Hubs, runHub(ctx, cfg, name, log))
	}
	writeReport(os.Stdout, r)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("creating results folder: %w", err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(outDir, "hub-"+r.Time.Format("20060102-150405")+".json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	fmt.Printf("\nresults written to %s\n", path)
	if ctx.Err() != nil {
		return fmt.Errorf("benchmark interrupted: %w", context.Cause(ctx))
	}
	return nil
}

func parseFlags(args []string) (config, string, time.Duration, error) {
	var cfg config
	fs := flag.NewFlagSet("hubbench", flag.ContinueOnError)
	fs.StringVar(&cfg.Python, "python", "/usr/bin/python3", "Python interpreter that has jupyterhub")
	fs.StringVar(&cfg.Jupygo, "jupygo", "bin/jupygo", "jupygo binary")
	fs.StringVar(&cfg.CHP, "chp", "configurable-http-proxy", "configurable-http-proxy command")
	fs.StringVar(&cfg.Singleuser, "singleuser", "/usr/bin/jupyterhub-singleuser", "single-user server of JupyterHub")
	fs.StringVar(&cfg.Wrk, "wrk", "wrk", "wrk command")
	hubs := fs.String("hubs", "jupyterhub,jupygo,jupyterhub-jupygo-proxy",
		"comma-separated hubs to measure: "+strings.Join(hubNames, ", "))
	users := fs.String("users", "0,10,30", "comma-separated idle user counts at which memory is read; every user's start is timed")
	fs.DurationVar(&cfg.Settle, "settle", 3*time.Second, "wait before each memory reading")
	fs.DurationVar(&cfg.WrkTime, "wrk-duration", 10*time.Second, "length of each wrk run (whole seconds)")
	fs.IntVar(&cfg.Routes, "routes", 1000, "routes in the proxy table for the last wrk run")
	fs.StringVar(&cfg.WorkDir, "workdir", "", "folder of the hubs' files (default: a temporary folder, removed at exit)")
	fs.StringVar(&cfg.PIDFile, "pidfile", "", "file that the pid of every started hub is appended to")
	outDir := fs.String("out", "bench/results", "folder for the JSON results")
	timeout := fs.Duration("timeout", 30*time.Minute, "time limit of the whole run")
	if err := fs.Parse(args); err != nil {
		return cfg, "", 0, err
	}
	for name := range strings.SplitSeq(*hubs, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(hubNames, name) {
			return cfg, "", 0, fmt.Errorf("-hubs: unknown hub %q, want one of %s",
				name, strings.Join(hubNames, ", "))
		}
		cfg.Hubs = append(cfg.Hubs, name)
	}
	for s := range strings.SplitSeq(*users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > 1000 {
			return cfg, "", 0, fmt.Errorf("-users: %q is not a count from 0 to 1000", s)
		}
		cfg.Users = append(cfg.Users, n)
	}
	if !slices.IsSorted(cfg.Users) {
		return cfg, "", 0, fmt.Errorf("-users: %s is not in ascending order", *users)
	}
	if cfg.Routes < 1 || cfg.Routes > 100000 {
		return cfg, "", 0, fmt.Errorf("-routes: %d is out of range, want 1 to 100000", cfg.Routes)
	}
	if cfg.WrkTime < time.Second {
		return cfg, "", 0, fmt.Errorf("-wrk-duration: %v is under a second", cfg.WrkTime)
	}
	self, err := os.Executable()
	if err != nil {
		return cfg, "", 0, fmt.Errorf("finding this program: %w", err)
	}
	cfg.Self = self
	// Hubs run in their own folders, so relative program paths are made
	// absolute here.
	for _, prog := range []*string{&cfg.Python, &cfg.Jupygo, &cfg.CHP, &cfg.Singleuser} {
		if strings.Contains(*prog, "/") {
			abs, err := filepath.Abs(*prog)
			if err != nil {
				return cfg, "", 0, fmt.Errorf("resolving %s: %w", *prog, err)
			}
			*prog = abs
		}
	}
	return cfg, *outDir, *timeout, nil
}
