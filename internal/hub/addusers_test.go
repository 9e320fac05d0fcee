package hub

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestAdminPageAddUsersAllOrNone(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("taken", false)
	b := th.browser()
	b.mustLogin("root")
	token := b.xsrf("/hub/admin")
	tests := []struct {
		name, usernames, password string
		wantInError               []string
	}{
		{"invalid names", "good1\n../bad\ngood2\n..", "", []string{`"../bad"`, `".."`}},
		{"short password", "good1\ngood2", "short", []string{"too short"}},
		{"existing name", "good1\nTaken", "", []string{"taken already exists"}},
	}
	for _, hidden := range hiddenCharacterNames {
		if !strings.Contains(hidden.name, "\n") { // the form takes one name a line
			tests = append(tests, struct {
				name, usernames, password string
				wantInError               []string
			}{hidden.want, "good1\n" + hidden.name, "", []string{hidden.want}})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.post("/hub/admin/users", url.Values{"_xsrf": {token},
				"usernames": {tt.usernames}, "password": {tt.password}})
			target, err := url.Parse(p.location)
			must(t, err)
			message := target.Query().Get("error")
			if p.status != http.StatusSeeOther || message == "" {
				t.Fatalf("adding users = %d %q, want a redirect with an error", p.status, p.location)
			}
			for _, want := range tt.wantInError {
				if !strings.Contains(message, want) {
					t.Errorf("error %q does not name %s", message, want)
				}
			}
			for _, name := range []string{"good1", "good2"} {
				if _, err := th.store.GetUser(t.Context(), name); err == nil {
					t.Errorf("%s was created despite the error", name)
				}
			}
		})
	}
}

func TestAdminPageAddUsersRepeated(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	b := th.browser()
	b.mustLogin("root")
	token := b.xsrf("/hub/admin")
	p := b.post("/hub/admin/users", url.Values{"_xsrf": {token},
		"usernames": {"good4\r\nGood4\n\ngood4"}})
	target, err := url.Parse(p.location)
	must(t, err)
	if message := target.Query().Get("error"); message != "" {
		t.Errorf("adding a repeated name: error %q", message)
	}
	if notice := target.Query().Get("notice"); notice != "Added good4." {
		t.Errorf("notice = %q, want %q", notice, "Added good4.")
	}
	if _, err := th.store.GetUser(t.Context(), "good4"); err != nil {
		t.Errorf("good4 not created: %v", err)
	}
}

func TestAPICreateUsersAllOrNone(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	admin := th.token("root")
	r := th.api("POST", "/hub/api/users", admin,
		map[string]any{"usernames": []string{"good1", "../bad", "good2", "."}})
	if r.status != http.StatusBadRequest {
		t.Fatalf("POST with invalid names = %d %s, want 400", r.status, r.body)
	}
	for _, want := range []string{`../bad`, `\".\"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("error %s does not name %s", r.body, want)
		}
	}
	for _, name := range []string{"good1", "good2"} {
		if _, err := th.store.GetUser(t.Context(), name); err == nil {
			t.Errorf("%s was created despite the error", name)
		}
	}

	r = th.api("POST", "/hub/api/users", admin,
		map[string]any{"usernames": []string{"Dup", "dup"}})
	if r.status != http.StatusCreated {
		t.Fatalf("POST with a repeated name = %d %s, want 201", r.status, r.body)
	}
	var created []map[string]any
	r.json(t, &created)
	var names []string
	for _, u := range created {
		names = append(names, u["name"].(string))
	}
	if !slices.Equal(names, []string{"dup"}) {
		t.Errorf("created %v, want [dup]", names)
	}
}

// hiddenCharacterNames are user names that could look like another name
// in a list or a log: control characters and bidi formatting characters.
var hiddenCharacterNames = []struct{ name, want string }{
	{"bo\tb", "control character U+0009"},
	{"bo\nb", "control character U+000A"},
	{"bo\u0085b", "control character U+0085"},
	{"bob\u202eexe.txt", "bidirectional formatting character U+202E"},
	{"bo\u2066b", "bidirectional formatting character U+2066"},
	{"a\u200bb", "invisible character U+200B"},
	{"bo\ufeffb", "invisible character U+FEFF"},
	{"bo\u2028b", "invisible character U+2028"},
}

func TestAPIRejectsHiddenCharacterGroups(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	admin := th.token("root")
	for _, tt := range hiddenCharacterNames {
		t.Run(tt.want, func(t *testing.T) {
			for _, req := range []struct {
				path string
				body any
			}{
				{"/hub/api/groups/" + url.PathEscape(tt.name), nil},
				{"/hub/api/groups", map[string]any{"groups": []string{"good", tt.name}}},
			} {
				r := th.api("POST", req.path, admin, req.body)
				if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid group name") {
					t.Errorf("POST %s = %d %s, want 400 invalid group name", req.path, r.status, r.body)
				}
			}
			for _, name := range []string{tt.name, "good"} {
				if _, err := th.store.GetGroup(t.Context(), name); err == nil {
					t.Errorf("group %q was created despite the error", name)
				}
			}
		})
	}
}

func TestAPIRejectsHiddenCharacterNames(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("carol", false)
	admin := th.token("root")
	for _, tt := range hiddenCharacterNames {
		t.Run(tt.want, func(t *testing.T) {
			requests := []struct {
				method, path string
				body         any
			}{
				{"POST", "/hub/api/users/" + url.PathEscape(tt.name), nil},
				{"POST", "/hub/api/users", map[string]any{"usernames": []string{"good1", tt.name}}},
				{"PATCH", "/hub/api/users/carol", map[string]any{"name": tt.name}},
			}
			for _, req := range requests {
				r := th.api(req.method, req.path, admin, req.body)
				if r.status != http.StatusBadRequest {
					t.Errorf("%s %s = %d %s, want 400", req.method, req.path, r.status, r.body)
				}
				if !strings.Contains(string(r.body), tt.want) {
					t.Errorf("%s %s = %s, want a message containing %q", req.method, req.path,
						r.body, tt.want)
				}
			}
			for _, name := range []string{tt.name, "good1"} {
				if _, err := th.store.GetUser(t.Context(), name); err == nil {
					t.Errorf("user %q was created despite the error", name)
				}
			}
			if _, err := th.store.GetUser(t.Context(), "carol"); err != nil {
				t.Errorf("carol was renamed despite the error: %v", err)
			}
		})
	}
}
