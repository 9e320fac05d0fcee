package spawn

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
	// for this server. The spawner sets JUPYTERHUB_SERVICE_URL over it and
	// adds its own defaults, such as HOME, where Env leaves them unset.
	Env map[string]string
	// Cmd is the command line of the server, from the [Spawner] cmd
	// setting; empty means this binary followed by "server".
	Cmd []string
	// Args are appended to Cmd, from the [Spawner] args setting.
	Args []string
	// NotebookDir is the folder the server serves; "" means the user's
	// home folder. A leading "~" and relative paths refer to the home
	// folder too.
	NotebookDir string
	// StartTimeout bounds the whole start, from launching the process to
	// the first HTTP response; 0 means the spawner's default.
	StartTimeout time.Duration
	// HTTPTimeout bounds the wait for the first HTTP response once the
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
	// Start launches the server and returns once it responds to HTTP at
	// the returned URL, or fails after StartTimeout or HTTPTimeout.
	// progress, which may be nil, receives human-readable events for the
	// spawn-pending page, and the process state to store (Event.State).
	// Cancelling ctx abandons the start and ends the process.
	Start(ctx context.Context, r Request, progress func(Event)) (Started, error)
	// Poll reports whether the server described by state still runs. An
	// error means that state is invalid or the check failed, except that
	// a server whose process runs but does not respond to HTTP may be
	// reported as running together with an error saying so.
	Poll(ctx context.Context, state json.RawMessage) (running bool, err error)
	// Stop ends the server described by state: SIGINT, then SIGTERM and
	// SIGKILL, each after a timeout. Stopping a server that is gone is
	// not an error.
	Stop(ctx context.Context, state json.RawMessage) error
}

// UserChecker is an optional interface of a Spawner that accepts only some
// user names, such as LocalProcess, which needs valid system account names.
// CheckUser returns an error that explains why no server of user name can
// start.
// It runs no command and has no side effects. The hub calls it before it
// records a start and returns its error to the client as a 400 response.
type UserChecker interface {
	CheckUser(name string) error
}

// ExitNotifier is an optional interface of a Spawner that learns when its
// servers' processes exit, such as SimpleLocalProcess, their parent. The
// hub then polls its servers at once, so that a server shut down from
// JupyterLab shows as stopped without waiting for the next poll.
type ExitNotifier interface {
	// Exited returns a channel that receives after a server process that
	// this Spawner started has exited. Exits close together may share one
	// receive.
	Exited() <-chan struct{}
}

// Started is the result of a successful Start.
type Started struct {
	// URL is the server's address for the hub, without the prefix, such as
	// http://127.0.0.1:PORT.
	URL string
	// State is the JSON value Poll and Stop need to find the server again.
	State json.RawMessage
}

// Event is one step of a start, shown on the spawn-pending page.
type Event struct {
	// Progress is a percentage, 0 to 100.
	Progress int
	// Message is a sentence for people about the step.
	Message string
	// State, when set, describes the server's process, in the form that
	// Poll and Stop take, before the process runs the server's command.
	// The progress function stores it before it returns, and the spawner
	// lets the command run only after that, and only if Start's ctx has
	// not ended meanwhile. A hub that stops before it stored the state
	// thus leaves no server running, and one that stops after leaves the
	// state for the next hub to stop the process.
	State json.RawMessage
}

// StartError is the error of a start whose server process ran but exited
// or did not respond in time. It carries the last lines of the server's
// output, which usually contain the reason.
type StartError struct {
	User, Server string
	// Err is the cause. It wraps ErrStartTimeout, an *exec.ExitError, or
	// the context's error.
	Err error
	// Output holds the last lines the server wrote, oldest first.
	Output []string
	// OutputPath is the file that holds all of the server's output.
	OutputPath string
}

func (e *StartError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "starting server for %s: %v", serverKey(e.User, e.Server), e.Err)
	if len(e.Output) == 0 {
		fmt.Fprintf(&b, " (no output in %s)", e.OutputPath)
		return b.String()
	}
	fmt.Fprintf(&b, "; last lines of %s:", e.OutputPath)
	for _, line := range e.Output {
		b.WriteString("\n    ")
		b.WriteString(line)
	}
	return b.String()
}

func (e *StartError) Unwrap() error { return e.Err }
