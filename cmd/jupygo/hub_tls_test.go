//go:build !nohub

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/tlsconf"
	"github.com/jupygo/jupygo/internal/testutil/pebbletest"
	"github.com/jupygo/jupygo/internal/testutil/testcert"
)

// testDomain is the DNS name of the hub in the HTTPS tests. It resolves
// nowhere: hubClient dials the hub's loopback address for it.
const testDomain = "hub.jupygo.test"

// hubClient returns a transport that verifies the hub's certificate
// against roots and connects to 127.0.0.1 for every host name. It speaks
// HTTP/2 over TLS, as browsers do, and keep-alives are off, so every
// request makes a new TLS handshake.
func hubClient(t *testing.T, roots *x509.CertPool) *http.Transport {
	transport := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}
	t.Cleanup(transport.CloseIdleConnections)
	return transport
}

// getHealth requests /hub/health from the hub and returns the response,
// with its body closed.
func getHealth(t *testing.T, transport *http.Transport, base string) *http.Response {
	t.Helper()
	client := &http.Client{Transport: transport, Timeout: 90 * time.Second}
	resp, err := client.Get(base + "/hub/health")
	if err != nil {
		t.Fatalf("GET %s/hub/health: %v", base, err)
	}
	resp.Body.Close()
	return resp
}

// TestHubHTTPSWithPebble runs the hub with a certificate from pebble, a
// real ACME server. Pebble marks every challenge valid without connecting
// to the hub (PEBBLE_VA_ALWAYS_VALID=1, see pebbletest), so the test needs
// no DNS for testDomain. It checks the certificate, HSTS, the redirect
// from plain HTTP, and a sign-in with a started server, whose OAuth
// redirects must stay on the https URL.
func TestHubHTTPSWithPebble(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary and pebble")
	}
	pebble := pebbletest.Start(t)
	redirectPort := freePort(t)
	cfg := writeHubConfig(t, "[JupyterHub]\n"+
		"acme_domains = [\""+testDomain+"\"]\n"+
		"acme_email = \"ops@jupygo.test\"\n"+
		"acme_directory_url = \""+pebble.DirectoryURL+"\"\n"+
		"acme_ca_roots = \""+pebble.ServerCAFile+"\"\n"+
		"hub_port = 0\n"+
		"http_redirect_port = "+strconv.Itoa(redirectPort)+"\n")
	dataDir := filepath.Join(t.TempDir(), "data")
	hp := startHubProcess(t, buildJupygo(t), dataDir, "-f", cfg)
	if !strings.HasPrefix(hp.url, "https://"+testDomain+":") {
		t.Fatalf("hub URL = %q, want https://%s:PORT", hp.url, testDomain)
	}
	transport := hubClient(t, pebble.IssuerRoots(t))

	resp := getHealth(t, transport, hp.url)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /hub/health over HTTPS = %s", resp.Status)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("GET /hub/health over HTTPS used %s, want HTTP/2", resp.Proto)
	}
	if leaf := resp.TLS.PeerCertificates[0]; len(leaf.DNSNames) != 1 ||
		leaf.DNSNames[0] != testDomain {
		t.Errorf("certificate names = %v, want [%s]", leaf.DNSNames, testDomain)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security = %q, want max-age=31536000", got)
	}

	// Plain HTTP is redirected to the same path over HTTPS.
	hubURL, err := url.Parse(hp.url)
	if err != nil {
		t.Fatal(err)
	}
	plain := &http.Client{Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest("GET", "http://127.0.0.1:"+strconv.Itoa(redirectPort)+
		"/hub/login?next=%2Fhub%2Fhome", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = testDomain
	resp, err = plain.Do(req)
	if err != nil {
		t.Fatalf("GET over plain HTTP: %v", err)
	}
	resp.Body.Close()
	wantLocation := "https://" + testDomain + ":" + hubURL.Port() + "/hub/login?next=%2Fhub%2Fhome"
	if resp.StatusCode != http.StatusMovedPermanently ||
		resp.Header.Get("Location") != wantLocation {
		t.Errorf("plain HTTP = %s %q, want 301 to %q", resp.Status,
			resp.Header.Get("Location"), wantLocation)
	}

	// Sign in, start the default server and follow the OAuth flow into
	// JupyterLab. The server reaches the hub API on the internal
	// listener, and the browser stays on https.
	b := newHubBrowser(t, hp.url)
	b.client.Transport = transport
	b.replacePassword(hp.admin, hp.password, "the admin's own password")
	lab := "/user/" + hp.admin + "/lab"
	p, at := b.follow("/hub/spawn/" + hp.admin + "?next=" + url.QueryEscape(lab))
	if p.status != http.StatusOK || at != lab {
		t.Fatalf("JupyterLab over HTTPS = %d at %s: %.500s", p.status, at, p.body)
	}
	if p := b.send("GET", "/user/"+hp.admin+"/api/status", nil); p.status != http.StatusOK {
		t.Errorf("/api/status over HTTPS = %d %s", p.status, p.body)
	}
	if p := b.send("POST", "/hub/stop/"+hp.admin,
		url.Values{"_xsrf": {b.xsrf("/hub/home")}}); p.status != http.StatusSeeOther {
		t.Errorf("stop = %d %s", p.status, p.body)
	}
}

// TestHubHTTPSCertFiles runs the hub with ssl_cert and ssl_key, and
// checks that it serves a renewed certificate without a restart.
func TestHubHTTPSCertFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ca := testcert.NewCA(t)
	certDir := t.TempDir()
	first := ca.Issue(t, testDomain)
	certFile, keyFile := first.Write(t, certDir)
	cfg := writeHubConfig(t, "[JupyterHub]\nssl_cert = \""+certFile+"\"\n"+
		"ssl_key = \""+keyFile+"\"\nhub_port = 0\nhsts_max_age = 600\n")
	hp := startHubProcess(t, buildJupygo(t), filepath.Join(t.TempDir(), "data"), "-f", cfg)
	transport := hubClient(t, ca.Pool())

	resp := getHealth(t, transport, hp.url)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /hub/health = %s", resp.Status)
	}
	if got := resp.TLS.PeerCertificates[0].SerialNumber; got.Cmp(first.Cert.SerialNumber) != 0 {
		t.Errorf("serial = %v, want the first certificate's %v", got, first.Cert.SerialNumber)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=600" {
		t.Errorf("Strict-Transport-Security = %q, want max-age=600", got)
	}

	// A renewal is served within tlsconf.ReloadInterval of the first
	// handshake after it.
	second := ca.Issue(t, testDomain)
	second.Write(t, certDir)
	deadline := time.Now().Add(3 * tlsconf.ReloadInterval)
	for {
		resp := getHealth(t, transport, hp.url)
		if resp.TLS.PeerCertificates[0].SerialNumber.Cmp(second.Cert.SerialNumber) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renewed certificate was not served %v after it was written",
				3*tlsconf.ReloadInterval)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestHubTLSStartErrors checks that the hub does not start with broken
// certificate files, and that its error names the file at fault.
func TestHubTLSStartErrors(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.Issue(t, testDomain).Write(t, dir)
	otherDir := t.TempDir()
	_, otherKey := ca.Issue(t, testDomain).Write(t, otherDir)
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name, cert, key string
		want            string
	}{
		{"missing cert", missing, keyFile, "ssl_cert: stat " + missing + ": no such file"},
		{"missing key", certFile, missing, "ssl_key: stat " + missing + ": no such file"},
		{"unreadable cert", dir, keyFile, "reading ssl_cert: read " + dir},
		{"mismatched key", certFile, otherKey, "private key does not match public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeHubConfig(t, "[JupyterHub]\nssl_cert = \""+tc.cert+"\"\n"+
				"ssl_key = \""+tc.key+"\"\nhub_port = 0\n")
			var stdout, stderr strings.Builder
			code := runHub([]string{"-f", cfg, "--port", "0", "--data-dir",
				filepath.Join(t.TempDir(), "data")}, &stdout, &stderr)
			if code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr.String())
			}
			if strings.Contains(stdout.String(), "is running") {
				t.Errorf("the hub started: %s", stdout.String())
			}
		})
	}
}

// TestHubListenersLog checks the start log line of each TLS mode.
func TestHubListenersLog(t *testing.T) {
	ca := testcert.NewCA(t)
	certFile, keyFile := ca.Issue(t, testDomain).Write(t, t.TempDir())
	for _, tc := range []struct {
		name, config string
		want         []string
	}{
		{"off", "", []string{"tls=off", "url=http://127.0.0.1:"}},
		{"files", "[JupyterHub]\nssl_cert = \"" + certFile + "\"\nssl_key = \"" + keyFile +
			"\"\nhub_port = 0\n", []string{"tls=files", "domains=[" + testDomain + "]",
			"url=https://" + testDomain + ":", "internal=127.0.0.1:"}},
		{"acme", "[JupyterHub]\nacme_domains = [\"" + testDomain + "\", \"lab.jupygo.test\"]\n" +
			"acme_directory_url = \"https://127.0.0.1:1/dir\"\nhub_port = 0\n",
			[]string{"tls=acme", "domains=\"[" + testDomain + " lab.jupygo.test]\"",
				"directory=https://127.0.0.1:1/dir"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tc.config), "hub.toml")
			if err != nil {
				t.Fatal(err)
			}
			cfg.JupyterHub.Port = 0
			cfg.JupyterHub.DataDir = filepath.Join(t.TempDir(), "data")
			var out strings.Builder
			log := slog.New(slog.NewTextHandler(&out, nil))
			setup, err := tlsconf.New(cfg, "test", log)
			if err != nil {
				t.Fatal(err)
			}
			listeners, err := openHubListeners(cfg, setup)
			if err != nil {
				t.Fatal(err)
			}
			defer listeners.close()
			listeners.logStart(log)
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("start log lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestHubPathsOnly(t *testing.T) {
	hubHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	h := hubPathsOnly(hubHandler, "/base/hub/")
	for path, want := range map[string]int{
		"/base/hub/api/user":           http.StatusTeapot,
		"/base/user/alice/api/kernels": http.StatusNotFound,
		"/base/hub":                    http.StatusTeapot,
		"/hub/api/user":                http.StatusNotFound,
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != want {
			t.Errorf("internal listener %s = %d, want %d", path, w.Code, want)
		}
	}
}
