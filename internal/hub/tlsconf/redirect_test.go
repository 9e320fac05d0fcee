package tlsconf

import (
	"net/http"
	"net/http/httptest"
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
		{"no host", "GET", "", "/", 443, http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			r.Host = tc.host
			w := httptest.NewRecorder()
			RedirectHandler(tc.port).ServeHTTP(w, r)
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
