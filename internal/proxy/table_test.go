package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCleanSpec(t *testing.T) {
	tests := []struct {
		spec, want string
	}{
		{"", "/"},
		{"/", "/"},
		{"//", "/"},
		{"user", "/user"},
		{"/user", "/user"},
		{"/user/", "/user"},
		{"user/alice/", "/user/alice"},
		{"/user/alice", "/user/alice"},
		{"///user/alice///", "/user/alice"},
		{"/a//b/", "/a//b"},
		{"/user/alice%2Fx", "/user/alice%2Fx"},
		{"/alice.example.com/", "/alice.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			if got := CleanSpec(tt.spec); got != tt.want {
				t.Errorf("CleanSpec(%q) = %q, want %q", tt.spec, got, tt.want)
			}
		})
	}
}

func TestTableLookup(t *testing.T) {
	pathRoutes := []string{"/", "/user", "/user/alice", "/user/alice/lab", "/deep/a/b/c/d/e"}
	hostRoutes := []string{"/", "/alice.example.com", "/bob.example.com/sub", "/::1"}
	tests := []struct {
		name      string
		hostMode  bool
		routes    []string
		host      string
		path      string
		want      string // "" means no route
		wantFound bool
	}{
		{"exact", false, pathRoutes, "", "/user/alice", "/user/alice", true},
		{"trailing slash", false, pathRoutes, "", "/user/alice/", "/user/alice", true},
		{"longest prefix", false, pathRoutes, "", "/user/alice/lab/tree/x", "/user/alice/lab", true},
		{"prefix below longer", false, pathRoutes, "", "/user/alice/api/status", "/user/alice", true},
		{"segment boundary", false, pathRoutes, "", "/user/alicex/lab", "/user", true},
		{"segment boundary shorter", false, pathRoutes, "", "/user/alic", "/user", true},
		{"sibling", false, pathRoutes, "", "/user/bob/lab", "/user", true},
		{"root", false, pathRoutes, "", "/hub/login", "/", true},
		{"root itself", false, pathRoutes, "", "/", "/", true},
		{"decoded slash splits", false, pathRoutes, "", "/user/alice/lab%2Fx", "/user/alice", true},
		{"decoded path", false, pathRoutes, "", "/user/alice/lab/x", "/user/alice/lab", true},
		{"double leading slash", false, pathRoutes, "", "//user/alice/x", "/user/alice", true},
		{"empty segment", false, pathRoutes, "", "/user//alice", "/user", true},
		{"deep route", false, pathRoutes, "", "/deep/a/b/c/d/e/f/g", "/deep/a/b/c/d/e", true},
		{"deep route missed", false, pathRoutes, "", "/deep/a/b/c/d", "/", true},
		{"no root", false, []string{"/user/alice"}, "", "/user/bob", "", false},
		{"no routes", false, nil, "", "/", "", false},
		{"path mode ignores host", false, pathRoutes, "alice.example.com", "/user/alice", "/user/alice", true},
		{"host", true, hostRoutes, "alice.example.com", "/lab", "/alice.example.com", true},
		{"host with port", true, hostRoutes, "alice.example.com:8000", "/", "/alice.example.com", true},
		{"host upper case", true, hostRoutes, "ALICE.Example.com", "/x", "/alice.example.com", true},
		{"host and path", true, hostRoutes, "bob.example.com", "/sub/x", "/bob.example.com/sub", true},
		{"host other path", true, hostRoutes, "bob.example.com", "/other", "/", true},
		{"host unknown", true, hostRoutes, "carol.example.com", "/alice.example.com", "/", true},
		{"host missing", true, hostRoutes, "", "/alice.example.com/x", "/", true},
		{"host ipv6", true, hostRoutes, "[::1]:8000", "/x", "/::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := NewTable(TableOptions{HostRouting: tt.hostMode})
			for _, spec := range tt.routes {
				mustAdd(t, table, spec, "http://127.0.0.1:1", nil)
			}
			r, ok := table.Lookup(tt.host, tt.path)
			if ok != tt.wantFound || r.Spec != tt.want {
				t.Errorf("Lookup(%q, %q) = %q, %v; want %q, %v",
					tt.host, tt.path, r.Spec, ok, tt.want, tt.wantFound)
			}
		})
	}
}

func TestTableAddNormalizes(t *testing.T) {
	table := NewTable(TableOptions{})
	mustAdd(t, table, "user/alice/", "http://127.0.0.1:8001", map[string]any{"user": "alice"})
	for _, spec := range []string{"/user/alice", "/user/alice/", "user/alice"} {
		r, ok := table.Get(spec)
		if !ok || r.Spec != "/user/alice" || r.Target != "http://127.0.0.1:8001" {
			t.Errorf("Get(%q) = %+v, %v", spec, r, ok)
		}
	}
	if n := table.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

func TestTableReplace(t *testing.T) {
	clock := newFakeClock()
	table := NewTable(TableOptions{Now: clock.Now})
	mustAdd(t, table, "/user/alice", "http://127.0.0.1:8001", map[string]any{"a": 1.0})
	t1 := clock.Advance(time.Minute)
	mustAdd(t, table, "/user/alice/", "http://127.0.0.1:8002", map[string]any{"b": 2.0})

	r, _ := table.Get("/user/alice")
	want := Route{
		Spec:         "/user/alice",
		Target:       "http://127.0.0.1:8002",
		Data:         map[string]any{"b": 2.0},
		LastActivity: t1,
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("route after replace (-want +got):\n%s", diff)
	}
	if n := table.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

func TestTableRemove(t *testing.T) {
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", "http://127.0.0.1:1", nil)
	mustAdd(t, table, "/user/alice", "http://127.0.0.1:2", nil)
	mustAdd(t, table, "/user/alice/deep/er", "http://127.0.0.1:3", nil)

	steps := []struct {
		remove     string
		wantExists bool
		wantLookup string
		wantLen    int
	}{
		{"/user/alice/deep/er/", true, "/user/alice", 2},
		{"/user/alice/deep/er", false, "/user/alice", 2},
		{"user/alice", true, "/", 1},
		{"/", true, "", 0},
		{"/", false, "", 0},
	}
	for _, s := range steps {
		if got := table.Remove(s.remove); got != s.wantExists {
			t.Errorf("Remove(%q) = %v, want %v", s.remove, got, s.wantExists)
		}
		r, _ := table.Lookup("", "/user/alice/deep/er/x")
		if r.Spec != s.wantLookup {
			t.Errorf("after Remove(%q): lookup = %q, want %q", s.remove, r.Spec, s.wantLookup)
		}
		if n := table.Len(); n != s.wantLen {
			t.Errorf("after Remove(%q): Len = %d, want %d", s.remove, n, s.wantLen)
		}
	}
}

func TestTableAddInvalidTarget(t *testing.T) {
	targets := []string{
		"",
		"127.0.0.1:8000",
		"ftp://127.0.0.1/",
		"ws://127.0.0.1:8000",
		"http://",
		"http:///path",
		"http://user:secret@127.0.0.1:8000",
		"http://[::1",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			table := NewTable(TableOptions{})
			err := table.Add("/x", target, nil)
			if !errors.Is(err, ErrInvalidTarget) {
				t.Errorf("Add(%q) = %v, want ErrInvalidTarget", target, err)
			}
			if strings.Contains(fmt.Sprint(err), "secret") {
				t.Errorf("error shows the password: %v", err)
			}
			if table.Len() != 0 {
				t.Errorf("Len = %d after a rejected Add", table.Len())
			}
		})
	}
}

func TestTableData(t *testing.T) {
	table := NewTable(TableOptions{})
	in := map[string]any{
		"user":          "alice",
		"server_name":   "",
		"jupyterhub":    true,
		"nested":        map[string]any{"list": []any{1.0, "x"}},
		"target":        "http://ignored",
		"last_activity": "ignored",
	}
	mustAdd(t, table, "/user/alice", "http://127.0.0.1:8001", in)
	in["user"] = "mallory"
	in["nested"].(map[string]any)["list"].([]any)[0] = 99.0

	r, _ := table.Get("/user/alice")
	want := map[string]any{
		"user":        "alice",
		"server_name": "",
		"jupyterhub":  true,
		"nested":      map[string]any{"list": []any{1.0, "x"}},
	}
	if diff := cmp.Diff(want, r.Data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}

	r.Data["user"] = "eve"
	r.Data["nested"].(map[string]any)["list"] = nil
	again, _ := table.Get("/user/alice")
	if diff := cmp.Diff(want, again.Data); diff != "" {
		t.Errorf("data changed through a snapshot (-want +got):\n%s", diff)
	}
}

func TestTableHostData(t *testing.T) {
	table := NewTable(TableOptions{HostRouting: true})
	mustAdd(t, table, "/alice.example.com/x/", "http://127.0.0.1:8001", map[string]any{"user": "alice"})
	mustAdd(t, table, "/", "http://127.0.0.1:8000", nil)

	r, _ := table.Get("/alice.example.com/x")
	if diff := cmp.Diff(map[string]any{"user": "alice", "host": "alice.example.com"}, r.Data); diff != "" {
		t.Errorf("host route data (-want +got):\n%s", diff)
	}
	root, _ := table.Get("/")
	if diff := cmp.Diff(map[string]any{}, root.Data); diff != "" {
		t.Errorf("root route data (-want +got):\n%s", diff)
	}
}

func TestTableListInactiveSince(t *testing.T) {
	clock := newFakeClock()
	table := NewTable(TableOptions{Now: clock.Now})
	t0 := clock.Now()
	mustAdd(t, table, "/user/alice", "http://127.0.0.1:1", nil)
	t1 := clock.Advance(time.Minute)
	mustAdd(t, table, "/user/bob", "http://127.0.0.1:2", nil)
	mustAdd(t, table, "/", "http://127.0.0.1:3", nil)
	t2 := clock.Advance(time.Minute)
	if !table.Touch("/user/alice/") {
		t.Fatal("Touch(/user/alice/) = false")
	}
	if table.Touch("/user/carol") {
		t.Error("Touch of a missing route = true")
	}

	activity := func(routes []Route) map[string]time.Time {
		m := map[string]time.Time{}
		for _, r := range routes {
			m[r.Spec] = r.LastActivity
		}
		return m
	}
	tests := []struct {
		name  string
		since time.Time
		want  map[string]time.Time
	}{
		{"all", time.Time{}, map[string]time.Time{"/": t1, "/user/alice": t2, "/user/bob": t1}},
		{"before t1", t1, map[string]time.Time{}},
		{"before t2", t2, map[string]time.Time{"/": t1, "/user/bob": t1}},
		{"after t2", t2.Add(time.Second), map[string]time.Time{"/": t1, "/user/alice": t2, "/user/bob": t1}},
		{"before t0", t0, map[string]time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := table.List(tt.since)
			if diff := cmp.Diff(tt.want, activity(got)); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			for i := 1; i < len(got); i++ {
				if got[i-1].Spec >= got[i].Spec {
					t.Errorf("List not sorted: %q before %q", got[i-1].Spec, got[i].Spec)
				}
			}
		})
	}
}

func TestRouteJSON(t *testing.T) {
	r := Route{
		Spec:         "/user/alice",
		Target:       "http://127.0.0.1:8001",
		Data:         map[string]any{"user": "alice", "jupyterhub": true},
		LastActivity: time.Date(2025, 1, 2, 3, 4, 5, 678_900_000, time.UTC),
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"target":        "http://127.0.0.1:8001",
		"user":          "alice",
		"jupyterhub":    true,
		"last_activity": "2025-01-02T03:04:05.678Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// refMatch is a reference implementation of configurable-http-proxy's trie
// lookup: split both strings into segments and take the longest spec whose
// segments begin the path's.
func refMatch(specs map[string]bool, path string) (string, bool) {
	segs := refSegments(path)
	best, found := "", false
	bestLen := -1
	for spec := range specs {
		s := refSegments(spec)
		if len(s) > len(segs) || len(s) <= bestLen {
			continue
		}
		if equalSegments(s, segs[:len(s)]) {
			best, found, bestLen = spec, true, len(s)
		}
	}
	return best, found
}

func refSegments(s string) []string {
	s = strings.Trim(s, "/")
	if s == "" {
		return nil
	}
	return strings.Split(s, "/")
}

func equalSegments(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTableMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	segments := []string{"user", "alice", "bob", "lab", "api", "a", ""}
	randomPath := func() string {
		n := rng.IntN(6)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = segments[rng.IntN(len(segments))]
		}
		p := "/" + strings.Join(parts, "/")
		if rng.IntN(4) == 0 {
			p += "/"
		}
		return p
	}

	table := NewTable(TableOptions{})
	model := map[string]bool{}
	for i := range 5000 {
		spec := CleanSpec(randomPath())
		if rng.IntN(3) == 0 {
			table.Remove(spec)
			delete(model, spec)
		} else {
			mustAdd(t, table, spec, "http://127.0.0.1:1", nil)
			model[spec] = true
		}
		path := randomPath()
		r, ok := table.Lookup("", path)
		want, wantOK := refMatch(model, path)
		if ok != wantOK || r.Spec != want {
			t.Fatalf("step %d: Lookup(%q) = %q, %v; reference %q, %v", i, path, r.Spec, ok, want, wantOK)
		}
		if table.Len() != len(model) {
			t.Fatalf("step %d: Len = %d, reference %d", i, table.Len(), len(model))
		}
	}
}

func TestTableConcurrent(t *testing.T) {
	table := NewTable(TableOptions{})
	mustAdd(t, table, "/", "http://127.0.0.1:1", nil)
	const writers, perWriter = 4, 200

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				spec := fmt.Sprintf("/user/w%d-%d", w, i)
				mustAdd(t, table, spec, "http://127.0.0.1:2", map[string]any{"i": i})
				if i%2 == 1 {
					table.Remove(spec)
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, ok := table.Lookup("", "/user/w1-10/api")
				if !ok || (r.Spec != "/user/w1-10" && r.Spec != "/") {
					t.Errorf("concurrent lookup = %q, %v", r.Spec, ok)
					return
				}
				table.Touch("/user/w1-10")
				table.List(time.Time{})
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()

	if got, want := table.Len(), 1+writers*perWriter/2; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
	if got := len(table.List(time.Time{})); got != table.Len() {
		t.Errorf("List has %d routes, Len %d", got, table.Len())
	}
}

func FuzzCleanSpec(f *testing.F) {
	for _, s := range []string{"", "/", "//", "a", "/a/", "/a//b/", "///x", "/user/alice%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		clean := CleanSpec(spec)
		if !strings.HasPrefix(clean, "/") {
			t.Fatalf("CleanSpec(%q) = %q: no leading slash", spec, clean)
		}
		if clean != "/" && (strings.HasSuffix(clean, "/") || strings.HasPrefix(clean, "//")) {
			t.Fatalf("CleanSpec(%q) = %q: extra slashes at an end", spec, clean)
		}
		if again := CleanSpec(clean); again != clean {
			t.Fatalf("CleanSpec not idempotent: %q -> %q -> %q", spec, clean, again)
		}
		if key := lookupKey(spec); key != clean {
			t.Fatalf("lookupKey(%q) = %q, CleanSpec %q", spec, key, clean)
		}
	})
}

// FuzzLookup adds the newline-separated specs of the input and checks a
// lookup against the reference trie.
func FuzzLookup(f *testing.F) {
	f.Add("/\n/user/alice\n/user/alice/lab", "/user/alice/lab/x", "")
	f.Add("/user\n/user//x", "/user//x/y", "")
	f.Add("/a.example.com/x\n/", "/x/y", "A.example.com:80")
	f.Add("//\n/%2F", "/%2F/a", "[::1]")
	f.Fuzz(func(t *testing.T, specs, path, host string) {
		for _, hostMode := range []bool{false, true} {
			table := NewTable(TableOptions{HostRouting: hostMode})
			model := map[string]bool{}
			for _, spec := range strings.Split(specs, "\n") {
				mustAdd(t, table, spec, "http://127.0.0.1:1", nil)
				model[CleanSpec(spec)] = true
			}
			lookupPath := path
			if hostMode {
				lookupPath = "/"
				if h := hostKey(host); h != "" {
					lookupPath = "/" + h + "/" + strings.TrimLeft(path, "/")
				}
			}
			r, ok := table.Lookup(host, path)
			want, wantOK := refMatch(model, lookupPath)
			if ok != wantOK || r.Spec != want {
				t.Fatalf("host mode %v: Lookup(%q, %q) = %q, %v; reference %q, %v",
					hostMode, host, path, r.Spec, ok, want, wantOK)
			}
			for _, escaped := range []bool{false, true} {
				for n := range 4 {
					rest := cutSegments(path, n, escaped)
					if !strings.HasSuffix(path, rest) {
						t.Fatalf("cutSegments(%q, %d) = %q: not a suffix", path, n, rest)
					}
				}
			}
		}
	})
}
