package main

import (
	"fmt"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Goals for jupygo against jupyter-server, checked in the report.
const (
	goalStartRatio    = 20  // start at least this many times faster
	goalIdleRSSMiB    = 15  // idle RSS of the server and its children, at most
	goalExecuteOverMs = 0.5 // p50 round trip above direct ZeroMQ, at most
	goalContentsRatio = 5   // notebook GET and PUT at least this many times faster
)

const (
	pythonName = "jupyter-server"
	jupygoName = "jupygo"
	noHubName  = "jupygo-nohub" // the same server, built with the nohub tag
)

// table is one metric of the report: a title, a header row, data rows and
// lines printed under the rows.
type table struct {
	title  string
	header []string
	rows   [][]string
	notes  []string
}

func (t table) write(w io.Writer) {
	fmt.Fprintf(w, "\n%s\n", t.title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(t.header, "\t")+"\t")
	for _, row := range t.rows {
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
	for _, n := range t.notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
}

// writeReport prints one table per metric for the servers in r, with the
// ratio jupyter-server / jupygo and whether jupygo meets its goal.
func writeReport(w io.Writer, r results) {
	py, jg := findServer(r, pythonName), findServer(r, jupygoName)
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs (%s), %d MiB RAM, Linux %s\n", m.CPUs, m.CPUModel, m.MemoryMiB, m.Kernel)
	fmt.Fprintf(w, "load average (1, 5, 15 min): %s at start, %s at end\n", m.LoadAvg, m.LoadAvgEnd)
	for _, s := range r.Servers {
		if s.Version != "" {
			fmt.Fprintf(w, "%s version %s\n", s.Name, s.Version)
		}
	}
	tables := []table{
		startTable(r, py, jg), memoryTable(r, jg, py), kernelTable(r, py, jg),
		executeTable(r, py, jg), contentsTable(r, py, jg, "GET"), contentsTable(r, py, jg, "PUT"),
	}
	for _, t := range tables {
		t.write(w)
	}
	for _, s := range r.Servers {
		for _, e := range s.Errors {
			fmt.Fprintf(w, "\n%s error: %s\n", s.Name, e)
		}
	}
	for _, e := range r.Bare.Errors {
		fmt.Fprintf(w, "\nbare kernel error: %s\n", e)
	}
}

func findServer(r results, name string) *serverResult {
	for i := range r.Servers {
		if r.Servers[i].Name == name {
			return &r.Servers[i]
		}
	}
	return nil
}

func startTable(r results, py, jg *serverResult) table {
	t := table{
		title:  fmt.Sprintf("start to first 200 on GET /api/status (%d starts)", r.Settings.Starts),
		header: []string{"server", "median", "min", "max"},
	}
	for _, s := range r.Servers {
		t.rows = append(t.rows, []string{s.Name, ms(s.Start.Median, s.Start.N), ms(s.Start.Min, s.Start.N),
			ms(s.Start.Max, s.Start.N)})
	}
	ratio, ok := ratioOf(py, jg, func(s *serverResult) (float64, bool) { return s.Start.Median, s.Start.N > 0 })
	t.notes = append(t.notes, ratioNote(ratio, ok), goalNote(ok, ratio >= goalStartRatio,
		fmt.Sprintf("jupygo starts at least %d× faster", goalStartRatio)))
	return t
}

func memoryTable(r results, jg, py *serverResult) table {
	t := table{
		title:  fmt.Sprintf("idle RSS %s after the first 200 (VmRSS, median of %d starts)", r.Settings.Settle, r.Settings.Starts),
		header: []string{"server", "server process", "anon", "file", "children", "with children"},
	}
	for _, s := range r.Servers {
		ok := len(s.Memory) > 0
		m := s.MemoryMedian
		t.rows = append(t.rows, []string{s.Name, mib(m.Server, ok), mib(m.ServerAnon, ok),
			mib(m.ServerFile, ok), count(m.Children, ok), mib(m.Tree, ok)})
	}
	ratio, ok := ratioOf(py, jg, func(s *serverResult) (float64, bool) {
		return float64(s.MemoryMedian.Tree), len(s.Memory) > 0
	})
	met := jg != nil && len(jg.Memory) > 0 && float64(jg.MemoryMedian.Tree) <= goalIdleRSSMiB*1024
	t.notes = append(t.notes, ratioNote(ratio, ok), goalNote(jg != nil && len(jg.Memory) > 0, met,
		fmt.Sprintf("jupygo with children at most %d MiB", goalIdleRSSMiB)))
	if nh := findServer(r, noHubName); nh != nil && len(nh.Memory) > 0 {
		met := float64(nh.MemoryMedian.Tree) <= goalIdleRSSMiB*1024
		t.notes = append(t.notes, goalNote(true, met,
			fmt.Sprintf("jupygo-nohub with children at most %d MiB", goalIdleRSSMiB)))
	}
	return t
}

func kernelTable(r results, py, jg *serverResult) table {
	t := table{
		title:  fmt.Sprintf("kernel start until kernel_info_reply (%d starts each)", r.Settings.KernelStarts),
		header: []string{"client", "median", "min", "max", "median above bare", "min above bare"},
	}
	b := r.Bare.KernelStart
	t.rows = append(t.rows, []string{"bare kernel, ZeroMQ", ms(b.Median, b.N), ms(b.Min, b.N), ms(b.Max, b.N), "-", "-"})
	for _, s := range r.Servers {
		k := s.KernelStart
		over := "-"
		if s.KernelOverheadMs != nil {
			over = ms(*s.KernelOverheadMs, 1)
		}
		t.rows = append(t.rows, []string{s.Name + ", WebSocket", ms(k.Median, k.N), ms(k.Min, k.N), ms(k.Max, k.N),
			over, ms(k.Min-b.Min, min(k.N, b.N))})
	}
	ratio, ok := ratioOf(py, jg, func(s *serverResult) (float64, bool) {
		if s.KernelOverheadMs == nil || *s.KernelOverheadMs <= 0 {
			return 0, false
		}
		return *s.KernelOverheadMs, true
	})
	t.notes = append(t.notes, "ratio of the overheads above the bare kernel: "+ratioText(ratio, ok))
	return t
}

func executeTable(r results, py, jg *serverResult) table {
	t := table{
		title:  fmt.Sprintf("1+1 execute round trip (%d sequential, after %d untimed)", r.Settings.Executes, r.Settings.Warmup),
		header: []string{"client", "p50", "min", "p99", "mean", "p50 above ZeroMQ", "CPU per request", "idle CPU per s"},
	}
	b := r.Bare.Execute
	t.rows = append(t.rows, []string{"bare kernel, ZeroMQ", ms(b.Median, b.N), ms(b.Min, b.N), ms(b.P99, b.N),
		ms(b.Mean, b.N), "-", msPtr(r.Bare.ExecuteCPUMs) + " kernel", msPtr(r.Bare.IdleCPUMsPerS) + " kernel"})
	for _, s := range r.Servers {
		e := s.Execute
		t.rows = append(t.rows, []string{s.Name + ", " + s.Subprotocol, ms(e.Median, e.N), ms(e.Min, e.N),
			ms(e.P99, e.N), ms(e.Mean, e.N), ms(e.Median-b.Median, min(e.N, b.N)),
			msPtr(s.ExecuteCPUMs) + " server", msPtr(s.IdleCPUMsPerS) + " server"})
	}
	ratio, ok := ratioOf(py, jg, func(s *serverResult) (float64, bool) { return s.Execute.Median, s.Execute.N > 0 })
	have := jg != nil && jg.Execute.N > 0 && b.N > 0
	met := have && jg.Execute.Median-b.Median <= goalExecuteOverMs
	cpuRatio, cpuOK := ratioOf(py, jg, func(s *serverResult) (float64, bool) {
		return ptrValue(s.ExecuteCPUMs)
	})
	t.notes = append(t.notes, "p50 "+ratioNote(ratio, ok), "server CPU "+ratioNote(cpuRatio, cpuOK))
	if note := roundDifferencesNote(r); note != "" {
		t.notes = append(t.notes, note)
	}
	t.notes = append(t.notes, goalNote(have, met,
		fmt.Sprintf("jupygo p50 within %.1f ms of direct ZeroMQ", goalExecuteOverMs)))
	return t
}

// roundDifferencesNote returns the median, for each server, of its round
// trip minus the bare kernel's in the same round, or "" without samples.
// A round times every client back to back, so a change of machine load
// during the phase reaches both sides of a difference alike.
func roundDifferencesNote(r results) string {
	var parts []string
	for _, s := range r.Servers {
		if d, ok := medianDifference(s.Execute.Samples, r.Bare.Execute.Samples); ok {
			parts = append(parts, fmt.Sprintf("%s %s", s.Name, ms(d, 1)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "median of the differences to the bare kernel in the same round: " + strings.Join(parts, ", ")
}

// medianDifference returns the median of a[i] - b[i] over the rounds both
// have. A client that fails stops, so its samples are the first rounds.
func medianDifference(a, b []float64) (float64, bool) {
	n := min(len(a), len(b))
	if n == 0 {
		return 0, false
	}
	diffs := make([]float64, n)
	for i := range n {
		diffs[i] = a[i] - b[i]
	}
	slices.Sort(diffs)
	return benchkit.Median(diffs), true
}

func contentsTable(r results, py, jg *serverResult, method string) table {
	pick := func(s *serverResult) benchkit.Summary {
		if method == "GET" {
			return s.ContentsGet
		}
		return s.ContentsPut
	}
	cpu := func(s *serverResult) *float64 {
		if method == "GET" {
			return s.ContentsGetCPUMs
		}
		return s.ContentsPutCPUMs
	}
	var size int64
	for _, s := range r.Servers {
		size = max(size, s.NotebookBytes)
	}
	t := table{
		title: fmt.Sprintf("%s /api/contents of a %.1f MB notebook (%d runs)", method, float64(size)/1e6,
			r.Settings.ContentsRuns),
		header: []string{"server", "median", "min", "max", "server CPU per request"},
	}
	for _, s := range r.Servers {
		c := pick(&s)
		t.rows = append(t.rows, []string{s.Name, ms(c.Median, c.N), ms(c.Min, c.N), ms(c.Max, c.N), msPtr(cpu(&s))})
	}
	ratio, ok := ratioOf(py, jg, func(s *serverResult) (float64, bool) { c := pick(s); return c.Median, c.N > 0 })
	cpuRatio, cpuOK := ratioOf(py, jg, func(s *serverResult) (float64, bool) { return ptrValue(cpu(s)) })
	t.notes = append(t.notes, "median "+ratioNote(ratio, ok), "server CPU "+ratioNote(cpuRatio, cpuOK),
		goalNote(ok, ratio >= goalContentsRatio,
			fmt.Sprintf("jupygo at least %d× faster", goalContentsRatio)))
	return t
}

// ratioOf returns value(py) / value(jg), and false when either server or
// either value is missing.
func ratioOf(py, jg *serverResult, value func(*serverResult) (float64, bool)) (float64, bool) {
	if py == nil || jg == nil {
		return 0, false
	}
	a, okA := value(py)
	b, okB := value(jg)
	if !okA || !okB || b == 0 {
		return 0, false
	}
	return a / b, true
}

func ratioNote(ratio float64, ok bool) string {
	return "ratio jupyter-server / jupygo: " + ratioText(ratio, ok)
}

func ratioText(ratio float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.1f×", ratio)
}

func goalNote(have, met bool, goal string) string {
	switch {
	case !have:
		return "goal (" + goal + "): not measured"
	case met:
		return "goal (" + goal + "): met"
	default:
		return "goal (" + goal + "): not met"
	}
}

// ms formats milliseconds, or "-" when n is zero (nothing measured).
func ms(v float64, n int) string {
	switch {
	case n == 0:
		return "-"
	case v < 10 && v > -10:
		return fmt.Sprintf("%.2f ms", v)
	default:
		return fmt.Sprintf("%.1f ms", v)
	}
}

// ptrValue returns *v and whether v is set.
func ptrValue(v *float64) (float64, bool) {
	if v == nil {
		return 0, false
	}
	return *v, true
}

// msPtr formats milliseconds, or "-" for nil.
func msPtr(v *float64) string {
	if v == nil {
		return "-"
	}
	return ms(*v, 1)
}

func mib(kib int, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}

func count(n int, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprint(n)
}
