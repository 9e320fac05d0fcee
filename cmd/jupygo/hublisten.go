//go:build !nohub

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jupygo/jupygo/internal/hub"
	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/tlsconf"
)

// hubListeners are the sockets of `jupygo hub`. The public one serves the
// hub and its proxy, over TLS when HTTPS is on. With HTTPS, the internal
// one serves the hub's paths over plain http on hub_ip:hub_port for user
// servers and services, which reach the hub on loopback and cannot verify
// the public certificate there. The redirect one, on http_redirect_port,
// serves ACME http-01 challenges and redirects everything else to HTTPS.
type hubListeners struct {
	cfg      *config.Config
	tls      *tlsconf.Setup
	public   net.Listener
	internal net.Listener // nil over plain http
	redirect net.Listener // nil without http_redirect_port
}

// openHubListeners opens the listeners that cfg configures.
func openHubListeners(cfg *config.Config, setup *tlsconf.Setup) (*hubListeners, error) {
	h := &cfg.JupyterHub
	l := &hubListeners{cfg: cfg, tls: setup}
	var err error
	if l.public, err = listenTCP("the public listener", h.IP, h.Port); err != nil {
		return nil, err
	}
	if setup.Mode() == tlsconf.ModeOff {
		return l, nil
	}
	if l.internal, err = listenTCP("the internal listener (hub_ip, hub_port)", h.HubIP,
		h.HubPort); err != nil {
		l.close()
		return nil, err
	}
	if h.HTTPRedirectPort != 0 {
		if l.redirect, err = listenTCP("the HTTP redirect listener (http_redirect_port)", h.IP,
			h.HTTPRedirectPort); err != nil {
			l.close()
			return nil, err
		}
	}
	l.public = tls.NewListener(l.public, setup.TLSConfig())
	return l, nil
}

func listenTCP(what, ip string, port int) (net.Listener, error) {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("opening %s on %s: %w", what, addr, err)
	}
	return ln, nil
}

// close closes every listener, for a start that fails before serving.
func (l *hubListeners) close() {
	for _, ln := range []net.Listener{l.public, l.internal, l.redirect} {
		if ln != nil {
			ln.Close()
		}
	}
}

// port returns the TCP port of ln.
func port(ln net.Listener) int {
	return ln.Addr().(*net.TCPAddr).Port
}

// publicURL returns the URL that browsers open: over HTTPS with the first
// name of the certificate, when it names one, as that is what the
// certificate is valid for. A listener on all interfaces is shown with the
// machine's host name, as jupyter_server 1.23 does, because a loopback address
// would not open from another machine.
func (l *hubListeners) publicURL() string {
	base := l.cfg.JupyterHub.BaseURL
	host := browserHost(l.public.Addr())
	if l.tls.Mode() == tlsconf.ModeOff {
		return "http://" + host + base
	}
	if domains := l.tls.Domains(); len(domains) > 0 {
		host = domains[0]
		if p := port(l.public); p != 443 {
			host = net.JoinHostPort(host, strconv.Itoa(p))
		}
	}
	return "https://" + host + base
}

// localURL returns the URL of the public listener through 127.0.0.1 when
// it listens on all interfaces, and "" otherwise, where publicURL is
// already local.
func (l *hubListeners) localURL() string {
	if !listensOnAll(l.public.Addr()) {
		return ""
	}
	scheme := "https://"
	if l.tls.Mode() == tlsconf.ModeOff {
		scheme = "http://"
	}
	// NOTE: 127.0.0.1 reaches a listener on "::" only because Go opens
	// that as a dual-stack socket, which Linux supports.
	hostPort := net.JoinHostPort("127.0.0.1", strconv.Itoa(port(l.public)))
	return scheme + hostPort + l.cfg.JupyterHub.BaseURL
}

// hostname is os.Hostname, replaced by tests.
var hostname = os.Hostname

// browserHost returns the host:port of addr that a person opens: the host
// name for a listener on all interfaces, falling back to 127.0.0.1 when
// the name is unknown, and otherwise the address local clients use.
func browserHost(addr net.Addr) string {
	if !listensOnAll(addr) {
		return hub.ConnectAddr(addr)
	}
	name, err := hostname()
	if err != nil || name == "" {
		name = "127.0.0.1"
	}
	return net.JoinHostPort(name, strconv.Itoa(addr.(*net.TCPAddr).Port))
}

// listensOnAll reports whether addr is the unspecified address 0.0.0.0 or
// "::", which Go's listeners report for ip "" as well.
func listensOnAll(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsUnspecified()
}

// apiURL returns the hub API's URL for user servers, "" over plain http,
// where they use the public listener.
func (l *hubListeners) apiURL() string {
	if l.internal == nil {
		return ""
	}
	return "http://" + hub.ConnectAddr(l.internal.Addr()) + l.cfg.JupyterHub.BaseURL + "hub/api"
}

// logStart logs the listeners and the TLS mode.
func (l *hubListeners) logStart(log *slog.Logger) {
	attrs := append([]any{"url", l.publicURL()}, l.tls.LogAttrs(l.cfg)...)
	if local := l.localURL(); local != "" {
		attrs = append(attrs, "local_url", local)
	}
	if l.internal != nil {
		attrs = append(attrs, "internal", l.internal.Addr().String())
	}
	if l.redirect != nil {
		attrs = append(attrs, "http_redirect", l.redirect.Addr().String())
	}
	log.Info("hub listeners open", attrs...)
}

// serveSide serves the internal and the redirect listeners, and obtains
// missing ACME certificates, while the hub serves the public one. The
// returned function shuts the side servers down and waits for them.
func (l *hubListeners) serveSide(h http.Handler, log *slog.Logger) (stop func()) {
	var servers []*http.Server
	var wg sync.WaitGroup
	serve := func(ln net.Listener, handler http.Handler, name string) {
		srv := &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 30 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		}
		servers = append(servers, srv)
		wg.Go(func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				log.Error("listener failed", "listener", name, "err", err)
			}
		})
	}
	if l.internal != nil {
		serve(l.internal, hubPathsOnly(h, l.cfg.JupyterHub.BaseURL+"hub/"), "internal")
	}
	if l.redirect != nil {
		serve(l.redirect, l.tls.HTTPHandler(port(l.public)), "http_redirect")
	}
	// NOTE: autocert gives each certificate request up to 5 minutes and
	// takes no context, so this goroutine may outlive a quick shutdown.
	// The process exits anyway.
	go l.tls.Obtain()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range servers {
			srv.Shutdown(ctx)
		}
		wg.Wait()
	}
}

// hubPathsOnly passes the requests under prefix to h and responds 404 to
// every other one, so the internal listener serves the hub, never the
// proxy to the user servers.
func hubPathsOnly(h http.Handler, prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix) && r.URL.Path+"/" != prefix {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
