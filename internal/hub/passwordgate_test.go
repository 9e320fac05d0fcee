package hub

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// cookieAPI sends a REST API request with the browser's login cookie and
// an X-XSRFToken header, as the hub's pages do.
func (b *browser) cookieAPI(method, path, xsrf string) pageResult {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader("{}"))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("X-XSRFToken", xsrf)
	return b.do(req)
}

func TestTemporaryPasswordBlocksCookieAPI(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("dave", false)
	root := th.browser()
	root.mustLogin("root")
	p := root.post("/hub/admin/users/dave/password", url.Values{"_xsrf": {root.xsrf("/hub/admin")},
		"password": {"set by the admin"}})
	if p.status != http.StatusSeeOther || strings.Contains(p.location, "error=") {
		t.Fatalf("set password = %d %q", p.status, p.location)
	}

	dave := th.browser()
	if p := dave.login("dave", "set by the admin", ""); p.status != http.StatusFound {
		t.Fatalf("login with the admin's password = %d %s", p.status, p.body)
	}
	xsrf := dave.xsrf("/hub/password")
	for _, c := range []struct{ method, path string }{
		{"POST", "/hub/api/users/dave/tokens"},
		{"POST", "/hub/api/users/dave/server"},
		{"GET", "/hub/api/user"},
	} {
		p := dave.cookieAPI(c.method, c.path, xsrf)
		if p.status != http.StatusForbidden {
			t.Errorf("%s %s with a temporary password = %d %s, want 403", c.method, c.path, p.status, p.body)
		}
		if !strings.Contains(p.body, "Change it at /hub/password") {
			t.Errorf("%s %s with a temporary password = %s, want a message naming /hub/password",
				c.method, c.path, p.body)
		}
	}
	if n := th.spawner.running(); n != 0 {
		t.Errorf("servers running after the rejected start = %d, want 0", n)
	}

	// A token request passes. The token page waits for the new password,
	// so this token comes from the store.
	r := th.api("POST", "/hub/api/users/dave/tokens", th.token("dave"), nil)
	if r.status != http.StatusCreated {
		t.Errorf("token request with a temporary password = %d %s, want 201", r.status, r.body)
	}

	p = dave.post("/hub/password", url.Values{"_xsrf": {xsrf}, "current": {"set by the admin"},
		"new": {"set by the admin"}, "confirm": {"set by the admin"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Choose a different password") {
		t.Errorf("keeping the temporary password = %d %q, want 400", p.status, p.location)
	}
	if p := dave.cookieAPI("GET", "/hub/api/user", xsrf); p.status != http.StatusForbidden {
		t.Errorf("cookie API after keeping the temporary password = %d, want 403", p.status)
	}

	p = dave.post("/hub/password", url.Values{"_xsrf": {xsrf}, "current": {"set by the admin"},
		"new": {"chosen by dave"}, "confirm": {"chosen by dave"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, "Password changed.") {
		t.Fatalf("changing the temporary password = %d %q %s", p.status, p.location, p.body)
	}
	if p := dave.cookieAPI("POST", "/hub/api/users/dave/tokens", xsrf); p.status != http.StatusCreated {
		t.Errorf("cookie token request after the change = %d %s, want 201", p.status, p.body)
	}
}
