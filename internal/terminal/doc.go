// Package terminal runs the terminals of `jupygo server`: shells on
// pseudo-terminals, reached through jupyter_server's REST API
// (/api/terminals) and terminado's WebSocket protocol
// (/terminals/websocket/{name}).
//
// # Model
//
// A Manager holds the running terminals by name. Names are "1", "2", ...,
// the lowest free number first, as jupyter_server gives them, or a name the
// client chooses. Each terminal runs one shell in a session of its own,
// with the PTY as its controlling terminal and TERM=xterm-256color.
//
// # Lifecycle
//
// A terminal ends when its shell exits or when it is terminated. Ending
// sends SIGHUP (and SIGCONT, for stopped jobs) to every process of the
// shell's session, then SIGKILL to those left after a grace period, so no
// background job outlives its terminal. The shell is reaped only after
// that, so its pid, which is the session id, names no other process while
// the signals go out. Clients then get ["disconnect", 1] and a normal
// close. Manager.Close ends every terminal; the server calls it when it
// stops. A process that starts a session of its own escapes this.
//
// # Concurrency
//
// Every WebSocket of a terminal gets all its output. A reader goroutine
// per terminal reads the PTY and queues each read for every client. A
// client whose queue is full is disconnected, so it never slows the
// others, and it gets the recent output again when it reconnects. Input from
// all clients goes through one queue to a writer goroutine, so a shell
// that stops reading holds up its clients' readers, never the server.
//
// # Wire format
//
// Each WebSocket message is a JSON array whose first element names it.
// Clients send ["stdin", text] and ["set_size", rows, cols, ...]; kinds
// the server does not know are ignored, as terminado ignores them. The
// server sends ["setup", {}] first, then ["stdout", text] with the recent
// output (at most 256 KiB) and everything that follows. The PTY's bytes
// are decoded as UTF-8, invalid bytes becoming U+FFFD. The PTY has the
// size of its smallest client's screen.
package terminal
