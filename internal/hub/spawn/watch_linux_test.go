package spawn

import (
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"
)

// With inotify a follower whose wait has grown to an hour still logs a
// line soon after it is written.
func TestFollowOutputWakesOnWrite(t *testing.T) {
	w, r := outputFile(t)
	changed, stop, ok := watchFile(r)
	if !ok {
		t.Fatal("watchFile could not watch a file in the test's folder")
	}
	defer stop()
	rec := newLogRecorder()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		followOutputEvery(r, slog.New(rec), done, changed, time.Millisecond, time.Hour)
		close(finished)
	}()
	defer func() { close(done); <-finished }()

	time.Sleep(50 * time.Millisecond) // the wait grows far past the test's limit
	w.WriteString("woken\n")
	waitForOutput(rec)
	if got := outputLines(rec); !slices.Equal(got, []string{"woken"}) {
		t.Fatalf("logged %q, want the line that the write woke the follower for", got)
	}
}

// Two watches of one file share inotify's descriptor, and ending one
// keeps the other.
func TestWatchFileTwice(t *testing.T) {
	w, r1 := outputFile(t)
	r2, err := os.Open(r1.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	_, stop1, ok1 := watchFile(r1)
	changed2, stop2, ok2 := watchFile(r2)
	if !ok1 || !ok2 {
		t.Fatal("watchFile failed")
	}
	defer stop2()
	stop1()
	w.WriteString("x")
	select {
	case <-changed2:
	case <-time.After(10 * time.Second):
		t.Fatal("the second watch got no event after the first ended")
	}
}
