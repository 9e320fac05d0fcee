package kernel

import (
	"fmt"
	"sync"
	"time"
)

// Default IOPub rate limits, the ServerApp defaults of jupyter_server.
const (
	defaultMsgRateLimit  = 1000      // messages per second
	defaultDataRateLimit = 1_000_000 // bytes per second of stream output
	defaultRateWindow    = 3 * time.Second
)

// rateLimits are the IOPub limits of one kernel manager. A zero rate turns
// that limit off.
type rateLimits struct {
	msgRate  float64
	dataRate float64
	window   time.Duration
}

// iopubLimiter applies the IOPub rate limits to the messages bound for one
// client, as jupyter_server does: rates are averaged over a sliding window;
// status, comm_open and execute_input messages always pass; only stream
// messages count toward the data rate; once a limit is exceeded, messages
// are dropped until the rate falls below 80 % of it; a status idle resets
// the window, so one long "Run All" is not throttled by the cells before
// it. The lock of the kernel's channels guards it.
type iopubLimiter struct {
	limits rateLimits

	entries []limitEntry // messages inside the window, oldest first
	head    int
	msgs    int
	bytes   int

	msgsExceeded bool
	dataExceeded bool
	dropped      int
}

type limitEntry struct {
	expires time.Time
	bytes   int
}

// check reports whether m may be sent at now. The notice, when not empty, is
// text for a stderr stream that must reach the client before m: it says that
// output stopped or resumed.
func (l *iopubLimiter) check(now time.Time, m *Message, executionState string) (bool, string) {
	if l.limits.msgRate <= 0 && l.limits.dataRate <= 0 {
		return true, ""
	}
	switch m.MsgType {
	case "status":
		if executionState == "idle" {
			return true, l.reset()
		}
		return true, ""
	case "comm_open", "execute_input":
		return true, ""
	}
	l.expire(now)

	n := 0
	if m.MsgType == "stream" {
		n = m.size()
	}
	added := l.add(now, n)
	msgRate := float64(l.msgs) / l.limits.window.Seconds()
	dataRate := float64(l.bytes) / l.limits.window.Seconds()

	notice := ""
	wasLimited := l.msgsExceeded || l.dataExceeded
	if l.limits.msgRate > 0 && msgRate > l.limits.msgRate {
		if !l.msgsExceeded {
			l.msgsExceeded = true
			notice = fmt.Sprintf("IOPub message rate exceeded: the server stops sending output "+
				"for now, to protect itself and the browser.\nThe limit is %g messages/s, "+
				"averaged over %g s.\n", l.limits.msgRate, l.limits.window.Seconds())
		}
	} else if l.msgsExceeded && msgRate < 0.8*l.limits.msgRate {
		l.msgsExceeded = false
	}
	if l.limits.dataRate > 0 && dataRate > l.limits.dataRate {
		if !l.dataExceeded {
			l.dataExceeded = true
			notice = fmt.Sprintf("IOPub data rate exceeded: the server stops sending output "+
				"for now, to protect itself and the browser.\nThe limit is %g bytes/s, "+
				"averaged over %g s.\n", l.limits.dataRate, l.limits.window.Seconds())
		}
	} else if l.dataExceeded && dataRate < 0.8*l.limits.dataRate {
		l.dataExceeded = false
	}

	if l.msgsExceeded || l.dataExceeded {
		l.removeLast(n, added)
		l.dropped++
		return false, notice
	}
	if wasLimited {
		notice = l.resumedNotice()
	}
	return true, notice
}

// reset empties the window after a status idle and returns a notice when
// output had been stopped.
func (l *iopubLimiter) reset() string {
	notice := ""
	if l.msgsExceeded || l.dataExceeded {
		notice = l.resumedNotice()
	}
	l.entries, l.head, l.msgs, l.bytes = l.entries[:0], 0, 0, 0
	l.msgsExceeded, l.dataExceeded = false, false
	return notice
}

func (l *iopubLimiter) resumedNotice() string {
	n := l.dropped
	l.dropped = 0
	return fmt.Sprintf("IOPub output resumed; %d output messages were not sent.\n", n)
}

// add counts a message of n bytes and reports whether it got an entry.
func (l *iopubLimiter) add(now time.Time, n int) bool {
	l.msgs++
	l.bytes += n
	// Entries without bytes matter only to the message rate; leaving them
	// out when that limit is off keeps the window small.
	if n == 0 && l.limits.msgRate <= 0 {
		return false
	}
	l.entries = append(l.entries, limitEntry{expires: now.Add(l.limits.window), bytes: n})
	return true
}

// removeLast undoes the last add.
func (l *iopubLimiter) removeLast(n int, added bool) {
	l.msgs--
	l.bytes -= n
	if added {
		l.entries = l.entries[:len(l.entries)-1]
	}
}

func (l *iopubLimiter) expire(now time.Time) {
	for l.head < len(l.entries) && !now.Before(l.entries[l.head].expires) {
		e := l.entries[l.head]
		l.msgs--
		l.bytes -= e.bytes
		l.head++
	}
	// Messages counted without an entry expire with the window as a whole.
	if l.head == len(l.entries) {
		l.entries, l.head, l.msgs, l.bytes = l.entries[:0], 0, 0, 0
	} else if l.head > len(l.entries)/2 {
		l.entries = append(l.entries[:0], l.entries[l.head:]...)
		l.head = 0
	}
}

// logLimiter limits how often one kind of event is logged: at most one record
// per interval, with a count of the events in between. It is safe for
// concurrent use.
type logLimiter struct {
	interval time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether an event at now may be logged, and how many events
// were not logged since the last one that was.
func (l *logLimiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}
