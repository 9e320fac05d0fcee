package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// Retry delays after a failed certificate request for a domain: the first
// delay, doubled after each further failure up to the maximum. Let's
// Encrypt allows 5 failed validations per account and host name an hour,
// and autocert (golang.org/x/crypto v0.59.0) alone tries again at the
// first handshake a minute after a failure, however often it failed.
const (
	firstRetryDelay = time.Minute
	maxRetryDelay   = time.Hour
)

// expiryWarning is the remaining validity below which a certificate gets a
// warning, at most once a day per domain. autocert renews 30 days before
// the end, so a warning means renewals failed for over two weeks.
const expiryWarning = 14 * 24 * time.Hour

// ACMEOptions configures NewACME.
type ACMEOptions struct {
	// Domains are the DNS names to obtain certificates for, in lower case.
	// The first one also serves handshakes without a server name.
	Domains []string
	// Email is the account's contact address, "" for none.
	Email string
	// DirectoryURL is the CA's ACME directory.
	DirectoryURL string
	// CARootsFile, when set, is a PEM file of CA certificates trusted for
	// the directory's HTTPS besides the system roots.
	CARootsFile string
	// CacheDir keeps the account key and the certificates. NewACME
	// creates it with mode 0700.
	CacheDir string
	// UserAgent is sent to the CA along with the acme package's own.
	UserAgent string
	Logger    *slog.Logger
	// Now replaces the clock in tests. Nil means time.Now.
	Now func() time.Time
}

// ACME obtains and renews certificates from an ACME CA through
// golang.org/x/crypto/acme/autocert. It responds to the CA's tls-alpn-01
// challenges during handshakes and, through HTTPHandler, to its http-01
// challenges. It accepts the CA's terms of service. It is safe for
// concurrent use.
type ACME struct {
	manager *autocert.Manager
	domains []string
	log     *slog.Logger
	now     func() time.Time

	mu       sync.Mutex
	failures map[string]*failure
	warned   map[string]time.Time
}

// failure is the last failed certificate request for a domain.
type failure struct {
	err   error
	delay time.Duration
	retry time.Time
}

// NewACME prepares the cache folder and the ACME client. It contacts no
// CA: the first certificate request does.
func NewACME(opts ACMEOptions) (*ACME, error) {
	if len(opts.Domains) == 0 {
		return nil, errors.New("acme_domains is empty")
	}
	if err := prepareCacheDir(opts.CacheDir); err != nil {
		return nil, err
	}
	client, err := httpClient(opts.CARootsFile)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(opts.CacheDir),
		HostPolicy: autocert.HostWhitelist(opts.Domains...),
		Email:      opts.Email,
		Client: &acme.Client{DirectoryURL: opts.DirectoryURL, HTTPClient: client,
			UserAgent: opts.UserAgent},
	}
	return &ACME{manager: m, domains: opts.Domains, log: opts.Logger, now: now,
		failures: map[string]*failure{}, warned: map[string]time.Time{}}, nil
}

// prepareCacheDir creates dir with mode 0700, or checks that group and
// others have no access to it, because it holds private keys.
func prepareCacheDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the ACME cache folder: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("ACME cache folder: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("ACME cache folder %s is not a folder", dir)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("ACME cache folder %s has mode %04o, so group or others may "+
			"access its private keys: run chmod 700 %s", dir, perm, dir)
	}
	return nil
}

// httpClient returns the client for the CA, which trusts the certificates
// of rootsFile besides the system roots.
func httpClient(rootsFile string) (*http.Client, error) {
	if rootsFile == "" {
		return nil, nil // the acme package's default client
	}
	data, err := os.ReadFile(rootsFile)
	if err != nil {
		return nil, fmt.Errorf("reading acme_ca_roots: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("acme_ca_roots %s contains no PEM certificate", rootsFile)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: transport, Timeout: time.Minute}, nil
}

// GetCertificate returns the certificate for the handshake's server name,
// for tls.Config.GetCertificate. A handshake without a server name, as from
// a client that connects to an IP address, gets the first domain's. A new
// certificate is requested at the first handshake that needs it, and a
// failed request is retried after a delay that grows up to an hour.
func (a *ACME) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if isChallenge(hello) {
		return a.manager.GetCertificate(hello)
	}
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if name == "" {
		name = a.domains[0]
	}
	if !slices.Contains(a.domains, name) {
		return nil, fmt.Errorf("no certificate for server name %q: it is not in acme_domains",
			name)
	}
	if err := a.pendingFailure(name); err != nil {
		return nil, err
	}
	named := *hello
	named.ServerName = name
	cert, err := a.manager.GetCertificate(&named)
	if err != nil {
		a.recordFailure(name, err)
		return nil, err
	}
	a.recordSuccess(name, cert)
	return cert, nil
}

// isChallenge reports whether hello is a CA's tls-alpn-01 validation.
func isChallenge(hello *tls.ClientHelloInfo) bool {
	return len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto
}

// pendingFailure returns the error of the last failed request for name
// while its retry delay runs.
func (a *ACME) pendingFailure(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if f := a.failures[name]; f != nil && a.now().Before(f.retry) {
		return f.err
	}
	return nil
}

// recordFailure logs a failed request and sets the next retry. Handshakes
// that waited for the same request fail with it too, and only the first
// of them counts.
func (a *ACME) recordFailure(name string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	f := a.failures[name]
	if f != nil && now.Before(f.retry) {
		return
	}
	if f == nil {
		f = &failure{delay: firstRetryDelay}
		a.failures[name] = f
	} else {
		f.delay = min(2*f.delay, maxRetryDelay)
	}
	f.err = fmt.Errorf("certificate request for %s failed, next try in %v: %w",
		name, f.delay, err)
	f.retry = now.Add(f.delay)
	a.log.Error("ACME certificate request failed", "domain", name, "retry_in", f.delay,
		"err", err)
}

// recordSuccess clears the failures of name and warns when its
// certificate expires soon.
func (a *ACME) recordSuccess(name string, cert *tls.Certificate) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if a.failures[name] != nil {
		delete(a.failures, name)
		a.log.Info("ACME certificate obtained", "domain", name)
	}
	leaf := cert.Leaf
	if leaf == nil || leaf.NotAfter.Sub(now) > expiryWarning {
		return
	}
	if last, ok := a.warned[name]; ok && now.Sub(last) < 24*time.Hour {
		return
	}
	a.warned[name] = now
	a.log.Warn("the ACME certificate expires soon: renewals keep failing", "domain", name,
		"not_after", leaf.NotAfter)
}

// Obtain requests the certificate of every domain that lacks one, one
// after the other, and logs the outcome, so that an operator sees at
// start whether the CA issues them. It returns when all requests have
// ended. The listener must be accepting connections already, for the
// tls-alpn-01 challenge.
func (a *ACME) Obtain() {
	for _, d := range a.domains {
		// A client hello that supports ECDSA, as browsers send, so the
		// request is for the ECDSA certificate that they get.
		hello := &tls.ClientHelloInfo{
			ServerName:       d,
			SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
			SupportedCurves:  []tls.CurveID{tls.CurveP256},
			CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		}
		cert, err := a.GetCertificate(hello)
		if err != nil {
			continue // logged by GetCertificate
		}
		if cert.Leaf != nil {
			a.log.Info("ACME certificate ready", "domain", d, "not_after", cert.Leaf.NotAfter)
		}
	}
}

// HTTPHandler returns a handler that responds to the CA's http-01 challenges
// under /.well-known/acme-challenge/ and passes every other request to
// fallback. Once it is called, the certificate requests offer the http-01
// challenge besides tls-alpn-01. It must serve port 80 of the domains.
func (a *ACME) HTTPHandler(fallback http.Handler) http.Handler {
	return a.manager.HTTPHandler(fallback)
}
