package hub

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/spawn"
)

// homesHub starts a hub with the simple spawner, whose home folders are
// in the returned folder's users/, and the admin root.
func homesHub(t *testing.T) (*testHub, string) {
	t.Helper()
	dir := t.TempDir()
	sp := &spawn.SimpleLocalProcess{UsersDir: filepath.Join(dir, "users"),
		DeletedDir: filepath.Join(dir, "deleted-users")}
	th := startHub(t, hubOptions{spawner: sp})
	th.addUser("root", true)
	return th, dir
}

// writeNotebook creates the home folder of user with a notebook in it.
func writeNotebook(t *testing.T, dir, user string) {
	t.Helper()
	home := filepath.Join(dir, "users", user)
	must(t, os.MkdirAll(home, 0o700))
	must(t, os.WriteFile(filepath.Join(home, "work.ipynb"), []byte(user), 0o600))
}

// notebookOwner returns whose notebook is in home, "" when there is none.
func notebookOwner(t *testing.T, home string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, "work.ipynb"))
	if os.IsNotExist(err) {
		return ""
	}
	must(t, err)
	return string(data)
}

func TestRenameMovesHomeFolder(t *testing.T) {
	th, dir := homesHub(t)
	th.addUser("dave", false)
	writeNotebook(t, dir, "dave")
	r := th.api("PATCH", "/hub/api/users/dave", th.token("root"), map[string]any{"name": "dave2"})
	if r.status != http.StatusOK {
		t.Fatalf("rename = %d %s", r.status, r.body)
	}
	if got := notebookOwner(t, filepath.Join(dir, "users", "dave2")); got != "dave" {
		t.Errorf("users/dave2 has the notebook of %q, want dave's", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "users", "dave")); !os.IsNotExist(err) {
		t.Errorf("users/dave is still there after the rename (err %v)", err)
	}
}

func TestRenameRejectsExistingHomeFolder(t *testing.T) {
	th, dir := homesHub(t)
	th.addUser("dave", false)
	writeNotebook(t, dir, "dave")
	writeNotebook(t, dir, "dave2")
	r := th.api("PATCH", "/hub/api/users/dave", th.token("root"), map[string]any{"name": "dave2"})
	if r.status != http.StatusBadRequest {
		t.Fatalf("rename onto an existing home folder = %d %s, want 400", r.status, r.body)
	}
	if !strings.Contains(string(r.body), "home folder of dave2 exists") {
		t.Errorf("error %s does not name the existing home folder", r.body)
	}
	if _, err := th.store.GetUser(t.Context(), "dave"); err != nil {
		t.Errorf("dave was renamed although the rename failed: %v", err)
	}
	if got := notebookOwner(t, filepath.Join(dir, "users", "dave")); got != "dave" {
		t.Errorf("users/dave has the notebook of %q, want dave's", got)
	}
	if got := notebookOwner(t, filepath.Join(dir, "users", "dave2")); got != "dave2" {
		t.Errorf("users/dave2 has the notebook of %q, want the one that was there", got)
	}
}

func TestDeleteMovesHomeFolderAside(t *testing.T) {
	th, dir := homesHub(t)
	th.addUser("dave", false)
	writeNotebook(t, dir, "dave")
	admin := th.token("root")
	if r := th.api("DELETE", "/hub/api/users/dave", admin, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete = %d %s", r.status, r.body)
	}
	if _, err := os.Lstat(filepath.Join(dir, "users", "dave")); !os.IsNotExist(err) {
		t.Errorf("users/dave is still there after the deletion (err %v)", err)
	}
	archived, err := filepath.Glob(filepath.Join(dir, "deleted-users", "*", "dave"))
	must(t, err)
	if len(archived) != 1 {
		t.Fatalf("deleted-users holds %v, want one folder of dave", archived)
	}
	if got := notebookOwner(t, archived[0]); got != "dave" {
		t.Errorf("%s has the notebook of %q, want dave's", archived[0], got)
	}
	if r := th.api("POST", "/hub/api/users/dave", admin, nil); r.status != http.StatusCreated {
		t.Fatalf("creating a new dave = %d %s", r.status, r.body)
	}
	if _, err := os.Lstat(filepath.Join(dir, "users", "dave")); !os.IsNotExist(err) {
		t.Errorf("the new dave has a home folder before the first start (err %v)", err)
	}
}
