//go:build !nohub

package main

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
	"github.com/jupygo/jupygo/internal/store/pgtest"

	"github.com/jupygo/jupygo/internal/testutil/sysaccount"
)

// TestHubOnPostgres runs the real hub with its state in a throwaway
// PostgreSQL database: start a server, restart the hub, and find the
// server still running and routed.
func TestHubOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := pgtest.Start(t)
	dbURL := srv.CreateDatabase(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "hub.toml")
	toml := "[JupyterHub]\ndb_url = " + strconv.Quote(dbURL) + "\n"
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the hubs stop, then the servers they left,
	// and then PostgreSQL.
	t.Cleanup(func() { stopListedServers(t, dbURL, dataDir) })

	bin := buildJupygo(t)
	hp := startHubProcess(t, bin, dataDir, "-f", cfg)
	if hp.password == "" {
		t.Fatal("the first start printed no admin password")
	}
	admin := newHubBrowser(t, hp.url)
	admin.replacePassword(hp.admin, hp.password, "the admin's own password")
	lab := "/user/" + hp.admin + "/lab"
	p, at := admin.follow("/hub/spawn/" + hp.admin + "?next=" + url.QueryEscape(lab))
	if p.status != http.StatusOK || at != lab {
		t.Fatalf("JupyterLab = %d at %s: %.500s", p.status, at, p.body)
	}
	pid := serverPID(t, admin, hp.admin)

	// The state is in PostgreSQL, and no SQLite file appeared.
	sv := postgresServer(t, dbURL, hp.admin)
	if !sv.Ready() {
		t.Errorf("server in PostgreSQL = %+v, want it ready", sv)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "jupyterhub.sqlite")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the hub on PostgreSQL made jupyterhub.sqlite (stat: %v)", err)
	}

	// The new hub listens on the same port, because the server reaches the
	// hub's API at the address it was started with.
	hp.stop()
	if sysaccount.Gone(pid) {
		t.Fatal("stopping the hub stopped the user's server")
	}
	hubURL, err := url.Parse(hp.url)
	if err != nil {
		t.Fatal(err)
	}
	hp2 := startHubProcess(t, bin, dataDir, "-f", cfg, "--port", hubURL.Port())
	if hp2.password != "" {
		t.Error("the second start printed a new admin password")
	}
	admin.base = hp2.url
	status := admin.send("GET", "/user/"+hp.admin+"/api/status", nil)
	if status.status != http.StatusOK || !strings.Contains(status.body, "started") {
		t.Errorf("/api/status after the hub restart = %d %s", status.status, status.body)
	}
	if got := serverPID(t, admin, hp.admin); got != pid {
		t.Errorf("server pid after the restart = %d, want %d", got, pid)
	}

	p = admin.send("POST", "/hub/stop/"+hp.admin, url.Values{"_xsrf": {admin.xsrf("/hub/home")}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("stop = %d %s", p.status, p.body)
	}
	for deadline := time.Now().Add(15 * time.Second); !sysaccount.Gone(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("server process %d still runs after the stop", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if sv := postgresServer(t, dbURL, hp.admin); sv.Active() {
		t.Errorf("server in PostgreSQL after the stop = %+v, want it stopped", sv)
	}
}

// postgresServer returns the user's default server as the database at
// dbURL stores it.
func postgresServer(t *testing.T, dbURL, user string) store.Server {
	t.Helper()
	st, err := store.Open(t.Context(), dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sv, err := st.GetServer(t.Context(), user, "")
	if err != nil {
		t.Fatal(err)
	}
	return sv
}
