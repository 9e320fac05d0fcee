package kernel

// route says where the replies to one request go: to a client, or to a
// function of the server itself (nudges, shutdown and interrupt requests).
type route struct {
	client   *client
	internal func(*Message)
	seq      uint64
}

// routeTable maps the msg_id of each request sent to the kernel to its
// route. Replies on shell and control end their route; stdin input_request
// messages find the route of the execute_request they belong to. Requests
// the kernel never answers are forgotten oldest first once maxRoutes are
// outstanding. The lock of the kernel's channels guards it.
type routeTable struct {
	routes map[string]route
	order  []routeRef // ring of the ids in insertion order
	next   int
	seq    uint64
}

type routeRef struct {
	id  string
	seq uint64
}

const maxRoutes = 1 << 14

func newRouteTable() *routeTable {
	return &routeTable{routes: make(map[string]route), order: make([]routeRef, 0, 64)}
}

func (t *routeTable) add(id string, r route) {
	t.seq++
	r.seq = t.seq
	ref := routeRef{id: id, seq: t.seq}
	if len(t.order) < maxRoutes {
		t.order = append(t.order, ref)
	} else {
		old := t.order[t.next]
		if cur, ok := t.routes[old.id]; ok && cur.seq == old.seq {
			delete(t.routes, old.id)
		}
		t.order[t.next] = ref
		t.next = (t.next + 1) % maxRoutes
	}
	t.routes[id] = r
}

func (t *routeTable) get(id string) (route, bool) {
	r, ok := t.routes[id]
	return r, ok
}

func (t *routeTable) remove(id string) { delete(t.routes, id) }

// reset forgets every route, for a kernel process that is gone.
func (t *routeTable) reset() {
	clear(t.routes)
	t.order, t.next = t.order[:0], 0
}
