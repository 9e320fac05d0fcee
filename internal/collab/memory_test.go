package collab

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/contents"
)

var roomHeapProfile = flag.String("room-heap-profile", "",
	"write a heap profile of the open room of TestRoomMemory to this file")

// benchNotebook returns the notebook that bench/collab.sh hosts: n code
// cells, each with a three-line source and a stream output of lines lines,
// as e2e/collab/notebook.mjs generates it.
func benchNotebook(tb testing.TB, n, lines int) []byte {
	tb.Helper()
	cells := make([]any, n)
	for i := range cells {
		source := []any{
			fmt.Sprintf("# step %d: summarise batch %d\n", i, i%97),
			fmt.Sprintf("for row in range(%d):\n", lines),
			fmt.Sprintf("    print(f\"batch %d row {row}: value={row * %d} status=ok\")", i, i+1),
		}
		text := make([]any, lines)
		for row := range text {
			text[row] = fmt.Sprintf("batch %d row %d: value=%d status=ok\n", i, row, row*(i+1))
		}
		cells[i] = map[string]any{
			"cell_type":       "code",
			"execution_count": json.Number(fmt.Sprint(i + 1)),
			"id":              fmt.Sprintf("cell-%05d", i),
			"metadata":        map[string]any{},
			"outputs": []any{map[string]any{
				"name": "stdout", "output_type": "stream", "text": text,
			}},
			"source": source,
		}
	}
	nb := contents.NewNotebook()
	nb["cells"] = cells
	nb["metadata"] = map[string]any{
		"kernelspec": map[string]any{
			"display_name": "Python 3", "language": "python", "name": "python3"},
		"language_info": map[string]any{"name": "python"},
	}
	data, err := contents.WriteNotebook(nb)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// heapStats is the heap after a full collection: the bytes of live objects
// and of the spans that hold them, which include the free slots between
// them.
type heapStats struct {
	live, inUse uint64
}

func readHeap() heapStats {
	runtime.GC()
	debug.FreeOSMemory()
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(samples)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return heapStats{live: samples[0].Value.Uint64(), inUse: ms.HeapInuse}
}

// TestRoomMemory loads the notebook of bench/collab.sh into a room and
// measures the heap the open room keeps: the Y.Doc, the compressed base
// state, the encoded doc that new clients get, and whatever else outlives
// the load.
func TestRoomMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a 2,000-cell notebook")
	}
	ts := newTestService(t, "", "", nil)
	file := benchNotebook(t, 2000, 15)
	if err := os.WriteFile(filepath.Join(ts.root, "bench.ipynb"), file, 0o644); err != nil {
		t.Fatal(err)
	}
	textRoom, _ := ts.openSession(t, "bench.ipynb")
	name := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")

	if *roomHeapProfile != "" {
		runtime.MemProfileRate = 1
	}
	before := readHeap()
	start := time.Now()
	r, err := ts.svc.openRoom(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	loaded := time.Since(start)
	after := readHeap()
	if *roomHeapProfile != "" {
		f, err := os.Create(*roomHeapProfile)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}

	// The spans in use vary by a megabyte or two with the timing of the
	// collections during the load, so the bound is on live objects.
	live := int64(after.live) - int64(before.live)
	inUse := int64(after.inUse) - int64(before.inUse)
	size := float64(len(file))
	step2, _ := cachedStep2(r)
	t.Logf("file %d bytes, loaded in %v; heap growth: %d bytes live (%.1f times the file), "+
		"%d bytes in use (%.1f times); of it the encoded doc for new clients: %d bytes",
		len(file), loaded.Round(time.Millisecond), live, float64(live)/size, inUse,
		float64(inUse)/size, cap(step2))
	if limit := 5 * int64(len(file)); live > limit {
		t.Errorf("the open room keeps %d bytes of live heap, more than 5 times the file (%d)",
			live, limit)
	}
	runtime.KeepAlive(r)
}
