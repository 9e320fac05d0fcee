package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// onCPU returns the time the threads of pid have run so far, from the first
// field of /proc/PID/task/TID/schedstat. A thread that exited is no longer
// counted, and Go servers keep their threads.
func onCPU(pid int) (time.Duration, error) {
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(files) == 0 {
		return 0, fmt.Errorf("no threads of process %d in /proc", pid)
	}
	var total time.Duration
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // the thread exited
		}
		d, err := parseSchedstat(string(data))
		if err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		total += d
	}
	return total, nil
}

// parseSchedstat returns the run time, the first of the three fields of a
// schedstat file, in nanoseconds.
func parseSchedstat(s string) (time.Duration, error) {
	fields := strings.Fields(s)
	if len(fields) != 3 {
		return 0, fmt.Errorf("schedstat %q: want 3 fields", s)
	}
	ns, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("schedstat %q: %w", s, err)
	}
	return time.Duration(ns), nil
}

// loadAverage returns the 1-minute load average, or -1 when unknown.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	v, err := strconv.ParseFloat(strings.Fields(string(data))[0], 64)
	if err != nil {
		return -1
	}
	return v
}
