package nbconvert

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jupygo/jupygo/internal/lazy"
)

var externalFormatsValue lazy.Value[map[string]string]

// externalFormats returns a map from each format that jupyter-nbconvert may
// convert to the output mimetype of nbconvert 6.5's exporter for it. Which of
// them work depends on the machine: pdf needs xelatex, latex, rst and asciidoc
// need pandoc, webpdf needs a browser that nbconvert can drive.
func externalFormats() map[string]string {
	return externalFormatsValue.Get(func() map[string]string {
		return map[string]string{
			"asciidoc": "text/asciidoc",
			"latex":    "text/latex",
			"pdf":      "application/pdf",
			"rst":      "text/restructuredtext",
			"slides":   "text/html",
			"webpdf":   "application/pdf",
		}
	})
}

// probeNotebook is the notebook that the probe converts to each external
// format. It has the kinds of cells whose conversion needs other
// programs: markdown (pandoc) and an output.
const probeNotebook = `{
 "cells": [
  {"cell_type": "markdown", "id": "a1", "metadata": {}, "source": ["# Probe\n", "*text*"]},
  {"cell_type": "code", "execution_count": 1, "id": "a2", "metadata": {},
   "outputs": [{"data": {"text/plain": ["2"]}, "execution_count": 1, "metadata": {},
     "output_type": "execute_result"}],
   "source": ["1 + 1"]}
 ],
 "metadata": {"language_info": {"name": "python", "file_extension": ".py"}},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

// external converts notebooks by running jupyter-nbconvert. It finds out
// once, on first use, which formats work on this machine, by converting
// probeNotebook to each of them.
type external struct {
	command string
	timeout time.Duration
	log     *slog.Logger
	// slots limits how many conversions run at once.
	slots chan struct{}

	// ctx ends every conversion when Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	probeOnce sync.Once
	probed    chan struct{} // closed when the probe has finished

	mu      sync.Mutex
	formats map[string]string // format name to mimetype, of the formats found so far
}

func newExternal(command string, timeout time.Duration, log *slog.Logger) *external {
	ctx, cancel := context.WithCancel(context.Background())
	return &external{
		command: command, timeout: timeout, log: log,
		slots:   make(chan struct{}, 2),
		ctx:     ctx,
		cancel:  cancel,
		probed:  make(chan struct{}),
		formats: map[string]string{},
	}
}

// Close kills the conversions that are running, and waits for the probe
// to end when it has started.
func (x *external) Close() {
	x.cancel()
	x.probeOnce.Do(func() { close(x.probed) }) // no probe from now on
	<-x.probed
}

// Formats returns the formats found to work on this machine, and whether
// the probe has finished. The first call starts the probe. Every call
// waits for the probe to finish, for ctx, or for wait when it is
// positive, whichever comes first, and then returns the formats found so
// far.
func (x *external) Formats(ctx context.Context, wait time.Duration) (map[string]string, bool) {
	x.probeOnce.Do(func() { go x.probe() })
	var timeout <-chan time.Time
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		timeout = timer.C
	}
	complete := false
	select {
	case <-x.probed:
		complete = true
	case <-ctx.Done():
	case <-timeout:
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return maps.Clone(x.formats), complete
}

func (x *external) probe() {
	defer close(x.probed)
	if _, err := exec.LookPath(x.command); err != nil {
		x.log.Info("nbconvert formats beyond html, markdown and script are off",
			"command", x.command, "err", err)
		return
	}
	var wg sync.WaitGroup
	for name, mimetype := range externalFormats() {
		wg.Go(func() {
			start := time.Now()
			_, _, err := x.Convert(x.ctx, name, "probe.ipynb", []byte(probeNotebook))
			if err != nil {
				x.log.Info("nbconvert format unavailable", "format", name, "err", err)
				return
			}
			x.log.Info("nbconvert format available", "format", name,
				"duration", time.Since(start).Round(time.Millisecond))
			x.mu.Lock()
			x.formats[name] = mimetype
			x.mu.Unlock()
		})
	}
	wg.Wait()
}

// errTimeout is the error of a conversion that ran out of time.
var errTimeout = errors.New("timed out")

// Convert runs jupyter-nbconvert on a copy of the notebook data, which is
// named name, and returns the output file's name and bytes. When nbconvert
// writes more than one file, such as the figures of a LaTeX export, it
// returns a zip archive of them all, named after the notebook, as
// jupyter_server does. It waits for a free slot first. The conversion
// ends with ctx or with Close.
func (x *external) Convert(ctx context.Context, format, name string, data []byte) (string, []byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(x.ctx, cancel)
	defer stop()

	select {
	case x.slots <- struct{}{}:
		defer func() { <-x.slots }()
	case <-ctx.Done():
		return "", nil, ctx.Err()
	}
	dir, err := os.MkdirTemp("", "jupygo-nbconvert-")
	if err != nil {
		return "", nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		return "", nil, err
	}
	outDir := filepath.Join(dir, "out")
	if err := x.run(ctx, dir, "--to", format, "--output-dir", outDir, "--", name); err != nil {
		return "", nil, err
	}
	return collectOutput(outDir, strings.TrimSuffix(name, ".ipynb"))
}

// run runs the command in dir with a time limit. On timeout it kills the
// command's whole process group, which takes xelatex and pandoc with it.
func (x *external) run(ctx context.Context, dir string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, x.command, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stderr tailBuffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%w after %v", errTimeout, x.timeout)
	}
	if err != nil {
		return fmt.Errorf("%s: %w: %s", x.command, err, errorText(stderr.String()))
	}
	return nil
}

// collectOutput returns the one file in dir, or a zip archive named
// stem.zip of all the files when there are more.
func collectOutput(dir, stem string) (string, []byte, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("reading the output: %w", err)
	}
	switch len(files) {
	case 0:
		return "", nil, errors.New("nbconvert wrote no output file")
	case 1:
		data, err := os.ReadFile(files[0])
		return filepath.Base(files[0]), data, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return "", nil, err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return "", nil, err
		}
		if _, err := w.Write(data); err != nil {
			return "", nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return "", nil, err
	}
	return stem + ".zip", buf.Bytes(), nil
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ buf []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const keep = 4 << 10
	t.buf = append(t.buf, p...)
	if len(t.buf) > keep {
		t.buf = t.buf[len(t.buf)-keep:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }

var pythonErrorValue lazy.Value[*regexp.Regexp]

// pythonError returns a regular expression, compiled on first use, that matches
// the line where Python reports an uncaught exception: its qualified name, a
// colon and the message.
func pythonError() *regexp.Regexp {
	return pythonErrorValue.Get(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z_][\w.]*(Error|Exception|Missing|Exit)\w*: `)
	})
}

// errorText returns the part of a Python program's error output that
// names the failure: the last exception line and the lines after it, at
// most three, or else the last non-empty line.
func errorText(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if pythonError().MatchString(lines[i]) {
			end := min(len(lines), i+3)
			return strings.Join(trimAll(lines[i:end]), " ")
		}
	}
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return last
	}
	return "no error output"
}

func trimAll(lines []string) []string {
	for i, line := range lines {
		lines[i] = strings.TrimSpace(line)
	}
	return lines
}
