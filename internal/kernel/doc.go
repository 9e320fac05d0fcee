// Package kernel runs Jupyter kernels for the server: it finds kernel specs,
// starts and supervises kernel processes, talks to them over ZeroMQ, and
// bridges their messages to browser WebSockets. It serves the kernel parts of
// the Jupyter Server REST API in the shapes jupyter_server 2 uses, for
// JupyterLab 4 (@jupyterlab/services).
//
// # Specs
//
// A kernel spec is a folder with a kernel.json. Specs are searched in the
// kernels folder of every Jupyter data dir (DataDirs: JUPYTER_PATH, the user
// data dir, /usr/local/share/jupyter, /usr/share/jupyter), the first folder
// with a name winning, names lower-cased as jupyter_client does. When no
// python3 spec exists and /usr/bin/python3 can import ipykernel, a python3
// spec for it is provided.
//
// # Lifecycle
//
// Manager.Start writes a connection file (mode 0600 in the runtime dir, a
// random 32-byte key, five free ports on 127.0.0.1), starts the spec's argv
// in a new session, so the kernel leads its own process group, and returns
// while the channels wait for the kernel to reply to kernel_info_request. A
// kernel that exits during start, most often because another process took
// one of its ports, is started again with new ports, up to three starts in
// all. A kernel that has not replied within Options.StartTimeout (60 s by
// default) has its process group killed. Either way the kernel is then dead:
// its sockets close, which ends the nudge, clients get status "dead", and
// it stays listed with execution_state "dead" and a reason until it is
// deleted or a requested restart revives it. jupyter_server 2 also lists a
// kernel whose start failed as dead with a reason. Unlike jupygo, it removes
// a kernel whose automatic restarts failed. It also keeps nudging a kernel
// that never replies, once for each WebSocket, until the kernel is shut down.
//
// A kernel that exits on its own is restarted with the same connection file;
// its clients first get a synthesized IOPub status "restarting". It gets five
// such restarts in a row; a death more than 10 s after a start begins a new
// count. The sixth death marks the kernel dead, and clients get status
// "dead"; a requested restart revives it.
//
// Shutdown sends an interrupt and shutdown_request on control, then SIGTERM
// to the process group after 2.5 s and SIGKILL after 5 s. When the kernel
// process exits, whatever is left of its process group is killed before the
// process is reaped. Manager.Close shuts every kernel down.
//
// With Options.CullIdleTimeout set, a goroutine of the manager checks the
// kernels every Options.CullInterval, as jupyter_server's
// MappingKernelManager does. It shuts down each dead kernel, and each kernel
// whose last IOPub activity is older than the timeout unless the kernel is
// busy or has a WebSocket attached. Options.CullBusy and
// Options.CullConnected cull those too. Kernels are shut down one at a time,
// each with a warning in the log.
//
// # Channels and routing
//
// Each kernel has one set of ZeroMQ sockets: DEALERs for shell, control and
// stdin, with one identity shared by shell and stdin as the kernel requires,
// and a SUB for IOPub. libzmq sockets are not safe for concurrent use, so a
// mutex guards them, and the goroutine that holds it calls libzmq itself:
// the reader of a WebSocket sends its client's messages. The ZMQ_FDs of the
// sockets are in an epoll (or kqueue) set of the kernel's own, which one
// goroutine waits for in Go's netpoller. It never blocks in libzmq. A small
// binding of libzmq in this package receives up to 128 frames, all that a
// socket has queued in the common case, in one cgo call.
//
// A message from the kernel is written to a WebSocket by that goroutine
// itself when the client keeps up, with a write that never waits for the
// client. Otherwise it is queued for the WebSocket's writer goroutine.
//
// A client is one browser tab, named by the session_id of its WebSocket URL.
// IOPub goes to every client. Replies on shell and control, and stdin
// messages such as input_request, go to the client whose request (by msg_id)
// is their parent.
//
// After each start the sockets are nudged: kernel_info_request is sent every
// 500 ms until a reply and some IOPub message have arrived, which proves the
// SUB subscription live (ZeroMQ's "slow joiner"). The channels then wait up to
// 2 s for the stdin socket to complete its handshake, because the kernel's
// ROUTER drops an input_request for a peer that has not connected. Client
// messages that arrive before that are held, so no output of theirs is lost. A kernel busy with a
// cell is never waited for: new WebSockets attach to sockets that are
// already live.
//
// # WebSocket framing
//
// When the client offers v1.kernel.websocket.jupyter.org, frames are binary:
// a little-endian u64 count, u64 offsets, then channel, header,
// parent_header, metadata, content and buffers; the dict parts are relayed
// as the kernel sent them, and client messages are signed by the server.
// Otherwise the legacy framing applies: a text frame with the message JSON,
// or, with buffers, a binary frame with big-endian u32 offsets.
//
// # Flow control
//
// IOPub output to each client is rate limited as in jupyter_server (1000
// messages/s and 1 MB/s of stream output, averaged over 3 s, reset at each
// status idle), with stderr notices when output stops and resumes. Each
// client's queue is bounded: past a soft limit IOPub output is dropped with a
// notice, past a hard limit the WebSocket is closed. A client that
// disconnects keeps a bounded queue, replayed when a WebSocket with the same
// session_id returns.
package kernel
