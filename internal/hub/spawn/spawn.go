package spawn

import (
	"context"
	"encoding/json"
	"time"
)

// Request describes one server to start.
type Request struct {
	// User is the hub user name; it must pass ValidateUserName.
	User string
	// Server is "" for the user's default server, else the name of a named
	// server; it must pass ValidateServerName.
	Server string
	// Env holds the JUPYTERHUB_* variables and any others the hub computed
	// for this server. The spawner adds its own (JUPYTERHUB_SERVICE_URL and
	// the few it keeps from the hub's environment) on top.
	Env map[string]string
	// Cmd is the command line of the server, from the [Spawner] cmd
	// setting; empty means this binary followed by "server".
	Cmd []string
	// Args are appended to Cmd, from the [Spawner] args setting.
	Args []string
	// NotebookDir is the folder the server serves; "" means the user's
	// home folder.
	NotebookDir string
	// StartTimeout bounds the whole start, from launching the process to
	// the first HTTP answer; 0 means the spawner's default.
	StartTimeout time.Duration
	// HTTPTimeout bounds the wait for the first HTTP answer once the
	// process runs; 0 means the spawner's default.
	HTTPTimeout time.Duration
	// Prefix is the URL prefix the server serves under, with slashes at
	// both ends, such as /user/alice/.
	Prefix string
}

// Spawner starts, polls and stops single-user servers. State is an opaque
// JSON value the hub stores with the server (store.Server) so that a
// restarted hub finds its servers again. Implementations are safe for
// concurrent use.
type Spawner interface {
	// Start launches the server and returns once it answers over HTTP at
	// the returned URL, or fails after StartTimeout or HTTPTimeout.
	// progress, which may be nil, receives human-readable events for the
	// spawn-pending page. Cancelling ctx abandons the start and ends the
	// process.
	Start(ctx context.Context, r Request, progress func(Event)) (Started, error)
	// Poll reports whether the server described by state still runs.
	Poll(ctx context.Context, state json.RawMessage) (running bool, err error)
	// Stop ends the server described by state: SIGTERM, then SIGKILL
	// after a grace period. Stopping a server that is gone is not an
	// error.
	Stop(ctx context.Context, state json.RawMessage) error
}

// Started is the result of a successful Start.
type Started struct {
	// URL is where the hub reaches the server, such as
	// http://127.0.0.1:PORT, without the prefix.
	URL string
	// State is what Poll and Stop need to find the server again.
	State json.RawMessage
}

// Event is one step of a start, shown on the spawn-pending page.
type Event struct {
	// Progress is a percentage, 0 to 100.
	Progress int
	// Message says what happened, for people.
	Message string
}
