package proxy

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrInvalidTarget is wrapped by the error Table.Add returns for a target
// that is not an absolute http or https URL.
var ErrInvalidTarget = errors.New("invalid route target")

// shardCount is the number of maps that hold the routes of two or more
// segments. An Add copies one shard, so more shards make writes cheaper.
const shardCount = 256

// shardSeed seeds the hash that picks a shard.
var shardSeed = maphash.MakeSeed()

type routeMap = map[string]*route

// TableOptions configures a Table.
type TableOptions struct {
	// HostRouting makes the request's host the first segment of every
	// lookup, so a spec "/example.com/path" matches requests for
	// example.com/path. Hosts are compared lower-case and without the port,
	// so specs should name hosts in lower case.
	HostRouting bool
	// Now returns the current time for last_activity. Nil means time.Now.
	Now func() time.Time
}

// Table is the routing table: a set of routes keyed by clean routespec,
// each with a target URL, extra data and a last-activity time, with the
// semantics of configurable-http-proxy's in-memory store.
//
// A Table is safe for concurrent use. Lookups take no lock: routes live in
// copy-on-write maps behind atomic pointers, sharded by their first two
// segments, and writers serialize on a mutex and copy one shard. The zero
// Table is an empty table without host routing.
type Table struct {
	hostRouting bool
	now         func() time.Time

	// shallow contains the routes of fewer than two segments; shards the
	// others, keyed by the hash of firstSegments.
	shallow atomic.Pointer[routeMap]
	shards  [shardCount]atomic.Pointer[routeMap]
	// maxDepth is the largest depth of any route, so lookups of deep paths
	// skip the prefixes no route can match.
	maxDepth atomic.Int32

	mu     sync.Mutex
	depths map[int]int // route count by depth, guarded by mu
	count  int         // guarded by mu
}

// NewTable returns an empty table.
func NewTable(opts TableOptions) *Table {
	return &Table{hostRouting: opts.HostRouting, now: opts.Now}
}

// HostRouting reports whether lookups put the request's host first.
func (t *Table) HostRouting() bool { return t.hostRouting }

// Add stores a route for spec, replacing any route of the same clean spec,
// and sets its last activity to now. data is deep-copied, and its "target"
// and "last_activity" keys are ignored. With host routing, the spec's first
// segment is stored as data["host"] unless spec is "/", as
// configurable-http-proxy does. The error wraps ErrInvalidTarget when target
// is not an absolute http or https URL with a host.
func (t *Table) Add(spec, target string, data map[string]any) error {
	u, err := parseTarget(target)
	if err != nil {
		return err
	}
	spec = CleanSpec(spec)
	r := &route{
		spec:       spec,
		depth:      specDepth(spec),
		targetText: target,
		target:     u,
		addr:       targetAddr(u),
		data:       copyData(data),
		added:      time.Now(),
	}
	r.prefixDepth = r.depth
	delete(r.data, "target")
	delete(r.data, "last_activity")
	if t.hostRouting && spec != "/" {
		r.prefixDepth--
		r.data["host"] = strings.SplitN(spec[1:], "/", 2)[0]
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	slot := t.slot(spec, r.depth)
	old := t.loadLocked(slot)[spec]
	if old != nil {
		r.activity = old.activity
	} else {
		r.activity = new(activity)
	}
	r.activity.nanos.Store(t.nowNanos())
	t.storeLocked(slot, spec, r)
	if old == nil {
		t.countLocked(r.depth, +1)
	}
	return nil
}

// parseTarget parses and checks a route target.
func parseTarget(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrInvalidTarget, target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w %q: the scheme must be http or https", ErrInvalidTarget, target)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w %q: the host is missing", ErrInvalidTarget, target)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w %q: user information is not supported",
			ErrInvalidTarget, u.Redacted())
	}
	return u, nil
}

// targetAddr returns the address to dial for u, an http or https URL.
func targetAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Remove deletes the route of spec and reports whether it existed.
func (t *Table) Remove(spec string) bool {
	spec = CleanSpec(spec)
	depth := specDepth(spec)

	t.mu.Lock()
	defer t.mu.Unlock()
	slot := t.slot(spec, depth)
	if t.loadLocked(slot)[spec] == nil {
		return false
	}
	t.storeLocked(slot, spec, nil)
	t.countLocked(depth, -1)
	return true
}

// Get returns the route of spec, which is cleaned first.
func (t *Table) Get(spec string) (Route, bool) {
	r := t.get(CleanSpec(spec))
	if r == nil {
		return Route{}, false
	}
	return r.snapshot(), true
}

// Touch sets the last activity of the route of spec to now and reports
// whether the route exists.
func (t *Table) Touch(spec string) bool {
	r := t.get(CleanSpec(spec))
	if r == nil {
		return false
	}
	r.activity.touch(t.nowNanos())
	return true
}

// Lookup returns the route a request for host and path goes to: the route
// whose spec is the longest prefix of path, by whole segments, of the
// decoded path. host is used only with host routing and may carry a port.
func (t *Table) Lookup(host, path string) (Route, bool) {
	r := t.match(host, path)
	if r == nil {
		return Route{}, false
	}
	return r.snapshot(), true
}

// List returns the routes sorted by spec. When inactiveSince is not zero,
// it returns only the routes whose last activity is before it, as
// configurable-http-proxy's inactive_since filter does. Routes added or
// removed during the call may or may not be listed.
func (t *Table) List(inactiveSince time.Time) []Route {
	var out []Route
	collect := func(m *routeMap) {
		if m == nil {
			return
		}
		for _, r := range *m {
			s := r.snapshot()
			if inactiveSince.IsZero() || s.LastActivity.Before(inactiveSince) {
				out = append(out, s)
			}
		}
	}
	collect(t.shallow.Load())
	for i := range t.shards {
		collect(t.shards[i].Load())
	}
	slices.SortFunc(out, func(a, b Route) int { return strings.Compare(a.Spec, b.Spec) })
	return out
}

// Len returns the number of routes.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count
}

// match returns the route for a request, or nil.
func (t *Table) match(host, path string) *route {
	key := lookupKey(path)
	if t.hostRouting {
		h := hostKey(host)
		if h == "" {
			key = "/"
		} else {
			key = lookupKey("/" + h + key)
		}
	}
	key = truncateSegments(key, int(t.maxDepth.Load()))
	depth := specDepth(key)

	if depth >= 2 {
		if m := t.shards[shardIndex(firstSegments(key))].Load(); m != nil {
			for c := key; depth >= 2; depth-- {
				if r := (*m)[c]; r != nil {
					return r
				}
				c = c[:strings.LastIndexByte(c, '/')]
			}
		}
		key, depth = truncateSegments(key, 1), 1
	}
	m := t.shallow.Load()
	if m == nil {
		return nil
	}
	if depth == 1 {
		if r := (*m)[key]; r != nil {
			return r
		}
	}
	return (*m)["/"]
}

// get returns the route of a clean spec, or nil.
func (t *Table) get(spec string) *route {
	m := t.slot(spec, specDepth(spec)).Load()
	if m == nil {
		return nil
	}
	return (*m)[spec]
}

// slot returns the map that holds spec.
func (t *Table) slot(spec string, depth int) *atomic.Pointer[routeMap] {
	if depth < 2 {
		return &t.shallow
	}
	return &t.shards[shardIndex(firstSegments(spec))]
}

func shardIndex(prefix string) int {
	return int(maphash.String(shardSeed, prefix) % shardCount)
}

func (t *Table) loadLocked(slot *atomic.Pointer[routeMap]) routeMap {
	if m := slot.Load(); m != nil {
		return *m
	}
	return nil
}

// storeLocked publishes a copy of slot's map with spec set to r, or deleted
// when r is nil.
func (t *Table) storeLocked(slot *atomic.Pointer[routeMap], spec string, r *route) {
	old := t.loadLocked(slot)
	m := make(routeMap, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if r == nil {
		delete(m, spec)
	} else {
		m[spec] = r
	}
	slot.Store(&m)
}

// countLocked records a route of the given depth added (+1) or removed (-1)
// and updates maxDepth.
func (t *Table) countLocked(depth, delta int) {
	if t.depths == nil {
		t.depths = make(map[int]int)
	}
	t.count += delta
	t.depths[depth] += delta
	if t.depths[depth] == 0 {
		delete(t.depths, depth)
	}
	maxDepth := 0
	for d := range t.depths {
		maxDepth = max(maxDepth, d)
	}
	t.maxDepth.Store(int32(maxDepth))
}

func (t *Table) nowNanos() int64 {
	if t.now != nil {
		return t.now().UnixNano()
	}
	return time.Now().UnixNano()
}
