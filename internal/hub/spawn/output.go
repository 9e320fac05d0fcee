package spawn

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	// followInterval is how often the hub looks for new output.
	followInterval = 250 * time.Millisecond
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

// createOutput creates or truncates the output file. A file rather than a
// pipe keeps the server's writes from blocking or failing when the hub is
// gone. O_NOFOLLOW keeps a symbolic link planted at that name from
// redirecting the write.
//
// NOTE: the file is truncated at each start but not rotated, so the output
// of a server that runs for months grows without bound.
func createOutput(path string) (*os.File, error) {
	return os.OpenFile(path,
		os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
}

// tailFile returns up to tailLines last lines of the file at path, read
// from at most its last tailBytes bytes.
func tailFile(path string) ([]string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
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

// followOutput passes each line appended to the file at path to log, until
// done is closed; then it reads what is left and returns.
func followOutput(path string, log *slog.Logger, done <-chan struct{}) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		log.Warn("cannot read server output", "path", path, "err", err)
		return
	}
	defer f.Close()
	lw := &lineLogger{log: log}
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	buf := make([]byte, 32<<10)
	drain := func() {
		for {
			n, err := f.Read(buf)
			lw.write(buf[:n])
			if n == 0 || err != nil {
				return
			}
		}
	}
	for {
		drain()
		select {
		case <-tick.C:
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
