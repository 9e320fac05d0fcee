package benchkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	const tail = " 1 1 0 -1 4194560 100 0 0 0 "
	tests := []struct {
		name    string
		stat    string
		want    Stat
		wantErr bool
	}{
		{"plain", "123 (bash) S 45" + tail + "7 3 0 0 20", Stat{PPID: 45, CPU: 100 * time.Millisecond}, false},
		{"spaces and parens in name", "7 (a b) (c)) R 1" + tail + "0 1 0", Stat{PPID: 1, CPU: 10 * time.Millisecond}, false},
		{"no name", "123 bash S 45" + tail + "7 3", Stat{}, true},
		{"short", "1 (x) S 1 2", Stat{}, true},
		{"not a number", "1 (x) S abc" + tail + "7 3", Stat{}, true},
		{"negative", "1 (x) S 1" + tail + "-7 3", Stat{}, true},
		{"huge", "1 (x) S 1" + tail + "9223372036854775807 3", Stat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.stat))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseStat error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseStat (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("123 (bash) S 45 1 1 0 -1 4194560 100 0 0 0 7 3 0 0 20"))
	f.Add([]byte(")"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseStat(data)
	})
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    Resident
		wantErr bool
	}{
		{"all fields", "Name:\tx\nVmRSS:\t   23208 kB\nRssAnon:\t    3820 kB\nRssFile:\t   19388 kB\n",
			Resident{RSS: 23208, Anon: 3820, File: 19388}, false},
		{"rss only", "VmRSS:\t12 kB\n", Resident{RSS: 12}, false},
		{"no rss", "Name:\tx\nRssAnon:\t1 kB\n", Resident{Anon: 1}, true},
		{"not a number", "VmRSS:\tmany kB\n", Resident{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatus([]byte(tt.status))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseStatus error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseStatus (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("VmRSS:\t   23208 kB\nRssAnon:\t    3820 kB\n"))
	f.Add([]byte("VmRSS:\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseStatus(data)
	})
}

func TestParsePSS(t *testing.T) {
	const rollup = "00400000-7ffd [rollup]\nRss:\t   22308 kB\nPss:\t    6120 kB\nPss_Anon:\t    3900 kB\n"
	if got, err := ParsePSS([]byte(rollup)); err != nil || got != 6120 {
		t.Errorf("ParsePSS = %d, %v, want 6120", got, err)
	}
	for _, bad := range []string{"", "Rss:\t1 kB\n", "Pss:\tmany kB\n", "Pss:\t-4 kB\n"} {
		if _, err := ParsePSS([]byte(bad)); err == nil {
			t.Errorf("ParsePSS(%q) returned no error", bad)
		}
	}
}

func TestReadPSSOfThisProcess(t *testing.T) {
	pss, err := ReadPSS(os.Getpid())
	if err != nil {
		t.Skipf("no smaps_rollup here: %v", err)
	}
	r, err := ReadResident(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if pss <= 0 || pss > r.RSS {
		t.Errorf("PSS %d KiB, want between 1 and the RSS %d KiB", pss, r.RSS)
	}
}

func FuzzParsePSS(f *testing.F) {
	f.Add([]byte("Rss:\t 1024 kB\nPss:\t  512 kB\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if kib, err := ParsePSS(data); err == nil && kib < 0 {
			t.Errorf("ParsePSS returned %d", kib)
		}
	})
}

// TestStartRelativeProgram starts a program by a path relative to the
// current folder while the process runs in another folder.
func TestStartRelativeProgram(t *testing.T) {
	script := filepath.Join(t.TempDir(), "prog")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho started\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(cwd, script)
	if err != nil {
		t.Fatal(err)
	}
	// A folder deeper than the current one, where rel leads nowhere.
	dir := filepath.Join(t.TempDir(), "a", "b", "c", "d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Start([]string{rel}, dir, nil, filepath.Join(t.TempDir(), "log"), "")
	if err != nil {
		t.Fatalf("Start(%q): %v", rel, err)
	}
	<-p.done
	if err := p.Err(); err != nil {
		t.Errorf("program failed: %v", err)
	}
	if got := p.LogTail(); !strings.Contains(got, "started") {
		t.Errorf("log %q, want the program's output", got)
	}
}
