package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/testutil/wstest"
)

// TestEventsSocketClosesForClientMessages sends the event stream, which
// takes no messages, a data message and the frames of
// wstest.ClosingCases. Each must close the WebSocket at once: a frame that
// RFC 6455 says ends the connection with its status, any other message with
// 1008 (policy violation).
func TestEventsSocketClosesForClientMessages(t *testing.T) {
	ts := newTestServer(t, nil)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/events/subscribe"
	header := http.Header{"Authorization": {"token " + testToken}}
	cases := append(wstest.ClosingCases(eventsReadLimit),
		wstest.Case{Name: "text", Frames: [][]byte{wstest.Frame(true, wstest.OpText, []byte("{}"))}, Code: 1008})
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			c := wstest.Dial(t, url, header)
			for _, f := range tc.Frames {
				c.Write(f)
			}
			code, reason, err := c.ReadClose(10 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			// The stream closes for a message once the header of its
			// first frame arrives, which may be before the check of its
			// text or of the frames after it.
			policy := code == 1008 && (tc.Code == 1007 || len(tc.Frames) > 1)
			if code != tc.Code && !policy {
				t.Errorf("closed with %d %q, want %d", code, reason, tc.Code)
			}
		})
	}
}
