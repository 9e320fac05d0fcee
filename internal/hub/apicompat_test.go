package hub

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestCreateGroupsMany(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("bob", false)
	admin := th.token("root")

	r := th.api("POST", "/hub/api/groups", admin, map[string]any{
		"groups": []string{"a", "b"}, "users": []string{"Bob"}})
	if r.status != http.StatusCreated {
		t.Fatalf("POST /groups = %d %s, want 201", r.status, r.body)
	}
	var created []struct {
		Name  string
		Users []string
	}
	r.json(t, &created)
	if len(created) != 2 || created[0].Name != "a" || created[1].Name != "b" {
		t.Errorf("created = %+v, want groups a and b", created)
	}
	for _, g := range created {
		if !slices.Equal(g.Users, []string{"bob"}) {
			t.Errorf("group %s users = %q, want [bob]", g.Name, g.Users)
		}
	}

	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		text   string
	}{
		{"one exists", map[string]any{"groups": []string{"c", "a"}}, http.StatusConflict,
			"Group a already exists"},
		{"repeated", map[string]any{"groups": []string{"c", "c"}}, http.StatusConflict,
			"Group c already exists"},
		{"no groups", map[string]any{"groups": []string{}}, http.StatusBadRequest,
			"Must specify at least one group to create"},
		{"unknown user", map[string]any{"groups": []string{"c"}, "users": []string{"nobody"}},
			http.StatusBadRequest, "No such user: nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := th.api("POST", "/hub/api/groups", admin, tc.body)
			if r.status != tc.status {
				t.Errorf("POST /groups = %d %s, want %d", r.status, r.body, tc.status)
			}
			if !strings.Contains(string(r.body), tc.text) {
				t.Errorf("POST /groups body = %s, want %q", r.body, tc.text)
			}
			if r := th.api("GET", "/hub/api/groups/c", admin, nil); r.status != http.StatusNotFound {
				t.Errorf("GET /groups/c after the failed POST = %d, want 404", r.status)
			}
		})
	}

	bob := th.token("bob")
	if r := th.api("POST", "/hub/api/groups", bob, map[string]any{"groups": []string{"d"}}); r.status != http.StatusForbidden {
		t.Errorf("bob's POST /groups = %d, want 403", r.status)
	}
}

func TestListGroupsPaginated(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	admin := th.token("root")
	for _, name := range []string{"g1", "g2", "g3"} {
		th.api("POST", "/hub/api/groups/"+name, admin, nil)
	}

	page := th.getPage(t, th.url+"/hub/api/groups?limit=2", admin, "")
	if len(page.Items) != 2 || page.Pagination.Total != 3 {
		t.Errorf("first page = %d items of %d, want 2 of 3", len(page.Items), page.Pagination.Total)
	}
	if page.Pagination.Next == nil {
		t.Fatal("first page has no next")
	}
	if want := th.url + "/hub/api/groups?limit=2&offset=2"; page.Pagination.Next.URL != want {
		t.Errorf("next.url = %q, want %q", page.Pagination.Next.URL, want)
	}
	last := th.getPage(t, page.Pagination.Next.URL, admin, "")
	if len(last.Items) != 1 || last.Items[0]["name"] != "g3" || last.Pagination.Next != nil {
		t.Errorf("last page = %v, next %+v, want g3 alone", last.Items, last.Pagination.Next)
	}

	var plain []map[string]any
	th.api("GET", "/hub/api/groups?offset=1&limit=1", admin, nil).json(t, &plain)
	if len(plain) != 1 || plain[0]["name"] != "g2" {
		t.Errorf("GET /groups?offset=1&limit=1 without the media type = %v, want [g2]", plain)
	}
}

func TestProxyPaginated(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	admin := th.token("root")
	for _, user := range []string{"c", "a", "b"} {
		if err := th.hub.routes.Add("/user/"+user, "http://127.0.0.1:9", nil); err != nil {
			t.Fatal(err)
		}
	}

	var page struct {
		Items      map[string]any `json:"items"`
		Pagination struct {
			Total int
			Next  *struct{ URL string }
		} `json:"_pagination"`
	}
	th.getPageJSON(t, th.url+"/hub/api/proxy?offset=1&limit=1", admin, "").json(t, &page)
	if _, ok := page.Items["/user/b/"]; !ok || len(page.Items) != 1 {
		t.Errorf("page at offset 1 = %v, want the route /user/b/ alone", page.Items)
	}
	if page.Pagination.Total != 3 || page.Pagination.Next == nil {
		t.Fatalf("pagination = %+v, want a total of 3 and a next page", page.Pagination)
	}
	if want := th.url + "/hub/api/proxy?limit=1&offset=2"; page.Pagination.Next.URL != want {
		t.Errorf("next.url = %q, want %q", page.Pagination.Next.URL, want)
	}

	var plain map[string]any
	th.api("GET", "/hub/api/proxy?limit=2", admin, nil).json(t, &plain)
	if len(plain) != 2 || plain["/user/a/"] == nil || plain["/user/b/"] == nil {
		t.Errorf("GET /proxy?limit=2 without the media type = %v, want /user/a/ and /user/b/", plain)
	}
}

func TestPageParams(t *testing.T) {
	th := startHub(t, hubOptions{config: "[JupyterHub]\napi_page_default_limit = 2\napi_page_max_limit = 3\n"})
	th.addUser("root", true)
	admin := th.token("root")
	for i := range 4 {
		th.addUser(fmt.Sprintf("u%d", i), false)
	}
	for _, tc := range []struct {
		query       string
		offset, max int
	}{
		{"", 0, 2},
		{"?limit=0", 0, 1},
		{"?limit=-2", 0, 2},
		{"?limit=100", 0, 3},
		{"?offset=-1&limit=1", 1, 1},
		{"?limit=1&limit=2", 0, 2},
	} {
		page := th.getPage(t, th.url+"/hub/api/users"+tc.query, admin, "")
		if page.Pagination.Offset != tc.offset || page.Pagination.Limit != tc.max {
			t.Errorf("GET /users%s: offset %d, limit %d, want %d and %d", tc.query,
				page.Pagination.Offset, page.Pagination.Limit, tc.offset, tc.max)
		}
	}
	// A client that does not accept the media type gets api_page_max_limit.
	var plain []map[string]any
	th.api("GET", "/hub/api/users", admin, nil).json(t, &plain)
	if len(plain) != 3 {
		t.Errorf("GET /users without the media type = %d users, want 3", len(plain))
	}
	for _, query := range []string{"?limit=x", "?offset=", "?offset=1.5"} {
		r := th.api("GET", "/hub/api/users"+query, admin, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("GET /users%s = %d, want 400", query, r.status)
		}
	}
}

func TestTokenOwnerLookup(t *testing.T) {
	th := startHub(t, hubOptions{config: `[[JupyterHub.services]]
name = "cull"
api_token = "service-token-0123"
`})
	th.addUser("alice", false)
	th.addUser("bob", false)
	alice := th.token("alice")
	bob := th.token("bob", "read:users:activity!user=bob")

	// bob's token has no scope for alice, but still gets her name.
	r := th.api("GET", "/hub/api/authorizations/token/"+alice, bob, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET authorizations/token = %d %s, want 200", r.status, r.body)
	}
	var model map[string]any
	r.json(t, &model)
	if model["kind"] != "user" || model["name"] != "alice" {
		t.Errorf("owner model = %v, want user alice", model)
	}
	if _, ok := model["groups"]; !ok {
		t.Errorf("owner model = %v, want its groups", model)
	}
	if _, ok := model["last_activity"]; ok {
		t.Errorf("owner model = %v, want no last_activity without read:users:activity", model)
	}

	r = th.api("GET", "/hub/api/authorizations/token/service-token-0123", alice, nil)
	r.json(t, &model)
	if r.status != http.StatusOK || model["kind"] != "service" || model["name"] != "cull" {
		t.Errorf("GET authorizations/token of the service = %d %v, want service cull", r.status, model)
	}
	if r := th.api("GET", "/hub/api/authorizations/token/not-a-token-at-all", alice, nil); r.status != http.StatusNotFound {
		t.Errorf("GET authorizations/token of an unknown token = %d, want 404", r.status)
	}

	b := th.browser()
	b.mustLogin("alice")
	if p := b.get("/hub/api/authorizations/token/" + bob); p.status != http.StatusForbidden {
		t.Errorf("GET authorizations/token with a cookie = %d, want 403", p.status)
	}
}
