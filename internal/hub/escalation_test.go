package hub

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// useradminConfig gives ops every scope a plain user holds for itself, for
// every user, but not the admin role's.
const useradminConfig = `
[[JupyterHub.load_roles]]
name = "useradmin"
scopes = ["admin:users", "admin:servers", "tokens", "access:servers", "read:shares", "users:shares"]
users = ["ops"]
`

func TestAdminPageNoEscalation(t *testing.T) {
	th := startHub(t, hubOptions{config: useradminConfig})
	th.addUser("root", true)
	th.addUser("ops", false)
	th.addUser("bob", false)
	b := th.browser()
	b.mustLogin("ops")
	xsrf := b.xsrf("/hub/home")

	p := b.post("/hub/admin/users/root/password", url.Values{"_xsrf": {xsrf},
		"password": {"taken over by ops"}})
	if p.status != http.StatusForbidden {
		t.Errorf("ops setting root's password = %d %q, want 403", p.status, p.location)
	}
	if p := th.browser().login("root", "taken over by ops", ""); p.status == http.StatusFound {
		t.Errorf("root signs in with the password ops sent")
	}
	p = b.post("/hub/admin/users/root/delete", url.Values{"_xsrf": {xsrf}})
	if p.status != http.StatusForbidden {
		t.Errorf("ops deleting root = %d %q, want 403", p.status, p.location)
	}
	if _, err := th.store.GetUser(t.Context(), "root"); err != nil {
		t.Errorf("root after ops's delete: %v", err)
	}

	// ops holds every scope bob holds, so ops may manage bob.
	p = b.post("/hub/admin/users/bob/password", url.Values{"_xsrf": {xsrf},
		"password": {"set by ops for bob"}})
	if p.status != http.StatusSeeOther || strings.Contains(p.location, "error=") {
		t.Errorf("ops setting bob's password = %d %q, want 303 with a notice", p.status, p.location)
	}
	p = b.post("/hub/admin/users/bob/delete", url.Values{"_xsrf": {xsrf}})
	if p.status != http.StatusSeeOther || strings.Contains(p.location, "error=") {
		t.Errorf("ops deleting bob = %d %q, want 303 with a notice", p.status, p.location)
	}
}

func TestAPINoEscalation(t *testing.T) {
	th := startHub(t, hubOptions{config: useradminConfig})
	th.addUser("root", true)
	th.addUser("ops", false)
	th.addUser("bob", false)
	ops := th.token("ops")
	narrow := th.token("ops", "admin:users")

	for _, c := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"demote root", "PATCH", "/hub/api/users/root", ops, map[string]any{"admin": false}, 403},
		{"rename root", "PATCH", "/hub/api/users/root", ops, map[string]any{"name": "rooty"}, 403},
		{"delete root", "DELETE", "/hub/api/users/root", ops, nil, 403},
		{"token for root", "POST", "/hub/api/users/root/tokens", ops, map[string]any{}, 403},
		{"narrow token renames bob", "PATCH", "/hub/api/users/bob", narrow,
			map[string]any{"name": "bobby"}, 403},

		{"rename bob", "PATCH", "/hub/api/users/bob", ops, map[string]any{"name": "bobby"}, 200},
		{"token for bobby", "POST", "/hub/api/users/bobby/tokens", ops, map[string]any{}, 201},
		{"delete bobby", "DELETE", "/hub/api/users/bobby", ops, nil, 204},
		// Deleting a plain user gives the caller none of that user's
		// scopes, so delete:users alone is enough, as in JupyterHub.
		{"create carol", "POST", "/hub/api/users/carol", narrow, nil, 201},
		{"delete:users token deletes carol", "DELETE", "/hub/api/users/carol",
			th.token("ops", "delete:users"), nil, 204},
		{"delete:users token deletes root", "DELETE", "/hub/api/users/root",
			th.token("ops", "delete:users"), nil, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := th.api(c.method, c.path, c.token, c.body)
			if r.status != c.want {
				t.Errorf("%s %s = %d %s, want %d", c.method, c.path, r.status, r.body, c.want)
			}
		})
	}
	var root map[string]any
	th.api("GET", "/hub/api/users/root", th.token("root"), nil).json(t, &root)
	if root["admin"] != true {
		t.Errorf("root after the requests of ops = %v, want an admin", root)
	}
}
