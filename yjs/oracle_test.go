package yjs

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// oracle is a node process running yjs (testdata/js/oracle.mjs), the
// reference the differential tests compare against.
type oracle struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	mu     sync.Mutex
}

// startOracle starts the yjs oracle, or skips the test when node or the
// npm packages (npm ci in testdata/js) are missing.
func startOracle(t testing.TB) *oracle {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	dir, _ := filepath.Abs("testdata/js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "yjs")); err != nil {
		t.Skip("yjs not installed: run npm ci in testdata/js")
	}
	cmd := exec.Command(node, filepath.Join(dir, "oracle.mjs"))
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node oracle: %v", err)
	}
	o := &oracle{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 1<<20)}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	return o
}

// call sends one request and decodes the reply into out (may be nil).
func (o *oracle) call(t testing.TB, req map[string]any, out any) {
	t.Helper()
	if err := o.try(req, out); err != nil {
		t.Fatal(err)
	}
}

func (o *oracle) try(req map[string]any, out any) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	line, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := o.stdin.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("writing to oracle: %w", err)
	}
	reply, err := o.stdout.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading from oracle: %w", err)
	}
	var status struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(reply, &status); err != nil {
		return fmt.Errorf("oracle reply %q: %w", reply, err)
	}
	if !status.OK {
		return fmt.Errorf("oracle %v: %s", req["op"], status.Error)
	}
	if out != nil {
		return json.Unmarshal(reply, out)
	}
	return nil
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
