package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestParseSchedstat(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Duration
		wantErr  bool
	}{
		{"fields", "123456789 2000 15\n", 123456789 * time.Nanosecond, false},
		{"too few fields", "12 34\n", 0, true},
		{"not a number", "x 1 2\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSchedstat(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseSchedstat(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseSchedstat(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestOnCPUOfThisProcess spins until getrusage counts 20 ms more CPU time
// and expects onCPU to count about as much.
func TestOnCPUOfThisProcess(t *testing.T) {
	before, err := onCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	start := rusageCPU(t)
	for rusageCPU(t)-start < 20*time.Millisecond {
	}
	after, err := onCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 15*time.Millisecond {
		t.Errorf("on-CPU time grew by %v while getrusage counted 20 ms, want at least 15 ms", after-before)
	}
}

func rusageCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
