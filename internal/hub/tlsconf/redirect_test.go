package tlsconf

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/testutil/testcert"
)

func TestRedirectHandler(t *testing.T) {
	for _, tc := range []struct {
		name, method, host, target string
		port                       int
		status                     int
		location                   string
	}{
		{"get", "GET", "hub.example.org", "/hub/login?next=%2Fuser%2Fa", 443,
			http.StatusMovedPermanently, "https://hub.example.org/hub/login?next=%2Fuser%2Fa"},
		{"head", "HEAD", "hub.example.org", "/", 443,
			http.StatusMovedPermanently, "https://hub.example.org/"},
		{"post keeps its method", "POST", "hub.example.org", "/hub/api/users", 443,
			http.StatusPermanentRedirect, "https://hub.example.org/hub/api/users"},
		{"port 80 dropped", "GET", "hub.example.org:80", "/x", 443,
			http.StatusMovedPermanently, "https://hub.example.org/x"},
		{"other https port", "GET", "hub.example.org", "/x", 8443,
			http.StatusMovedPermanently, "https://hub.example.org:8443/x"},
		{"ipv6", "GET", "[::1]:8080", "/x", 8443,
			http.StatusMovedPermanently, "https://[::1]:8443/x"},
		{"escaped path", "GET", "hub.example.org", "/user/a%2Fb/lab", 443,
			http.StatusMovedPermanently, "https://hub.example.org/user/a%2Fb/lab"},
		{"upper case and trailing dot", "GET", "HUB.Example.ORG.", "/x", 443,
			http.StatusMovedPermanently, "https://hub.example.org/x"},
		{"unknown host replaced", "GET", "evil.example", "/hub/login", 443,
			http.StatusMovedPermanently, "https://hub.example.org/hub/login"},
		{"unknown host rejected", "GET", "other.example", "/", 443, http.StatusBadRequest, ""},
		{"no host", "GET", "", "/", 443, http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			r.Host = tc.host
			w := httptest.NewRecorder()
			// The target keeps the names of this table and replaces
			// evil.example.
			target := func(host string) string {
				switch host {
				case "hub.example.org", "::1":
					return host
				case "evil.example":
					return "hub.example.org"
				}
				return ""
			}
			RedirectHandler(tc.port, target).ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			if got := w.Header().Get("Location"); got != tc.location {
				t.Errorf("Location = %q, want %q", got, tc.location)
			}
		})
	}
}

// TestHTTPHandlerChallenges checks that only the ACME setup keeps
// /.well-known/acme-challenge/ from the redirect, for the CA's http-01
// validation.
func TestHTTPHandlerChallenges(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := testcert.NewCA(t).Issue(t, "hub.example.org").Write(t, dir)
	log, _ := newLog()
	for _, tc := range []struct {
		name   string
		config string
		status int
	}{
		{"files", "[JupyterHub]\nssl_cert = \"" + certFile + "\"\nssl_key = \"" + keyFile + "\"\n",
			http.StatusMovedPermanently},
		// autocert returns 404 for a token it did not issue.
		{"acme", "[JupyterHub]\nacme_domains = [\"hub.example.org\"]\n" +
			"acme_directory_url = \"https://127.0.0.1:1/dir\"\n", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tc.config), "hub.toml")
			must(t, err)
			cfg.JupyterHub.DataDir = filepath.Join(t.TempDir(), "data")
			s, err := New(cfg, "test", log)
			must(t, err)
			if got := string(s.Mode()); got != tc.name {
				t.Errorf("mode = %s, want %s", got, tc.name)
			}
			r := httptest.NewRequest("GET", "/.well-known/acme-challenge/token", nil)
			r.Host = "hub.example.org"
			w := httptest.NewRecorder()
			s.HTTPHandler(443).ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("challenge request = %d, want %d", w.Code, tc.status)
			}
			r = httptest.NewRequest("GET", "/hub/", nil)
			r.Host = "hub.example.org"
			w = httptest.NewRecorder()
			s.HTTPHandler(443).ServeHTTP(w, r)
			if loc := w.Header().Get("Location"); loc != "https://hub.example.org/hub/" {
				t.Errorf("other request = %d %q, want a redirect to https", w.Code, loc)
			}
		})
	}
}

// TestHTTPHandlerHosts checks that the redirect keeps only the hosts that
// the certificate is for, whatever Host header a client sends.
func TestHTTPHandlerHosts(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	certFile, keyFile := ca.Issue(t, "*.example.org", "hub.example.org", "192.0.2.7").Write(t, dir)
	ipDir := filepath.Join(dir, "ip")
	must(t, os.Mkdir(ipDir, 0o700))
	ipCertFile, ipKeyFile := ca.Issue(t, "192.0.2.7").Write(t, ipDir)
	log, _ := newLog()
	setups := map[string]string{
		"files": "[JupyterHub]\nssl_cert = \"" + certFile + "\"\nssl_key = \"" + keyFile + "\"\n",
		"ip files": "[JupyterHub]\nssl_cert = \"" + ipCertFile + "\"\nssl_key = \"" + ipKeyFile +
			"\"\n",
		"acme": "[JupyterHub]\nacme_domains = [\"hub.example.org\", \"Lab.Example.org\"]\n" +
			"acme_directory_url = \"https://127.0.0.1:1/dir\"\n",
	}
	for _, tc := range []struct {
		setup, host string
		status      int
		location    string
	}{
		{"files", "hub.example.org", http.StatusMovedPermanently, "https://hub.example.org/x"},
		{"files", "lab.example.org", http.StatusMovedPermanently, "https://lab.example.org/x"},
		{"files", "198.51.100.1:80", http.StatusMovedPermanently, "https://198.51.100.1/x"},
		{"files", "[2001:db8::1]", http.StatusMovedPermanently, "https://[2001:db8::1]/x"},
		{"files", "evil.example", http.StatusMovedPermanently, "https://hub.example.org/x"},
		{"files", "a.b.example.org", http.StatusMovedPermanently, "https://hub.example.org/x"},
		{"ip files", "192.0.2.7", http.StatusMovedPermanently, "https://192.0.2.7/x"},
		{"ip files", "evil.example", http.StatusBadRequest, ""},
		{"acme", "lab.example.org", http.StatusMovedPermanently, "https://lab.example.org/x"},
		{"acme", "evil.example", http.StatusMovedPermanently, "https://hub.example.org/x"},
		{"acme", "192.0.2.7", http.StatusMovedPermanently, "https://hub.example.org/x"},
	} {
		t.Run(tc.setup+" "+tc.host, func(t *testing.T) {
			cfg, err := config.Parse([]byte(setups[tc.setup]), "hub.toml")
			must(t, err)
			cfg.JupyterHub.DataDir = filepath.Join(t.TempDir(), "data")
			s, err := New(cfg, "test", log)
			must(t, err)
			r := httptest.NewRequest("GET", "/x", nil)
			r.Host = tc.host
			w := httptest.NewRecorder()
			s.HTTPHandler(443).ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			if got := w.Header().Get("Location"); got != tc.location {
				t.Errorf("Location = %q, want %q", got, tc.location)
			}
		})
	}
}

func TestSetupOff(t *testing.T) {
	cfg, err := config.Parse(nil, "")
	must(t, err)
	log, _ := newLog()
	s, err := New(cfg, "test", log)
	must(t, err)
	if s.Mode() != ModeOff || s.TLSConfig() != nil {
		t.Errorf("setup without HTTPS keys: mode %s, TLS config %v", s.Mode(), s.TLSConfig())
	}
}
