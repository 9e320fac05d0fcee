package server

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLargeRequestsReleaseMemory(t *testing.T) {
	ts := newTestServer(t, nil)
	var releases atomic.Int32
	ts.srv.memory.release = func() { releases.Add(1) }
	waitReleases := func(want int32) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for releases.Load() < want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		for ts.srv.memory.running.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		if got := releases.Load(); got != want {
			t.Fatalf("memory released %d times, want %d", got, want)
		}
	}

	put := func(name string, size int) {
		t.Helper()
		body := map[string]any{"type": "file", "format": "text", "content": strings.Repeat("x", size)}
		resp, _ := ts.do(t, "PUT", "/api/contents/"+name, body, true)
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s: status %d", name, resp.StatusCode)
		}
	}

	put("small.txt", 1<<20)
	waitReleases(0)

	put("large.txt", largeTransfer) // the body, with its JSON, is larger
	waitReleases(1)

	// Reading the large file back sends a large response.
	resp, _ := ts.do(t, "GET", "/api/contents/large.txt", nil, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET large.txt: status %d", resp.StatusCode)
	}
	waitReleases(2)

	resp, _ = ts.do(t, "GET", "/api/contents/small.txt", nil, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET small.txt: status %d", resp.StatusCode)
	}
	waitReleases(2)
}
