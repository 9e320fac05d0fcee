package terminal

import (
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/testutil/wstest"
)

// TestWebSocketClosesForInvalidFrames sends text that is not UTF-8 and
// frame headers past the read limit, which must close the terminal's
// WebSocket at once with the status that RFC 6455 gives.
func TestWebSocketClosesForInvalidFrames(t *testing.T) {
	h := newHarness(t)
	name := h.create(t, nil)
	url := "ws" + strings.TrimPrefix(h.URL, "http") + "/terminals/websocket/" + name
	wstest.CheckClosing(t, url, nil, wstest.ClosingCases(maxFrameBytes))

	// The terminal outlives the connections.
	c := h.dial(t, name)
	c.run("echo still-$((6*7))", "still-42")
}
