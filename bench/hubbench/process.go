package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a stopped process gets between SIGTERM and SIGKILL.
// JupyterHub stops its proxy and user servers in this window.
const stopGrace = 15 * time.Second

// process is a child process started by the benchmark. One goroutine per
// process waits for it to exit; stop waits for that goroutine.
type process struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// startProcess starts argv in dir with env, its output going to logPath.
// The child gets its own process group, so a Ctrl-C in the terminal reaches
// only the benchmark, which then stops its children itself. Its pid is
// appended to pidfile (when set) so the calling script can kill what is
// left if the benchmark itself dies.
func startProcess(argv []string, dir string, env []string, logPath, pidfile string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err // names the program already: "fork/exec PATH: ..."
	}
	p := &process{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	if pidfile != "" {
		if err := appendPID(pidfile, cmd.Process.Pid); err != nil {
			p.stop()
			return nil, err
		}
	}
	return p, nil
}

func appendPID(pidfile string, pid int) error {
	f, err := os.OpenFile(pidfile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("recording pid: %w", err)
	}
	_, err = fmt.Fprintln(f, pid)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("recording pid: %w", err)
	}
	return nil
}

// pid returns the process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopGrace, then sends SIGKILL. Processes
// that descended from it before the stop (kernels started by a server) and
// are still alive afterwards get SIGKILL too. stop returns once the
// process has exited and is safe to call more than once.
func (p *process) stop() {
	kids := descendants(p.pid())
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	for _, pid := range kids {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// logTail returns the last lines of the process log, for error messages.
func (p *process) logTail() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// freePorts returns n distinct loopback TCP ports that were free when it
// ran. Another process may take one before the caller binds it.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// residentKiB is the resident memory of one process in KiB: VmRSS,
// RssAnon and RssFile from /proc/PID/status.
type residentKiB struct {
	rss, anon, file int
}

// procStatus reads the resident memory of pid.
func procStatus(pid int) (residentKiB, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return residentKiB{}, fmt.Errorf("reading rss of %d: %w", pid, err)
	}
	return parseStatus(data)
}

// parseStatus reads VmRSS, RssAnon and RssFile from the text of a
// /proc/PID/status file. It returns an error when VmRSS is missing or a
// value is not a number of kB.
func parseStatus(data []byte) (residentKiB, error) {
	var r residentKiB
	fields := map[string]*int{"VmRSS:": &r.rss, "RssAnon:": &r.anon, "RssFile:": &r.file}
	haveRSS := false
	for line := range strings.Lines(string(data)) {
		name, value, ok := strings.Cut(line, "\t")
		target := fields[name]
		if !ok || target == nil {
			continue
		}
		kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
		if err != nil {
			return r, fmt.Errorf("proc status: %s %q: %w", name, value, err)
		}
		*target = kib
		haveRSS = haveRSS || name == "VmRSS:"
	}
	if !haveRSS {
		return r, errors.New("proc status: no VmRSS line")
	}
	return r, nil
}

// descendants returns the pids of all living descendants of pid, found by
// reading the parent pid of every process in /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if st, err := parseStat(stat); err == nil {
			children[st.ppid] = append(children[st.ppid], child)
		}
	}
	var out []int
	queue := children[pid]
	for len(queue) > 0 && len(out) < 10000 {
		next := queue[0]
		queue = queue[1:]
		out = append(out, next)
		queue = append(queue, children[next]...)
	}
	return out
}

// procStat holds the field the benchmark reads from /proc/PID/stat.
type procStat struct {
	ppid int
}

// parseStat parses a /proc/PID/stat line. The command name in parentheses
// may itself contain spaces and parentheses, so fields are counted from the
// last ')': state, then ppid.
func parseStat(stat []byte) (procStat, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return procStat{}, errors.New("proc stat: no ')' after the command name")
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 2 {
		return procStat{}, fmt.Errorf("proc stat: %d fields after the command name, want at least 2", len(fields))
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil || ppid < 0 {
		return procStat{}, fmt.Errorf("proc stat: parent pid %q is not a pid", fields[1])
	}
	return procStat{ppid: ppid}, nil
}
