// Package spawn starts, polls and stops the hub's single-user servers.
//
// The hub depends only on the Spawner interface. SimpleLocalProcess runs
// each server as a process of the hub's own account, as JupyterHub's
// SimpleLocalProcessSpawner does. LocalProcess runs it as the user's system
// account, as JupyterHub's LocalProcessSpawner does: a hub running as root
// switches to the account's uid, gid and groups, and can create missing
// accounts with add_user_cmd. It never runs a server as root or as a
// system account unless configured to. Both share the process handling
// below. Spawners for Slurm or Kubernetes will implement the same
// interface.
//
// A spawner may also implement UserChecker, which the hub calls before it
// records a start, so that a user name the spawner cannot serve gets a 400
// response rather than a failed start.
//
// # Starting
//
// Start picks a free port on 127.0.0.1 and passes it to the server in
// JUPYTERHUB_SERVICE_URL, as JupyterHub 2 and later do, so the command
// needs no --ip or --port arguments. The environment is the Request's Env
// on top of HOME, USER, JUPYTERHUB_ROOT_DIR and the few variables the
// spawner keeps from the hub's own environment (PATH and LANG by default).
// LocalProcess sets HOME, USER, LOGNAME and SHELL from the account's passwd
// entry over the Env. Nothing else of the hub's environment, such as its
// secrets, reaches the server. Start returns once the server responds to HTTP at its prefix with a
// status below 500, or fails when the process exits or a timeout passes.
// The error then carries the last lines of the server's output.
//
// # Processes outlive the hub
//
// Each server leads a new session and process group, so signals sent to
// the hub, or to its terminal's process group, do not reach it. Its
// stdout and stderr go to a file in the user's home folder
// (.jupygo-server.log, or .jupygo-server-NAME.log for a named server) and
// not to a pipe, so the server neither blocks nor gets SIGPIPE when the hub
// is gone. While the hub runs, it copies each new line of that file to its
// own log, with user and server attributes. A hub that finds a server
// again after a restart does not copy that server's output.
//
// A service manager may still end the servers with the hub: systemd's
// default KillMode=control-group kills every process left in the unit's
// cgroup when the unit stops, so a hub unit needs KillMode=process. For
// the same reason no server gets a parent-death signal (Pdeathsig).
//
// # No server without a stored state
//
// A hub that dies between starting a server's process and storing its
// state would leave a server that no later hub can find or stop. So each
// server process starts as the hub's own binary (/proc/self/exe) running
// the hidden subcommand LaunchCommand, which waits on a pipe inherited as
// descriptor 3 whose write end only the hub holds. Start reports the
// process state in a progress event, the hub stores it and returns, and
// Start then writes one byte on the pipe. The process then sets the umask
// (LocalProcess) and execs the server's command, which keeps its pid,
// start time, session and account, so the stored state describes the
// server. When the pipe reaches end of file first, because the hub died
// or abandoned the start, the process exits with status 125 without
// running the command. This works for any command, whether jupygo server,
// jupyterhub-singleuser or a user's own. Every account that runs servers
// needs execute permission on the hub's binary, but not on its folders,
// because the kernel opens /proc/self/exe without a path lookup.
//
// # State
//
// Start returns a JSON state that the hub stores with the server:
//
//	{"pid": 4242, "start_time": 1234567, "boot_id": "…",
//	 "url": "http://127.0.0.1:41234", "prefix": "/user/alice/"}
//
// start_time is field 22 of /proc/PID/stat and boot_id the kernel's boot
// ID. Poll and Stop need nothing but this state, so a hub that restarted
// finds its servers again although they are not its children. A pid
// counts as the server only while a process with that pid has the
// recorded start time, in the same boot, and leads its own process group.
// This keeps a reused pid from being reported as running or being
// signalled.
//
// # Stopping
//
// Stop signals the process group as JupyterHub's LocalProcessSpawner
// signals the server: SIGINT, then SIGTERM after InterruptTimeout (10 s by
// default), then SIGKILL after TermTimeout (5 s), and it fails when the
// process still runs KillTimeout (5 s) later. Stopping a server that is
// gone is not an error.
package spawn
