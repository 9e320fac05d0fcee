package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/lib0"
	"github.com/jupygo/jupygo/yjs/yprotocol"
)

// result holds the figures of one run.
type result struct {
	cpu     time.Duration
	edits   int
	latency benchkit.Summary
	missing int
}

// token authenticates the benchmark's requests.
const token = "fanout-bench"

// measure starts bin on a fresh root folder with one text file, joins the
// clients to the file's room and types.
func measure(ctx context.Context, cfg config, bin, dir string) (result, error) {
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return result{}, err
	}
	if err := os.WriteFile(filepath.Join(root, "t.txt"), []byte("text\n"), 0o600); err != nil {
		return result{}, err
	}
	ports, err := benchkit.FreePorts(1)
	if err != nil {
		return result{}, err
	}
	argv := []string{bin, "server", "--no-browser", "--collaborative", "--ip", "127.0.0.1",
		"--port", strconv.Itoa(ports[0]), "--token", token, "--root-dir", root}
	env := append(os.Environ(), "JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(dir, "config"), "JUPYTER_DATA_DIR="+filepath.Join(dir, "data"))
	proc, err := benchkit.Start(argv, root, env, filepath.Join(dir, "server.log"), "")
	if err != nil {
		return result{}, err
	}
	defer proc.Stop()
	base := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	if err := waitReady(ctx, base, proc); err != nil {
		return result{}, err
	}

	u, err := openRoom(ctx, base)
	if err != nil {
		return result{}, err
	}
	listeners := make([]*client, cfg.clients)
	for i := range listeners {
		if listeners[i], err = join(ctx, u); err != nil {
			return result{}, err
		}
		defer listeners[i].ws.CloseNow()
	}
	typist, err := join(ctx, u)
	if err != nil {
		return result{}, err
	}
	defer typist.ws.CloseNow()
	typist.doc.OnUpdate(func(update []byte, origin any, _ *yjs.Transaction) {
		if origin != typist {
			typist.send(yprotocol.UpdateFrame(update))
		}
	})
	time.Sleep(time.Second)

	before, err := onCPU(proc.PID())
	if err != nil {
		return result{}, err
	}
	sent := typeText(typist, cfg.duration, cfg.interval)
	time.Sleep(time.Second)
	after, err := onCPU(proc.PID())
	if err != nil {
		return result{}, err
	}
	latencies, missing := collect(sent, listeners)
	return result{cpu: after - before, edits: len(sent), latency: benchkit.Summarize(latencies),
		missing: missing}, nil
}

// waitReady polls GET /api/status until it returns 200.
func waitReady(ctx context.Context, base string, proc *benchkit.Process) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if proc.Exited() {
			return fmt.Errorf("server exited: %v\n%s", proc.Err(), proc.LogTail())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/status", nil)
		req.Header.Set("Authorization", "token "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("server not ready within 60 s")
}

// openRoom requests the document session of t.txt and returns the URL of
// its room.
func openRoom(ctx context.Context, base string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, base+"/api/collaboration/session/t.txt",
		strings.NewReader(`{"format":"text","type":"file"}`))
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("requesting the document session: %w", err)
	}
	defer resp.Body.Close()
	var session struct{ FileID, SessionID string }
	if err := json.NewDecoder(resp.Body).Decode(&session); err != nil || session.FileID == "" {
		return "", fmt.Errorf("document session: status %d, %v", resp.StatusCode, err)
	}
	query := url.Values{"sessionId": {session.SessionID}, "token": {token}}
	return "ws" + strings.TrimPrefix(base, "http") + "/api/collaboration/room/text:file:" +
		session.FileID + "?" + query.Encode(), nil
}

// client is a room client with a yjs doc. Once synced, it notes when the
// text grew to each length.
type client struct {
	ws *websocket.Conn

	mu       sync.Mutex
	doc      *yjs.Doc
	base     int // the text's length at the first sync
	synced   chan struct{}
	received map[int]time.Time
	err      error
}

// join connects to the room at u and waits for the first sync.
func join(ctx context.Context, u string) (*client, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, fmt.Errorf("joining the room: %w", err)
	}
	ws.SetReadLimit(-1)
	c := &client{ws: ws, doc: yjs.NewDoc(), synced: make(chan struct{}), received: map[int]time.Time{}}
	go c.readLoop()
	c.send(yprotocol.SyncStep1Frame(c.doc))
	select {
	case <-c.synced:
		return c, nil
	case <-ctx.Done():
		ws.CloseNow()
		return nil, fmt.Errorf("first sync: %w", ctx.Err())
	}
}

func (c *client) send(frame []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.ws.Write(ctx, websocket.MessageBinary, frame)
}

// readLoop applies the server's sync messages until the connection ends.
func (c *client) readLoop() {
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		at := time.Now()
		d := lib0.NewDecoder(data)
		if d.ReadVarUint() != yprotocol.MessageSync {
			continue
		}
		m, err := yprotocol.ReadSync(d)
		if err != nil {
			c.fail(err)
			return
		}
		if reply := c.apply(m, at); reply != nil {
			go c.send(reply)
		}
	}
}

// apply applies m, received at at, and returns the reply to send.
func (c *client) apply(m yprotocol.SyncMessage, at time.Time) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	reply, err := yprotocol.HandleSync(c.doc, m, c)
	if err != nil {
		c.err = err
		return nil
	}
	n := c.doc.GetText("source").Len()
	select {
	case <-c.synced:
		if _, ok := c.received[n-c.base]; !ok && n > c.base {
			c.received[n-c.base] = at
		}
	default:
		if m.Type == yprotocol.SyncStep2 {
			c.base = n
			close(c.synced)
		}
	}
	return reply
}

func (c *client) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// typeText appends one character to the typist's text every interval for
// duration and returns the times the edits were made.
func typeText(typist *client, duration, interval time.Duration) []time.Time {
	var sent []time.Time
	start := time.Now()
	for i := 1; time.Since(start) < duration; i++ {
		sent = append(sent, time.Now())
		typist.mu.Lock()
		text := typist.doc.GetText("source")
		err := text.Insert(text.Len(), "x", nil)
		typist.mu.Unlock()
		if err != nil {
			typist.fail(err)
			break
		}
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
	}
	return sent
}

// collect returns the latency of every edit at every listener, and how
// many edits never arrived.
func collect(sent []time.Time, listeners []*client) (latencies []time.Duration, missing int) {
	for _, c := range listeners {
		c.mu.Lock()
		for i, t := range sent {
			if at, ok := c.received[i+1]; ok {
				latencies = append(latencies, at.Sub(t))
			} else {
				missing++
			}
		}
		c.mu.Unlock()
	}
	return latencies, missing
}
