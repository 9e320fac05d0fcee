package proxy

import (
	"encoding/json"
	"net/url"
	"sync/atomic"
	"time"
)

// Route is a snapshot of one entry of a Table.
type Route struct {
	// Spec is the clean routespec: a path prefix, or "/host/path" prefix
	// with host routing.
	Spec string
	// Target is the URL requests are forwarded to, as it was added.
	Target string
	// Data contains the extra keys stored with the route, a deep copy that
	// the caller may modify. It never contains "target" or "last_activity".
	Data map[string]any
	// LastActivity is the time the route was added or last carried
	// traffic, in UTC.
	LastActivity time.Time
}

// activityTimeLayout is the layout of configurable-http-proxy's
// last_activity: JavaScript's Date.toISOString, milliseconds and "Z".
const activityTimeLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON encodes r as configurable-http-proxy's REST API does: the
// extra data keys, "target", and "last_activity" as an ISO 8601 time in UTC
// with milliseconds.
func (r Route) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(r.Data)+2)
	for k, v := range r.Data {
		m[k] = v
	}
	m["target"] = r.Target
	m["last_activity"] = r.LastActivity.UTC().Format(activityTimeLayout)
	return json.Marshal(m)
}

// route is the stored entry. Every field but activity's value is immutable
// once the route is in a table.
type route struct {
	spec string
	// depth is the number of segments of spec.
	depth int
	// prefixDepth is the number of path segments of spec, which is depth
	// less the host segment with host routing.
	prefixDepth int
	targetText  string
	target      *url.URL
	// addr is the target's host and port, with the scheme's default port
	// when the URL has none.
	addr string
	data map[string]any
	// added is when the route was added, for the retries of refused
	// connections to a new route.
	added time.Time
	// activity is shared by every route added under the same spec while
	// the spec stays in the table, so traffic on a connection opened
	// before a replacement still counts.
	activity *activity

	// lastErrorLog and suppressedErrors rate-limit upstream error logs.
	lastErrorLog     atomic.Int64
	suppressedErrors atomic.Int64
}

// activity is a last-activity time in Unix nanoseconds.
type activity struct {
	nanos atomic.Int64
}

// activityResolution is the smallest step by which a touch moves
// last_activity. Skipping smaller steps keeps the cache line of a busy route
// mostly read-only; configurable-http-proxy stores milliseconds too.
const activityResolution = int64(time.Millisecond)

// touch moves the last activity to now, never backwards.
func (a *activity) touch(now int64) {
	for {
		old := a.nanos.Load()
		if now-old < activityResolution {
			return
		}
		if a.nanos.CompareAndSwap(old, now) {
			return
		}
	}
}

// snapshot returns r as a Route with its own copy of the data.
func (r *route) snapshot() Route {
	return Route{
		Spec:         r.spec,
		Target:       r.targetText,
		Data:         copyData(r.data),
		LastActivity: time.Unix(0, r.activity.nanos.Load()).UTC(),
	}
}

// copyData returns a deep copy of a JSON-like map: nested maps and slices
// are copied, other values are shared.
func copyData(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return copyData(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}
