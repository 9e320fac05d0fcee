package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	jupyterhubName = "jupyterhub"
	jupygoName     = "jupygo"
	// jupyterhubJupygoProxyName is JupyterHub with `jupygo proxy` in the
	// place of configurable-http-proxy, and everything else as jupyterhubName.
	jupyterhubJupygoProxyName = "jupyterhub-jupygo-proxy"
)

// hubNames are the hubs that -hubs accepts.
var hubNames = []string{jupyterhubName, jupygoName, jupyterhubJupygoProxyName}

// hub is one running hub, driven through its public port with the API
// token of the benchmark's service.
type hub struct {
	name    string
	proc    *benchkit.Process
	url     string // public URL, such as http://127.0.0.1:PORT
	token   string
	chpAPI  string // REST API of the proxy that JupyterHub runs; empty for jupygo hub
	chpAuth string
	dir     string
}

// hubOptions describes how to start a hub.
type hubOptions struct {
	cfg     config
	name    string
	dir     string   // the hub's own folder, created by startHub
	cmd     []string // the user server command; nil for the hub's default
	addrDir string   // exported to user servers as HUBBENCH_ADDR_DIR when set
}

// startHub writes the configuration of a hub, starts it and waits for the
// first 200 from its health check, returning the time that took.
func startHub(ctx context.Context, o hubOptions) (*hub, time.Duration, error) {
	if err := os.MkdirAll(filepath.Join(o.dir, "home"), 0o700); err != nil {
		return nil, 0, fmt.Errorf("creating hub folder: %w", err)
	}
	ports, err := benchkit.FreePorts(3)
	if err != nil {
		return nil, 0, err
	}
	h := &hub{
		name:  o.name,
		url:   "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		token: randomHex(),
		dir:   o.dir,
	}
	var argv []string
	var health string
	switch o.name {
	case jupyterhubName, jupyterhubJupygoProxyName:
		h.chpAPI = "http://127.0.0.1:" + strconv.Itoa(ports[2])
		h.chpAuth = randomHex()
		cmd := o.cmd
		if cmd == nil {
			cmd = []string{o.cfg.Singleuser}
			// jupyter-server refuses to run as root without this flag.
			if os.Geteuid() == 0 {
				cmd = append(cmd, "--allow-root")
			}
		}
		proxy := []string{o.cfg.CHP}
		if o.name == jupyterhubJupygoProxyName {
			proxy = []string{o.cfg.Jupygo, "proxy"}
		}
		config := jupyterhubConfig(h, o, ports, cmd, proxy)
		path := filepath.Join(o.dir, "jupyterhub_config.py")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			return nil, 0, fmt.Errorf("writing JupyterHub config: %w", err)
		}
		argv = []string{o.cfg.Python, "-m", "jupyterhub", "-f", path}
		health = "/hub/api"
	case jupygoName:
		path := filepath.Join(o.dir, "hub.toml")
		if err := os.WriteFile(path, []byte(jupygoConfig(h, o, ports[0])), 0o600); err != nil {
			return nil, 0, fmt.Errorf("writing jupygo config: %w", err)
		}
		argv = []string{o.cfg.Jupygo, "hub", "-f", path}
		health = "/hub/health"
	default:
		return nil, 0, fmt.Errorf("unknown hub %q", o.name)
	}
	env := append(os.Environ(), "HOME="+filepath.Join(o.dir, "home"))
	start := time.Now()
	p, err := benchkit.Start(argv, o.dir, env, filepath.Join(o.dir, "hub.log"), o.cfg.PIDFile)
	if err != nil {
		return nil, 0, fmt.Errorf("starting %s: %w", o.name, err)
	}
	h.proc = p
	if err := waitFor(ctx, p, 60*time.Second, func() bool {
		return h.status(http.MethodGet, h.url+health, false) == http.StatusOK
	}); err != nil {
		h.stop()
		return nil, 0, fmt.Errorf("%s did not return 200 on %s: %w\n%s", o.name, health, err, p.LogTail())
	}
	return h, time.Since(start), nil
}

// jupyterhubConfig is the jupyterhub_config.py of a JupyterHub run: loopback
// ports picked at run time, the dummy authenticator, the simple spawner, and
// a service whose token may manage users and open their servers, and the
// proxy command proxy.
func jupyterhubConfig(h *hub, o hubOptions, ports []int, cmd, proxy []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "c.JupyterHub.ip = '127.0.0.1'\n")
	fmt.Fprintf(&b, "c.JupyterHub.port = %d\n", ports[0])
	fmt.Fprintf(&b, "c.JupyterHub.hub_ip = '127.0.0.1'\n")
	fmt.Fprintf(&b, "c.JupyterHub.hub_port = %d\n", ports[1])
	fmt.Fprintf(&b, "c.JupyterHub.db_url = %q\n", "sqlite:///"+filepath.Join(o.dir, "jupyterhub.sqlite"))
	fmt.Fprintf(&b, "c.JupyterHub.cookie_secret_file = %q\n", filepath.Join(o.dir, "jupyterhub_cookie_secret"))
	fmt.Fprintf(&b, "c.JupyterHub.authenticator_class = 'dummy'\n")
	fmt.Fprintf(&b, "c.JupyterHub.spawner_class = 'simple'\n")
	fmt.Fprintf(&b, "c.JupyterHub.concurrent_spawn_limit = 0\n")
	fmt.Fprintf(&b, "c.SimpleLocalProcessSpawner.home_dir_template = %q\n", filepath.Join(o.dir, "home", "{username}"))
	fmt.Fprintf(&b, "c.Spawner.cmd = %s\n", pyList(cmd))
	if o.addrDir != "" {
		fmt.Fprintf(&b, "c.Spawner.environment = {'HUBBENCH_ADDR_DIR': %q}\n", o.addrDir)
	}
	fmt.Fprintf(&b, "c.ConfigurableHTTPProxy.command = %s\n", pyList(proxy))
	fmt.Fprintf(&b, "c.ConfigurableHTTPProxy.api_url = %q\n", h.chpAPI)
	fmt.Fprintf(&b, "c.ConfigurableHTTPProxy.auth_token = %q\n", h.chpAuth)
	fmt.Fprintf(&b, "c.ConfigurableHTTPProxy.pid_file = %q\n", filepath.Join(o.dir, "proxy.pid"))
	fmt.Fprintf(&b, "c.JupyterHub.services = [{'name': 'bench', 'api_token': %q}]\n", h.token)
	fmt.Fprintf(&b, "c.JupyterHub.load_roles = [{'name': 'bench', 'scopes': %s, 'services': ['bench']}]\n", pyList(benchScopes))
	return b.String()
}

// jupygoConfig is the TOML configuration of a jupygo hub run, the same
// setup as jupyterhubConfig.
func jupygoConfig(h *hub, o hubOptions, port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[JupyterHub]\nip = \"127.0.0.1\"\nport = %d\n", port)
	fmt.Fprintf(&b, "data_dir = %q\n", filepath.Join(o.dir, "data"))
	fmt.Fprintf(&b, "authenticator_class = \"local\"\nspawner_class = \"simple\"\nconcurrent_spawn_limit = 0\n\n")
	fmt.Fprintf(&b, "[[JupyterHub.services]]\nname = \"bench\"\napi_token = %q\n\n", h.token)
	fmt.Fprintf(&b, "[[JupyterHub.load_roles]]\nname = \"bench\"\nscopes = %s\nservices = [\"bench\"]\n\n", pyList(benchScopes))
	fmt.Fprintf(&b, "[Authenticator]\nallow_all = true\n\n")
	fmt.Fprintf(&b, "[Spawner]\n")
	if o.cmd != nil {
		fmt.Fprintf(&b, "cmd = %s\n", pyList(o.cmd))
	}
	if o.addrDir != "" {
		fmt.Fprintf(&b, "environment = { HUBBENCH_ADDR_DIR = %q }\n", o.addrDir)
	}
	return b.String()
}

// benchScopes are the scopes of the benchmark's service token.
var benchScopes = []string{"admin:users", "admin:servers", "access:servers", "read:users"}

// pyList writes ss as a list literal that both Python and TOML read.
func pyList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func randomHex() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// stop stops the hub and whatever it started.
func (h *hub) stop() {
	if h != nil && h.proc != nil {
		h.proc.Stop()
	}
}

// waitFor polls ready every 5 ms until it reports true, the process exits,
// limit passes or ctx ends.
func waitFor(ctx context.Context, p *benchkit.Process, limit time.Duration, ready func() bool) error {
	deadline := time.Now().Add(limit)
	for {
		if ready() {
			return nil
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("process exited: %v", p.Err())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v", limit)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
