package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// summary is one implementation's samples of a run, gathered by figure.
type summary struct {
	replayMS, replayCPUMS       []float64
	retained, retainedX         []float64 // bytes; retainedX is outside the V8 heap
	encodeMS, encodeCPUMS       []float64
	encodeFirst, encodeFirstCPU []float64
	decodeMS, decodeCPUMS       []float64
	decodeFirst, decodeFirstCPU []float64
	updatesMS, updatesCPUMS     []float64
	stateLengths                []int
	stateSHA256s                []string
}

func summarize(r *results, impl string) *summary {
	s := &summary{}
	for _, m := range r.Measurements {
		if m.Impl != impl || m.Result == nil {
			continue
		}
		res := m.Result
		switch m.Phase {
		case "replay":
			s.addReplay(res)
		case "decode":
			s.decodeMS = append(s.decodeMS, res.MS...)
			s.decodeCPUMS = append(s.decodeCPUMS, res.CPUMS...)
			s.decodeFirst = append(s.decodeFirst, res.FirstMS...)
			s.decodeFirstCPU = append(s.decodeFirstCPU, res.FirstCPUMS...)
		case "updates":
			s.updatesMS = append(s.updatesMS, res.MS...)
			s.updatesCPUMS = append(s.updatesCPUMS, res.CPUMS...)
		}
	}
	return s
}

func (s *summary) addReplay(res *workerResult) {
	s.replayMS = append(s.replayMS, res.MS...)
	s.replayCPUMS = append(s.replayCPUMS, res.CPUMS...)
	// node reports memory outside its heap too, which contains ywasm's
	// WebAssembly memory. The Go heap has no such part.
	if res.RetainedHeapBytes != nil {
		retained := *res.RetainedHeapBytes
		if x := res.RetainedExternalBytes; x != nil {
			retained += *x
			s.retainedX = append(s.retainedX, float64(*x))
		}
		s.retained = append(s.retained, float64(retained))
	}
	s.encodeMS = append(s.encodeMS, res.EncodeMS...)
	s.encodeCPUMS = append(s.encodeCPUMS, res.EncodeCPUMS...)
	s.encodeFirst = append(s.encodeFirst, res.EncodeFirstMS...)
	s.encodeFirstCPU = append(s.encodeFirstCPU, res.EncodeFirstCPUMS...)
	s.stateLengths = append(s.stateLengths, res.StateLength)
	s.stateSHA256s = append(s.stateSHA256s, res.StateSHA256)
}

// median returns the median of v and false when v is empty.
func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// writeReport prints the machine, the table of medians with ratios, the
// sample counts, failed measurements and, for the automerge-paper trace,
// the goals.
func writeReport(w io.Writer, r *results) {
	writeHeader(w, r)
	sums := map[string]*summary{}
	for _, impl := range r.Settings.Impls {
		sums[impl] = summarize(r, impl)
	}
	fmt.Fprintln(w)
	writeTable(w, figureRows(r, sums))
	fmt.Fprintln(w)
	writeSamples(w, r, sums)
	writeFailures(w, r)
	if sums["go"] != nil && r.Trace.File == "automerge-paper.json.gz" {
		fmt.Fprintln(w)
		writeGoals(w, r, sums["go"])
	}
}

func writeHeader(w io.Writer, r *results) {
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs (%s), %.1f GiB RAM, Linux %s\n",
		m.CPUs, m.CPUModel, float64(m.MemoryBytes)/(1<<30), m.Kernel)
	fmt.Fprintf(w, "software: %s; node %s with yjs %s and ywasm %s\n",
		m.Go, m.Versions.Node, m.Versions.Yjs, m.Versions.Ywasm)
	fmt.Fprintf(w, "trace: %s, %s edits, replayed with client id %d into the root text %q\n",
		r.Trace.File, thousands(r.Trace.Edits), r.Settings.ClientID, r.Settings.Root)
	fmt.Fprintf(w, "input from yjs: %s per-edit updates and a final state of %s bytes\n",
		thousands(r.Prepared.Updates), thousands(r.Prepared.StateLength))
	lo, hi := loadRange(r.Measurements)
	fmt.Fprintf(w, "load average (1 min): %.2f at start, %.2f at end, %.2f to %.2f before the measurements\n",
		m.LoadAvgStart[0], m.LoadAvgEnd[0], lo, hi)
}

func loadRange(ms []measurement) (lo, hi float64) {
	for i, m := range ms {
		l := m.LoadAvg[0]
		if i == 0 || l < lo {
			lo = l
		}
		if i == 0 || l > hi {
			hi = l
		}
	}
	return lo, hi
}

// implTitle is an implementation's column title.
func implTitle(r *results, impl string) string {
	switch impl {
	case "go":
		return "ours (Go)"
	case "yjs":
		return "yjs " + r.Machine.Versions.Yjs
	case "ywasm":
		return "ywasm " + r.Machine.Versions.Ywasm
	}
	return impl
}

// figure is a row of the table: a label, how to format the values, and
// the samples of each implementation. Ratios are shown for rows with
// ratio set, as other / ours.
type figure struct {
	label   string
	format  func(float64) string
	samples func(*summary) []float64
	ratio   bool
}

var figures = []figure{
	{"replay, wall", formatMS, func(s *summary) []float64 { return s.replayMS }, true},
	{"replay, CPU", formatMS, func(s *summary) []float64 { return s.replayCPUMS }, true},
	{"retained after GC", formatMB, func(s *summary) []float64 { return s.retained }, true},
	{"  of it outside the V8 heap", formatMB, func(s *summary) []float64 { return s.retainedX }, false},
	{"encode state, wall", formatMS, func(s *summary) []float64 { return s.encodeMS }, true},
	{"encode state, CPU", formatMS, func(s *summary) []float64 { return s.encodeCPUMS }, true},
	{"  first in a process, wall", formatMS, func(s *summary) []float64 { return s.encodeFirst }, true},
	{"  first in a process, CPU", formatMS, func(s *summary) []float64 { return s.encodeFirstCPU }, true},
	{"decode state, wall", formatMS, func(s *summary) []float64 { return s.decodeMS }, true},
	{"decode state, CPU", formatMS, func(s *summary) []float64 { return s.decodeCPUMS }, true},
	{"  first in a process, wall", formatMS, func(s *summary) []float64 { return s.decodeFirst }, true},
	{"  first in a process, CPU", formatMS, func(s *summary) []float64 { return s.decodeFirstCPU }, true},
	{"apply per-edit updates, wall", formatMS, func(s *summary) []float64 { return s.updatesMS }, true},
	{"apply per-edit updates, CPU", formatMS, func(s *summary) []float64 { return s.updatesCPUMS }, true},
}

// figureRows builds the table: a header, one row per figure with medians
// and ratios, and the encoded state's length and identity with yjs's.
func figureRows(r *results, sums map[string]*summary) [][]string {
	impls := r.Settings.Impls
	header := []string{"median"}
	for _, impl := range impls {
		header = append(header, implTitle(r, impl))
	}
	others := ratioImpls(impls)
	for _, impl := range others {
		header = append(header, impl+" / ours")
	}
	rows := [][]string{header}
	for _, f := range figures {
		row := []string{f.label}
		for _, impl := range impls {
			row = append(row, formatMedian(f.samples(sums[impl]), f.format))
		}
		for _, impl := range others {
			row = append(row, ratioCell(f, sums[impl], sums["go"]))
		}
		rows = append(rows, row)
	}
	return append(rows, stateRows(r, sums)...)
}

// ratioImpls returns the implementations compared with ours, or none when
// ours was not measured.
func ratioImpls(impls []string) []string {
	if !slices.Contains(impls, "go") {
		return nil
	}
	var out []string
	for _, impl := range impls {
		if impl != "go" {
			out = append(out, impl)
		}
	}
	return out
}

func formatMedian(v []float64, format func(float64) string) string {
	m, ok := median(v)
	if !ok {
		return "-"
	}
	return format(m)
}

func ratioCell(f figure, other, ours *summary) string {
	if !f.ratio {
		return ""
	}
	a, okA := median(f.samples(other))
	b, okB := median(f.samples(ours))
	if !okA || !okB || b <= 0 {
		return "-"
	}
	return formatRatio(a / b)
}

// stateRows shows the length of the state each implementation encodes
// after the replay, and whether its bytes equal those yjs encoded while
// preparing the input.
func stateRows(r *results, sums map[string]*summary) [][]string {
	length := []string{"state length (bytes)"}
	same := []string{"state bytes equal yjs's"}
	for _, impl := range r.Settings.Impls {
		s := sums[impl]
		length = append(length, formatLengths(s.stateLengths))
		same = append(same, formatSame(s.stateSHA256s, r.Prepared.StateSHA256))
	}
	return [][]string{length, same}
}

func formatLengths(lengths []int) string {
	if len(lengths) == 0 {
		return "-"
	}
	var parts []string
	for _, n := range slices.Compact(slices.Sorted(slices.Values(lengths))) {
		parts = append(parts, thousands(n))
	}
	return strings.Join(parts, " or ")
}

func formatSame(sums []string, want string) string {
	if len(sums) == 0 {
		return "-"
	}
	equal := 0
	for _, s := range sums {
		if s == want {
			equal++
		}
	}
	switch equal {
	case len(sums):
		return "yes"
	case 0:
		return "no"
	}
	return fmt.Sprintf("%d of %d runs", equal, len(sums))
}

// writeTable prints rows with the first column aligned left and the
// others aligned right.
func writeTable(w io.Writer, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-len([]rune(cell)))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// writeSamples prints how many samples each median is taken over.
func writeSamples(w io.Writer, r *results, sums map[string]*summary) {
	fmt.Fprintln(w, "samples per median: one per process for replay, updates and the first encode")
	fmt.Fprintf(w, "and decode, and %d more per process for encode (in each replay process) and decode\n",
		r.Settings.Reps)
	rows := [][]string{{"figure"}}
	for _, impl := range r.Settings.Impls {
		rows[0] = append(rows[0], implTitle(r, impl))
	}
	counts := []struct {
		name    string
		samples func(*summary) []float64
	}{
		{"replay", func(s *summary) []float64 { return s.replayMS }},
		{"encode", func(s *summary) []float64 { return s.encodeMS }},
		{"decode", func(s *summary) []float64 { return s.decodeMS }},
		{"updates", func(s *summary) []float64 { return s.updatesMS }},
	}
	for _, c := range counts {
		row := []string{c.name}
		for _, impl := range r.Settings.Impls {
			row = append(row, strconv.Itoa(len(c.samples(sums[impl]))))
		}
		rows = append(rows, row)
	}
	writeTable(w, rows)
}

func writeFailures(w io.Writer, r *results) {
	if r.failures() == 0 {
		return
	}
	fmt.Fprintln(w, "\nfailed measurements:")
	for _, m := range r.Measurements {
		if m.Error != "" {
			fmt.Fprintf(w, "  %s %s round %d: %s\n", m.Phase, m.Impl, m.Round, m.Error)
		}
	}
}

func formatMS(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.1f s", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// formatMB formats bytes as megabytes of 10^6 bytes.
func formatMB(v float64) string {
	mb := v / 1e6
	if mb >= 10 || mb <= -10 {
		return fmt.Sprintf("%.1f MB", mb)
	}
	return fmt.Sprintf("%.2f MB", mb)
}

func formatRatio(v float64) string {
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f×", v)
	case v >= 1:
		return fmt.Sprintf("%.1f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
