package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// results is the content of a results file: the settings, the machine,
// the input and every measurement with all its samples.
type results struct {
	Time         time.Time     `json:"time"`
	Command      []string      `json:"command"`
	Settings     config        `json:"settings"`
	Machine      machine       `json:"machine"`
	Trace        traceInfo     `json:"trace"`
	Prepared     prepared      `json:"prepared"`
	Measurements []measurement `json:"measurements"`
}

// failures returns the number of measurements that failed.
func (r *results) failures() int {
	n := 0
	for _, m := range r.Measurements {
		if m.Error != "" {
			n++
		}
	}
	return n
}

// machine describes the computer and the software versions of a run.
type machine struct {
	CPUs         int        `json:"cpus"`
	CPUModel     string     `json:"cpuModel"`
	MemoryBytes  int64      `json:"memoryBytes"`
	Kernel       string     `json:"kernel"`
	Go           string     `json:"go"`
	Versions     versions   `json:"versions"`
	LoadAvgStart [3]float64 `json:"loadAvgStart"`
	LoadAvgEnd   [3]float64 `json:"loadAvgEnd"`
}

// versions are the versions that bench.mjs reports.
type versions struct {
	Node  string `json:"node"`
	Yjs   string `json:"yjs"`
	Ywasm string `json:"ywasm"`
}

func readMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), LoadAvgStart: loadAvg()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	kib, err := strconv.ParseInt(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 10, 64)
	if err == nil {
		m.MemoryBytes = kib * 1024
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// procField returns the value of the first "name: value" line of a /proc
// file, or "" when there is none.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == name {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// writeResults writes r as dir/yjs-YYYYMMDD-HHMMSS.json and returns the
// path.
func writeResults(dir string, r *results) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating results folder: %w", err)
	}
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return "", fmt.Errorf("encoding results: %w", err)
	}
	path := filepath.Join(dir, "yjs-"+r.Time.Format("20060102-150405")+".json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("writing results: %w", err)
	}
	return path, nil
}

// printSaved prints the report of a results file written by an earlier
// run.
func printSaved(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading results: %w", err)
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("decoding results %s: %w", path, err)
	}
	writeReport(os.Stdout, &r)
	return nil
}
