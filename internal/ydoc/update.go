package ydoc

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
)

// updateCells makes the cells array of a loaded document hold cells,
// keeping what it can of the cells already there (see Notebook.SetJSON).
func updateCells(ycells *yjs.Array, cells []*cell, seed func() []byte) error {
	olds := readOldCells(ycells.Slice())
	// Cells keep the ids the file gives them. A repeat of an earlier
	// cell's id is dropped, and the cell gets the id of the cell it
	// replaces, or a new one, below.
	ids := newIDSource(seed, nil)
	for _, c := range cells {
		switch {
		case !c.fileID:
		case ids.taken[c.id]:
			c.id, c.fileID = "", false
		default:
			ids.taken[c.id] = true
		}
	}
	match := matchCells(olds, cells)
	for i, c := range cells {
		switch {
		case c.id != "":
		case match[i] != nil && match[i].id != "" && !ids.taken[match[i].id]:
			c.id = match[i].id
			ids.taken[c.id] = true
		default:
			c.id = ids.next()
		}
	}
	keep := keptCells(match)

	// Delete, from the end, the runs of cells that are not kept. What
	// remains are the kept cells, in the order of cells.
	for j := len(olds) - 1; j >= 0; {
		if keep[olds[j]] {
			j--
			continue
		}
		end := j
		for j >= 0 && !keep[olds[j]] {
			j--
		}
		if err := ycells.Delete(j+1, end-j); err != nil {
			return err
		}
	}

	for i, c := range cells {
		if o := match[i]; o != nil && keep[o] {
			if err := updateCell(o, c); err != nil {
				return fmt.Errorf("cell %s: %w", c.id, err)
			}
			continue
		}
		if err := insertCell(ycells, i, c); err != nil {
			return err
		}
	}
	return nil
}

// matchCells returns, for each new cell, the cell of the document it
// replaces, or nil. Cells are matched by id. When no new cell has an id of
// its own (nbformat 4.0 to 4.4), they are aligned with matchByPosition.
// Otherwise the new cells without an id of their own (missing, or taken by
// an earlier cell) are aligned the same way with the old cells that no id
// matched. So a cell that the file gives no id keeps its Y.Map, and the
// edits made in it.
func matchCells(olds []*oldCell, cells []*cell) []*oldCell {
	match := make([]*oldCell, len(cells))
	byID := map[string]*oldCell{}
	for _, o := range olds {
		if o.ycell != nil && o.id != "" && byID[o.id] == nil {
			byID[o.id] = o
		}
	}
	withIDs := false
	for i, c := range cells {
		if c.fileID {
			withIDs = true
			match[i] = byID[c.id]
		}
	}
	if withIDs {
		matchUnmatched(olds, cells, match)
	} else {
		matchByPosition(olds, cells, match)
	}
	for i, c := range cells {
		if match[i] != nil && !match[i].fits(c) {
			match[i] = nil
		}
	}
	return match
}

// matchUnmatched aligns, with matchByPosition, the new cells that have no
// id of their own with the old cells that no new cell matched.
func matchUnmatched(olds []*oldCell, cells []*cell, match []*oldCell) {
	used := make(map[*oldCell]bool, len(match))
	for _, o := range match {
		if o != nil {
			used[o] = true
		}
	}
	var freeOlds []*oldCell
	for _, o := range olds {
		if !used[o] {
			freeOlds = append(freeOlds, o)
		}
	}
	var freeCells []*cell
	var at []int // the index in cells of each of freeCells
	for i, c := range cells {
		if !c.fileID {
			freeCells = append(freeCells, c)
			at = append(at, i)
		}
	}
	if len(freeOlds) == 0 || len(freeCells) == 0 {
		return
	}
	found := make([]*oldCell, len(freeCells))
	matchByPosition(freeOlds, freeCells, found)
	for k, i := range at {
		match[i] = found[k]
	}
}

// matchByPosition matches the equal cells at the start and at the end, and
// aligns the cells between them with matchMiddle.
func matchByPosition(olds []*oldCell, cells []*cell, match []*oldCell) {
	prefix := 0
	for prefix < len(olds) && prefix < len(cells) && olds[prefix].sameAs(cells[prefix]) {
		match[prefix] = olds[prefix]
		prefix++
	}
	suffix := 0
	for suffix < len(olds)-prefix && suffix < len(cells)-prefix &&
		olds[len(olds)-1-suffix].sameAs(cells[len(cells)-1-suffix]) {
		match[len(cells)-1-suffix] = olds[len(olds)-1-suffix]
		suffix++
	}
	matchMiddle(olds[prefix:len(olds)-suffix], cells[prefix:len(cells)-suffix], match[prefix:len(cells)-suffix])
}

// maxAlignment bounds the cell comparisons of matchMiddle.
const maxAlignment = 1 << 18

// matchMiddle matches the cells of a longest common subsequence of equal
// cells, and pairs the cells between two such anchors with pairGap. Past
// maxAlignment comparisons it first matches the equal cells that are unique
// on both sides (matchUnique).
func matchMiddle(olds []*oldCell, cells []*cell, match []*oldCell) {
	n, m := len(olds), len(cells)
	if n == 0 || m == 0 {
		return
	}
	if n*m > maxAlignment {
		matchUnique(olds, cells, match)
		return
	}

	equal := func(i, j int) int32 {
		if olds[i].sameAs(cells[j]) {
			return 1
		}
		return 0
	}
	matchAround(align(n, m, equal), olds, cells, match, pairGap)
}

// matchAround matches the pairs, which are in increasing order on both
// sides, and passes the cells before, between and after them to gap.
func matchAround(pairs []pairIndex, olds []*oldCell, cells []*cell, match []*oldCell,
	gap func(olds []*oldCell, cells []*cell, match []*oldCell)) {
	lastI, lastJ := 0, 0
	for _, p := range pairs {
		gap(olds[lastI:p.i], cells[lastJ:p.j], match[lastJ:p.j])
		match[p.j] = olds[p.i]
		lastI, lastJ = p.i+1, p.j+1
	}
	gap(olds[lastI:], cells[lastJ:], match[lastJ:])
}

// pairByPosition pairs the cells of olds and cells one to one from the
// start, as far as the shorter side goes.
func pairByPosition(olds []*oldCell, cells []*cell, match []*oldCell) {
	for k := range min(len(olds), len(cells)) {
		match[k] = olds[k]
	}
}

// matchUnique matches, in a large notebook, the equal cells whose content
// no other cell on either side has, keeping the longest run of them in
// the same order on both sides, as patience diff does with lines. The
// cells between two such anchors go to matchMiddle again. Without any
// anchor, it pairs the cells by position.
func matchUnique(olds []*oldCell, cells []*cell, match []*oldCell) {
	// count is the number of old and of new cells with one content.
	type count struct{ olds, cells int }
	counts := map[string]*count{}
	countOf := func(key string) *count {
		c := counts[key]
		if c == nil {
			c = &count{}
			counts[key] = c
		}
		return c
	}
	oldAt := map[string]int{} // the index of the last old cell of each content
	for i, o := range olds {
		if o.ycell == nil {
			continue
		}
		key := cellKey(o.json())
		countOf(key).olds++
		oldAt[key] = i
	}
	keys := make([]string, len(cells))
	for j, c := range cells {
		keys[j] = cellKey(c.json())
		countOf(keys[j]).cells++
	}

	var pairs []pairIndex // unique on both sides, in the order of cells
	for j, c := range cells {
		n := counts[keys[j]]
		if i := oldAt[keys[j]]; n.olds == 1 && n.cells == 1 && olds[i].sameAs(c) {
			pairs = append(pairs, pairIndex{i, j})
		}
	}
	anchors := increasingRun(pairs)
	if len(anchors) == 0 {
		pairByPosition(olds, cells, match)
		return
	}
	matchAround(anchors, olds, cells, match, matchMiddle)
}

// cellKey returns the JSON text of a cell without its id and its trusted
// mark, which sameAs leaves out of the comparison.
func cellKey(cell map[string]any) string {
	c := make(map[string]any, len(cell))
	for k, v := range cell {
		if k != "id" {
			c[k] = v
		}
	}
	if md, ok := c["metadata"].(map[string]any); ok {
		c["metadata"] = withoutTrusted(md, nil)
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// increasingRun returns the longest subsequence of pairs, which are in
// increasing j, whose i increase too.
func increasingRun(pairs []pairIndex) []pairIndex {
	// tails[k] is the index in pairs of the smallest last i of an
	// increasing run of length k+1. prev links each pair to the one
	// before it in its run.
	var tails []int
	prev := make([]int, len(pairs))
	for x, p := range pairs {
		k := sort.Search(len(tails), func(k int) bool { return pairs[tails[k]].i >= p.i })
		prev[x] = -1
		if k > 0 {
			prev[x] = tails[k-1]
		}
		if k == len(tails) {
			tails = append(tails, x)
		} else {
			tails[k] = x
		}
	}
	if len(tails) == 0 {
		return nil
	}
	run := make([]pairIndex, len(tails))
	for k, x := len(tails)-1, tails[len(tails)-1]; x >= 0; k, x = k-1, prev[x] {
		run[k] = pairs[x]
	}
	return run
}

// pairIndex is a pair of align: the index of an old cell and of a new one.
type pairIndex struct{ i, j int }

// align returns, in order, the pairs of an alignment of n old cells with m
// new ones whose scores add up to the most. Only pairs that score above 0
// are taken. With scores of 1 for equal cells, that is a longest common
// subsequence.
func align(n, m int, score func(i, j int) int32) []pairIndex {
	scores := make([]int32, n*m)
	for i := range n {
		for j := range m {
			scores[i*m+j] = score(i, j)
		}
	}

	// best[i*(m+1)+j] is the highest sum of the pairs of olds[i:] and
	// cells[j:].
	w := m + 1
	best := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			b := max(best[(i+1)*w+j], best[i*w+j+1])
			if s := scores[i*m+j]; s > 0 {
				b = max(b, best[(i+1)*w+j+1]+s)
			}
			best[i*w+j] = b
		}
	}

	var pairs []pairIndex
	for i, j := 0, 0; i < n && j < m; {
		switch s := scores[i*m+j]; {
		case s > 0 && best[i*w+j] == best[(i+1)*w+j+1]+s:
			pairs = append(pairs, pairIndex{i, j})
			i, j = i+1, j+1
		case best[(i+1)*w+j] >= best[i*w+j+1]:
			i++
		default:
			j++
		}
	}
	return pairs
}

// maxGapAlignment bounds the cell comparisons of pairGap.
const maxGapAlignment = 1 << 12

// pairGap pairs the changed cells between two equal ones. It pairs the
// cells of an alignment that shares the most source lines, so that an edit
// typed in a cell stays in that cell. Between two such pairs, cells are
// paired by position when both sides have as many, since each was most
// likely rewritten in place. Otherwise they are deleted and inserted, so
// no cell takes the place of one it shares nothing with. Past
// maxGapAlignment comparisons it pairs by position.
func pairGap(olds []*oldCell, cells []*cell, match []*oldCell) {
	n, m := len(olds), len(cells)
	if n == 0 || m == 0 {
		return
	}
	if n*m > maxGapAlignment {
		pairByPosition(olds, cells, match)
		return
	}
	shared := func(i, j int) int32 { return int32(sharedLines(olds[i], cells[j])) }
	sameCount := func(olds []*oldCell, cells []*cell, match []*oldCell) {
		if len(olds) == len(cells) {
			pairByPosition(olds, cells, match)
		}
	}
	matchAround(align(n, m, shared), olds, cells, match, sameCount)
}

// sharedLines counts the source lines that o and c have in common, each
// line as often as both have it, or 0 when their cell types differ. Two
// empty sources share one line.
func sharedLines(o *oldCell, c *cell) int {
	if o.ycell == nil || getAny(o.ycell, "cell_type") != c.cellType() {
		return 0
	}
	old, _ := o.json()["source"].(string)
	src, _ := c.json()["source"].(string)
	if old == "" && src == "" {
		return 1
	}
	count := map[string]int{}
	for _, line := range strings.Split(old, "\n") {
		count[line]++
	}
	shared := 0
	for _, line := range strings.Split(src, "\n") {
		if count[line] > 0 {
			count[line]--
			shared++
		}
	}
	return shared
}

// keptCells returns the largest set of matched old cells whose order in
// the document is their order among the new cells (a longest increasing
// subsequence of their indexes). The other matched cells have moved.
func keptCells(match []*oldCell) map[*oldCell]bool {
	var pairs []pairIndex
	for j, o := range match {
		if o != nil {
			pairs = append(pairs, pairIndex{o.index, j})
		}
	}
	run := increasingRun(pairs)
	keep := make(map[*oldCell]bool, len(run))
	for _, p := range run {
		keep[match[p.j]] = true
	}
	return keep
}

// updateCell writes c into the document's cell o in place.
func updateCell(o *oldCell, c *cell) error {
	y := o.ycell
	if id, _ := getAny(y, "id").(string); id != c.id {
		if err := y.Set("id", c.id); err != nil {
			return err
		}
	}
	for _, k := range y.Keys() {
		if _, ok := c.fields[k]; !ok && k != "id" && k != "execution_state" {
			if err := y.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, k := range sortedKeys(c.fields) {
		v := c.fields[k]
		var err error
		switch k {
		case "source":
			s, _ := v.(string)
			err = editText(getText(y, k), s)
		case "metadata":
			md, _ := v.(map[string]any)
			err = updateMap(getMap(y, k), md, isTrusted)
		case "outputs":
			outputs, _ := v.([]any)
			err = updateOutputs(getArray(y, k), outputs)
		default:
			err = setIfChanged(y, k, v)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

func isTrusted(key string) bool { return key == "trusted" }

func setIfChanged(m *yjs.Map, key string, v any) error {
	a, err := toAny(v)
	if err != nil {
		return err
	}
	if old, ok := m.Get(key); ok && equalAny(old, a) {
		return nil
	}
	return m.Set(key, a)
}

// updateOutputs makes youtputs hold outputs. Equal outputs stay, the text
// of a stream output whose other fields are equal is edited in place, and
// other outputs that differ are replaced.
func updateOutputs(youtputs *yjs.Array, outputs []any) error {
	old := youtputs.Slice()
	for i := range min(len(old), len(outputs)) {
		want := outputs[i].(map[string]any)
		if reflect.DeepEqual(yjs.ToJSONValue(old[i]), toPlain(want)) {
			continue
		}
		if t := streamText(old[i], want); t != nil {
			if err := editText(t, want["text"].(string)); err != nil {
				return err
			}
			continue
		}
		if err := youtputs.Delete(i, 1); err != nil {
			return err
		}
		if err := insertOutput(youtputs, i, want); err != nil {
			return err
		}
	}
	if len(old) > len(outputs) {
		return youtputs.Delete(len(outputs), len(old)-len(outputs))
	}
	for i := len(old); i < len(outputs); i++ {
		if err := insertOutput(youtputs, i, outputs[i].(map[string]any)); err != nil {
			return err
		}
	}
	return nil
}

// streamText returns the Y.Text of the stream output old when want is a
// stream output that differs from it in its text alone, or nil.
func streamText(old any, want map[string]any) *yjs.Text {
	m, ok := old.(*yjs.Map)
	if !ok || want["output_type"] != "stream" {
		return nil
	}
	t := getText(m, "text")
	if _, ok := want["text"].(string); !ok || t == nil {
		return nil
	}
	oldJSON := m.ToJSON()
	delete(oldJSON, "text")
	wantJSON := toPlain(want).(map[string]any)
	delete(wantJSON, "text")
	if !reflect.DeepEqual(oldJSON, wantJSON) {
		return nil
	}
	return t
}

// idFix is a new id for a cell of the document.
type idFix struct {
	ycell *yjs.Map
	id    string
}

// readCells converts the elements of the cells array into nbformat cells
// (see Notebook.JSON), repairing what does not follow the schema, and
// returns the ids to write back.
func readCells(values []any, withIDs bool, rep *repairs) ([]any, []idFix) {
	cells := make([]any, 0, len(values))
	seen := map[string]map[string]any{}
	var fixes []idFix
	for i, v := range values {
		ycell, ok := v.(*yjs.Map)
		if !ok {
			rep.add("cells[%d] was %s, not a Y.Map: skipped", i, withArticle(describe(v)))
			continue
		}
		c := readCell(ycell, i, rep)
		if !withIDs {
			delete(c, "id")
			cells = append(cells, c)
			continue
		}

		id, _ := c["id"].(string)
		if prev, dup := seen[id]; dup {
			if reflect.DeepEqual(prev, c) {
				continue
			}
			id = ""
		}
		if id == "" {
			id = randomID()
			c["id"] = id
			fixes = append(fixes, idFix{ycell, id})
		}
		seen[id] = c
		cells = append(cells, c)
	}
	return cells, fixes
}

// readCell converts cell i, dropping values without a JSON form and
// repairing fields that nbformat rejects.
func readCell(ycell *yjs.Map, i int, rep *repairs) map[string]any {
	entries := ycell.Entries()
	c := make(map[string]any, len(entries))
	for k, v := range entries {
		x, err := fromY(v)
		if err != nil {
			rep.add("cells[%d].%s: %v: dropped", i, k, err)
			continue
		}
		c[k] = x
	}
	repairCell(c, i, rep)
	completeCell(c)
	return c
}

// repairCell makes the fields of cell i valid nbformat (see
// Notebook.JSONRepairs).
func repairCell(c map[string]any, i int, rep *repairs) {
	if t, ok := c["cell_type"].(string); !ok || !cellTypes[t] {
		what := "missing"
		if v, present := c["cell_type"]; present {
			what = jsonText(v)
		}
		rep.add("cells[%d].cell_type was %s: saved a raw cell", i, what)
		c["cell_type"] = "raw"
	}
	switch v := c["source"].(type) {
	case string:
	case nil:
		if _, present := c["source"]; present {
			rep.add("cells[%d].source was null: saved an empty source", i)
		}
		c["source"] = ""
	default:
		rep.add("cells[%d].source was %s, not a string: saved its JSON text", i,
			withArticle(describe(v)))
		c["source"] = jsonText(v)
	}
	if v, present := c["metadata"]; present {
		if _, ok := v.(map[string]any); !ok {
			rep.add("cells[%d].metadata was %s, not an object: saved {}", i, withArticle(describe(v)))
			c["metadata"] = map[string]any{}
		}
	}
	if v, present := c["id"]; present {
		if _, ok := v.(string); !ok {
			rep.add("cells[%d].id was %s, not a string: replaced", i, withArticle(describe(v)))
			delete(c, "id")
		}
	}
	if a, present := c["attachments"]; present {
		if _, ok := a.(map[string]any); !ok || c["cell_type"] == "code" {
			rep.add("cells[%d].attachments was %s in a %s cell: dropped", i,
				withArticle(describe(a)), c["cell_type"])
			delete(c, "attachments")
		}
	}
	if c["cell_type"] != "code" {
		for _, k := range []string{"outputs", "execution_count"} {
			if _, present := c[k]; present {
				rep.add("cells[%d].%s dropped from a %s cell", i, k, c["cell_type"])
				delete(c, k)
			}
		}
		return
	}
	repairCode(c, i, rep)
}

// repairCode repairs the outputs and execution_count of code cell i.
func repairCode(c map[string]any, i int, rep *repairs) {
	if v, present := c["outputs"]; present {
		outputs, ok := v.([]any)
		if !ok {
			rep.add("cells[%d].outputs was %s, not a list: saved []", i, withArticle(describe(v)))
			outputs = []any{}
		}
		kept := outputs[:0:0]
		for _, o := range outputs {
			if validOutput(o) {
				kept = append(kept, o)
			}
		}
		if n := len(outputs) - len(kept); n > 0 {
			rep.add("cells[%d].outputs: dropped %d invalid outputs", i, n)
		}
		c["outputs"] = kept
	}
	switch v := c["execution_count"].(type) {
	case nil:
	case json.Number:
		if n, err := v.Int64(); err != nil || n < 0 {
			rep.add("cells[%d].execution_count was %s: saved null", i, v)
			c["execution_count"] = nil
		}
	default:
		rep.add("cells[%d].execution_count was %s, not an integer: saved null", i,
			withArticle(describe(v)))
		c["execution_count"] = nil
	}
}

// validOutput reports whether o is an output that nbformat accepts: an
// object with a string output_type, the text of a stream a string or a
// list of strings, and data an object.
func validOutput(o any) bool {
	out, ok := o.(map[string]any)
	if !ok {
		return false
	}
	switch out["output_type"] {
	case "stream":
		return contents.IsMultiline(out["text"])
	case "execute_result", "display_data":
		if data, present := out["data"]; present {
			_, ok := data.(map[string]any)
			return ok
		}
		return true
	case "error":
		return true
	}
	return false
}

// jsonText returns the JSON text of a value converted by fromY.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// completeCell drops the fields of a cell that are not saved and adds the
// required ones that a client left out.
func completeCell(c map[string]any) {
	delete(c, "execution_state")
	if _, ok := c["source"]; !ok {
		c["source"] = ""
	}
	if _, ok := c["metadata"]; !ok {
		c["metadata"] = map[string]any{}
	}
	switch c["cell_type"] {
	case "code":
		if _, ok := c["outputs"]; !ok {
			c["outputs"] = []any{}
		}
		if _, ok := c["execution_count"]; !ok {
			c["execution_count"] = nil
		}
	case "markdown", "raw":
		if a, ok := c["attachments"]; ok {
			if m, isMap := a.(map[string]any); a == nil || (isMap && len(m) == 0) {
				delete(c, "attachments")
			}
		}
	}
}
