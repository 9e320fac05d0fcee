package collab

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// serverURL matches the URL that `jupygo server` prints.
var serverURL = regexp.MustCompile(`(http://127\.0\.0\.1:\d+)/lab`)

// startServerProcess runs the jupygo binary bin as `jupygo server` with
// collaboration on, on root and with the data folder dataDir, and returns
// the process and a testService that talks to it.
func startServerProcess(t *testing.T, bin, root, dataDir string) (*exec.Cmd, *testService) {
	t.Helper()
	const token = "collab-process-test-token"
	cmd := exec.Command(bin, "server", "--port", "0", "--no-browser", "--token", token,
		"--root-dir", root, "--collaborative", "--collab-save-delay", "0")
	cmd.Env = append(os.Environ(), "JUPYTER_DATA_DIR="+dataDir,
		"JUPYTER_RUNTIME_DIR="+t.TempDir(), "JUPYTER_CONFIG_DIR="+t.TempDir())

	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := serverURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case u := <-found:
		return cmd, &testService{baseURL: u, token: token, root: root, dataDir: dataDir}
	case <-time.After(30 * time.Second):
		t.Fatal("jupygo server printed no URL within 30 seconds")
	}
	return nil, nil
}

// TestServerProcessKilledMidEdit kills a `jupygo server` process with
// SIGKILL while a document has edits that were never saved. A new process
// on the same data folder must serve every edit its writer had committed,
// and a client that kept its doc must merge back without duplicates.
func TestServerProcessKilledMidEdit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the jupygo binary")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "jupygo")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/jupygo").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root, dataDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("base\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	first, ts := startServerProcess(t, bin, root, dataDir)
	room, session := ts.openSession(t, "a.txt")
	a := ts.join(t, room, session)
	want := typeTwentyEdits(a, ts.join(t, room, session))
	waitStored(t, dataDir, room, want)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	if got := ts.readFile(t, "a.txt"); got != "base\n" {
		t.Fatalf("file %q after the kill, want the edits unsaved (autosave is off)", got)
	}

	_, again := startServerProcess(t, bin, root, dataDir)
	checkRestored(t, again, room, session, a, want)
}

// waitStored waits until the room's history in the database of dataDir,
// which another process writes, makes the text want.
func waitStored(t *testing.T, dataDir, room, want string) {
	t.Helper()
	st, err := openStore(dataDir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	waitUntil(t, "the edits in the database", func() bool { return storedText(t, st, room) == want })
}
