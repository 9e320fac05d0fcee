package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// results is everything one benchmark run measured; it is written as JSON.
type results struct {
	Time     time.Time      `json:"time"`
	Command  []string       `json:"command"`
	Machine  machine        `json:"machine"`
	Settings runSettings    `json:"settings"`
	Bare     bareResult     `json:"bare_kernel"`
	Servers  []serverResult `json:"servers"`
}

// runSettings holds the settings of a run that shape its figures.
type runSettings struct {
	Python       string `json:"python"`
	Jupygo       string `json:"jupygo"`
	JupygoNoHub  string `json:"jupygo_nohub,omitempty"`
	Kernelspec   string `json:"kernelspec"`
	Starts       int    `json:"starts"`
	KernelStarts int    `json:"kernel_starts"`
	Executes     int    `json:"executes"`
	Warmup       int    `json:"warmup"`
	ContentsRuns int    `json:"contents_runs"`
	NotebookSize int    `json:"notebook_size"`
	OutputLines  int    `json:"output_lines"`
	Settle       string `json:"settle"`
	Idle         string `json:"idle"`
	Legacy       bool   `json:"legacy"`
}

// bareResult holds the figures of the kernel without a server in between.
type bareResult struct {
	KernelStart benchkit.Summary `json:"kernel_start"`
	Execute     benchkit.Summary `json:"execute"`
	// ExecuteCPUMs is the CPU time of the kernel process per timed
	// request, in milliseconds.
	ExecuteCPUMs *float64 `json:"execute_kernel_cpu_ms"`
	// IdleCPUMsPerS is the CPU time of the idle kernel process per
	// second, in milliseconds, while the client is connected.
	IdleCPUMsPerS *float64 `json:"idle_kernel_cpu_ms_per_s"`
	Errors        []string `json:"errors,omitempty"`
}

// serverResult holds the figures of one server. A failed step has an entry
// in Errors, and its benchkit.Summary covers the measurements taken before the
// failure (none when N is 0).
type serverResult struct {
	Name             string           `json:"name"`
	Version          string           `json:"version"`
	Argv             []string         `json:"argv"`
	Start            benchkit.Summary `json:"start_to_status_200"`
	Memory           []memory         `json:"idle_memory"`
	MemoryMedian     memory           `json:"idle_memory_median"`
	KernelStart      benchkit.Summary `json:"kernel_start"`
	KernelOverheadMs *float64         `json:"kernel_start_overhead_ms"`
	Subprotocol      string           `json:"kernel_ws_subprotocol"`
	Execute          benchkit.Summary `json:"execute"`
	ContentsPut      benchkit.Summary `json:"contents_put"`
	ContentsGet      benchkit.Summary `json:"contents_get"`
	// CPU time of the server process per timed request, in milliseconds,
	// in steps of clockTick summed over all requests. Kernels are
	// separate processes and not counted. The execute figure covers the
	// whole phase, so it includes what the server uses while the other
	// clients take their turns (IdleCPUMsPerS).
	ExecuteCPUMs *float64 `json:"execute_server_cpu_ms"`
	// IdleCPUMsPerS is the CPU time of the server process per second, in
	// milliseconds, while one kernel WebSocket is connected and idle.
	IdleCPUMsPerS    *float64 `json:"idle_server_cpu_ms_per_s"`
	ContentsPutCPUMs *float64 `json:"contents_put_server_cpu_ms"`
	ContentsGetCPUMs *float64 `json:"contents_get_server_cpu_ms"`
	NotebookBytes    int64    `json:"notebook_bytes"`
	Errors           []string `json:"errors,omitempty"`
}

// protocolName returns the name of a negotiated kernel WebSocket
// subprotocol, "legacy" when none was selected.
func protocolName(p string) string {
	if p == "" {
		return "legacy"
	}
	return p
}

// medianMemory returns the median of each field of ms on its own.
func medianMemory(ms []memory) memory {
	var server, anon, file, tree, children []int
	for _, m := range ms {
		server = append(server, m.Server)
		anon = append(anon, m.ServerAnon)
		file = append(file, m.ServerFile)
		tree = append(tree, m.Tree)
		children = append(children, m.Children)
	}
	return memory{
		Server: benchkit.MedianInt(server), ServerAnon: benchkit.MedianInt(anon), ServerFile: benchkit.MedianInt(file),
		Tree: benchkit.MedianInt(tree), Children: benchkit.MedianInt(children),
	}
}

// machine describes the computer the benchmark ran on.
type machine struct {
	CPUs       int    `json:"nproc"`
	CPUModel   string `json:"cpu_model"`
	MemoryMiB  int    `json:"memory_mib"`
	Kernel     string `json:"kernel"`
	LoadAvg    string `json:"loadavg_at_start"`
	LoadAvgEnd string `json:"loadavg_at_end"`
	Go         string `json:"go"`
}

func readMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if kib, err := strconv.Atoi(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB")); err == nil {
		m.MemoryMiB = kib / 1024
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	m.LoadAvg = loadAvg()
	return m
}

// loadAvg returns the 1, 5 and 15 minute load averages from /proc/loadavg,
// or "" when it cannot be read.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return ""
	}
	return strings.Join(fields[:3], " ")
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

// writeResults writes r as indented JSON to dir/server-TIME.json and
// returns the path.
func writeResults(dir string, r results) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("writing results: %w", err)
	}
	path := filepath.Join(dir, "server-"+r.Time.Format("20060102-150405")+".json")
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", fmt.Errorf("writing results: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("writing results: %w", err)
	}
	return path, nil
}
