package hub

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// logLines returns the lines of logs that contain every one of parts.
func logLines(logs *lockedBuffer, parts ...string) []string {
	var out []string
	for line := range strings.Lines(logs.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// waitLogLine waits up to 10 s for a line of logs with every one of
// parts, since the proxy's fast path logs a request after its response.
func waitLogLine(t *testing.T, logs *lockedBuffer, parts ...string) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(logLines(logs, parts...)) == 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func TestAccessLogLevels(t *testing.T) {
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	th := startHub(t, hubOptions{log: log})
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)

	// A route to a closed port stands for a server that just exited.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	if err := th.hub.routes.Add("/user/gone", closed, nil); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path, level, status string
	}{
		{"proxied", "/user/alice/api/status", "DEBUG", "200"},
		{"hub page", "/hub/health", "INFO", "200"},
		{"upstream down", "/user/gone/api/status", "WARN", "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A new connection, so the first request on it decides whether
			// the proxy's fast path serves it.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			res, err := client.Get(th.url + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			want := []string{"level=" + tt.level, "msg=request", "method=GET",
				"path=" + tt.path, "status=" + tt.status, "remote=127.0.0.1"}
			if !waitLogLine(t, logs, want...) {
				t.Errorf("no log line with %q in:\n%s", want, logLines(logs, "msg=request"))
			}
		})
	}
}
