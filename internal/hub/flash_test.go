package hub

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPagesIgnoreUnsignedNotices(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	b := th.browser()
	b.mustLogin("root")
	spoof := "Your session expired. Re-enter your password at https://evil.example/login"
	for _, path := range []string{
		"/hub/home?notice=" + url.QueryEscape(spoof),
		"/hub/home?error=" + url.QueryEscape(spoof),
		"/hub/admin?notice=" + url.QueryEscape(spoof),
		"/hub/admin?error=" + url.QueryEscape(spoof) + "&issued=1&sig=forged",
	} {
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", path, p.status)
		}
		if strings.Contains(p.body, "evil.example") {
			t.Errorf("GET %s shows the text of the query", path)
		}
	}
}

func TestAdminNoticeSignedForSession(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("bob", false)
	b := th.browser()
	b.mustLogin("root")
	p := b.post("/hub/admin/users/bob/delete", url.Values{"_xsrf": {b.xsrf("/hub/admin")}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("deleting bob = %d %q, want 303", p.status, p.location)
	}
	if page := b.get(p.location); !strings.Contains(page.body, "Deleted bob.") {
		t.Errorf("admin page after deleting bob = %d, want the notice %q", page.status, "Deleted bob.")
	}
	other := th.browser()
	other.mustLogin("root")
	if page := other.get(p.location); strings.Contains(page.body, "Deleted bob.") {
		t.Errorf("another session of root shows the notice of the link")
	}
}

func TestFlashExpiresAndResistsTampering(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := newSessions([]byte(strings.Repeat("k", 32)), "/", func() time.Time { return now })
	target := s.flashURL(httptest.NewRequest("POST", "/hub/admin/users/bob/delete", nil),
		"/hub/admin", "Deleted bob.", "")
	read := func(target string) (string, string) {
		return s.readFlash(httptest.NewRequest("GET", target, nil))
	}

	if notice, errText := read(target); notice != "Deleted bob." || errText != "" {
		t.Errorf("readFlash = %q, %q, want the notice", notice, errText)
	}
	tampered := strings.Replace(target, "bob", "eve", 1)
	if notice, _ := read(tampered); notice != "" {
		t.Errorf("readFlash of an altered notice = %q, want none", notice)
	}
	withError := target + "&error=" + url.QueryEscape("Added text")
	if notice, errText := read(withError); notice != "" || errText != "" {
		t.Errorf("readFlash with an added error = %q, %q, want none", notice, errText)
	}
	now = now.Add(flashMaxAge + time.Second)
	if notice, _ := read(target); notice != "" {
		t.Errorf("readFlash after %v = %q, want none", flashMaxAge, notice)
	}
}
