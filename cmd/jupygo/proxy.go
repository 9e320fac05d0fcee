package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/proxy"
)

// proxyFlags are the flags of `jupygo proxy`, named and parsed as
// configurable-http-proxy 5 names them, so JupyterHub can start it in
// that proxy's place.
type proxyFlags struct {
	ip, socket                     string
	port                           int
	ssl                            tlsFlags
	apiIP, apiSocket               string
	apiPort                        int
	apiSSL                         tlsFlags
	clientKey, clientCert          string
	clientCA                       string
	clientRequest, clientReject    bool
	defaultTarget                  string
	errorTarget, errorPath         string
	redirectPort, redirectTo       int
	pidFile                        string
	xForward, noXForward           bool
	stripForwarded                 bool
	prependPath, noPrependPath     bool
	includePrefix, noIncludePrefix bool
	changeOrigin                   bool
	headers                        headerFlag
	insecure, hostRouting          bool
	logLevel                       string
	timeout, proxyTimeout          int
	keepAliveTimeout               int
	version                        bool

	// unsupported are flags of configurable-http-proxy that jupygo proxy
	// rejects, with the reason.
	unsupported map[string]string
}

// tlsFlags are the certificate flags of one listener.
type tlsFlags struct {
	key, cert, ca          string
	requestCert, rejectBad bool
}

func (f *tlsFlags) register(fs *flag.FlagSet, prefix, what string) {
	fs.StringVar(&f.key, prefix+"-key", "", "PEM private key file of "+what)
	fs.StringVar(&f.cert, prefix+"-cert", "", "PEM certificate file of "+what+"; with the key, it serves TLS")
	fs.StringVar(&f.ca, prefix+"-ca", "", "PEM file of the authorities that sign client certificates of "+what)
	fs.BoolVar(&f.requestCert, prefix+"-request-cert", false, "ask clients of "+what+" for a certificate")
	fs.BoolVar(&f.rejectBad, prefix+"-reject-unauthorized", false,
		"with --"+prefix+"-request-cert, refuse clients of "+what+" without a valid certificate")
}

// headerFlag collects --custom-header "name: value" flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(v string) error {
	name, value, ok := strings.Cut(strings.TrimSpace(v), ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("a colon was expected in custom header %q", v)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Set(name, strings.TrimSpace(value))
	return nil
}

func (f *proxyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.ip, "ip", "", "address of the public proxy (default every interface, as '*' is)")
	fs.IntVar(&f.port, "port", 8000, "port of the public proxy; 0 picks a free port")
	fs.StringVar(&f.socket, "socket", "", "Unix socket of the public proxy, instead of --ip and --port")
	f.ssl.register(fs, "ssl", "the public proxy")

	fs.StringVar(&f.apiIP, "api-ip", "localhost", "address of the REST API")
	fs.IntVar(&f.apiPort, "api-port", 0, "port of the REST API (default --port + 1)")
	fs.StringVar(&f.apiSocket, "api-socket", "", "Unix socket of the REST API, instead of --api-ip and --api-port")
	f.apiSSL.register(fs, "api-ssl", "the REST API")

	fs.StringVar(&f.clientKey, "client-ssl-key", "", "PEM private key the proxy presents to https targets")
	fs.StringVar(&f.clientCert, "client-ssl-cert", "", "PEM certificate the proxy presents to https targets")
	fs.StringVar(&f.clientCA, "client-ssl-ca", "", "PEM file of the authorities that sign https targets' certificates")
	fs.BoolVar(&f.clientRequest, "client-ssl-request-cert", false,
		"accepted for compatibility; no effect, as in configurable-http-proxy")
	fs.BoolVar(&f.clientReject, "client-ssl-reject-unauthorized", false,
		"accepted for compatibility; no effect, as in configurable-http-proxy")

	fs.StringVar(&f.defaultTarget, "default-target", "", "target of the route '/', added at start (proto://host[:port])")
	fs.StringVar(&f.errorTarget, "error-target", "",
		"server asked for error pages: GET <target>/<status>?url=<request> (proto://host[:port][/path])")
	fs.StringVar(&f.errorPath, "error-path", "",
		"folder of error pages <status>.html or error.html (default built-in pages)")
	fs.IntVar(&f.redirectPort, "redirect-port", 0, "port on which plain HTTP requests are redirected to HTTPS")
	fs.IntVar(&f.redirectTo, "redirect-to", 0, "HTTPS port that --redirect-port redirects to (default --port)")
	fs.StringVar(&f.pidFile, "pid-file", "", "file to write the process id to, removed at exit")

	fs.BoolVar(&f.xForward, "x-forward", true, "send X-Forwarded-For, -Host, -Proto and -Port to targets")
	fs.BoolVar(&f.noXForward, "no-x-forward", false, "send no X-Forwarded-* headers")
	fs.BoolVar(&f.stripForwarded, "strip-forwarded", false,
		"remove the client's X-Forwarded-*, Forwarded, X-Real-Ip and X-Scheme headers "+
			"(default keep them, as configurable-http-proxy does)")
	fs.BoolVar(&f.prependPath, "prepend-path", true, "put the target's path in front of the forwarded path")
	fs.BoolVar(&f.noPrependPath, "no-prepend-path", false, "forward the request path without the target's path")
	fs.BoolVar(&f.includePrefix, "include-prefix", true, "forward the route's prefix as part of the path")
	fs.BoolVar(&f.noIncludePrefix, "no-include-prefix", false, "remove the route's prefix from the forwarded path")
	fs.BoolVar(&f.changeOrigin, "change-origin", false, "send the target's host as Host instead of the client's")
	fs.Var(&f.headers, "custom-header", "`name:value` header set on every forwarded request; repeat for more")
	fs.BoolVar(&f.insecure, "insecure", false, "do not verify the certificates of https targets")
	fs.BoolVar(&f.hostRouting, "host-routing", false, "route by host: the host is the first segment of every routespec")

	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.IntVar(&f.timeout, "timeout", 0, "close client connections idle this many milliseconds; 0 never")
	fs.IntVar(&f.proxyTimeout, "proxy-timeout", 0,
		"milliseconds to wait for a target's response headers before answering 503; 0 without limit")
	fs.IntVar(&f.keepAliveTimeout, "keep-alive-timeout", 5000, "milliseconds an idle keep-alive client connection stays open")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.BoolVar(&f.version, "V", false, "print the version and exit")
	f.registerUnsupported(fs)
}

// registerUnsupported adds the flags that jupygo proxy rejects, so the
// error gives the reason, not only that the flag is unknown.
func (f *proxyFlags) registerUnsupported(fs *flag.FlagSet) {
	f.unsupported = map[string]string{
		"ssl-protocol":     "Go's TLS negotiates TLS 1.2 or 1.3",
		"ssl-ciphers":      "Go's TLS chooses secure cipher suites",
		"ssl-allow-rc4":    "RC4 is not offered",
		"ssl-dhparam":      "Go's TLS uses elliptic-curve key exchange",
		"auto-rewrite":     "Location headers are forwarded unchanged",
		"protocol-rewrite": "Location headers are forwarded unchanged",
		"metrics-ip":       "there is no metrics server",
		"metrics-port":     "there is no metrics server",
		"metrics-socket":   "there is no metrics server",
		"storage-backend":  "routes are kept in memory",
	}
	for name, why := range f.unsupported {
		usage := "not supported: " + why
		if name == "ssl-allow-rc4" || name == "auto-rewrite" {
			fs.Bool(name, false, usage)
			continue
		}
		fs.String(name, "", usage)
	}
}

func runProxy(args []string, stdout, stderr io.Writer) int {
	var f proxyFlags
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintln(out, "Usage: jupygo proxy [flags]")
		fmt.Fprintln(out, "\nRuns a routing proxy that takes configurable-http-proxy's flags and REST API,")
		fmt.Fprintln(out, "so JupyterHub can start it in that proxy's place:")
		fmt.Fprintln(out, "    c.ConfigurableHTTPProxy.command = ['jupygo', 'proxy']")
		fmt.Fprintln(out, "$CONFIGPROXY_AUTH_TOKEN protects the REST API; unset, the API is open.")
		fmt.Fprintln(out, "\nFlags:")
		printFlags(out, fs)
	}

	if code, exit := parseFlags(fs, args, stdout, stderr); exit {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jupygo proxy: unexpected argument %q; see --help\n", fs.Arg(0))
		return 2
	}
	if f.version {
		return runVersion(nil, stdout, stderr)
	}
	if err := f.check(fs); err != nil {
		fmt.Fprintf(stderr, "jupygo proxy: %v\n", err)
		return 2
	}

	log, err := newLogger(stderr, f.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "jupygo proxy: %v\n", err)
		return 2
	}
	if err := runProxyServers(&f, log); err != nil {
		log.Error("proxy stopped", "err", err)
		return 1
	}
	return 0
}

// check rejects unsupported flags and combinations that cannot work.
func (f *proxyFlags) check(fs *flag.FlagSet) error {
	var errs []error
	fs.Visit(func(fl *flag.Flag) {
		if why, ok := f.unsupported[fl.Name]; ok {
			errs = append(errs, fmt.Errorf("--%s is not supported: %s", fl.Name, why))
		}
	})
	for _, p := range []struct {
		name string
		v    int
	}{{"port", f.port}, {"api-port", f.apiPort}, {"redirect-port", f.redirectPort}, {"redirect-to", f.redirectTo}} {
		if p.v < 0 || p.v > 65535 {
			errs = append(errs, fmt.Errorf("invalid --%s %d: use 0 to 65535", p.name, p.v))
		}
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"timeout", f.timeout}, {"proxy-timeout", f.proxyTimeout}, {"keep-alive-timeout", f.keepAliveTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("invalid --%s %d: use 0 or more milliseconds", d.name, d.v))
		}
	}
	if f.errorTarget != "" && f.errorPath != "" {
		errs = append(errs, errors.New("--error-target and --error-path cannot both be set"))
	}
	if f.redirectPort != 0 && (f.ssl.key == "" || f.ssl.cert == "") {
		errs = append(errs, errors.New("--redirect-port needs --ssl-key and --ssl-cert"))
	}
	if os.Getenv("CONFIGPROXY_SSL_KEY_PASSPHRASE") != "" || os.Getenv("CONFIGPROXY_API_SSL_KEY_PASSPHRASE") != "" {
		errs = append(errs, errors.New("encrypted keys ($CONFIGPROXY_*SSL_KEY_PASSPHRASE) are not supported"))
	}
	return errors.Join(errs...)
}

// options returns the proxy's routing and forwarding options; the caller
// adds the error handler and TLS settings.
func (f *proxyFlags) options(log *slog.Logger) proxy.Options {
	return proxy.Options{
		Logger:                log,
		StripPrefix:           !f.includePrefix || f.noIncludePrefix,
		IgnoreTargetPath:      !f.prependPath || f.noPrependPath,
		NoXForwarded:          !f.xForward || f.noXForward,
		TrustForwarded:        !f.stripForwarded,
		ChangeOrigin:          f.changeOrigin,
		Headers:               f.headers.h,
		HealthCheck:           true,
		ResponseHeaderTimeout: millis(f.proxyTimeout),
	}
}

func millis(n int) time.Duration { return time.Duration(n) * time.Millisecond }
