// Package benchkit holds what the benchmark programs under bench/ share:
// child processes with their own process group and log, free loopback
// ports, readings of /proc, and timing summaries.
package benchkit

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StopGrace is how long a stopped process gets between SIGTERM and SIGKILL.
// A program may set it before it starts any process.
var StopGrace = 10 * time.Second

// Process is a child process started by the benchmark. One goroutine per
// process waits for it to exit; Stop waits for that goroutine.
type Process struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// Start starts argv in dir with env, its output going to logPath. A
// relative program path such as bin/jupygo is taken from the current
// folder, not from dir.
// The child gets its own process group, so a Ctrl-C in the terminal reaches
// only the benchmark, which then stops its children itself. Its pid is
// appended to pidfile (when set) so the calling script can kill what is
// left if the benchmark itself dies.
func Start(argv []string, dir string, env []string, logPath, pidfile string) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log: %w", err)
	}
	defer logFile.Close()
	program := argv[0]
	if strings.ContainsRune(program, filepath.Separator) {
		if program, err = filepath.Abs(program); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(program, argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err // names the program already: "fork/exec PATH: ..."
	}
	p := &Process{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	if pidfile != "" {
		if err := AppendPID(pidfile, cmd.Process.Pid); err != nil {
			p.Stop()
			return nil, err
		}
	}
	return p, nil
}

// AppendPID appends pid to the file pidfile, one pid per line.
func AppendPID(pidfile string, pid int) error {
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

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Err returns the error of the process's exit, nil while it runs or when it
// exited with status 0.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.waitErr
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM, waits up to StopGrace, then sends SIGKILL. Processes
// that descended from it before the stop (kernels started by a server) and
// are still alive afterwards get SIGKILL too. Stop returns once the
// process has exited and is safe to call more than once.
func (p *Process) Stop() {
	kids := Descendants(p.PID())
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-p.done:
	case <-time.After(StopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	for _, pid := range kids {
		if Alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// LogTail returns the last lines of the process log, for error messages.
func (p *Process) LogTail() string {
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

// Alive reports whether a process with this pid exists.
func Alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// FreePorts returns n distinct loopback TCP ports that were free when it
// ran. Another process may take one before the caller binds it.
func FreePorts(n int) ([]int, error) {
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

// Resident is the resident memory of one process in KiB: VmRSS,
// RssAnon and RssFile from /proc/PID/status.
type Resident struct {
	RSS, Anon, File int
}

// ReadResident reads the resident memory of pid.
func ReadResident(pid int) (Resident, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Resident{}, fmt.Errorf("reading rss of %d: %w", pid, err)
	}
	return ParseStatus(data)
}

// ParseStatus reads VmRSS, RssAnon and RssFile from the text of a
// /proc/PID/status file. It returns an error when VmRSS is missing or a
// value is not a number of kB.
func ParseStatus(data []byte) (Resident, error) {
	var r Resident
	fields := map[string]*int{"VmRSS:": &r.RSS, "RssAnon:": &r.Anon, "RssFile:": &r.File}
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

// ReadPSS returns the proportional set size of pid in KiB, from
// /proc/PID/smaps_rollup: its resident pages, each shared page divided by
// the number of processes that map it. Summed over processes, PSS counts a
// page shared by many of them (the pages of one executable) once, where a
// sum of RSS counts it once per process.
func ReadPSS(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, fmt.Errorf("reading pss of %d: %w", pid, err)
	}
	return ParsePSS(data)
}

// ParsePSS reads the Pss line, in kB, of the text of a
// /proc/PID/smaps_rollup file.
func ParsePSS(data []byte) (int, error) {
	for line := range strings.Lines(string(data)) {
		value, ok := strings.CutPrefix(line, "Pss:")
		if !ok {
			continue
		}
		kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(value), " kB"))
		if err != nil || kib < 0 {
			return 0, fmt.Errorf("smaps_rollup: Pss %q is not a number of kB", strings.TrimSpace(value))
		}
		return kib, nil
	}
	return 0, errors.New("smaps_rollup: no Pss line")
}

// Descendants returns the pids of all living descendants of pid, found by
// reading the parent pid of every process in /proc.
func Descendants(pid int) []int {
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
		if st, err := ParseStat(stat); err == nil {
			children[st.PPID] = append(children[st.PPID], child)
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

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ),
// which is 100 per second on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// Stat holds the fields the benchmark reads from /proc/PID/stat.
type Stat struct {
	PPID int
	CPU  time.Duration // utime + stime of all threads, in steps of clockTick
}

// CPUTime returns the CPU time that pid has used so far, not counting its
// children.
func CPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading cpu time of %d: %w", pid, err)
	}
	st, err := ParseStat(data)
	if err != nil {
		return 0, fmt.Errorf("reading cpu time of %d: %w", pid, err)
	}
	return st.CPU, nil
}

// ParseStat parses a /proc/PID/stat line. The command name in parentheses
// may itself contain spaces and parentheses, so fields are counted from the
// last ')': state, ppid, then utime and stime as the 12th and 13th.
func ParseStat(stat []byte) (Stat, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return Stat{}, errors.New("proc stat: no ')' after the command name")
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 13 {
		return Stat{}, fmt.Errorf("proc stat: %d fields after the command name, want at least 13", len(fields))
	}
	// Each count stays below half the ticks a Duration can hold, so the
	// sum of utime and stime cannot overflow.
	const maxCount = math.MaxInt64 / int64(clockTick) / 2
	var nums [3]int64
	for i, f := range []string{fields[1], fields[11], fields[12]} {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 || n > maxCount {
			return Stat{}, fmt.Errorf("proc stat: field %q is not a count", f)
		}
		nums[i] = n
	}
	return Stat{PPID: int(nums[0]), CPU: time.Duration(nums[1]+nums[2]) * clockTick}, nil
}
