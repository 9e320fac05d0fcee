package hub

import (
	"fmt"
	"net/http"
	"testing"
)

// pageBody is a list in JupyterHub's paginated form.
type pageBody struct {
	Items      []map[string]any `json:"items"`
	Pagination paginationJSON   `json:"_pagination"`
}

// paginationJSON is the _pagination object of a paginated list.
type paginationJSON struct {
	Offset, Limit, Total int
	Next                 *struct {
		Offset, Limit int
		URL           string
	}
}

// getPage fetches url, absolute, with the pagination media type, and
// decodes a list of objects.
func (th *testHub) getPage(t *testing.T, url, token, host string) pageBody {
	t.Helper()
	var body pageBody
	th.getPageJSON(t, url, token, host).json(t, &body)
	return body
}

// getPageJSON fetches url as getPage does, and returns the response.
func (th *testHub) getPageJSON(t *testing.T, url, token, host string) apiResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	must(t, err)
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Accept", "application/json, application/jupyterhub-pagination+json")
	if host != "" {
		req.Host = host
	}
	resp, err := th.client.Do(req)
	must(t, err)
	defer resp.Body.Close()
	r := apiResult{status: resp.StatusCode, body: readAll(t, resp)}
	if r.status != http.StatusOK {
		t.Fatalf("GET %s = %d %s, want 200", url, r.status, r.body)
	}
	return r
}

func TestPaginationNextURLAbsolute(t *testing.T) {
	for _, tc := range []struct {
		name  string
		https bool
		base  string
	}{
		{"http", false, "/"},
		{"https", true, "/"},
		{"base url", false, "/jh/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := hubOptions{config: fmt.Sprintf("[JupyterHub]\nbase_url = %q\n", tc.base)}
			var th *testHub
			if tc.https {
				th = startHTTPSHub(t, o)
			} else {
				th = startHub(t, o)
			}
			th.addUser("root", true)
			admin := th.token("root")
			for i := range 4 {
				th.addUser(fmt.Sprintf("u%d", i), false)
			}
			api := th.url + tc.base + "hub/api/users"

			first := th.getPage(t, api+"?limit=2&state=", admin, "")
			if len(first.Items) != 2 || first.Pagination.Total != 5 {
				t.Fatalf("first page = %d items of %d, want 2 of 5",
					len(first.Items), first.Pagination.Total)
			}
			next := first.Pagination.Next
			if next == nil {
				t.Fatal("first page has no next")
			}
			if want := api + "?limit=2&offset=2&state="; next.URL != want {
				t.Errorf("next.url = %q, want %q", next.URL, want)
			}

			// The URL works as it is, as jupyterhub-idle-culler uses it.
			second := th.getPage(t, next.URL, admin, "")
			if second.Pagination.Offset != 2 || len(second.Items) != 2 {
				t.Errorf("second page = offset %d, %d items, want offset 2, 2 items",
					second.Pagination.Offset, len(second.Items))
			}
			if second.Items[0]["name"] == first.Items[0]["name"] {
				t.Errorf("second page starts with %v again", second.Items[0]["name"])
			}
			if second.Pagination.Next == nil {
				t.Fatal("second page has no next")
			}
			last := th.getPage(t, second.Pagination.Next.URL, admin, "")
			if len(last.Items) != 1 || last.Pagination.Next != nil {
				t.Errorf("last page = %d items, next %+v, want 1 item and no next",
					len(last.Items), last.Pagination.Next)
			}
		})
	}
}

func TestPaginationNextURLHost(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("bob", false)
	page := th.getPage(t, th.url+"/hub/api/users?limit=1", th.token("root"), "hub.example:8000")
	if page.Pagination.Next == nil {
		t.Fatal("page has no next")
	}
	want := "http://hub.example:8000/hub/api/users?limit=1&offset=1"
	if page.Pagination.Next.URL != want {
		t.Errorf("next.url = %q, want %q", page.Pagination.Next.URL, want)
	}
}
