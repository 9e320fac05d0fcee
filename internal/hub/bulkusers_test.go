package hub

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
)

// failingInsertHub starts a hub whose SQLite store fails, as a full disk
// does, to insert the user named failName, and that has the admin root.
func failingInsertHub(t *testing.T, failName string) *testHub {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hub.sqlite")
	st, err := store.Open(context.Background(), "sqlite:///"+path, store.Options{})
	must(t, err)
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite3", path)
	must(t, err)
	defer db.Close()
	_, err = db.Exec(fmt.Sprintf(`CREATE TRIGGER full_disk BEFORE INSERT ON users
		WHEN NEW.name = '%s' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`, failName))
	must(t, err)
	th := startHub(t, hubOptions{store: st})
	th.addUser("root", true)
	return th
}

// bulkNames returns user00, user01 and so on, n names.
func bulkNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("user%02d", i)
	}
	return names
}

// wantNoUsers fails the test for each of names that the store has.
func wantNoUsers(t *testing.T, th *testHub, names []string) {
	t.Helper()
	for _, name := range names {
		if _, err := th.store.GetUser(t.Context(), name); err == nil {
			t.Errorf("%s was created although the request failed", name)
		}
	}
}

func TestAPICreateUsersRollsBack(t *testing.T) {
	th := failingInsertHub(t, "user03")
	names := bulkNames(50)
	r := th.api("POST", "/hub/api/users", th.token("root"), map[string]any{"usernames": names})
	if r.status != http.StatusInternalServerError {
		t.Fatalf("POST of 50 users with a failing insert = %d %s, want 500", r.status, r.body)
	}
	if !strings.Contains(string(r.body), "No users created") {
		t.Errorf("error %s does not say that no users were created", r.body)
	}
	wantNoUsers(t, th, names)
}

func TestAdminPageAddUsersRollsBack(t *testing.T) {
	th := failingInsertHub(t, "user03")
	b := th.browser()
	b.mustLogin("root")
	names := bulkNames(50)
	p := b.post("/hub/admin/users", url.Values{"_xsrf": {b.xsrf("/hub/admin")},
		"usernames": {strings.Join(names, "\n")}, "password": {"a temporary password"}})
	target, err := url.Parse(p.location)
	must(t, err)
	message := target.Query().Get("error")
	if p.status != http.StatusSeeOther || message == "" {
		t.Fatalf("adding 50 users with a failing insert = %d %q, want a redirect with an error",
			p.status, p.location)
	}
	if !strings.Contains(message, "No users created") {
		t.Errorf("error %q does not say that no users were created", message)
	}
	wantNoUsers(t, th, names)
}
