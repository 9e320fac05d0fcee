package kernel

import (
	"strings"
	"testing"

	"github.com/jupygo/jupygo/internal/testutil/wstest"
)

// TestChannelsCloseForInvalidFrames sends text that is not UTF-8 and frame
// headers past the read limit to a kernel's channels, which must close the
// WebSocket at once with the status that RFC 6455 gives.
func TestChannelsCloseForInvalidFrames(t *testing.T) {
	skipWithoutIPyKernel(t)
	ts := newTestServer(t, Options{})
	k := ts.startKernel("python3")
	url := "ws" + strings.TrimPrefix(ts.srv.URL, "http") + "/api/kernels/" + k.ID + "/channels"
	wstest.CheckClosing(t, url, nil, wstest.ClosingCases(maxFrameBytes))

	// The kernel still runs code for a well-behaved client.
	c := ts.dial(k.ID, "", false)
	if got := c.execute("print(6 * 7)").streams("stdout"); got != "42\n" {
		t.Errorf("stdout after the closed connections = %q, want %q", got, "42\n")
	}
}
