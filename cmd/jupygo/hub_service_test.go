//go:build !nohub

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// debianPython is the interpreter of Debian's jupyterhub package.
const debianPython = "/usr/bin/python3"

// serviceAPIToken is the api_token of the service whoami in these tests.
const serviceAPIToken = "whoami-service-token-0123456789abcdef"

// serviceModel is what the service returns: the user model from the hub.
type serviceModel struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// TestHubServiceWithHubAuth runs a JupyterHub service written with
// JupyterHub 3.0's own HubAuth and HubOAuth (testdata/hubauth_service.py)
// behind the hub: users sign in to it through the hub's OAuth, and it
// identifies requests by a user's API token.
func TestHubServiceWithHubAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	check := exec.Command(debianPython, "-c", "import jupyterhub.services.auth, tornado")
	if out, err := check.CombinedOutput(); err != nil {
		t.Skipf("%s cannot import JupyterHub's services.auth (apt-get install jupyterhub): %v\n%s",
			debianPython, err, out)
	}
	serviceURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hub.toml")
	config := fmt.Sprintf(`[JupyterHub]
authenticator_class = "dummy"

[[JupyterHub.services]]
name = "whoami"
url = %q
api_token = %q
oauth_client_allowed_scopes = ["read:users:groups!user"]

[[JupyterHub.load_roles]]
name = "whoami-users"
scopes = ["access:services!service=whoami"]
users = ["alice"]
`, serviceURL, serviceAPIToken)
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	hp := startHubProcess(t, buildJupygo(t), filepath.Join(dir, "data"), "-f", cfg)
	startHubAuthService(t, hp.url, serviceURL)

	alice := newHubBrowser(t, hp.url)
	alice.login("alice", "any")
	aliceToken := hubToken(t, alice)
	bob := newHubBrowser(t, hp.url)
	bob.login("bob", "any")
	bobToken := hubToken(t, bob)

	t.Run("browser with HubOAuth", func(t *testing.T) {
		p, at := alice.follow("/services/whoami/")
		if p.status != http.StatusOK || !strings.Contains(p.body, "Authorize access") {
			t.Fatalf("alice at the service = %d at %s, want the hub's confirmation page: %.500s",
				p.status, at, p.body)
		}
		if !strings.HasPrefix(at, "/hub/api/oauth2/authorize?") {
			t.Errorf("the confirmation page is at %s, want the authorize URL", at)
		}
		action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(p.body)
		xsrf := pageXSRF.FindStringSubmatch(p.body)
		if action == nil || xsrf == nil {
			t.Fatalf("the confirmation page has no form with _xsrf: %.1000s", p.body)
		}
		p = alice.send("POST", strings.ReplaceAll(action[1], "&amp;", "&"), url.Values{"_xsrf": {xsrf[1]}})
		if p.status != http.StatusFound || !strings.HasPrefix(p.location, "/services/whoami/oauth_callback?") {
			t.Fatalf("confirming = %d to %q, want the service's oauth_callback", p.status, p.location)
		}
		p, at = alice.follow(p.location)
		if p.status != http.StatusOK || at != "/services/whoami/" {
			t.Fatalf("after the callback = %d at %s, want the service's page: %.500s", p.status, at, p.body)
		}
		model := decodeServiceModel(t, p.body)
		if model.Kind != "user" || model.Name != "alice" {
			t.Errorf("the service sees %s %q, want user alice", model.Kind, model.Name)
		}
		for _, want := range []string{"access:services!service=whoami", "read:users:groups!user=alice"} {
			if !slices.Contains(model.Scopes, want) {
				t.Errorf("the OAuth token's scopes lack %s: %v", want, model.Scopes)
			}
		}
		if slices.Contains(model.Scopes, "access:servers!user=alice") {
			t.Errorf("the OAuth token has scopes beyond the service's: %v", model.Scopes)
		}
		// The service's cookie now signs alice in without the hub's pages.
		if p := alice.send("GET", "/services/whoami/", nil); p.status != http.StatusOK {
			t.Errorf("second visit = %d to %q, want 200 from the cookie", p.status, p.location)
		}
	})

	t.Run("browser without access", func(t *testing.T) {
		p, at := bob.follow("/services/whoami/")
		if p.status != http.StatusForbidden || !strings.HasPrefix(at, "/hub/api/oauth2/authorize?") {
			t.Errorf("bob at the service = %d at %s, want the hub's 403", p.status, at)
		}
	})

	t.Run("token with HubAuth", func(t *testing.T) {
		target := hp.url + "/services/whoami/api"
		p := tokenRequest(t, target, aliceToken)
		if p.status != http.StatusOK {
			t.Fatalf("GET /services/whoami/api with alice's token = %d: %s", p.status, p.body)
		}
		if model := decodeServiceModel(t, p.body); model.Name != "alice" ||
			!slices.Contains(model.Scopes, "access:services!service=whoami") {
			t.Errorf("the service sees %+v, want alice with access to whoami", model)
		}
		if p := tokenRequest(t, target, bobToken); p.status != http.StatusForbidden {
			t.Errorf("GET /services/whoami/api with bob's token = %d, want 403", p.status)
		}
		// HubAuth sends requests it cannot identify to the hub's login.
		for name, token := range map[string]string{"an unknown token": "0123456789abcdef0123456789abcdef",
			"no token": ""} {
			p := tokenRequest(t, target, token)
			if p.status != http.StatusFound || !strings.HasPrefix(p.location, "/hub/login") {
				t.Errorf("GET /services/whoami/api with %s = %d to %q, want the hub's login",
					name, p.status, p.location)
			}
		}
	})
}

// tokenRequest GETs target with token, when set, and returns the response
// without following redirects.
func tokenRequest(t *testing.T, target, token string) hubPage {
	t.Helper()
	req, err := http.NewRequest("GET", target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "token "+token)
	}
	client := &http.Client{Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return hubPage{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body)}
}

// startHubAuthService runs testdata/hubauth_service.py as the service
// whoami of the hub at hubURL, listening at serviceURL, and waits until
// it accepts connections.
func startHubAuthService(t *testing.T, hubURL, serviceURL string) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("testdata", "hubauth_service.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(debianPython, script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(withoutJupyterHubEnv(os.Environ()),
		"JUPYTERHUB_API_TOKEN="+serviceAPIToken,
		"JUPYTERHUB_API_URL="+hubURL+"/hub/api",
		"JUPYTERHUB_BASE_URL=/",
		"JUPYTERHUB_CLIENT_ID=service-whoami",
		"JUPYTERHUB_SERVICE_NAME=whoami",
		"JUPYTERHUB_SERVICE_PREFIX=/services/whoami/",
		"JUPYTERHUB_SERVICE_URL="+serviceURL,
	)
	cmd.Stderr = &testLogWriter{t: t}

	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})

	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "listening" {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the service exited before it listened")
		}
	case <-time.After(time.Minute):
		t.Fatal("the service did not listen within a minute")
	}
}

// withoutJupyterHubEnv drops the JUPYTERHUB_* variables of a test run
// inside a hub's server, which would point the service elsewhere.
func withoutJupyterHubEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "JUPYTERHUB_")
	})
}

func decodeServiceModel(t *testing.T, body string) serviceModel {
	t.Helper()
	var m serviceModel
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("the service's response is not a user model: %v: %.500s", err, body)
	}
	return m
}
