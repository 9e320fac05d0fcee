//go:build !nohub

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"

	"github.com/jupygo/jupygo/internal/testutil/sysaccount"
)

// hubProcess is a `jupygo hub` started by a test.
type hubProcess struct {
	cmd      *exec.Cmd
	url      string // http://127.0.0.1:PORT, or https://NAME:PORT over HTTPS
	admin    string
	password string
	stdout   string // the output up to the line with the URL
	log      lockedBuffer
}

// lockedBuffer is a buffer that one goroutine writes while others read.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLog waits up to a minute for a line of the hub's log that matches
// re, and fails the test without one.
func (hp *hubProcess) waitLog(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !re.MatchString(hp.log.String()); {
		if time.Now().After(deadline) {
			t.Errorf("the hub's log has no line matching %s", re)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// buildJupygo builds the binary into a temporary folder.
var (
	runningAt  = regexp.MustCompile(`jupygo hub is running at (https?://\S+?)/\s`)
	firstAdmin = regexp.MustCompile(`sign in as "([^"]+)" with the one-time password\s+(\S+)`)
	pageXSRF   = regexp.MustCompile(`name="_xsrf" value="([^"]+)"`)
	shownToken = regexp.MustCompile(`<code class="token">([0-9a-f]+)</code>`)
)

// startHubProcess runs `jupygo hub --port 0` with the data folder dataDir
// and the extra arguments, and reads the URL, and at the first start the
// admin's password, from its output.
func startHubProcess(t *testing.T, bin, dataDir string, extra ...string) *hubProcess {
	t.Helper()
	args := append([]string{"hub", "--port", "0", "--data-dir", dataDir}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	hp := &hubProcess{cmd: cmd}
	cmd.Stderr = io.MultiWriter(&testLogWriter{t: t}, &hp.log)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the hub stops, then its servers, which a
	// stopping hub leaves running on purpose.
	t.Cleanup(func() { stopLeftServers(t, dataDir) })
	t.Cleanup(hp.stop)
	sc := bufio.NewScanner(stdout)
	var text strings.Builder
	for sc.Scan() {
		text.WriteString(sc.Text() + "\n")
		if m := firstAdmin.FindStringSubmatch(text.String()); m != nil {
			hp.admin, hp.password = m[1], m[2]
		}
		if m := runningAt.FindStringSubmatch(text.String()); m != nil {
			hp.url = m[1]
			break
		}
	}
	if hp.url == "" {
		t.Fatalf("hub output lacks the URL:\n%s", text.String())
	}
	hp.stdout = text.String()
	go io.Copy(io.Discard, stdout)
	return hp
}

// stop ends the hub with SIGTERM and waits for it.
func (hp *hubProcess) stop() {
	if hp.cmd.ProcessState == nil {
		hp.cmd.Process.Signal(syscall.SIGTERM)
		hp.cmd.Wait()
	}
}

// hubBrowser is a cookie-keeping client that can follow redirects.
type hubBrowser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newHubBrowser(t *testing.T, base string) *hubBrowser {
	jar, _ := cookiejar.New(nil)
	return &hubBrowser{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 90 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type hubPage struct {
	status   int
	location string
	body     string
}

func (b *hubBrowser) send(method, path string, form url.Values) hubPage {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	target := path
	if strings.HasPrefix(path, "/") {
		target = b.base + path
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return hubPage{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(data)}
}

// follow GETs path and follows redirects, up to limit, returning the last
// page and the path it came from. Spawn-pending pages are polled until
// the start ends. A redirect to an absolute URL off the hub's origin, such
// as http:// for a hub on https://, fails the test.
func (b *hubBrowser) follow(path string) (hubPage, string) {
	b.t.Helper()
	origin, err := url.Parse(b.base)
	if err != nil {
		b.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for range 30 {
		p := b.send("GET", path, nil)
		switch {
		case p.status >= 300 && p.status < 400:
			next, err := url.Parse(p.location)
			if err != nil {
				b.t.Fatalf("bad Location %q", p.location)
			}
			if next.IsAbs() && (next.Scheme != origin.Scheme || next.Host != origin.Host) {
				b.t.Errorf("%s redirects to %q, off the hub's origin %s", path, p.location, b.base)
			}
			path = next.RequestURI()
		case p.status == http.StatusOK && strings.Contains(path, "/hub/spawn-pending/") &&
			time.Now().Before(deadline):
			time.Sleep(200 * time.Millisecond) // the page refreshes like this without JavaScript
		default:
			return p, path
		}
	}
	b.t.Fatalf("too many redirects, last at %s", path)
	return hubPage{}, ""
}

func (b *hubBrowser) xsrf(path string) string {
	b.t.Helper()
	m := pageXSRF.FindStringSubmatch(b.send("GET", path, nil).body)
	if m == nil {
		b.t.Fatalf("no _xsrf field on %s", path)
	}
	return m[1]
}

func (b *hubBrowser) login(user, password string) {
	b.t.Helper()
	p := b.send("POST", "/hub/login", url.Values{"_xsrf": {b.xsrf("/hub/login")},
		"username": {user}, "password": {password}})
	if p.status != http.StatusFound {
		b.t.Fatalf("login of %s = %d: %s", user, p.status, p.body)
	}
}

// replacePassword signs in with a temporary password and replaces it, as
// the hub requires before any other page.
func (b *hubBrowser) replacePassword(user, temporary, password string) {
	b.t.Helper()
	b.login(user, temporary)
	if p := b.send("GET", "/hub/home", nil); p.status != http.StatusFound ||
		!strings.HasPrefix(p.location, "/hub/password") {
		b.t.Fatalf("home with a temporary password = %d %q, want the password page",
			p.status, p.location)
	}
	p := b.send("POST", "/hub/password", url.Values{"_xsrf": {b.xsrf("/hub/password")},
		"current": {temporary}, "new": {password}, "confirm": {password}})
	if p.status != http.StatusOK {
		b.t.Fatalf("replacing the password of %s = %d", user, p.status)
	}
}

// TestHubEndToEnd runs the real hub with the real spawner and single-user
// server: log in, start the default server, pass the OAuth flow into
// JupyterLab, use the server's API through the proxy, and stop it.
func TestHubEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, dataDir := buildJupygo(t), filepath.Join(t.TempDir(), "data")
	hp := startHubProcess(t, bin, dataDir)
	if hp.password == "" {
		t.Fatal("the first start printed no admin password")
	}
	admin := newHubBrowser(t, hp.url)
	admin.replacePassword(hp.admin, hp.password, "the admin's own password")

	p, at := admin.follow("/user/" + hp.admin + "/lab")
	if p.status != http.StatusFailedDependency || !strings.HasPrefix(at, "/hub/user/") {
		t.Fatalf("stopped server = %d at %s, want the 424 page", p.status, at)
	}
	p, at = admin.follow("/hub/spawn/" + hp.admin + "?next=" + url.QueryEscape("/user/"+hp.admin+"/lab"))
	if p.status != http.StatusOK || at != "/user/"+hp.admin+"/lab" {
		t.Fatalf("JupyterLab = %d at %s: %.500s", p.status, at, p.body)
	}
	if !strings.Contains(p.body, `"hubUser": "`+hp.admin+`"`) &&
		!strings.Contains(p.body, `"hubUser":"`+hp.admin+`"`) {
		t.Errorf("JupyterLab's page config lacks hubUser %q: %.2000s", hp.admin, p.body)
	}
	status := admin.send("GET", "/user/"+hp.admin+"/api/status", nil)
	if status.status != http.StatusOK || !strings.Contains(status.body, "started") {
		t.Errorf("/api/status through the proxy = %d %s", status.status, status.body)
	}

	// A second user cannot open the admin's server.
	token := admin.xsrf("/hub/admin")
	if p := admin.send("POST", "/hub/admin/users", url.Values{"_xsrf": {token},
		"usernames": {"bob"}, "password": {"bob's long password"}}); p.status != http.StatusSeeOther {
		t.Fatalf("adding bob = %d", p.status)
	}
	bob := newHubBrowser(t, hp.url)
	bob.replacePassword("bob", "bob's long password", "bob's own password")
	p, at = bob.follow("/user/" + hp.admin + "/lab")
	if p.status == http.StatusOK {
		t.Errorf("bob opened the admin's server at %s", at)
	}
	if p.status != http.StatusForbidden {
		t.Errorf("bob at the admin's server = %d at %s, want 403", p.status, at)
	}

	// The server keeps running through a restart of the hub, and the
	// browser's cookies keep working. The new hub listens on the same
	// port, because the server reaches the hub's API at the address it
	// was started with.
	pid := serverPID(t, admin, hp.admin)
	hp.stop()
	if sysaccount.Gone(pid) {
		t.Fatal("stopping the hub stopped the user's server")
	}
	hubURL, err := url.Parse(hp.url)
	if err != nil {
		t.Fatal(err)
	}
	hp2 := startHubProcess(t, bin, dataDir, "--port", hubURL.Port())
	if hp2.password != "" {
		t.Error("the second start printed a new admin password")
	}
	admin.base = hp2.url
	status = admin.send("GET", "/user/"+hp.admin+"/api/status", nil)
	if status.status != http.StatusOK {
		t.Errorf("/api/status after the hub restart = %d %s", status.status, status.body)
	}
	if got := serverPID(t, admin, hp.admin); got != pid {
		t.Errorf("server pid after the restart = %d, want %d", got, pid)
	}

	p = admin.send("POST", "/hub/stop/"+hp.admin, url.Values{"_xsrf": {admin.xsrf("/hub/home")}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("stop = %d %s", p.status, p.body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !sysaccount.Gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("server process %d still runs after the stop", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p, _ := admin.follow("/user/" + hp.admin + "/api/status"); p.status != http.StatusFailedDependency {
		t.Errorf("stopped server's API = %d, want 424", p.status)
	}
}

// serverPID reads the server's pid from its spawner state, through an API
// token made on the token page.
func serverPID(t *testing.T, b *hubBrowser, user string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", b.base+"/hub/api/users/"+user, nil)
	req.Header.Set("Authorization", "token "+hubToken(t, b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var model struct {
		Servers map[string]struct {
			State struct {
				PID int `json:"pid"`
			} `json:"state"`
		} `json:"servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&model); err != nil {
		t.Fatal(err)
	}
	pid := model.Servers[""].State.PID
	if pid <= 0 {
		t.Fatalf("no pid in the server state: %+v", model)
	}
	return pid
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/srv/jupygo-data", "/srv/jupygo-data"},
		{"/srv/my data", "'/srv/my data'"},
		{"/srv/it's", `'/srv/it'\''s'`},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestHubSetPassword(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out, errs strings.Builder
	code := runSetPassword([]string{"--data-dir", dir, "carol"},
		strings.NewReader("a good long password\n"), &out, &errs)
	if code == 0 {
		t.Error("set-password succeeded without a data folder")
	}
	if want := "the data folder " + dir + " does not exist"; !strings.Contains(errs.String(), want) {
		t.Errorf("the error does not say %q: %s", want, errs.String())
	}
	if want := "jupygo hub --data-dir " + dir; !strings.Contains(errs.String(), want) {
		t.Errorf("the error does not give the command %q: %s", want, errs.String())
	}
	if strings.Contains(errs.String(), "not readable") {
		t.Errorf("the error calls a missing folder not readable: %s", errs.String())
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("set-password created the data folder %s", dir)
	}

	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	errs.Reset()
	code = runSetPassword([]string{"--data-dir", dir, "carol"},
		strings.NewReader("a good long password\n"), &out, &errs)
	if code == 0 {
		t.Error("set-password succeeded with a file as the data folder")
	}
	if want := dir + " is not a folder"; !strings.Contains(errs.String(), want) {
		t.Errorf("the error does not say %q: %s", want, errs.String())
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}

	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	errs.Reset()
	code = runSetPassword([]string{"--data-dir", dir, "carol"},
		strings.NewReader("a good long password\n"), &out, &errs)
	if code == 0 {
		t.Error("set-password succeeded without a database")
	}
	database := filepath.Join(dir, "jupyterhub.sqlite")
	if want := "the database " + database + " does not exist"; !strings.Contains(errs.String(), want) {
		t.Errorf("the error does not say %q: %s", want, errs.String())
	}
	if want := "jupygo hub --data-dir " + dir; !strings.Contains(errs.String(), want) {
		t.Errorf("the error does not give the command %q: %s", want, errs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "jupyterhub.sqlite")); err == nil {
		t.Error("set-password created the database")
	}
	created, err := store.Open(t.Context(), "sqlite:///"+filepath.Join(dir, "jupyterhub.sqlite"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	created.Close()
	errs.Reset()
	code = runSetPassword([]string{"--data-dir", dir, "carol"}, strings.NewReader(""), &out, &errs)
	if code == 0 {
		t.Error("an empty password was accepted")
	}
	if !strings.Contains(errs.String(), "empty") {
		t.Errorf("the error for an empty standard input does not say it is empty: %s", errs.String())
	}
	code = runSetPassword([]string{"--data-dir", dir, "--admin", "Carol"},
		strings.NewReader("a good long password\n"), &out, &errs)
	if code != 0 {
		t.Fatalf("set-password = %d: %s", code, errs.String())
	}
	st, err := store.Open(t.Context(), "sqlite:///"+filepath.Join(dir, "jupyterhub.sqlite"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.GetUser(t.Context(), "carol")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Admin || !store.CheckPassword(u.PasswordHash, "a good long password") {
		t.Errorf("carol: admin %v, password set %v", u.Admin, u.PasswordHash != "")
	}
	// Setting the password again signs carol out everywhere.
	if _, err := st.CreateSession(t.Context(), store.Session{ID: "carol-session", User: "carol",
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	code = runSetPassword([]string{"--data-dir", dir, "carol"},
		strings.NewReader("another long password\n"), &out, &errs)
	if code != 0 {
		t.Fatalf("set-password = %d: %s", code, errs.String())
	}
	if _, err := st.GetSession(t.Context(), "carol-session"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("carol's session after set-password: %v, want it ended", err)
	}
	code = runSetPassword([]string{"--data-dir", dir, "carol"}, strings.NewReader("short\n"), &out, &errs)
	if code == 0 {
		t.Error("a short password was accepted")
	}
}

// TestHubWithJupyterHubSingleuser checks that JupyterHub 3's own
// single-user server works with the hub. It starts, passes the hub's
// readiness check, calls the hub's API with its API token and reports
// activity. It signs the browser in through the OAuth flow and checks the
// OAuth token with /hub/api/user, so that the user lands in their server.
func TestHubWithJupyterHubSingleuser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	singleuser, err := exec.LookPath("jupyterhub-singleuser")
	if err != nil {
		t.Skip("jupyterhub-singleuser is not installed")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hub.toml")
	// A short activity interval makes the server report soon after start.
	toml := "[Spawner]\ncmd = [\"" + singleuser + "\"]\n" +
		"environment = { JUPYTERHUB_ACTIVITY_INTERVAL = \"2\" }\n"
	if os.Geteuid() == 0 {
		// jupyter_server refuses to run as root without this flag.
		toml += "args = [\"--allow-root\"]\n"
	}
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	hp := startHubProcess(t, buildJupygo(t), dataDir, "-f", cfg)
	b := newHubBrowser(t, hp.url)
	b.replacePassword(hp.admin, hp.password, "the admin's own password")
	home := filepath.Join(dataDir, "users", hp.admin)
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "hello.txt"), []byte("hello from the home folder"), 0o600); err != nil {
		t.Fatal(err)
	}

	// An API call does not start the OAuth flow, but an authenticated
	// page does. Debian's jupyter_server 1.23 alone has few pages: /files/
	// is one.
	page := "/user/" + hp.admin + "/files/hello.txt"
	p, at := b.follow("/hub/spawn/" + hp.admin + "?next=" + url.QueryEscape(page))
	if p.status != http.StatusOK || at != page || p.body != "hello from the home folder" {
		t.Fatalf("jupyterhub-singleuser's %s = %d at %s, want the file after sign-in: %.500s",
			page, p.status, at, p.body)
	}
	if p := b.send("GET", "/user/"+hp.admin+"/files/missing.txt", nil); p.status != http.StatusNotFound {
		t.Errorf("a missing file with the OAuth cookie = %d, want 404", p.status)
	}
	p = b.send("GET", "/user/"+hp.admin+"/api/status", nil)
	if p.status != http.StatusOK || !strings.Contains(p.body, "started") {
		t.Errorf("jupyterhub-singleuser's /api/status = %d: %.500s", p.status, p.body)
	}
	if p := newHubBrowser(t, hp.url).send("GET", page, nil); p.status != http.StatusFound ||
		!strings.Contains(p.location, "/hub/api/oauth2/authorize?") {
		t.Errorf("%s without the OAuth cookie = %d to %q, want the hub's authorize URL",
			page, p.status, p.location)
	}

	// The hub's access log shows each call of the server with its status.
	for _, call := range []struct{ what, line string }{
		{"the check of the hub's API at start", `method=GET path=/hub/api/? status=200`},
		{"the code exchange with the API token", `method=POST path=/hub/api/oauth2/token status=200`},
		{"the OAuth token's identity", `method=GET path=/hub/api/user status=200`},
		{"activity", `method=POST path=/hub/api/users/` + hp.admin + `/activity status=200`},
	} {
		t.Run(call.what, func(t *testing.T) {
			hp.waitLog(t, regexp.MustCompile(call.line))
		})
	}
	// A user's API token opens the server's REST API, which checks it with
	// the hub's /hub/api/user.
	token := hubToken(t, b)
	contents := apiRequest(t, "GET", hp.url+"/user/"+hp.admin+"/api/contents/hello.txt", token, "")
	if contents.status != http.StatusOK || !strings.Contains(contents.body, `"name": "hello.txt"`) &&
		!strings.Contains(contents.body, `"name":"hello.txt"`) {
		t.Errorf("jupyterhub-singleuser's contents API with the user's API token = %d: %.500s",
			contents.status, contents.body)
	}
	if p := apiRequest(t, "GET", hp.url+"/user/"+hp.admin+"/api/contents/hello.txt",
		"0123456789abcdef0123456789abcdef", ""); p.status != http.StatusForbidden {
		t.Errorf("jupyterhub-singleuser's contents API with an unknown token = %d, want 403", p.status)
	}
	model := apiRequest(t, "GET", hp.url+"/hub/api/users/"+hp.admin, token, "")
	var user struct {
		Servers map[string]struct {
			Ready        bool    `json:"ready"`
			LastActivity *string `json:"last_activity"`
			URL          string  `json:"url"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(model.body), &user); err != nil {
		t.Fatalf("user model: %v: %s", err, model.body)
	}
	if sv, ok := user.Servers[""]; !ok || !sv.Ready || sv.LastActivity == nil ||
		sv.URL != "/user/"+hp.admin+"/" {
		t.Errorf("the hub's model of the server = %s, want it ready with activity", model.body)
	}

	pid := serverPID(t, b, hp.admin)
	p = b.send("POST", "/hub/stop/"+hp.admin, url.Values{"_xsrf": {b.xsrf("/hub/home")}})
	if p.status != http.StatusSeeOther {
		t.Errorf("stop = %d", p.status)
	}
	for deadline := time.Now().Add(30 * time.Second); !sysaccount.Gone(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("jupyterhub-singleuser (pid %d) still runs after the stop", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHubNamedServer runs a named server beside the default one with the
// real spawner, and checks that each responds under its own prefix.
func TestHubNamedServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hub.toml")
	if err := os.WriteFile(cfg, []byte("[JupyterHub]\nallow_named_servers = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hp := startHubProcess(t, buildJupygo(t), filepath.Join(dir, "data"), "-f", cfg)
	b := newHubBrowser(t, hp.url)
	b.replacePassword(hp.admin, hp.password, "the admin's own password")
	for _, prefix := range []string{"/user/" + hp.admin + "/", "/user/" + hp.admin + "/work/"} {
		spawn := "/hub/spawn/" + strings.TrimPrefix(strings.TrimSuffix(prefix, "/"), "/user/")
		p, at := b.follow(spawn + "?next=" + url.QueryEscape(prefix+"lab"))
		if p.status != http.StatusOK || at != prefix+"lab" {
			t.Fatalf("%slab = %d at %s", prefix, p.status, at)
		}
	}
	for _, prefix := range []string{"/user/" + hp.admin + "/", "/user/" + hp.admin + "/work/"} {
		p := b.send("GET", prefix+"api/status", nil)
		if p.status != http.StatusOK {
			t.Errorf("%sapi/status = %d %s", prefix, p.status, p.body)
		}
	}

	// The stopped named server's JupyterLab gets the hub's 424, which
	// offers a restart, and not a reply of the default server.
	work := "/user/" + hp.admin + "/work/"
	p := b.send("POST", "/hub/stop/"+hp.admin+"/work", url.Values{"_xsrf": {b.xsrf("/hub/home")}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("stopping work = %d %s", p.status, p.body)
	}
	p, at := b.follow(work + "api/status")
	if p.status != http.StatusFailedDependency || at != "/hub"+work+"api/status" {
		t.Errorf("%sapi/status after the stop = %d at %s, want 424 at the hub: %s", work, p.status, at, p.body)
	}
	if !strings.Contains(p.body, "/hub/spawn/"+hp.admin+"/work") {
		t.Errorf("424 of the stopped work lacks its spawn link: %s", p.body)
	}
	if p := b.send("GET", "/user/"+hp.admin+"/api/status", nil); p.status != http.StatusOK {
		t.Errorf("default server after work stopped = %d %s", p.status, p.body)
	}
}

func TestHubDummyAuthenticator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hub.toml")
	config := "[JupyterHub]\nauthenticator_class = \"dummy\"\n\n" +
		"[DummyAuthenticator]\npassword = \"shared for tests\"\n"
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	hp := startHubProcess(t, buildJupygo(t), filepath.Join(dir, "data"), "-f", cfg)
	if !strings.Contains(hp.stdout, `WARNING: authenticator_class = "dummy"`) {
		t.Errorf("output lacks the warning about the dummy authenticator:\n%s", hp.stdout)
	}
	if hp.password != "" {
		t.Errorf("the hub printed a one-time admin password for the dummy authenticator")
	}
	b := newHubBrowser(t, hp.url)
	p := b.send("POST", "/hub/login", url.Values{"_xsrf": {b.xsrf("/hub/login")},
		"username": {"carol"}, "password": {"wrong"}})
	if p.status != http.StatusForbidden {
		t.Errorf("login with a wrong shared password = %d, want 403", p.status)
	}
	b.login("Carol", "shared for tests")
	if p := b.send("GET", "/hub/home", nil); p.status != http.StatusOK || !strings.Contains(p.body, "carol") {
		t.Errorf("home after the dummy login = %d, want carol's home page: %s", p.status, p.body)
	}
}

// stopLeftServers ends the server processes that the SQLite store in
// dataDir still lists, so that a test leaves none behind, even when it fails
// midway.
func stopLeftServers(t *testing.T, dataDir string) {
	stopListedServers(t, "sqlite:///"+filepath.Join(dataDir, "jupyterhub.sqlite"), dataDir)
}

// stopListedServers ends the server processes that the store at dbURL
// lists. Only processes working in dataDir are signalled, so a reused pid
// is never hit.
func stopListedServers(t *testing.T, dbURL, dataDir string) {
	st, err := store.Open(context.Background(), dbURL, store.Options{})
	if err != nil {
		t.Logf("opening the store to stop servers: %v", err)
		return
	}
	defer st.Close()
	servers, err := st.ListServers(context.Background(), "")
	if err != nil {
		t.Logf("listing servers to stop: %v", err)
		return
	}
	for _, sv := range servers {
		var state struct {
			PID int `json:"pid"`
		}
		if json.Unmarshal(sv.State, &state) != nil || state.PID <= 0 {
			continue
		}
		cwd, err := os.Readlink("/proc/" + strconv.Itoa(state.PID) + "/cwd")
		if err != nil || !strings.HasPrefix(cwd, dataDir) {
			continue
		}
		syscall.Kill(-state.PID, syscall.SIGKILL)
		for deadline := time.Now().Add(5 * time.Second); !sysaccount.Gone(state.PID) &&
			time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
	}
}
