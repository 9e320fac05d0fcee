package hub

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

func TestPasswordPageKeepsNextAfterError(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("alice", false)
	b := th.browser()
	b.mustLogin("alice")
	token := b.xsrf("/hub/password?next=%2Fhub%2Fhome")
	form := func(current string) url.Values {
		return url.Values{"_xsrf": {token}, "current": {current},
			"new": {"a new password"}, "confirm": {"a new password"}}
	}
	p := b.post("/hub/password?next=%2Fhub%2Fhome", form("wrong"))
	if p.status != http.StatusForbidden {
		t.Fatalf("wrong current password = %d, want 403", p.status)
	}
	m := formAction.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("page after the error has no form: %q", p.body)
	}
	action := html.UnescapeString(m[1])
	target, err := url.Parse(action)
	must(t, err)
	if next := target.Query().Get("next"); next != "/hub/home" {
		t.Errorf("form action after the error = %q, want next=/hub/home", action)
	}
	p = b.post(action, form(testPassword))
	if p.status != http.StatusSeeOther || p.location != "/hub/home" {
		t.Errorf("change from the form after the error = %d %q, want 303 to /hub/home",
			p.status, p.location)
	}
}
