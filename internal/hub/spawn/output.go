package spawn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Limits of what the hub reads back from a server's output file.
const (
	// tailLines is how many of the last lines a start error shows.
	tailLines = 20
	// tailBytes bounds how much of the file's end is read for them.
	tailBytes = 16 << 10
	// maxLogLine bounds one line passed to the hub's log; longer lines are
	// cut.
	maxLogLine = 4 << 10
	// followInterval is how soon the hub looks again for new output after
	// a server wrote some, so a chatty server's lines are read in batches.
	// Each look that finds none doubles the wait, up to followMaxInterval,
	// or followWatchedInterval where inotify reports writes at once.
	followInterval        = 250 * time.Millisecond
	followMaxInterval     = 4 * time.Second
	followWatchedInterval = time.Minute
)

// outputPath returns the file that receives the stdout and stderr of a
// server: .jupygo-server.log in the home folder for the default server and
// .jupygo-server-NAME.log for a named one.
func outputPath(home, server string) string {
	name := ".jupygo-server.log"
	if server != "" {
		name = ".jupygo-server-" + server + ".log"
	}
	return filepath.Join(home, name)
}

// createOutput creates the output file at path, or truncates the one
// there. A file rather than a pipe keeps the server's writes from blocking
// or failing when the hub is gone.
//
// With owner nil the server runs as the hub's account. Otherwise the hub
// runs as root and path lies in owner's home folder, which owner controls.
// The file found there must then be a regular file with a single link,
// owned by owner or by the hub, and it is made owner's. Checking the open
// file rather than the path keeps a name swapped in meanwhile from
// redirecting the write. O_NOFOLLOW rejects a symbolic link, the link count
// a hard link to another account's file, and O_NONBLOCK keeps a FIFO from
// blocking the open.
//
// NOTE: the file is truncated at each start but not rotated, so the output
// of a server that runs for months grows without bound.
func createOutput(path string, owner *account) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|
		syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o600)
	if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENXIO) {
		// ELOOP is O_NOFOLLOW's error for a symbolic link, and ENXIO that
		// of a FIFO without a reader, opened with O_NONBLOCK.
		return nil, fmt.Errorf("%s is not a regular file with a single link: remove it (%w)",
			path, err)
	}
	if err != nil {
		return nil, err
	}
	if err := claimOutput(f, owner); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// claimOutput checks the output file f as createOutput describes, gives it
// to owner and empties it.
func claimOutput(f *os.File, owner *account) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || !info.Mode().IsRegular() || st.Nlink != 1 {
		return fmt.Errorf("%s is not a regular file with a single link: remove it", f.Name())
	}
	if owner != nil {
		if st.Uid != owner.uid && int(st.Uid) != os.Geteuid() {
			return fmt.Errorf("%s belongs to uid %d, not to %s (uid %d): remove it",
				f.Name(), st.Uid, owner.name, owner.uid)
		}
		if err := f.Chown(int(owner.uid), int(owner.gid)); err != nil {
			return err
		}
	}
	return f.Truncate(0)
}

// openOutputReader opens the output file at path for reading and checks
// that it is the file that w, the server's end, writes.
func openOutputReader(path string, w *os.File) (*os.File, error) {
	r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|
		syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	wInfo, err := w.Stat()
	if err != nil {
		r.Close()
		return nil, err
	}
	rInfo, err := r.Stat()
	if err != nil {
		r.Close()
		return nil, err
	}
	if !os.SameFile(wInfo, rInfo) {
		r.Close()
		return nil, fmt.Errorf("%s was replaced by another file while it was opened", path)
	}
	return r, nil
}

// tailFile returns up to tailLines last lines of the file at path, read
// from at most its last tailBytes bytes.
func tailFile(path string) ([]string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return tailOpenFile(f)
}

// tailOpenFile is tailFile on an open file. It reads with ReadAt, so it
// neither uses nor moves the file's offset.
func tailOpenFile(f *os.File) ([]string, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	offset := max(info.Size()-tailBytes, 0)
	buf := make([]byte, info.Size()-offset)
	n, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return lastLines(buf[:n], offset > 0, tailLines), nil
}

// lastLines splits data into lines and returns the last n of them. When
// cut is true, data starts in the middle of the file, so its first partial
// line is dropped.
func lastLines(data []byte, cut bool, n int) []string {
	if cut {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	data = bytes.TrimRight(data, "\n")
	if len(data) == 0 {
		return nil
	}
	lines := bytes.Split(data, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(bytes.TrimRight(l, "\r"))
	}
	return out
}

// followBuffers holds the read buffers of followOutputEvery.
var followBuffers = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

// followOutput passes each line appended to f, the server's output file,
// to log until done is closed. Then it reads what is left, closes f and
// returns.
func followOutput(f *os.File, log *slog.Logger, done <-chan struct{}) {
	longest := followMaxInterval
	changed, stop, watched := watchFile(f)
	if watched {
		defer stop()
		longest = followWatchedInterval
	}
	followOutputEvery(f, log, done, changed, followInterval, longest)
}

// followOutputEvery is followOutput with the shortest and the longest
// wait between looks at f. A value on changed ends a wait longer than the
// shortest.
func followOutputEvery(f *os.File, log *slog.Logger, done <-chan struct{}, changed <-chan struct{},
	first, longest time.Duration) {
	defer f.Close()
	lw := &lineLogger{log: log}
	// drain logs what was appended to f and reports whether there was any.
	// It borrows its buffer from a pool, because a buffer of each
	// follower's own, on its stack or on the heap, would cost every running
	// server 32 KiB of the hub's memory while it sits idle.
	drain := func() bool {
		buf := followBuffers.Get().(*[]byte)
		defer followBuffers.Put(buf)
		read := false
		for {
			n, err := f.Read(*buf)
			lw.write((*buf)[:n])
			read = read || n > 0
			if n == 0 || err != nil {
				return read
			}
		}
	}
	wait := first
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		if drain() {
			wait = first
		} else {
			wait = min(2*wait, longest)
		}
		timer.Reset(wait)
		events := changed
		if wait == first {
			events = nil
		}
		select {
		case <-timer.C:
		case <-events:
		case <-done:
			drain()
			lw.flush()
			return
		}
	}
}

// lineLogger logs whole lines of the bytes written to it.
type lineLogger struct {
	log     *slog.Logger
	partial []byte
}

func (l *lineLogger) write(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLogLine - len(l.partial)
			if len(p) >= room {
				l.partial = append(l.partial, p[:room]...)
				l.flush()
				p = p[room:]
				continue
			}
			l.partial = append(l.partial, p...)
			return
		}
		l.partial = append(l.partial, p[:i]...)
		l.flush()
		p = p[i+1:]
	}
}

// flush logs the pending partial line, cut to maxLogLine bytes.
func (l *lineLogger) flush() {
	line := bytes.TrimRight(l.partial, "\r")
	if len(line) > maxLogLine {
		line = line[:maxLogLine]
	}
	if len(line) > 0 {
		l.log.Info("server output", "line", string(line))
	}
	l.partial = l.partial[:0]
}
