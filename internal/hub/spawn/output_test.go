package spawn

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLastLines(t *testing.T) {
	tests := []struct {
		name string
		data string
		cut  bool
		n    int
		want []string
	}{
		{"empty", "", false, 3, nil},
		{"fewer than n", "a\nb\n", false, 3, []string{"a", "b"}},
		{"more than n", "a\nb\nc\nd\n", false, 2, []string{"c", "d"}},
		{"no final newline", "a\nb", false, 5, []string{"a", "b"}},
		{"crlf", "a\r\nb\r\n", false, 5, []string{"a", "b"}},
		{"cut drops partial first line", "rtial\nb\nc\n", true, 5, []string{"b", "c"}},
		{"blank lines kept", "a\n\nb\n", false, 5, []string{"a", "", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lastLines([]byte(tt.data), tt.cut, tt.n)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lastLines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTailFileLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	var b strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := tailFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != tailLines || got[len(got)-1] != "line 9999" || got[0] != "line 9980" {
		t.Errorf("tailFile = %q", got)
	}
}

func TestCreateOutputRejectsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := outputPath(dir, "")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if f, err := createOutput(link, nil); err == nil {
		f.Close()
		t.Error("createOutput followed a symbolic link")
	}
	if data, _ := os.ReadFile(target); string(data) != "keep" {
		t.Errorf("the link's target was changed to %q", data)
	}
}

func TestLineLoggerSplitsAndBounds(t *testing.T) {
	rec := newLogRecorder()
	l := &lineLogger{log: slog.New(rec)}
	l.write([]byte("first\nsec"))
	l.write([]byte("ond\r\n"))
	l.write([]byte(strings.Repeat("x", maxLogLine+10)))
	l.flush()
	var lines []string
	for _, m := range rec.messages() {
		if m != "server output" {
			t.Errorf("message %q, want server output", m)
		}
	}
	rec.mu.Lock()
	for _, r := range *rec.recs {
		r.Attrs(func(a slog.Attr) bool {
			lines = append(lines, a.Value.String())
			return true
		})
	}
	rec.mu.Unlock()
	want := []string{"first", "second", strings.Repeat("x", maxLogLine), "xxxxxxxxxx"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("logged lines (-want +got):\n%s", diff)
	}
}

// outputLines returns the lines that rec logged as server output.
func outputLines(rec *logRecorder) []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var lines []string
	for _, r := range *rec.recs {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "line" {
				lines = append(lines, a.Value.String())
			}
			return true
		})
	}
	return lines
}

// outputFile creates an output file in a test folder and returns it open
// for writing and for reading.
func outputFile(t *testing.T) (w, r *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.log")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	r, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return w, r
}

// waitForOutput waits up to 10 s for rec to log a line of server output.
func waitForOutput(rec *logRecorder) {
	deadline := time.Now().Add(10 * time.Second)
	for len(outputLines(rec)) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// After a quiet spell the follower looks less often, but still within
// the longest wait, and at done it logs what is left.
func TestFollowOutputAfterQuietSpell(t *testing.T) {
	w, r := outputFile(t)
	rec := newLogRecorder()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		followOutputEvery(r, slog.New(rec), done, nil, 2*time.Millisecond, 40*time.Millisecond)
		close(finished)
	}()

	time.Sleep(100 * time.Millisecond) // the waits grow to the longest
	w.WriteString("after quiet\n")
	waitForOutput(rec)
	if got := outputLines(rec); !slices.Equal(got, []string{"after quiet"}) {
		t.Fatalf("logged %q, want the line written after the quiet spell", got)
	}

	w.WriteString("last words")
	close(done)
	<-finished
	if got := outputLines(rec); !slices.Equal(got, []string{"after quiet", "last words"}) {
		t.Errorf("logged %q after done, want the unterminated last line too", got)
	}
}
