package yjs

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// traceClient and traceRoot match testdata/js/traces.mjs.
const (
	traceClient = 2147495993
	traceRoot   = "t"
)

type trace struct {
	StartContent string `json:"startContent"`
	EndContent   string `json:"endContent"`
	NumAgents    int    `json:"numAgents"`
	Txns         []struct {
		Agent   int     `json:"agent"`
		Parents []int   `json:"parents"`
		Patches [][]any `json:"patches"`
	} `json:"txns"`
}

type patch struct {
	pos, del int
	ins      string
}

func loadTrace(t testing.TB, name string) *trace {
	t.Helper()
	f, err := os.Open("testdata/traces/" + name + ".json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var tr trace
	if err := json.NewDecoder(zr).Decode(&tr); err != nil {
		t.Fatalf("decoding trace %s: %v", name, err)
	}
	return &tr
}

func (tr *trace) patches(i int) []patch {
	var out []patch
	for _, p := range tr.Txns[i].Patches {
		out = append(out, patch{int(p[0].(float64)), int(p[1].(float64)), p[2].(string)})
	}
	return out
}

// applyPatch applies a trace patch, whose positions count code points, to
// x, whose positions count UTF-16 units.
func applyPatch(x *Text, content string, p patch) error {
	pos, del := p.pos, p.del
	if hasAstral(content) {
		start := utf16Len(string([]rune(content)[:p.pos]))
		end := utf16Len(string([]rune(content)[:p.pos+p.del]))
		pos, del = start, end-start
	}
	if del > 0 {
		if err := x.Delete(pos, del); err != nil {
			return err
		}
	}
	if p.ins != "" {
		return x.Insert(pos, p.ins, nil)
	}
	return nil
}

func hasAstral(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xf0 {
			return true
		}
	}
	return false
}

// replaySequential applies every patch in its own transaction. content
// tracks the text only when it contains astral characters, which the
// traces at hand do not.
func replaySequential(t testing.TB, tr *trace) *Doc {
	t.Helper()
	d := NewDoc(WithClientID(traceClient))
	x := d.GetText(traceRoot)
	if tr.StartContent != "" {
		x.Insert(0, tr.StartContent, nil)
	}
	astral := hasAstral(tr.EndContent)
	for i := range tr.Txns {
		for _, p := range tr.patches(i) {
			content := ""
			if astral || hasAstral(p.ins) {
				astral = true
				content = x.String()
			}
			if err := applyPatch(x, content, p); err != nil {
				t.Fatalf("txn %d: %v", i, err)
			}
		}
	}
	return d
}

type traceExpectation struct {
	Length      int    `json:"length"`
	SHA256      string `json:"sha256"`
	StateVector string `json:"stateVector"`
}

func loadExpectations(t testing.TB) map[string]traceExpectation {
	b, err := os.ReadFile("testdata/traces/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]traceExpectation
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTracesSequential replays the sequential traces: the text must equal
// endContent, and the encoded state must be the bytes yjs encodes.
func TestTracesSequential(t *testing.T) {
	exp := loadExpectations(t)
	for _, name := range []string{"friendsforever_flat", "seph-blog1", "automerge-paper"} {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && name != "friendsforever_flat" {
				t.Skip("long trace")
			}
			tr := loadTrace(t, name)
			d := replaySequential(t, tr)
			if got := d.GetText(traceRoot).String(); got != tr.EndContent {
				t.Fatalf("end content differs: got %d bytes, want %d", len(got), len(tr.EndContent))
			}
			update := d.EncodeStateAsUpdate(nil)
			sum := sha256.Sum256(update)
			got := traceExpectation{len(update), hex.EncodeToString(sum[:]), hexOf(d.EncodeStateVector())}
			if diff := cmp.Diff(exp[name], got); diff != "" {
				t.Errorf("encoded state (-yjs +go):\n%s", diff)
			}
			d2 := NewDoc(WithClientID(5))
			if err := d2.ApplyUpdate(update, nil); err != nil {
				t.Fatal(err)
			}
			if d2.GetText(traceRoot).String() != tr.EndContent {
				t.Error("decoded state differs from end content")
			}
		})
	}
}

// TestTraceConcurrent replays the concurrent trace with one document per
// agent: before each transaction, the agent's document receives exactly
// the transactions in the transaction's causal history, so positions refer
// to the version the author saw. All documents must converge to
// endContent.
func TestTraceConcurrent(t *testing.T) {
	tr := loadTrace(t, "friendsforever")
	docs := make([]*Doc, tr.NumAgents)
	has := make([]map[int]bool, tr.NumAgents)
	for a := range docs {
		docs[a] = NewDoc(WithClientID(uint64(a + 1)))
		has[a] = map[int]bool{}
	}
	updates := make([][]byte, len(tr.Txns))
	for i, txn := range tr.Txns {
		a := txn.Agent
		for _, dep := range missingHistory(tr, i, has[a]) {
			{
				if err := docs[a].ApplyUpdate(updates[dep], nil); err != nil {
					t.Fatal(err)
				}
				has[a][dep] = true
			}
		}
		var u []byte
		cancel := docs[a].OnUpdate(func(b []byte, _ any, _ *Transaction) { u = b })
		x := docs[a].GetText(traceRoot)
		var err error
		docs[a].Transact(func(*Transaction) {
			for _, p := range tr.patches(i) {
				if err == nil {
					err = applyPatch(x, "", p)
				}
			}
		}, nil)
		cancel()
		if err != nil {
			t.Fatalf("txn %d: %v", i, err)
		}
		updates[i] = u
		has[a][i] = true
	}
	for a, d := range docs {
		for i, u := range updates {
			if !has[a][i] {
				d.ApplyUpdate(u, nil)
			}
		}
		if got := d.GetText(traceRoot).String(); got != tr.EndContent {
			t.Errorf("agent %d: end content differs (%d bytes, want %d)", a, len(got), len(tr.EndContent))
		}
	}
	if diff := cmp.Diff(docs[0].StateVector(), docs[1].StateVector()); diff != "" {
		t.Errorf("state vectors differ:\n%s", diff)
	}
}

// missingHistory returns the transactions in the causal history of txn i
// that have is missing, in ascending order. have is causally closed, so
// the search stops at transactions it holds.
func missingHistory(tr *trace, i int, have map[int]bool) []int {
	seen := map[int]bool{}
	stack := append([]int(nil), tr.Txns[i].Parents...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] || have[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, tr.Txns[n].Parents...)
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// BenchmarkReplayAutomergePaper replays the automerge-paper trace (259,778
// single-character edits) into one Text, a transaction per edit, and
// reports the heap retained by the final document.
func BenchmarkReplayAutomergePaper(b *testing.B) {
	tr := loadTrace(b, "automerge-paper")
	var ps []patch
	for i := range tr.Txns {
		ps = append(ps, tr.patches(i)...)
	}
	b.ResetTimer()
	var d *Doc
	for i := 0; i < b.N; i++ {
		d = NewDoc(WithClientID(traceClient))
		x := d.GetText(traceRoot)
		for _, p := range ps {
			if p.del > 0 {
				x.Delete(p.pos, p.del)
			}
			if p.ins != "" {
				x.Insert(p.pos, p.ins, nil)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(retainedBytes(func() any { return d })), "retained-B")
}

// retainedBytes measures the live heap that keep holds, by comparing the
// heap after garbage collection with and without it.
func retainedBytes(keep func() any) uint64 {
	var with, without runtime.MemStats
	v := keep()
	runtime.GC()
	runtime.ReadMemStats(&with)
	runtime.KeepAlive(v)
	v = nil
	runtime.GC()
	runtime.ReadMemStats(&without)
	if with.HeapAlloc < without.HeapAlloc {
		return 0
	}
	return with.HeapAlloc - without.HeapAlloc
}

func automergeDoc(b *testing.B) *Doc {
	tr := loadTrace(b, "automerge-paper")
	return replaySequential(b, tr)
}

// BenchmarkEncodeAutomergePaper encodes the final automerge-paper state.
func BenchmarkEncodeAutomergePaper(b *testing.B) {
	d := automergeDoc(b)
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		n = len(d.EncodeStateAsUpdate(nil))
	}
	b.ReportMetric(float64(n), "update-B")
}

// BenchmarkDecodeAutomergePaper applies the final automerge-paper state to
// an empty document.
func BenchmarkDecodeAutomergePaper(b *testing.B) {
	update := automergeDoc(b).EncodeStateAsUpdate(nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := NewDoc(WithClientID(5))
		if err := d.ApplyUpdate(update, nil); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = fmt.Sprint
var _ = time.Now

// BenchmarkApplyAutomergePaperUpdates applies the automerge-paper trace as
// 259,778 remote updates, one per edit, as a collaboration server receives
// them.
func BenchmarkApplyAutomergePaperUpdates(b *testing.B) {
	tr := loadTrace(b, "automerge-paper")
	src := NewDoc(WithClientID(traceClient))
	var updates [][]byte
	src.OnUpdate(func(u []byte, _ any, _ *Transaction) { updates = append(updates, u) })
	x := src.GetText(traceRoot)
	for i := range tr.Txns {
		for _, p := range tr.patches(i) {
			applyPatch(x, "", p)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := NewDoc(WithClientID(5))
		for _, u := range updates {
			if err := d.ApplyUpdate(u, nil); err != nil {
				b.Fatal(err)
			}
		}
		if i == 0 && d.GetText(traceRoot).String() != tr.EndContent {
			b.Fatal("end content differs")
		}
	}
	b.ReportMetric(float64(len(updates)), "updates")
}
