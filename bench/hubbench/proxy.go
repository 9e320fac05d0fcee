package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// proxyResult holds the wrk measurements against the trivial upstream
// directly, through the hub's proxy with one route, and with cfg.Routes
// routes, when the upstream is measured directly once more. The second
// direct run shows how much the machine itself slowed once the routes
// were added: for jupygo, each route is a started server.
type proxyResult struct {
	Direct     wrkResult  `json:"direct"`
	Proxied    wrkResult  `json:"proxied"`
	DirectMany *wrkResult `json:"direct_many_routes,omitempty"`
	ManyRoutes *wrkResult `json:"many_routes,omitempty"`
	Routes     int        `json:"routes"`
	RoutesBy   string     `json:"routes_added_by"`
	RoutesMs   float64    `json:"routes_added_ms"` // time to add all but the first route
}

// wrkResult holds the figures of one wrk run.
type wrkResult struct {
	RequestsPerSec float64 `json:"requests_per_sec"`
	P50ms          float64 `json:"p50_ms"`
	P99ms          float64 `json:"p99_ms"`
	Errors         int     `json:"errors"`
}

// measureProxy starts a hub whose user servers are served by this
// program's trivial upstream, starts one, and runs wrk against it directly
// and through the proxy, then again with cfg.Routes routes in the table.
func measureProxy(ctx context.Context, cfg config, name string) (*proxyResult, error) {
	dir := filepath.Join(cfg.WorkDir, name+"-proxy")
	addrDir := filepath.Join(dir, "addr")
	if err := os.MkdirAll(addrDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating address folder: %w", err)
	}
	up, err := benchkit.Start([]string{cfg.Self, "-upstream", addrDir}, dir, os.Environ(),
		filepath.Join(dir, "upstream.log"), cfg.PIDFile)
	if err != nil {
		return nil, fmt.Errorf("starting the upstream: %w", err)
	}
	defer up.Stop()
	h, _, err := startHub(ctx, hubOptions{
		cfg: cfg, name: name, dir: dir, addrDir: addrDir,
		cmd: []string{"/bin/sh", "-c", serverScript},
	})
	if err != nil {
		return nil, err
	}
	defer h.stop()

	const user = "route0"
	if err := h.api(http.MethodPost, "/users", map[string]any{"usernames": []string{user}}, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("creating user: %w", err)
	}
	if _, err := spawn(ctx, h, user); err != nil {
		return nil, err
	}
	serviceURL, err := os.ReadFile(filepath.Join(addrDir, user))
	if err != nil {
		return nil, fmt.Errorf("reading the upstream's address: %w", err)
	}
	u, err := url.Parse(string(serviceURL))
	if err != nil {
		return nil, fmt.Errorf("reading the upstream's address: %w", err)
	}
	target := u.Scheme + "://" + u.Host
	path := "/user/" + user + "/ping"

	res := &proxyResult{Routes: cfg.Routes}
	if res.Direct, err = runWrk(ctx, cfg, target+path); err != nil {
		return res, err
	}
	if res.Proxied, err = runWrk(ctx, cfg, h.url+path); err != nil {
		return res, err
	}

	// The extra routes share the /user/ prefix of the measured one and sort
	// before and after it, as other users' servers would.
	start := time.Now()
	if h.chpAPI != "" {
		// JupyterHub adds a route the same way when a server starts, and
		// starting a thousand of its servers would take many minutes.
		for i := 1; i < cfg.Routes; i++ {
			if err := addCHPRoute(h, fmt.Sprintf("/user/r%04d", i), target); err != nil {
				return res, err
			}
		}
		res.RoutesBy = "configurable-http-proxy REST API"
	} else {
		// The built-in proxy takes routes only from started servers.
		names := make([]string, 0, cfg.Routes)
		for i := 1; i < cfg.Routes; i++ {
			names = append(names, fmt.Sprintf("r%04d", i))
		}
		if len(names) > 0 {
			if err := h.api(http.MethodPost, "/users", map[string]any{"usernames": names}, http.StatusCreated); err != nil {
				return res, fmt.Errorf("creating users: %w", err)
			}
		}
		for _, n := range names {
			if _, err := spawn(ctx, h, n); err != nil {
				return res, err
			}
		}
		res.RoutesBy = "started servers"
	}
	res.RoutesMs = float64(time.Since(start)) / float64(time.Millisecond)
	direct, err := runWrk(ctx, cfg, target+path)
	if err != nil {
		return res, err
	}
	res.DirectMany = &direct
	many, err := runWrk(ctx, cfg, h.url+path)
	if err != nil {
		return res, err
	}
	res.ManyRoutes = &many
	return res, nil
}

// addCHPRoute adds a route through the REST API of configurable-http-proxy.
func addCHPRoute(h *hub, spec, target string) error {
	body, _ := json.Marshal(map[string]string{"target": target})
	req, err := http.NewRequest(http.MethodPost, h.chpAPI+"/api/routes"+spec, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+h.chpAuth)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("adding proxy route %s: %w", spec, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("adding proxy route %s: %s", spec, resp.Status)
	}
	return nil
}

// runWrk runs wrk with 2 threads and 50 connections against url.
func runWrk(ctx context.Context, cfg config, url string) (wrkResult, error) {
	secs := strconv.Itoa(int(cfg.WrkTime / time.Second))
	cmd := exec.CommandContext(ctx, cfg.Wrk, "-t2", "-c50", "-d"+secs+"s", "--latency", url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w\n%s", url, err, out)
	}
	r, err := parseWrk(out)
	if err != nil {
		return r, fmt.Errorf("wrk %s: %w\n%s", url, err, out)
	}
	return r, nil
}

var (
	wrkRate    = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkPercent = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkErrors  = regexp.MustCompile(`(?m)^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx  = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses: (\d+)`)
)

// parseWrk reads the request rate, the 50th and 99th latency percentiles
// (from --latency) and the error counts from wrk's output.
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return r, errors.New("no Requests/sec line")
	}
	r.RequestsPerSec, _ = strconv.ParseFloat(string(m[1]), 64)
	found := 0
	for _, m := range wrkPercent.FindAllSubmatch(out, -1) {
		v, err := strconv.ParseFloat(string(m[2]), 64)
		if err != nil {
			return r, fmt.Errorf("latency %q: %w", m[2], err)
		}
		switch string(m[3]) {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if string(m[1]) == "50" {
			r.P50ms = v
		} else {
			r.P99ms = v
		}
		found++
	}
	if found != 2 {
		return r, errors.New("no 50% and 99% latency lines")
	}
	if m := wrkErrors.FindSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(string(s))
			r.Errors += n
		}
	}
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		n, _ := strconv.Atoi(strings.TrimSpace(string(m[1])))
		r.Errors += n
	}
	return r, nil
}
