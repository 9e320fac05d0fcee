package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/testutil/pebbletest"
)

// failingCA is an ACME directory that responds 404, which the acme client
// does not retry, and counts its requests.
func failingCA(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// writeCAFile writes the certificate of an httptest TLS server as a PEM file.
func writeCAFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	must(t, os.WriteFile(path, block, 0o644))
	return path
}

func TestACMERetryDelay(t *testing.T) {
	ca, requests := failingCA(t)
	log, logs := newLog()
	clk := &clock{now: time.Now()}
	a, err := NewACME(ACMEOptions{
		Domains:      []string{"hub.example.org", "lab.example.org"},
		DirectoryURL: ca.URL + "/dir",
		CARootsFile:  writeCAFile(t, ca),
		CacheDir:     filepath.Join(t.TempDir(), "acme"),
		Logger:       log,
		Now:          clk.Now,
	})
	must(t, err)
	hello := &tls.ClientHelloInfo{ServerName: "Hub.Example.org."}

	if _, err := a.GetCertificate(hello); err == nil {
		t.Fatal("GetCertificate succeeded with a CA that responds 404")
	}
	asked := requests.Load()
	if asked == 0 {
		t.Fatal("the CA got no request")
	}
	if n := logs.count("ACME certificate request failed"); n != 1 {
		t.Errorf("%d failure messages, want 1", n)
	}

	// Within the delay, handshakes fail at once, without a request.
	clk.advance(firstRetryDelay - time.Second)
	_, err = a.GetCertificate(hello)
	if err == nil || !strings.Contains(err.Error(), "next try in 1m0s") {
		t.Errorf("error within the delay = %v, want the recorded failure", err)
	}
	if got := requests.Load(); got != asked {
		t.Errorf("the CA got %d more requests within the retry delay", got-asked)
	}

	// After it, the next handshake goes to autocert again, and its failure
	// doubles the delay. autocert itself keeps a failure for a minute of
	// real time, so this one comes without a request.
	clk.advance(time.Second)
	if _, err := a.GetCertificate(hello); err == nil {
		t.Fatal("GetCertificate succeeded after the delay")
	}
	if n := logs.count("retry_in=2m0s"); n != 1 {
		t.Errorf("the second failure does not double the delay: %d matches", n)
	}

	// Each domain has its own delay.
	asked = requests.Load()
	a.GetCertificate(&tls.ClientHelloInfo{ServerName: "lab.example.org"})
	if requests.Load() == asked {
		t.Error("a failure of hub.example.org delayed the request of lab.example.org")
	}
}

func TestACMEServerNames(t *testing.T) {
	ca, requests := failingCA(t)
	log, _ := newLog()
	a, err := NewACME(ACMEOptions{
		Domains:      []string{"hub.example.org"},
		DirectoryURL: ca.URL + "/dir",
		CARootsFile:  writeCAFile(t, ca),
		CacheDir:     filepath.Join(t.TempDir(), "acme"),
		Logger:       log,
	})
	must(t, err)
	_, err = a.GetCertificate(&tls.ClientHelloInfo{ServerName: "other.example.org"})
	if err == nil || !strings.Contains(err.Error(), "not in acme_domains") {
		t.Errorf("an unknown server name gave %v, want an error naming acme_domains", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("an unknown server name made %d requests to the CA", n)
	}
	// Without a server name, the first domain's certificate is requested.
	a.GetCertificate(&tls.ClientHelloInfo{})
	if requests.Load() == 0 {
		t.Error("a handshake without a server name requested no certificate")
	}
}

func TestACMECacheFolder(t *testing.T) {
	log, _ := newLog()
	opts := ACMEOptions{Domains: []string{"hub.example.org"},
		DirectoryURL: "https://127.0.0.1:1/dir", Logger: log}

	opts.CacheDir = filepath.Join(t.TempDir(), "acme")
	_, err := NewACME(opts)
	must(t, err)
	info, err := os.Stat(opts.CacheDir)
	must(t, err)
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("new cache folder has mode %04o, want 0700", perm)
	}

	must(t, os.Chmod(opts.CacheDir, 0o755))
	if _, err := NewACME(opts); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("a cache folder that others may read gave %v, want an error", err)
	}

	opts.CacheDir = filepath.Join(t.TempDir(), "acme")
	opts.CARootsFile = filepath.Join(t.TempDir(), "roots.pem")
	must(t, os.WriteFile(opts.CARootsFile, []byte("no certificate here"), 0o644))
	if _, err := NewACME(opts); err == nil || !strings.Contains(err.Error(), "acme_ca_roots") {
		t.Errorf("acme_ca_roots without a certificate gave %v, want an error", err)
	}
}

// TestACMEWithPebble obtains a certificate from a real ACME server and
// serves it: an HTTPS client that trusts pebble's root verifies it.
func TestACMEWithPebble(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pebble")
	}
	pebble := pebbletest.Start(t)
	log, logs := newLog()
	cacheDir := filepath.Join(t.TempDir(), "acme")
	opts := ACMEOptions{
		Domains:      []string{"hub.jupygo.test"},
		Email:        "ops@jupygo.test",
		DirectoryURL: pebble.DirectoryURL,
		CARootsFile:  pebble.ServerCAFile,
		CacheDir:     cacheDir,
		UserAgent:    "jupygo/test",
		Logger:       log,
	}
	a, err := NewACME(opts)
	must(t, err)
	s := &Setup{mode: ModeACME, acme: a, domains: opts.Domains}
	url := serveTLS(t, s.TLSConfig())

	a.Obtain()
	if n := logs.count("ACME certificate ready"); n != 1 {
		t.Fatalf("Obtain logged %d ready certificates, want 1", n)
	}
	roots := pebble.IssuerRoots(t)
	first := fetchLeaf(t, url, "hub.jupygo.test", roots)
	if first.DNSNames[0] != "hub.jupygo.test" {
		t.Errorf("certificate names = %v", first.DNSNames)
	}

	// The account key and certificate are kept, readable by the owner
	// only, and a new ACME on the same folder serves the same
	// certificate.
	entries, err := os.ReadDir(cacheDir)
	must(t, err)
	if len(entries) < 2 {
		t.Errorf("cache folder holds %d files, want the account key and a certificate",
			len(entries))
	}
	for _, e := range entries {
		info, err := e.Info()
		must(t, err)
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %04o, want no access for group or others", e.Name(), perm)
		}
	}
	again, err := NewACME(opts)
	must(t, err)
	cert, err := again.GetCertificate(&tls.ClientHelloInfo{ServerName: "hub.jupygo.test",
		SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves:  []tls.CurveID{tls.CurveP256},
		CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
	must(t, err)
	if !cert.Leaf.Equal(first) {
		t.Error("a restart obtained a new certificate instead of the cached one")
	}
}

// serveTLS serves 200 OK on a loopback TLS listener until the test ends
// and returns its address.
func serveTLS(t *testing.T, config *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})}
	go srv.Serve(tls.NewListener(ln, config))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// fetchLeaf makes an HTTPS request to addr for host, verified against
// roots, and returns the server's certificate.
func fetchLeaf(t *testing.T, addr, host string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	transport := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: time.Minute}
	resp, err := client.Get("https://" + host + "/")
	if err != nil {
		t.Fatalf("GET https://%s/: %v", host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET https://%s/ = %s", host, resp.Status)
	}
	return resp.TLS.PeerCertificates[0]
}
