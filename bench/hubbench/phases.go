package main

import (
	"context"
	"fmt"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// config holds the settings of a run.
type config struct {
	Python     string
	Jupygo     string
	Self       string // this program, the trivial user server of the proxy phase
	CHP        string
	Singleuser string
	Wrk        string
	Hubs       []string
	Users      []int // idle user counts at which memory is read, ascending
	Settle     time.Duration
	WrkTime    time.Duration
	Routes     int
	WorkDir    string
	PIDFile    string
}

// hubResult is everything measured for one hub.
type hubResult struct {
	Name      string           `json:"name"`
	ColdStart benchkit.Summary `json:"cold_start"`
	Spawn     benchkit.Summary `json:"spawn"`
	Memory    []memorySample   `json:"memory"`
	Proxy     *proxyResult     `json:"proxy,omitempty"`
	Errors    []string         `json:"errors,omitempty"`
}

// memorySample is the resident memory with a number of idle user servers.
type memorySample struct {
	Users    int `json:"users"`
	HubKiB   int `json:"hub_kib"`
	ProxyKiB int `json:"proxy_kib"` // 0 when the proxy is inside the hub
	TotalKiB int `json:"total_kib"` // hub and all its descendants
	// TotalPSSKiB is the PSS of the same processes: shared pages, such as
	// those of the one executable every jupygo server maps, count once.
	TotalPSSKiB int `json:"total_pss_kib"`
	Processes   int `json:"processes"`
}

// runHub measures one hub: cold start, spawn latency and memory on one
// instance, then the proxy on a second one whose user servers are trivial.
func runHub(ctx context.Context, cfg config, name string, log *slog.Logger) hubResult {
	res := hubResult{Name: name}
	fail := func(err error) { res.Errors = append(res.Errors, err.Error()) }

	log.Info("cold start and spawns", "hub", name)
	h, took, err := startHub(ctx, hubOptions{cfg: cfg, name: name, dir: filepath.Join(cfg.WorkDir, name)})
	if err != nil {
		fail(err)
		return res
	}
	res.ColdStart = benchkit.Summarize([]time.Duration{took})
	spawns, mem, err := spawnAndMeasure(ctx, cfg, h, log)
	res.Spawn = benchkit.Summarize(spawns)
	res.Memory = mem
	if err != nil {
		fail(err)
	}
	h.stop()
	if ctx.Err() != nil {
		return res
	}

	log.Info("proxy", "hub", name)
	pr, err := measureProxy(ctx, cfg, name)
	res.Proxy = pr
	if err != nil {
		fail(err)
	}
	return res
}

// spawnAndMeasure reads the memory with no users, then starts user servers
// one at a time, timing each from the API request until the server responds
// through the proxy, and reads the memory at each count in cfg.Users.
func spawnAndMeasure(ctx context.Context, cfg config, h *hub, log *slog.Logger) ([]time.Duration, []memorySample, error) {
	var spawns []time.Duration
	var mem []memorySample
	maxUsers := cfg.Users[len(cfg.Users)-1]
	names := make([]string, maxUsers)
	for i := range names {
		names[i] = fmt.Sprintf("bench%03d", i)
	}
	if maxUsers > 0 {
		if err := h.api(http.MethodPost, "/users", map[string]any{"usernames": names}, http.StatusCreated); err != nil {
			return nil, nil, fmt.Errorf("creating users: %w", err)
		}
	}
	running := 0
	for _, level := range cfg.Users {
		for ; running < level; running++ {
			d, err := spawn(ctx, h, names[running])
			if err != nil {
				return spawns, mem, err
			}
			spawns = append(spawns, d)
		}
		if err := sleep(ctx, cfg.Settle); err != nil {
			return spawns, mem, err
		}
		m, err := measureMemory(h)
		if err != nil {
			return spawns, mem, err
		}
		m.Users = level
		mem = append(mem, m)
		log.Info("memory", "hub", h.name, "users", level, "total_mib", m.TotalKiB/1024)
	}
	return spawns, mem, nil
}

// spawn starts the default server of user and returns the time until
// GET /user/NAME/api/status returns 200 through the proxy.
func spawn(ctx context.Context, h *hub, user string) (time.Duration, error) {
	start := time.Now()
	if err := h.api(http.MethodPost, "/users/"+user+"/server", nil, http.StatusCreated, http.StatusAccepted); err != nil {
		return 0, fmt.Errorf("starting server of %s: %w", user, err)
	}
	url := h.url + "/user/" + user + "/api/status"
	if err := waitFor(ctx, h.proc, 60*time.Second, func() bool {
		return h.status(http.MethodGet, url, true) == http.StatusOK
	}); err != nil {
		return 0, fmt.Errorf("server of %s through the proxy: %w\n%s", user, err, h.proc.LogTail())
	}
	return time.Since(start), nil
}

// measureMemory sums the RSS of the hub, its proxy (the descendant running
// configurable-http-proxy or `jupygo proxy`) and all its descendants, and
// their PSS.
func measureMemory(h *hub) (memorySample, error) {
	var m memorySample
	own, err := benchkit.ReadResident(h.proc.PID())
	if err != nil {
		return m, err
	}
	m.HubKiB, m.TotalKiB, m.Processes = own.RSS, own.RSS, 1
	m.TotalPSSKiB, _ = benchkit.ReadPSS(h.proc.PID())
	for _, pid := range benchkit.Descendants(h.proc.PID()) {
		r, err := benchkit.ReadResident(pid)
		if err != nil {
			continue // exited since the listing
		}
		pss, _ := benchkit.ReadPSS(pid)
		m.TotalKiB += r.RSS
		m.TotalPSSKiB += pss
		m.Processes++
		if isProxy(cmdline(pid)) && m.ProxyKiB == 0 {
			m.ProxyKiB = r.RSS
		}
	}
	return m, nil
}

// isProxy reports whether the command line cmd runs configurable-http-proxy
// or `jupygo proxy`.
func isProxy(cmd string) bool {
	if strings.Contains(cmd, "configurable-http-proxy") {
		return true
	}
	fields := strings.Fields(cmd)
	return len(fields) > 1 && filepath.Base(fields[0]) == "jupygo" && fields[1] == "proxy"
}

func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(data), "\x00", " ")
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(d):
		return nil
	}
}
