package terminal

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// replayLimit bounds the recent output a terminal keeps for clients that
// connect later, such as a page that was reloaded.
const replayLimit = 256 << 10

// readSize is the largest read from the PTY, and so the largest stdout
// message.
const readSize = 64 << 10

// drainTimeout is how long a terminal whose shell has exited waits for the
// rest of its output. A process that left the session can hold the PTY
// open; the terminal then closes it anyway.
const drainTimeout = 2 * time.Second

// Terminal is one shell on a PTY, shared by every WebSocket connected to
// it. Its goroutines are started by start and end by themselves once the
// shell has exited: wait closes done after the output is drained and every
// client has received the disconnect message.
type Terminal struct {
	name  string
	seq   uint64 // creation order, for listings
	log   *slog.Logger
	cmd   *exec.Cmd
	pid   int
	pty   *os.File // the PTY's master side, in Go's poller
	grace time.Duration
	touch func(time.Time) // records activity with the manager
	ended func(*Terminal) // removes the terminal from the manager

	stdin    chan []byte
	readDone chan struct{} // closed when readLoop has returned
	exited   chan struct{} // closed when the shell has exited, before it is reaped
	done     chan struct{} // closed when the terminal has ended

	// procMu is held while signalling and while reaping, so a signal never
	// reaches a pid that was reaped and reused.
	procMu sync.Mutex
	reaped bool

	mu           sync.Mutex
	clients      map[*client]struct{}
	replay       []string // recent stdout, oldest first
	replayBytes  int
	lastActivity time.Time
	rows, cols   int
	over         bool // the shell is gone and the clients disconnected
}

// startOptions configures start.
type startOptions struct {
	name  string
	seq   uint64
	argv  []string
	dir   string
	env   []string
	grace time.Duration
	log   *slog.Logger
	touch func(time.Time)
	ended func(*Terminal)
}

// start runs opts.argv on a new PTY in its own session, with the PTY as its
// controlling terminal, and starts the goroutines that serve it.
func start(opts startOptions) (*Terminal, error) {
	master, tty, err := openPTY()
	if err != nil {
		return nil, err
	}
	defer tty.Close()

	cmd := exec.Command(opts.argv[0], opts.argv[1:]...)
	cmd.Dir = opts.dir
	cmd.Env = opts.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = sysProcAttr()
	t := &Terminal{
		name: opts.name, seq: opts.seq, cmd: cmd, pty: master,
		grace: opts.grace, touch: opts.touch, ended: opts.ended,
		stdin:        make(chan []byte, 8),
		readDone:     make(chan struct{}),
		exited:       make(chan struct{}),
		done:         make(chan struct{}),
		clients:      make(map[*client]struct{}),
		lastActivity: time.Now().UTC(),
		rows:         24, cols: 80,
	}

	if err := t.setWinsize(t.rows, t.cols); err != nil {
		master.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		master.Close()
		return nil, fmt.Errorf("running %s: %w", opts.argv[0], err)
	}

	t.pid = cmd.Process.Pid
	t.log = opts.log.With("terminal", opts.name, "pid", t.pid)
	go t.readLoop()
	go t.writeLoop()
	go t.wait()
	return t, nil
}

// openPTY opens a PTY pair. The pty package leaves the master side in
// blocking mode, so openPTY moves it into Go's poller: there a Close ends
// a Read or Write that waits on it.
func openPTY() (master, tty *os.File, err error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("opening a PTY: %w", err)
	}
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		tty.Close()
		return nil, nil, fmt.Errorf("preparing the PTY: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), tty, nil
}

// setWinsize sets the size of the PTY, which sends SIGWINCH to the
// foreground process group of the terminal.
func (t *Terminal) setWinsize(rows, cols int) error {
	rc, err := t.pty.SyscallConn()
	if err != nil {
		return err
	}
	ws := &unix.Winsize{Row: uint16(rows), Col: uint16(cols)}
	var ioctlErr error
	err = rc.Control(func(fd uintptr) {
		ioctlErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws)
	})
	if err == nil {
		err = ioctlErr
	}
	if err != nil {
		return fmt.Errorf("setting the terminal size: %w", err)
	}
	return nil
}

// readLoop relays the PTY's output to the clients until the PTY is closed
// or every process has let go of its other side.
func (t *Terminal) readLoop() {
	defer close(t.readDone)
	var dec utf8Decoder
	buf := make([]byte, readSize)
	for {
		n, err := t.pty.Read(buf)
		if n > 0 {
			t.output(dec.decode(buf[:n]))
		}
		if err != nil {
			t.output(dec.flush())
			return
		}
	}
}

// output sends text to every client and keeps it for later ones.
func (t *Terminal) output(text string) {
	if text == "" {
		return
	}
	frame := encodeMessage(kindStdout, text)
	now := time.Now().UTC()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.replay = append(t.replay, text)
	t.replayBytes += len(text)
	for t.replayBytes > replayLimit && len(t.replay) > 1 {
		t.replayBytes -= len(t.replay[0])
		t.replay[0] = ""
		t.replay = t.replay[1:]
	}
	t.lastActivity = now
	t.touch(now)
	for c := range t.clients {
		t.sendLocked(c, frame)
	}
}

// sendLocked queues frame for c. A client whose queue is full is dropped:
// it falls behind the shell, and reconnecting gives it the recent output.
func (t *Terminal) sendLocked(c *client, frame []byte) {
	if c.send(frame) {
		return
	}
	t.log.Info("terminal client too slow, disconnecting it")
	t.detachLocked(c)
	c.stop(slowClient)
}

// writeLoop writes the clients' input to the PTY, in the order it came.
func (t *Terminal) writeLoop() {
	for {
		select {
		case data := <-t.stdin:
			if _, err := t.pty.Write(data); err != nil {
				t.log.Debug("terminal input dropped", "err", err)
			}
		case <-t.done:
			return
		}
	}
}

// write queues data for the shell's input. It waits while the queue is
// full, and returns false without waiting once stop or the terminal's end
// is reached.
func (t *Terminal) write(data []byte, stop <-chan struct{}) bool {
	select {
	case t.stdin <- data:
		return true
	case <-stop:
	case <-t.done:
	}
	return false
}

// wait waits for the shell to exit, ends what is left of its session,
// drains the output, reaps the shell and then disconnects the clients.
func (t *Terminal) wait() {
	// The shell stays a zombie until Wait, so its pid, which is also the
	// session and process group id, cannot be reused in the meantime.
	waitExited(t.pid)
	close(t.exited)
	t.endSession()

	select {
	case <-t.readDone:
	case <-time.After(drainTimeout):
	}
	t.pty.Close()
	<-t.readDone
	t.procMu.Lock()
	err := t.cmd.Wait()
	t.reaped = true
	t.procMu.Unlock()
	t.log.Info("terminal ended", "status", exitStatus(err))

	t.mu.Lock()
	t.over = true
	bye := encodeMessage(kindDisconnect, 1)
	for c := range t.clients {
		c.send(bye)
		t.detachLocked(c)
		c.stop(terminalEnded)
	}
	t.mu.Unlock()
	t.ended(t)
	close(t.done)
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// hangUp sends SIGHUP to every process of the terminal's session, as when
// a terminal window closes, then SIGCONT so that stopped jobs receive it.
func (t *Terminal) hangUp() {
	t.signalSession(syscall.SIGHUP)
	t.signalSession(syscall.SIGCONT)
}

// terminate ends the terminal: SIGHUP to its session, SIGKILL after the
// grace period, and then it waits until the terminal has ended.
func (t *Terminal) terminate() {
	t.hangUp()
	if !waitClosed(t.exited, t.grace) {
		t.log.Info("terminal did not hang up, sending SIGKILL")
		t.signalSession(syscall.SIGKILL)
	}
	<-t.done
}

// endSession ends the processes that the exited shell left in its
// session, such as background jobs, so that none outlives its terminal.
func (t *Terminal) endSession() {
	if len(sessionProcesses(t.pid)) == 0 {
		return
	}
	t.hangUp()
	if t.waitSessionGone(t.grace) {
		return
	}
	t.log.Info("terminal processes did not hang up, sending SIGKILL")
	t.signalSession(syscall.SIGKILL)
	// SIGKILL takes effect asynchronously; wait, briefly, so that a
	// DELETE that returns has ended every process.
	if !t.waitSessionGone(2 * time.Second) {
		t.log.Warn("terminal processes still listed 2 s after SIGKILL", "pid", t.pid)
	}
}

// waitSessionGone waits up to d until no process is left in the
// terminal's session but zombies, and reports whether that happened.
func (t *Terminal) waitSessionGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for len(sessionProcesses(t.pid)) > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// signalSession sends sig to the process group of the shell and to every
// other process of its session, such as jobs that the shell put in groups
// of their own.
func (t *Terminal) signalSession(sig syscall.Signal) {
	t.procMu.Lock()
	defer t.procMu.Unlock()
	if t.reaped {
		return // the ids may name other processes now
	}
	_ = syscall.Kill(-t.pid, sig)
	for _, pid := range sessionProcesses(t.pid) {
		_ = syscall.Kill(pid, sig)
	}
}

// waitClosed waits up to d for ch to close and reports whether it did.
func waitClosed(ch <-chan struct{}, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
		return true
	case <-timer.C:
		return false
	}
}

// attach adds c to the terminal's clients and queues the setup message and
// the recent output for it. It returns false when the terminal has ended.
func (t *Terminal) attach(c *client) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.over {
		return false
	}
	c.send(encodeMessage(kindSetup, struct{}{}))
	if len(t.replay) > 0 {
		c.send(encodeMessage(kindStdout, strings.Join(t.replay, "")))
	}
	t.clients[c] = struct{}{}
	return true
}

// detach removes c from the clients and fits the PTY to those left.
func (t *Terminal) detach(c *client) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.detachLocked(c)
}

func (t *Terminal) detachLocked(c *client) {
	if _, ok := t.clients[c]; !ok {
		return
	}
	delete(t.clients, c)
	t.resizeLocked()
}

// setSize records the size of c's screen and fits the PTY to the smallest
// screen, as terminado does: a terminal that uses less than the space it
// has reads better than one that overflows it.
func (t *Terminal) setSize(c *client, rows, cols int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c.rows, c.cols = rows, cols
	t.resizeLocked()
}

func (t *Terminal) resizeLocked() {
	rows, cols := 0, 0
	for c := range t.clients {
		if c.rows == 0 {
			continue // no size yet
		}
		if rows == 0 || c.rows < rows {
			rows = c.rows
		}
		if cols == 0 || c.cols < cols {
			cols = c.cols
		}
	}
	if rows == 0 || (rows == t.rows && cols == t.cols) || t.over {
		return
	}
	if err := t.setWinsize(rows, cols); err != nil {
		t.log.Debug("terminal resize failed", "err", err)
		return
	}
	t.rows, t.cols = rows, cols
}

// activity records input or output at now.
func (t *Terminal) activity(now time.Time) {
	t.mu.Lock()
	t.lastActivity = now
	t.mu.Unlock()
	t.touch(now)
}

// model returns the REST model of the terminal.
func (t *Terminal) model() Model {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Model{Name: t.name, LastActivity: t.lastActivity}
}
