package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jupygo/jupygo/internal/proxy"
)

// proxyShutdownTimeout is how long requests in flight may finish after
// SIGTERM or SIGINT.
const proxyShutdownTimeout = 5 * time.Second

// proxyRun is a running `jupygo proxy`: the public server, the REST API
// and the optional HTTP-to-HTTPS redirect.
type proxyRun struct {
	log     *slog.Logger
	proxy   *proxy.Proxy
	servers []*http.Server
	errc    chan error
}

// runProxyServers starts the servers the flags describe and serves until
// a signal arrives or a server fails.
func runProxyServers(f *proxyFlags, log *slog.Logger) error {
	table := proxy.NewTable(proxy.TableOptions{HostRouting: f.hostRouting})
	if f.defaultTarget != "" {
		if err := table.Add("/", f.defaultTarget, nil); err != nil {
			return fmt.Errorf("--default-target: %w", err)
		}
	}
	opts := f.options(log.With("component", "proxy"))
	var err error
	if opts.TLSClientConfig, err = f.clientTLS(); err != nil {
		return err
	}
	if opts.ErrorHandler, err = f.errorHandler(opts.TLSClientConfig, log); err != nil {
		return err
	}
	token := os.Getenv("CONFIGPROXY_AUTH_TOKEN")
	if token == "" {
		log.Warn("the REST API is open: set CONFIGPROXY_AUTH_TOKEN to protect it")
	}
	api := proxy.NewAPI(table, proxy.APIOptions{Token: token, Logger: log.With("component", "api")})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := &proxyRun{log: log, proxy: proxy.New(table, opts), errc: make(chan error, 3)}
	defer r.proxy.Close()
	if err := r.start(f, api); err != nil {
		r.shutdown()
		return err
	}
	if f.pidFile != "" {
		if err := os.WriteFile(f.pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			r.shutdown()
			return fmt.Errorf("writing --pid-file: %w", err)
		}
		defer os.Remove(f.pidFile)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down")
		err = nil
	case err = <-r.errc:
	}
	r.shutdown()
	return err
}

// start opens the listeners and serves on them.
func (r *proxyRun) start(f *proxyFlags, api http.Handler) error {
	public, err := f.publicListener()
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           r.proxy,
		ReadHeaderTimeout: time.Minute,
		IdleTimeout:       millis(f.keepAliveTimeout),
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelDebug),
	}
	r.servers = append(r.servers, srv)
	go func() { r.errc <- serveUntilClosed(r.proxy.Serve(srv, public, proxy.ServeOptions{})) }()

	apiLn, err := f.apiListener()
	if err != nil {
		return err
	}
	apiSrv := &http.Server{Handler: api, ReadHeaderTimeout: time.Minute}
	r.servers = append(r.servers, apiSrv)
	go func() { r.errc <- serveUntilClosed(apiSrv.Serve(apiLn)) }()
	r.log.Info("proxy started", "address", public.Addr().String(), "api", apiLn.Addr().String(),
		"default_target", f.defaultTarget)

	if f.redirectPort != 0 {
		return r.startRedirect(f, public.Addr())
	}
	return nil
}

func (r *proxyRun) startRedirect(f *proxyFlags, public net.Addr) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(listenHost(f.ip), strconv.Itoa(f.redirectPort)))
	if err != nil {
		return fmt.Errorf("--redirect-port: %w", err)
	}
	to := f.redirectTo
	if to == 0 {
		if tcp, ok := public.(*net.TCPAddr); ok {
			to = tcp.Port
		}
	}
	srv := &http.Server{Handler: httpsRedirect(to), ReadHeaderTimeout: time.Minute}
	r.servers = append(r.servers, srv)
	go func() { r.errc <- serveUntilClosed(srv.Serve(ln)) }()
	r.log.Info("redirecting HTTP to HTTPS", "address", ln.Addr().String(), "https_port", to)
	return nil
}

// shutdown lets requests in flight finish, then closes every connection.
func (r *proxyRun) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), proxyShutdownTimeout)
	defer cancel()
	for _, srv := range r.servers {
		srv.Shutdown(ctx)
	}
	r.proxy.Shutdown(ctx)
}

func serveUntilClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// httpsRedirect responds to every request with a 301 to the same URL over
// HTTPS on port, which is left out when it is 443.
func httpsRedirect(port int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "" {
			http.Error(w, fmt.Sprintf("This server is HTTPS-only on port %d, "+
				"and the request names no host to redirect to.", port), http.StatusBadRequest)
			return
		}
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if port != 443 {
			host = net.JoinHostPort(host, strconv.Itoa(port))
		}
		w.Header().Set("Location", "https://"+host+r.URL.RequestURI())
		w.WriteHeader(http.StatusMovedPermanently)
	})
}

// publicListener listens on the address of --ip and --port, or on --socket, with TLS
// when --ssl-key and --ssl-cert are set and the idle limit of --timeout.
func (f *proxyFlags) publicListener() (net.Listener, error) {
	cfg, err := f.ssl.serverTLS("ssl")
	if err != nil {
		return nil, err
	}
	ln, err := listenOn(f.socket, listenHost(f.ip), f.port)
	if err != nil {
		return nil, fmt.Errorf("public proxy: %w", err)
	}
	if f.timeout > 0 {
		ln = proxy.IdleTimeoutListener(ln, millis(f.timeout))
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	return ln, nil
}

// apiListener listens on the address of --api-ip and --api-port, or on
// --api-socket.
func (f *proxyFlags) apiListener() (net.Listener, error) {
	cfg, err := f.apiSSL.serverTLS("api-ssl")
	if err != nil {
		return nil, err
	}
	port := f.apiPort
	if port == 0 && f.port != 0 {
		port = f.port + 1
	}
	ln, err := listenOn(f.apiSocket, f.apiIP, port)
	if err != nil {
		return nil, fmt.Errorf("REST API: %w", err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	return ln, nil
}

func listenOn(socket, host string, port int) (net.Listener, error) {
	if socket != "" {
		return net.Listen("unix", socket)
	}
	return net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
}

// listenHost maps configurable-http-proxy's "*" for every interface to
// the empty host.
func listenHost(ip string) string {
	if ip == "*" {
		return ""
	}
	return ip
}

// serverTLS returns the TLS configuration of a listener, or nil when
// neither key nor certificate is set.
func (t *tlsFlags) serverTLS(prefix string) (*tls.Config, error) {
	if t.key == "" && t.cert == "" {
		return nil, nil
	}
	if t.key == "" || t.cert == "" {
		return nil, fmt.Errorf("--%s-key and --%s-cert must be set together", prefix, prefix)
	}
	cert, err := tls.LoadX509KeyPair(t.cert, t.key)
	if err != nil {
		return nil, fmt.Errorf("--%s-cert and --%s-key: %w", prefix, prefix, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.ca != "" {
		if cfg.ClientCAs, err = loadCertPool(t.ca); err != nil {
			return nil, fmt.Errorf("--%s-ca: %w", prefix, err)
		}
	}
	switch {
	case t.requestCert && t.rejectBad:
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case t.requestCert:
		cfg.ClientAuth = tls.RequestClientCert
	}
	return cfg, nil
}

// clientTLS returns the TLS configuration for https targets.
func (f *proxyFlags) clientTLS() (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: f.insecure}
	if (f.clientKey == "") != (f.clientCert == "") {
		return nil, errors.New("--client-ssl-key and --client-ssl-cert must be set together")
	}
	if f.clientKey != "" {
		cert, err := tls.LoadX509KeyPair(f.clientCert, f.clientKey)
		if err != nil {
			return nil, fmt.Errorf("--client-ssl-cert and --client-ssl-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if f.clientCA != "" {
		pool, err := loadCertPool(f.clientCA)
		if err != nil {
			return nil, fmt.Errorf("--client-ssl-ca: %w", err)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func loadCertPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("no PEM certificate found in %s", file)
	}
	return pool, nil
}

// errorHandler returns the handler of requests without a route or whose
// target failed: --error-target, --error-path or the built-in pages.
func (f *proxyFlags) errorHandler(clientTLS *tls.Config, log *slog.Logger) (
	func(http.ResponseWriter, *http.Request, int, error), error,
) {
	switch {
	case f.errorTarget != "":
		h, err := proxy.ErrorTarget(f.errorTarget, clientTLS, log)
		if err != nil {
			return nil, fmt.Errorf("--error-target: %w", err)
		}
		return h, nil
	case f.errorPath != "":
		return proxy.ErrorFiles(f.errorPath, log), nil
	}
	return proxy.ErrorPage, nil
}
