package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// restSpec is configurable-http-proxy's REST API description: the
// status codes of each operation and a schema per definition.
type restSpec struct {
	statuses map[string][]int // "GET /routes" to its documented statuses
	schemas  map[string]*jsonschema.Schema
}

func loadRESTSpec(t *testing.T) *restSpec {
	t.Helper()
	data, err := os.ReadFile("testdata/configurable-http-proxy-rest-api.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths       map[string]map[string]struct{ Responses map[int]any }
		Definitions map[string]any
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}

	s := &restSpec{statuses: map[string][]int{}, schemas: map[string]*jsonschema.Schema{}}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			for code := range op.Responses {
				key := strings.ToUpper(method) + " " + path
				s.statuses[key] = append(s.statuses[key], code)
			}
		}
	}
	// Encode as JSON, because the schema compiler takes JSON values only.
	defs, err := json.Marshal(map[string]any{"definitions": doc.Definitions})
	if err != nil {
		t.Fatal(err)
	}
	root, err := jsonschema.UnmarshalJSON(strings.NewReader(string(defs)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("spec.json", root); err != nil {
		t.Fatal(err)
	}
	for name := range doc.Definitions {
		if s.schemas[name], err = c.Compile("spec.json#/definitions/" + name); err != nil {
			t.Fatalf("compiling %s: %v", name, err)
		}
	}
	return s
}

// lastActivityPattern is the form of configurable-http-proxy's
// last_activity, JavaScript's Date.toISOString.
var lastActivityPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// check validates body against the definition and the last_activity of
// every route in it.
func (s *restSpec) check(t *testing.T, definition string, body []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, body)
	}
	if err := s.schemas[definition].Validate(v); err != nil {
		t.Errorf("response does not match %s: %v\n%s", definition, err, body)
	}
	routes := map[string]map[string]any{}
	if definition == "RouteTarget" {
		var r map[string]any
		json.Unmarshal(body, &r)
		routes[""] = r
	} else {
		json.Unmarshal(body, &routes)
	}
	for spec, r := range routes {
		if la, _ := r["last_activity"].(string); !lastActivityPattern.MatchString(la) {
			t.Errorf("route %q: last_activity %q is not an ISO 8601 time in UTC with milliseconds", spec, la)
		}
	}
}

// documented reports whether the spec lists status for the operation.
func (s *restSpec) documented(method, path string, status int) bool {
	for _, code := range s.statuses[method+" "+path] {
		if code == status {
			return true
		}
	}
	return false
}

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c *apiClient) do(method, path, body string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

func startAPI(t *testing.T, table *Table, token string) string {
	t.Helper()
	srv := httptest.NewServer(NewAPI(table, APIOptions{Token: token, Logger: testLogger(t)}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestAPIMatchesSpec(t *testing.T) {
	spec := loadRESTSpec(t)
	clock := newFakeClock()
	table := NewTable(TableOptions{Now: clock.Now})
	c := &apiClient{t: t, base: startAPI(t, table, "secret"), token: "token secret"}

	steps := []struct {
		name, method, path, body string
		status                   int
		specPath, definition     string
	}{
		{"add", "POST", "/api/routes/user/alice", `{"target": "http://127.0.0.1:9/a", "user": "alice"}`,
			201, "/routes/{route_spec}", ""},
		{"add escaped", "POST", "/api/routes/user/b%40c/", `{"target": "http://127.0.0.1:9/b"}`,
			201, "/routes/{route_spec}", ""},
		{"add root", "POST", "/api/routes", `{"target": "http://127.0.0.1:9/"}`, 201, "", ""},
		{"list", "GET", "/api/routes", "", 200, "/routes", "RoutingTable"},
		{"get", "GET", "/api/routes/user/alice", "", 200, "", "RouteTarget"},
		{"get escaped", "GET", "/api/routes/user/b@c", "", 200, "", "RouteTarget"},
		{"get missing", "GET", "/api/routes/user/nobody", "", 404, "", ""},
		{"inactive since later", "GET", "/api/routes?inactive_since=2025-01-02T03:05:00.000Z", "",
			200, "/routes", "RoutingTable"},
		{"inactive since camel case", "GET", "/api/routes?inactiveSince=2025-01-02", "",
			200, "/routes", "RoutingTable"},
		{"inactive since invalid", "GET", "/api/routes?inactive_since=yesterday", "", 400, "/routes", ""},
		{"body not JSON", "POST", "/api/routes/x", `{"target":`, 400, "", ""},
		{"body without target", "POST", "/api/routes/x", `{"user": "x"}`, 400, "", ""},
		{"target not a string", "POST", "/api/routes/x", `{"target": 5}`, 400, "", ""},
		{"target not http", "POST", "/api/routes/x", `{"target": "ftp://127.0.0.1/"}`, 400, "", ""},
		{"body an array", "POST", "/api/routes/x", `[]`, 400, "", ""},
		{"delete", "DELETE", "/api/routes/user/alice/", "", 204, "/routes/{route_spec}", ""},
		{"delete again", "DELETE", "/api/routes/user/alice", "", 404, "", ""},
		{"other method", "PUT", "/api/routes/user/alice", "", 405, "", ""},
		{"other path", "GET", "/api/routesx", "", 404, "", ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			c.t = t
			status, body := c.do(s.method, s.path, s.body)
			if status != s.status {
				t.Fatalf("%s %s = %d %s, want %d", s.method, s.path, status, body, s.status)
			}
			if s.specPath != "" && !spec.documented(s.method, s.specPath, status) {
				t.Errorf("status %d is not documented for %s %s", status, s.method, s.specPath)
			}
			if s.definition != "" {
				spec.check(t, s.definition, body)
			}
		})
	}

	c.t = t
	_, body := c.do("GET", "/api/routes", "")
	var routes map[string]map[string]any
	if err := json.Unmarshal(body, &routes); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{
		"/":         {"target": "http://127.0.0.1:9/", "last_activity": "2025-01-02T03:04:05.000Z"},
		"/user/b@c": {"target": "http://127.0.0.1:9/b", "last_activity": "2025-01-02T03:04:05.000Z"},
	}
	if diff := cmp.Diff(want, routes); diff != "" {
		t.Errorf("routes after the steps (-want +got):\n%s", diff)
	}
}

func TestAPIInactiveSince(t *testing.T) {
	clock := newFakeClock()
	table := NewTable(TableOptions{Now: clock.Now})
	c := &apiClient{t: t, base: startAPI(t, table, "")}
	c.do("POST", "/api/routes/old", `{"target": "http://127.0.0.1:9"}`)
	added := clock.Now()
	clock.Advance(time.Hour)
	c.do("POST", "/api/routes/new", `{"target": "http://127.0.0.1:9"}`)

	for _, tc := range []struct {
		since string
		want  []string
	}{
		{added.Add(-time.Second).Format(time.RFC3339), nil},
		{added.Add(time.Minute).Format(time.RFC3339Nano), []string{"/old"}},
		{added.Add(2 * time.Hour).Format("2006-01-02T15:04:05"), []string{"/new", "/old"}},
	} {
		status, body := c.do("GET", "/api/routes?inactive_since="+tc.since, "")
		var routes map[string]any
		json.Unmarshal(body, &routes)
		got := slices.Sorted(maps.Keys(routes))
		if status != 200 || !cmp.Equal(got, tc.want, cmpopts.EquateEmpty()) {
			t.Errorf("inactive_since=%s = %d %v, want %v", tc.since, status, got, tc.want)
		}
	}
}

func TestAPIToken(t *testing.T) {
	table := NewTable(TableOptions{})
	base := startAPI(t, table, "secret")
	for _, tc := range []struct {
		auth   string
		status int
	}{
		{"", 403},
		{"token wrong", 403},
		{"Bearer secret", 403},
		{"token secret", 200},
		{"token   secret", 200},
	} {
		c := &apiClient{t: t, base: base, token: tc.auth}
		if status, _ := c.do("GET", "/api/routes", ""); status != tc.status {
			t.Errorf("Authorization %q = %d, want %d", tc.auth, status, tc.status)
		}
		status, _ := c.do("POST", "/api/routes/x", `{"target": "http://127.0.0.1:9"}`)
		if want := map[int]int{403: 403, 200: 201}[tc.status]; status != want {
			t.Errorf("POST with Authorization %q = %d, want %d", tc.auth, status, want)
		}
	}
	if _, ok := table.Get("/x"); !ok {
		t.Error("the authorized POST stored no route")
	}
}

// TestAPIActivityFromTraffic checks that traffic through the proxy moves
// the last_activity the API reports.
func TestAPIActivityFromTraffic(t *testing.T) { forEachFront(t, testAPIActivityFromTraffic) }

func testAPIActivityFromTraffic(t *testing.T, f front) {
	clock := newFakeClock()
	table := NewTable(TableOptions{Now: clock.Now})
	upstream, _ := startUpstream(t, http.HandlerFunc(echoHandler))
	c := &apiClient{t: t, base: startAPI(t, table, "")}
	c.do("POST", "/api/routes/user/alice", fmt.Sprintf(`{"target": %q}`, upstream.URL))
	_, front := startProxy(t, f, table, Options{})

	later := clock.Advance(90 * time.Second)
	if status, _ := get(t, http.DefaultClient, front.URL+"/user/alice/api"); status != 200 {
		t.Fatalf("GET through the proxy = %d", status)
	}
	_, body := c.do("GET", "/api/routes/user/alice", "")
	var r struct {
		LastActivity string `json:"last_activity"`
	}
	json.Unmarshal(body, &r)
	if want := later.Format(activityTimeLayout); r.LastActivity != want {
		t.Errorf("last_activity after a request = %s, want %s", r.LastActivity, want)
	}
}
