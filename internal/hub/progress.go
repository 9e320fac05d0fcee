package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"sync"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

// progressEvent is one event of the progress stream of a start, in
// JupyterHub's shape.
type progressEvent struct {
	Progress    int    `json:"progress"`
	Message     string `json:"message"`
	Ready       bool   `json:"ready,omitempty"`
	Failed      bool   `json:"failed,omitempty"`
	URL         string `json:"url,omitempty"`
	HTMLMessage string `json:"html_message,omitempty"`
}

// run is a start or stop of one server in progress in this process, with
// the events the progress stream sends. The zero value is not usable; see
// newRun.
type run struct {
	user, server string
	action       string // store.PendingSpawn or store.PendingStop

	mu      sync.Mutex
	events  []progressEvent
	changed chan struct{} // closed and replaced at each new event
	done    chan struct{} // closed when the action finished
	err     error
}

func newRun(user, server, action string) *run {
	return &run{user: user, server: server, action: action,
		changed: make(chan struct{}), done: make(chan struct{})}
}

// add records an event and wakes the streams.
func (r *run) add(e progressEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// finish records the outcome; err is nil for success.
func (r *run) finish(final progressEvent, err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	r.add(final)
	close(r.done)
}

// since returns the events after the first n, and the channel that is
// closed at the next event.
func (r *run) since(n int) ([]progressEvent, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]progressEvent(nil), r.events[min(n, len(r.events)):]...), r.changed
}

// readyEvent is the last event of a successful start.
func (h *Hub) readyEvent(user, server string) progressEvent {
	u := h.serverURLPath(user, server)
	return progressEvent{Progress: 100, Ready: true, URL: u,
		Message:     "Server ready at " + u,
		HTMLMessage: fmt.Sprintf(`Server ready at <a href="%s">%s</a>`, html.EscapeString(u), html.EscapeString(u))}
}

// serverLogName names a server as JupyterHub's Spawner._log_name does:
// "USER" for the default server and "USER:NAME" for a named one.
func serverLogName(user, server string) string {
	if server == "" {
		return user
	}
	return user + ":" + server
}

// progressKeepAlive is the interval of the empty keep-alive lines of a
// progress stream, JupyterHub's 8 seconds.
const progressKeepAlive = 8 * time.Second

// streamProgress writes the progress of a start as an event stream, as
// JupyterHub 3.0's progress API does. A ready server gets one ready event,
// and a server whose last start failed gets one failed event. A pending
// start gets its events as they come, ending with the ready or failed
// event. Any other server, stopped or stopping, gets a 400.
func (h *Hub) streamProgress(w http.ResponseWriter, r *http.Request, user, server string) error {
	rn := h.runOf(user, server)
	var final *progressEvent
	if rn == nil || rn.action != store.PendingSpawn {
		sv, err := h.store.GetServer(r.Context(), user, server)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		message, failed := h.failedStart(user, server)
		switch {
		case rn == nil && err == nil && sv.Ready():
			ready := h.readyEvent(user, server)
			final = &ready
		case failed:
			final = &progressEvent{Progress: 100, Failed: true, Message: message}
		default:
			return badRequest("%s is not starting...", serverLogName(user, server))
		}
	}

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	send := func(e progressEvent) {
		data, _ := json.Marshal(e)
		fmt.Fprintf(w, "data: %s\n\n", data)
		if flusher != nil {
			flusher.Flush()
		}
	}
	if final != nil {
		send(*final)
		return nil
	}
	keepAlive := time.NewTicker(progressKeepAlive)
	defer keepAlive.Stop()
	sent := 0
	for {
		events, changed := rn.since(sent)
		for _, e := range events {
			send(e)
		}
		sent += len(events)
		select {
		case <-rn.done:
			if events, _ := rn.since(sent); len(events) == 0 {
				return nil
			}
		case <-changed:
		case <-keepAlive.C:
			fmt.Fprint(w, "\n\n")
			if flusher != nil {
				flusher.Flush()
			}
		case <-r.Context().Done():
			return nil
		case <-h.closing:
			return nil
		}
	}
}
