package kernel

import (
	"strings"
	"testing"
	"time"
)

func iopubMessage(msgType string, size int) *Message {
	return &Message{Channel: channelIOPub, MsgType: msgType,
		Header: []byte("{}"), Parent: []byte("{}"), Metadata: []byte("{}"),
		Content: []byte(strings.Repeat("x", size))}
}

func TestIOPubLimiterMessageRate(t *testing.T) {
	l := iopubLimiter{limits: rateLimits{msgRate: 10, window: time.Second}}
	start := time.Unix(1000, 0)

	// 10 messages in the window are at the limit; the 11th exceeds it.
	for i := range 10 {
		if ok, notice := l.check(start, iopubMessage("display_data", 1), ""); !ok || notice != "" {
			t.Fatalf("message %d: ok %v, notice %q; want sent without notice", i, ok, notice)
		}
	}
	ok, notice := l.check(start, iopubMessage("display_data", 1), "")
	if ok || !strings.Contains(notice, "IOPub message rate exceeded") {
		t.Fatalf("11th message: ok %v, notice %q; want dropped with a notice", ok, notice)
	}
	if ok, notice := l.check(start, iopubMessage("display_data", 1), ""); ok || notice != "" {
		t.Errorf("12th message: ok %v, notice %q; want dropped without a second notice", ok, notice)
	}
	for _, typ := range []string{"status", "comm_open", "execute_input"} {
		if ok, _ := l.check(start, iopubMessage(typ, 1), "busy"); !ok {
			t.Errorf("%s dropped while limited", typ)
		}
	}

	// Once the window has passed, the rate is below 80 % of the limit.
	later := start.Add(2 * time.Second)
	ok, notice = l.check(later, iopubMessage("display_data", 1), "")
	if !ok || !strings.Contains(notice, "resumed; 2 output messages were not sent") {
		t.Errorf("after the window: ok %v, notice %q; want sent with a resumed notice", ok, notice)
	}
}

func TestIOPubLimiterDataRate(t *testing.T) {
	l := iopubLimiter{limits: rateLimits{msgRate: 1000, dataRate: 100, window: time.Second}}
	now := time.Unix(1000, 0)
	if ok, _ := l.check(now, iopubMessage("execute_result", 500), ""); !ok {
		t.Error("execute_result counted toward the data rate")
	}
	ok, notice := l.check(now, iopubMessage("stream", 500), "")
	if ok || !strings.Contains(notice, "IOPub data rate exceeded") {
		t.Fatalf("large stream: ok %v, notice %q; want dropped with a notice", ok, notice)
	}
	// A status idle ends the cell and resets the window.
	ok, notice = l.check(now, iopubMessage("status", 10), "idle")
	if !ok || !strings.Contains(notice, "resumed; 1 output messages") {
		t.Errorf("idle: ok %v, notice %q; want sent with a resumed notice", ok, notice)
	}
	if ok, notice := l.check(now, iopubMessage("stream", 50), ""); !ok || notice != "" {
		t.Errorf("stream after idle: ok %v, notice %q; want sent", ok, notice)
	}
}

func TestIOPubLimiterOff(t *testing.T) {
	var l iopubLimiter
	now := time.Unix(1000, 0)
	for range 10_000 {
		if ok, _ := l.check(now, iopubMessage("stream", 1000), ""); !ok {
			t.Fatal("message dropped with the limits off")
		}
	}
	if len(l.entries) != 0 {
		t.Errorf("limiter kept %d entries with the limits off", len(l.entries))
	}
}

func TestLogLimiter(t *testing.T) {
	l := logLimiter{interval: time.Second}
	now := time.Unix(1000, 0)
	if ok, n := l.allow(now); !ok || n != 0 {
		t.Fatalf("first event: %v %d", ok, n)
	}
	for range 3 {
		if ok, _ := l.allow(now.Add(time.Millisecond)); ok {
			t.Fatal("event inside the interval allowed")
		}
	}
	if ok, n := l.allow(now.Add(2 * time.Second)); !ok || n != 3 {
		t.Errorf("event after the interval: %v, %d suppressed; want true, 3", ok, n)
	}
}
