package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// proxyResult is what wrk measured against the trivial upstream directly,
// through the hub's proxy with one route, and with cfg.Routes routes.
type proxyResult struct {
	Direct      wrkResult  `json:"direct"`
	Proxied     wrkResult  `json:"proxied"`
	ManyRoutes  *wrkResult `json:"many_routes,omitempty"`
	Routes      int        `json:"routes"`
	ManySkipped string     `json:"many_routes_skipped,omitempty"`
}

// wrkResult holds the figures of one wrk run.
type wrkResult struct {
	RequestsPerSec float64 `json:"requests_per_sec"`
	P50ms          float64 `json:"p50_ms"`
	P99ms          float64 `json:"p99_ms"`
	Errors         int     `json:"errors"`
}

// measureProxy starts a hub whose user servers are this program's trivial
// upstream, starts one, and runs wrk against it directly and through the
// proxy, then again with cfg.Routes routes in the table.
func measureProxy(ctx context.Context, cfg config, name string) (*proxyResult, error) {
	dir := filepath.Join(cfg.WorkDir, name+"-proxy")
	addrDir := filepath.Join(dir, "addr")
	if err := os.MkdirAll(addrDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating address folder: %w", err)
	}
	h, _, err := startHub(ctx, hubOptions{
		cfg: cfg, name: name, dir: dir, addrDir: addrDir,
		cmd: []string{cfg.Self, "-upstream"},
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
	direct, err := os.ReadFile(filepath.Join(addrDir, user))
	if err != nil {
		return nil, fmt.Errorf("reading the upstream's address: %w", err)
	}
	target := string(direct)
	path := "/user/" + user + "/ping"

	res := &proxyResult{Routes: cfg.Routes}
	if res.Direct, err = runWrk(ctx, cfg, target+path); err != nil {
		return res, err
	}
	if res.Proxied, err = runWrk(ctx, cfg, h.url+path); err != nil {
		return res, err
	}
	if h.chpAPI == "" {
		res.ManySkipped = "the built-in proxy takes routes only from running servers (no POST /hub/api/proxy)"
		return res, nil
	}
	// The extra routes sort before and after the measured one and share
	// its /user/ prefix, as other users' servers would.
	for i := range cfg.Routes - 1 {
		if err := addCHPRoute(h, fmt.Sprintf("/user/r%04d", i), target); err != nil {
			return res, err
		}
	}
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
