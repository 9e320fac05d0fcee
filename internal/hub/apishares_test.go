package hub

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/store"
)

// sharingConfig lets alice share her servers with users and groups she can
// name, as a JupyterHub 5 deployment enables sharing with a role.
const sharingConfig = `
[JupyterHub]
allow_named_servers = true

[[JupyterHub.load_roles]]
name = "sharer"
scopes = ["shares!user", "read:users:name", "read:groups:name"]
users = ["alice"]
`

// startSharingHub starts a hub with sharingConfig, the users alice, bob,
// carol and the admin root, the group staff with carol, and alice's
// default server and server "lab", both stopped.
func startSharingHub(t *testing.T) *testHub {
	t.Helper()
	th := startHub(t, hubOptions{config: sharingConfig})
	for _, name := range []string{"alice", "bob", "carol"} {
		th.addUser(name, false)
	}
	th.addUser("root", true)
	ctx := t.Context()
	must(t, errOnly(th.store.CreateGroup(ctx, "staff", nil)))
	must(t, errOnly(th.store.AddGroupMembers(ctx, "staff", "carol")))
	must(t, errOnly(th.store.CreateServer(ctx, "alice", "")))
	must(t, errOnly(th.store.CreateServer(ctx, "alice", "lab")))
	return th
}

func errOnly[T any](_ T, err error) error { return err }

// shareJSON is the share model as the tests read it.
type shareJSON struct {
	Server struct {
		User  struct{ Name string } `json:"user"`
		Name  string                `json:"name"`
		URL   string                `json:"url"`
		Ready bool                  `json:"ready"`
	} `json:"server"`
	Scopes    []string               `json:"scopes"`
	User      *struct{ Name string } `json:"user"`
	Group     *struct{ Name string } `json:"group"`
	Kind      string                 `json:"kind"`
	CreatedAt string                 `json:"created_at"`
}

// shareList is a paginated list of shares.
type shareList struct {
	Items      []shareJSON    `json:"items"`
	Pagination paginationJSON `json:"_pagination"`
}

// with returns the user or "@group" a share is with.
func (s shareJSON) with() string {
	if s.User != nil {
		return s.User.Name
	}
	if s.Group != nil {
		return "@" + s.Group.Name
	}
	return ""
}

func listWith(l shareList) []string {
	out := []string{}
	for _, s := range l.Items {
		out = append(out, s.Server.User.Name+"/"+s.Server.Name+">"+s.with())
	}
	return out
}

func TestGrantShare(t *testing.T) {
	th := startSharingHub(t)
	alice := th.token("alice")
	r := th.api("POST", "/hub/api/shares/alice/", alice, map[string]any{"user": "bob"})
	if r.status != http.StatusOK {
		t.Fatalf("POST share = %d %s", r.status, r.body)
	}
	var sh shareJSON
	r.json(t, &sh)
	if sh.with() != "bob" || sh.Kind != "user" || sh.Group != nil {
		t.Errorf("share with = %q kind %q group %v, want user bob", sh.with(), sh.Kind, sh.Group)
	}
	if sh.Server.User.Name != "alice" || sh.Server.Name != "" || sh.Server.URL != "/user/alice/" ||
		sh.Server.Ready {
		t.Errorf("share server = %+v", sh.Server)
	}
	if d := cmp.Diff([]string{"access:servers!server=alice/"}, sh.Scopes); d != "" {
		t.Errorf("default scopes (-want +got):\n%s", d)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000Z", sh.CreatedAt); err != nil {
		t.Errorf("created_at %q: %v", sh.CreatedAt, err)
	}

	// A second grant adds scopes; a filter of the server is accepted.
	r = th.api("POST", "/hub/api/shares/alice/", alice, map[string]any{"user": "bob",
		"scopes": []string{"read:servers!server=alice/"}})
	r.json(t, &sh)
	if d := cmp.Diff([]string{"access:servers!server=alice/", "read:servers!server=alice/"},
		sh.Scopes); r.status != http.StatusOK || d != "" {
		t.Errorf("second grant = %d, scopes (-want +got):\n%s", r.status, d)
	}

	r = th.api("POST", "/hub/api/shares/alice/lab", alice, map[string]any{"group": "staff"})
	r.json(t, &sh)
	if r.status != http.StatusOK || sh.Kind != "group" || sh.with() != "@staff" || sh.User != nil ||
		!slices.Equal(sh.Scopes, []string{"access:servers!server=alice/lab"}) {
		t.Errorf("group share = %d %+v", r.status, sh)
	}
}

func TestGrantShareErrors(t *testing.T) {
	th := startSharingHub(t)
	alice, bob, root := th.token("alice"), th.token("bob"), th.token("root")
	for _, c := range []struct {
		name, path, token string
		body              any
		want              int
	}{
		{"without shares scope", "/hub/api/shares/alice/", bob, map[string]any{"user": "carol"}, 403},
		{"another's server", "/hub/api/shares/bob/", alice, map[string]any{"user": "carol"}, 404},
		{"missing server", "/hub/api/shares/alice/gpu", alice, map[string]any{"user": "bob"}, 404},
		{"missing owner", "/hub/api/shares/zed/", root, map[string]any{"user": "bob"}, 404},
		{"owner path", "/hub/api/shares/alice", alice, map[string]any{"user": "bob"}, 405},
		{"empty body", "/hub/api/shares/alice/", alice, nil, 400},
		{"user and group", "/hub/api/shares/alice/", alice,
			map[string]any{"user": "bob", "group": "staff"}, 400},
		{"unknown field", "/hub/api/shares/alice/", alice,
			map[string]any{"user": "bob", "expires_in": 60}, 400},
		{"user not a string", "/hub/api/shares/alice/", alice, map[string]any{"user": 7}, 400},
		{"other filter", "/hub/api/shares/alice/", alice,
			map[string]any{"user": "bob", "scopes": []string{"access:servers!user=alice"}}, 400},
		{"other server", "/hub/api/shares/alice/", alice,
			map[string]any{"user": "bob", "scopes": []string{"access:servers!server=alice/lab"}}, 400},
		{"unknown scope", "/hub/api/shares/alice/", alice,
			map[string]any{"user": "bob", "scopes": []string{"fly"}}, 400},
		{"inherit", "/hub/api/shares/alice/", alice,
			map[string]any{"user": "bob", "scopes": []string{"inherit"}}, 400},
		{"missing user", "/hub/api/shares/alice/", alice, map[string]any{"user": "zed"}, 400},
		{"missing group", "/hub/api/shares/alice/", alice, map[string]any{"group": "zed"}, 400},
		{"scope alice lacks", "/hub/api/shares/alice/", alice,
			map[string]any{"user": "bob", "scopes": []string{"admin:server_state"}}, 403},
		{"name alice cannot read", "/hub/api/shares/alice/", th.token("alice", "shares!user"),
			map[string]any{"user": "bob"}, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := th.api("POST", c.path, c.token, c.body)
			if r.status != c.want {
				t.Errorf("POST %s = %d %s, want %d", c.path, r.status, r.body, c.want)
			}
		})
	}
	var l shareList
	th.api("GET", "/hub/api/shares/alice", root, nil).json(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("rejected grants made shares: %v", listWith(l))
	}
}

func TestListShares(t *testing.T) {
	th := startSharingHub(t)
	alice, root := th.token("alice"), th.token("root")
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/hub/api/shares/alice/", map[string]any{"user": "bob"}},
		{"/hub/api/shares/alice/lab", map[string]any{"user": "bob"}},
		{"/hub/api/shares/alice/", map[string]any{"group": "staff"}},
	} {
		if r := th.api("POST", c.path, alice, c.body); r.status != http.StatusOK {
			t.Fatalf("POST %s = %d %s", c.path, r.status, r.body)
		}
	}
	for _, c := range []struct {
		name, path, token string
		want              []string
		total             int
	}{
		{"owner", "/hub/api/shares/alice", alice,
			[]string{"alice/>bob", "alice/lab>bob", "alice/>@staff"}, 3},
		{"server", "/hub/api/shares/alice/", alice, []string{"alice/>bob", "alice/>@staff"}, 2},
		{"named server", "/hub/api/shares/alice/lab", root, []string{"alice/lab>bob"}, 1},
		{"page", "/hub/api/shares/alice?offset=1&limit=1", alice, []string{"alice/lab>bob"}, 3},
		{"bob's", "/hub/api/users/bob/shared", th.token("bob"),
			[]string{"alice/>bob", "alice/lab>bob"}, 2},
		{"carol's through staff", "/hub/api/users/carol/shared", th.token("carol"),
			[]string{"alice/>@staff"}, 1},
		{"staff's", "/hub/api/groups/staff/shared", root, []string{"alice/>@staff"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := th.api("GET", c.path, c.token, nil)
			var l shareList
			r.json(t, &l)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s = %d %s", c.path, r.status, r.body)
			}
			if d := cmp.Diff(c.want, listWith(l)); d != "" {
				t.Errorf("shares (-want +got):\n%s", d)
			}
			if l.Pagination.Total != c.total {
				t.Errorf("total = %d, want %d", l.Pagination.Total, c.total)
			}
		})
	}

	var page shareList
	th.api("GET", "/hub/api/shares/alice?limit=2", alice, nil).json(t, &page)
	if page.Pagination.Next == nil || page.Pagination.Next.Offset != 2 ||
		!strings.Contains(page.Pagination.Next.URL, "offset=2") {
		t.Errorf("next page of a full page = %+v, want offset 2", page.Pagination.Next)
	}

	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"bob reads alice's", "/hub/api/shares/alice", th.token("bob"), 404},
		{"token without scope", "/hub/api/shares/alice", th.token("alice", "read:users:name"), 403},
		{"missing owner", "/hub/api/shares/zed", root, 404},
		{"missing server", "/hub/api/shares/alice/gpu", root, 404},
		{"bad offset", "/hub/api/shares/alice?offset=x", alice, 400},
		{"bob reads carol's", "/hub/api/users/carol/shared", th.token("bob"), 404},
		{"without read:users:shares", "/hub/api/users/bob/shared", th.token("bob", "read:users"), 403},
		{"missing user", "/hub/api/users/zed/shared", root, 404},
		{"bob reads staff's", "/hub/api/groups/staff/shared", th.token("bob"), 403},
		{"missing group", "/hub/api/groups/zed/shared", root, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := th.api("GET", c.path, c.token, nil); r.status != c.want {
				t.Errorf("GET %s = %d %s, want %d", c.path, r.status, r.body, c.want)
			}
		})
	}
}

func TestRevokeShare(t *testing.T) {
	th := startSharingHub(t)
	alice, root := th.token("alice"), th.token("root")
	th.api("POST", "/hub/api/shares/alice/", alice, map[string]any{"user": "bob",
		"scopes": []string{"access:servers", "read:servers"}})
	th.api("POST", "/hub/api/shares/alice/", alice, map[string]any{"group": "staff"})

	r := th.api("PATCH", "/hub/api/shares/alice/", alice, map[string]any{"user": "bob",
		"scopes": []string{"read:servers!server=alice/"}})
	var sh shareJSON
	r.json(t, &sh)
	if r.status != http.StatusOK || !slices.Equal(sh.Scopes, []string{"access:servers!server=alice/"}) {
		t.Errorf("PATCH of one scope = %d %s", r.status, r.body)
	}
	r = th.api("PATCH", "/hub/api/shares/alice/", alice, map[string]any{"user": "bob"})
	if r.status != http.StatusOK || string(r.body) != "{}\n" && string(r.body) != "{}" {
		t.Errorf("PATCH of every scope = %d %q, want {}", r.status, r.body)
	}
	if r := th.api("GET", "/hub/api/users/bob/shared/alice/", root, nil); r.status != http.StatusNotFound {
		t.Errorf("bob's share after PATCH = %d, want 404", r.status)
	}
	for _, body := range []map[string]any{{"user": "zed"}, {"group": "zed"}, {"user": "bob"}} {
		if r := th.api("PATCH", "/hub/api/shares/alice/", alice, body); r.status != http.StatusOK {
			t.Errorf("PATCH %v = %d %s, want 200 {}", body, r.status, r.body)
		}
	}
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"PATCH without scope", "PATCH", "/hub/api/shares/alice/", th.token("bob"),
			map[string]any{"group": "staff"}, 403},
		{"PATCH bad body", "PATCH", "/hub/api/shares/alice/", alice, map[string]any{}, 400},
		{"PATCH missing server", "PATCH", "/hub/api/shares/alice/gpu", alice,
			map[string]any{"group": "staff"}, 404},
		{"PATCH owner path", "PATCH", "/hub/api/shares/alice", alice, map[string]any{"group": "staff"}, 405},
		{"DELETE without scope", "DELETE", "/hub/api/shares/alice/", th.token("bob"), nil, 403},
		{"DELETE missing server", "DELETE", "/hub/api/shares/alice/gpu", alice, nil, 404},
		{"DELETE owner path", "DELETE", "/hub/api/shares/alice", alice, nil, 405},
		{"DELETE all", "DELETE", "/hub/api/shares/alice/", alice, nil, 204},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := th.api(c.method, c.path, c.token, c.body); r.status != c.want {
				t.Errorf("%s %s = %d %s, want %d", c.method, c.path, r.status, r.body, c.want)
			}
		})
	}
	var l shareList
	th.api("GET", "/hub/api/shares/alice", alice, nil).json(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("shares after DELETE: %v", listWith(l))
	}
}

func TestReceivedShare(t *testing.T) {
	th := startSharingHub(t)
	alice, bob, root := th.token("alice"), th.token("bob"), th.token("root")
	th.api("POST", "/hub/api/shares/alice/lab", alice, map[string]any{"user": "bob"})
	th.api("POST", "/hub/api/shares/alice/lab", alice, map[string]any{"group": "staff"})

	r := th.api("GET", "/hub/api/users/bob/shared/alice/lab", bob, nil)
	var sh shareJSON
	r.json(t, &sh)
	if r.status != http.StatusOK || sh.with() != "bob" || sh.Server.Name != "lab" {
		t.Errorf("GET bob's share = %d %s", r.status, r.body)
	}
	r = th.api("GET", "/hub/api/groups/staff/shared/alice/lab", root, nil)
	r.json(t, &sh)
	if r.status != http.StatusOK || sh.with() != "@staff" {
		t.Errorf("GET staff's share = %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"no share", "GET", "/hub/api/users/carol/shared/alice/lab", root, 404},
		{"missing server", "GET", "/hub/api/users/bob/shared/alice/gpu", bob, 404},
		{"other user", "GET", "/hub/api/users/bob/shared/alice/lab", th.token("carol"), 404},
		{"without scope", "GET", "/hub/api/users/bob/shared/alice/lab", th.token("bob", "read:users"), 403},
		{"carol leaves staff's", "DELETE", "/hub/api/groups/staff/shared/alice/lab", th.token("carol"), 403},
		{"leave without scope", "DELETE", "/hub/api/users/bob/shared/alice/lab",
			th.token("bob", "read:users:shares"), 403},
		{"bob leaves", "DELETE", "/hub/api/users/bob/shared/alice/lab", bob, 204},
		{"bob left", "GET", "/hub/api/users/bob/shared/alice/lab", bob, 404},
		{"bob leaves again", "DELETE", "/hub/api/users/bob/shared/alice/lab", bob, 404},
		{"admin ends staff's", "DELETE", "/hub/api/groups/staff/shared/alice/lab", root, 204},
		{"staff's ended", "GET", "/hub/api/groups/staff/shared/alice/lab", root, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := th.api(c.method, c.path, c.token, nil); r.status != c.want {
				t.Errorf("%s %s = %d %s, want %d", c.method, c.path, r.status, r.body, c.want)
			}
		})
	}
}

// shareCodeJSON is the share code model as the tests read it.
type shareCodeJSON struct {
	ID            string   `json:"id"`
	Code          string   `json:"code"`
	AcceptURL     string   `json:"accept_url"`
	Scopes        []string `json:"scopes"`
	ExpiresAt     string   `json:"expires_at"`
	ExchangeCount int      `json:"exchange_count"`
	LastExchanged *string  `json:"last_exchanged_at"`
}

func TestShareCodesAPI(t *testing.T) {
	th := startSharingHub(t)
	alice, bob := th.token("alice"), th.token("bob")
	r := th.api("POST", "/hub/api/share-codes/alice/lab", alice, nil)
	var c shareCodeJSON
	r.json(t, &c)
	if r.status != http.StatusOK || c.Code == "" || !strings.HasPrefix(c.ID, "sc_") {
		t.Fatalf("POST share code = %d %s", r.status, r.body)
	}
	if want := "/hub/accept-share?code=" + url.QueryEscape(c.Code); c.AcceptURL != want {
		t.Errorf("accept_url = %q, want %q", c.AcceptURL, want)
	}
	if !slices.Equal(c.Scopes, []string{"access:servers!server=alice/lab"}) {
		t.Errorf("scopes = %v", c.Scopes)
	}
	expires, err := time.Parse("2006-01-02T15:04:05.000000Z", c.ExpiresAt)
	if err != nil || expires.Sub(time.Now()) < 23*time.Hour || expires.Sub(time.Now()) > 25*time.Hour {
		t.Errorf("expires_at = %q, want a day from now", c.ExpiresAt)
	}
	r = th.api("POST", "/hub/api/share-codes/alice/lab", alice, map[string]any{"expires_in": 600})
	var short shareCodeJSON
	r.json(t, &short)
	expires, _ = time.Parse("2006-01-02T15:04:05.000000Z", short.ExpiresAt)
	if r.status != http.StatusOK || expires.Sub(time.Now()) > 11*time.Minute {
		t.Errorf("code with expires_in 600 = %d expires %q", r.status, short.ExpiresAt)
	}

	var l struct {
		Items      []shareCodeJSON     `json:"items"`
		Pagination struct{ Total int } `json:"_pagination"`
	}
	r = th.api("GET", "/hub/api/share-codes/alice", alice, nil)
	r.json(t, &l)
	if r.status != http.StatusOK || l.Pagination.Total != 2 || len(l.Items) != 2 {
		t.Fatalf("GET share codes = %d %s", r.status, r.body)
	}
	if l.Items[0].Code != "" || strings.Contains(string(r.body), c.Code) {
		t.Errorf("the list shows a code: %s", r.body)
	}

	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"POST without scope", "POST", "/hub/api/share-codes/alice/", bob, nil, 403},
		{"POST missing server", "POST", "/hub/api/share-codes/alice/gpu", alice, nil, 404},
		{"POST owner path", "POST", "/hub/api/share-codes/alice", alice, nil, 405},
		{"expires_in too short", "POST", "/hub/api/share-codes/alice/", alice,
			map[string]any{"expires_in": 59}, 400},
		{"expires_in too long", "POST", "/hub/api/share-codes/alice/", alice,
			map[string]any{"expires_in": 525600*60 + 1}, 400},
		{"expires_in not integer", "POST", "/hub/api/share-codes/alice/", alice,
			map[string]any{"expires_in": 60.5}, 400},
		{"user field", "POST", "/hub/api/share-codes/alice/", alice, map[string]any{"user": "bob"}, 400},
		{"scope alice lacks", "POST", "/hub/api/share-codes/alice/", alice,
			map[string]any{"scopes": []string{"admin:users"}}, 403},
		{"GET without scope", "GET", "/hub/api/share-codes/alice", th.token("alice", "read:users"), nil, 403},
		{"GET bob reads alice's", "GET", "/hub/api/share-codes/alice", bob, nil, 404},
		{"GET missing server", "GET", "/hub/api/share-codes/alice/gpu", alice, nil, 404},
		{"DELETE bad id", "DELETE", "/hub/api/share-codes/alice/lab?id=12", alice, nil, 404},
		{"DELETE unknown id", "DELETE", "/hub/api/share-codes/alice/lab?id=sc_999", alice, nil, 404},
		{"DELETE id of another server", "DELETE", "/hub/api/share-codes/alice/?id=" + c.ID, alice, nil, 404},
		{"DELETE wrong code", "DELETE", "/hub/api/share-codes/alice/lab?code=nope", alice, nil, 404},
		{"DELETE without scope", "DELETE", "/hub/api/share-codes/alice/lab", bob, nil, 403},
		{"DELETE by id", "DELETE", "/hub/api/share-codes/alice/lab?id=" + c.ID, alice, nil, 204},
		{"DELETE by code", "DELETE", "/hub/api/share-codes/alice/lab?code=" + url.QueryEscape(short.Code),
			alice, nil, 204},
		{"DELETE all", "DELETE", "/hub/api/share-codes/alice/lab", alice, nil, 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := th.api(tc.method, tc.path, tc.token, tc.body); r.status != tc.want {
				t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.want)
			}
		})
	}
	th.api("GET", "/hub/api/share-codes/alice", alice, nil).json(t, &l)
	if l.Pagination.Total != 0 {
		t.Errorf("%d codes left after the deletes", l.Pagination.Total)
	}
}

// Joining a group hands over the access of its shares, so adding a member
// needs that access, as it needs the scopes of the group's roles.
func TestGroupShareNeedsAccessToJoin(t *testing.T) {
	th := startHub(t, hubOptions{config: sharingConfig + `
[[JupyterHub.load_roles]]
name = "groupadmin"
scopes = ["admin:groups"]
users = ["dave"]
`})
	for _, name := range []string{"alice", "dave", "erin", "frank"} {
		th.addUser(name, false)
	}
	th.addUser("root", true)
	ctx := t.Context()
	must(t, errOnly(th.store.CreateGroup(ctx, "staff", nil)))
	must(t, errOnly(th.store.CreateServer(ctx, "alice", "")))
	dave := th.token("dave")
	body := map[string]any{"users": []string{"frank"}}
	if r := th.api("POST", "/hub/api/groups/staff/users", dave, body); r.status != http.StatusOK {
		t.Fatalf("dave adding frank to staff without shares = %d %s", r.status, r.body)
	}
	th.api("POST", "/hub/api/shares/alice/", th.token("alice"), map[string]any{"group": "staff"})
	body = map[string]any{"users": []string{"erin"}}
	if r := th.api("POST", "/hub/api/groups/staff/users", dave, body); r.status != http.StatusForbidden {
		t.Errorf("dave adding erin to staff with a share = %d %s, want 403", r.status, r.body)
	}
	if r := th.api("POST", "/hub/api/groups/staff/users", th.token("root"), body); r.status != http.StatusOK {
		t.Errorf("root adding erin to staff = %d %s, want 200", r.status, r.body)
	}
}

// The sharing scopes apply with each filter: to a user's servers, to one
// server, and to the servers of a group's members.
func TestShareScopeFilters(t *testing.T) {
	th := startHub(t, hubOptions{config: sharingConfig + `
[[JupyterHub.load_roles]]
name = "lead"
scopes = ["read:shares!group=staff", "groups:shares!group=staff"]
users = ["dave"]
`})
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		th.addUser(name, false)
	}
	ctx := t.Context()
	must(t, errOnly(th.store.CreateGroup(ctx, "staff", nil)))
	must(t, errOnly(th.store.AddGroupMembers(ctx, "staff", "carol")))
	for _, sv := range []struct{ user, name string }{{"alice", ""}, {"alice", "lab"}, {"carol", ""}} {
		must(t, errOnly(th.store.CreateServer(ctx, sv.user, sv.name)))
	}
	must(t, errOnly(th.store.GrantShare(ctx, store.ShareKey{Owner: "carol", Group: "staff"},
		[]string{"access:servers"})))
	labOnly := th.token("alice", "read:shares!server=alice/lab", "shares!server=alice/lab",
		"read:users:name")
	dave := th.token("dave")
	for _, c := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"server filter reads its server", "GET", "/hub/api/shares/alice/lab", labOnly, nil, 200},
		{"server filter reads no other", "GET", "/hub/api/shares/alice/", labOnly, nil, 404},
		{"server filter lists no owner", "GET", "/hub/api/shares/alice", labOnly, nil, 404},
		{"server filter grants on its server", "POST", "/hub/api/shares/alice/lab", labOnly,
			map[string]any{"user": "bob"}, 200},
		{"server filter grants on no other", "POST", "/hub/api/shares/alice/", labOnly,
			map[string]any{"user": "bob"}, 404},
		{"group filter reads a member's", "GET", "/hub/api/shares/carol", dave, nil, 200},
		{"group filter reads no other", "GET", "/hub/api/shares/alice", dave, nil, 404},
		{"group filter reads the group's", "GET", "/hub/api/groups/staff/shared", dave, nil, 200},
		{"group filter ends the group's", "DELETE", "/hub/api/groups/staff/shared/carol/", dave, nil, 204},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := th.api(c.method, c.path, c.token, c.body); r.status != c.want {
				t.Errorf("%s %s = %d %s, want %d", c.method, c.path, r.status, r.body, c.want)
			}
		})
	}
}
