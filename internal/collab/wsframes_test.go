package collab

import (
	"testing"

	"github.com/jupygo/jupygo/internal/testutil/wstest"
)

// TestRoomClosesForInvalidFrames sends text that is not UTF-8 and frame
// headers past the message limit to a document room, which must close the
// WebSocket at once with the status that RFC 6455 gives.
func TestRoomClosesForInvalidFrames(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.MaxMessageBytes = 1 << 20 })
	ts.writeFile(t, "a.txt", "hello")
	room, session := ts.openSession(t, "a.txt")
	// A room closes for a message past the limit with 1003 rather than
	// 1009, so that JupyterLab shows the reason and stops reconnecting.
	cases := wstest.ClosingCases(1 << 20)
	for i := range cases {
		if cases[i].Code == 1009 {
			cases[i].Code = 1003
		}
	}
	wstest.CheckClosing(t, ts.dialURL(room, session), nil, cases)

	// The room still serves its document.
	c := ts.join(t, room, session)
	if got := c.text(); got != "hello" {
		t.Errorf("text after the closed connections = %q, want %q", got, "hello")
	}
}
