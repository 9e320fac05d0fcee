package main

import (
	"fmt"
	"io"
)

// limitGoal is a target for one of our figures on the automerge-paper
// trace: the wall-clock median must be at most limit. The CPU median, when
// there is one, is shown beside it, because on a loaded machine the
// wall-clock figure can be several times the CPU time.
type limitGoal struct {
	name   string
	limit  float64
	format func(float64) string
	wall   func(*summary) []float64
	cpu    func(*summary) []float64 // nil for memory
}

var limitGoals = []limitGoal{
	{"replay under 0.9 s", 900, formatMS,
		func(s *summary) []float64 { return s.replayMS },
		func(s *summary) []float64 { return s.replayCPUMS }},
	{"at most 8 MB retained after the replay", 8e6, formatMB,
		func(s *summary) []float64 { return s.retained }, nil},
	{"encode within 5 ms", 5, formatMS,
		func(s *summary) []float64 { return s.encodeMS },
		func(s *summary) []float64 { return s.encodeCPUMS }},
	{"decode within 16 ms", 16, formatMS,
		func(s *summary) []float64 { return s.decodeMS },
		func(s *summary) []float64 { return s.decodeCPUMS }},
}

// writeGoals prints whether our figures meet the goals set for the
// automerge-paper trace.
func writeGoals(w io.Writer, r *results, ours *summary) {
	fmt.Fprintln(w, "goals for ours (medians):")
	for _, g := range limitGoals {
		fmt.Fprintf(w, "  %s: %s\n", g.name, g.verdict(ours))
	}
	fmt.Fprintf(w, "  the same %s bytes as yjs: %s\n",
		thousands(r.Prepared.StateLength), sameBytesVerdict(r, ours))
}

func (g limitGoal) verdict(s *summary) string {
	wall, ok := median(g.wall(s))
	if !ok {
		return "not measured"
	}
	detail := g.format(wall)
	if g.cpu == nil {
		return meets(wall <= g.limit) + " (" + detail + ")"
	}
	cpu, ok := median(g.cpu(s))
	if !ok {
		return meets(wall <= g.limit) + " (" + detail + " wall)"
	}
	detail += " wall, " + g.format(cpu) + " CPU"
	if wall > g.limit && cpu <= g.limit {
		return "not met on wall-clock time, met on CPU time (" + detail + ")"
	}
	return meets(wall <= g.limit) + " (" + detail + ")"
}

func meets(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// sameBytesVerdict checks that every state we encoded after a replay is
// the state yjs encoded, byte for byte (by SHA-256).
func sameBytesVerdict(r *results, ours *summary) string {
	if len(ours.stateSHA256s) == 0 {
		return "not measured"
	}
	for i, sum := range ours.stateSHA256s {
		if sum != r.Prepared.StateSHA256 {
			return fmt.Sprintf("not met (%s bytes, SHA-256 %s, want %s)",
				thousands(ours.stateLengths[i]), sum, r.Prepared.StateSHA256)
		}
	}
	n := len(ours.stateSHA256s)
	return fmt.Sprintf("met (%d of %d replays, SHA-256 %s)", n, n, r.Prepared.StateSHA256)
}
