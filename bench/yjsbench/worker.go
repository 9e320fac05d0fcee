package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/jupygo/jupygo/yjs"
)

// workerResult is the measurements of one worker process, printed as one
// JSON line. bench.mjs prints the same fields for yjs and ywasm. Times are in
// milliseconds. CPU times are user plus system time of the whole process,
// all threads (garbage collectors included), over the timed section.
type workerResult struct {
	MS    []float64 `json:"ms"`
	CPUMS []float64 `json:"cpuMs"`

	// Decode only: the first decode in the process, which MS omits.
	FirstMS    []float64 `json:"firstMs,omitempty"`
	FirstCPUMS []float64 `json:"firstCpuMs,omitempty"`

	// Replay only: the memory the document retains after garbage
	// collection, and the state encoded after the replay.
	RetainedHeapBytes     *int64    `json:"retainedHeapBytes,omitempty"`
	RetainedExternalBytes *int64    `json:"retainedExternalBytes,omitempty"`
	EncodeFirstMS         []float64 `json:"encodeFirstMs,omitempty"`
	EncodeFirstCPUMS      []float64 `json:"encodeFirstCpuMs,omitempty"`
	EncodeMS              []float64 `json:"encodeMs,omitempty"`
	EncodeCPUMS           []float64 `json:"encodeCpuMs,omitempty"`
	StateLength           int       `json:"stateLength,omitempty"`
	StateSHA256           string    `json:"stateSHA256,omitempty"`

	// Updates only: how many updates were applied.
	Updates int `json:"updates,omitempty"`
}

// runWorker measures the Go yjs package in this process, for one task
// (replay, decode or updates) on the files in dir, and prints the result.
func runWorker(task, dir string, reps int, w io.Writer) error {
	var res workerResult
	var err error
	switch task {
	case "replay":
		res, err = replayGo(dir, reps)
	case "decode":
		res, err = decodeGo(dir, reps)
	case "updates":
		res, err = updatesGo(dir)
	default:
		return fmt.Errorf("unknown task %q: want replay, decode or updates", task)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", task, err)
	}
	return json.NewEncoder(w).Encode(res)
}

// stopwatch measures wall-clock and process CPU time from its start.
type stopwatch struct {
	wall time.Time
	cpu  time.Duration
}

func startStopwatch() stopwatch { return stopwatch{time.Now(), processCPU()} }

// elapsed returns the wall-clock and CPU milliseconds since the start.
func (s stopwatch) elapsed() (wallMS, cpuMS float64) {
	cpu := processCPU() - s.cpu
	wall := time.Since(s.wall)
	return ms(wall), ms(cpu)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// processCPU returns the user and system time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func readEdits(dir string) (*editsFile, error) {
	data, err := os.ReadFile(filepath.Join(dir, "edits.json"))
	if err != nil {
		return nil, fmt.Errorf("reading edits: %w", err)
	}
	var ef editsFile
	if err := json.Unmarshal(data, &ef); err != nil {
		return nil, fmt.Errorf("decoding edits.json: %w", err)
	}
	return &ef, nil
}

func replayEdits(x *yjs.Text, edits []edit) error {
	for i, e := range edits {
		if e.Del > 0 {
			if err := x.Delete(e.Pos, e.Del); err != nil {
				return fmt.Errorf("edit %d: %w", i, err)
			}
		}
		if e.Ins != "" {
			if err := x.Insert(e.Pos, e.Ins, nil); err != nil {
				return fmt.Errorf("edit %d: %w", i, err)
			}
		}
	}
	return nil
}

var errContent = errors.New("the text differs from the trace's end content")

// heapAlloc collects garbage and returns the bytes of live heap objects.
func heapAlloc() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// replayGo applies every edit in its own transaction, as yjs's Text
// methods do outside a transaction, and measures the time, the heap the
// document retains and encoding its state.
func replayGo(dir string, reps int) (workerResult, error) {
	ef, err := readEdits(dir)
	if err != nil {
		return workerResult{}, err
	}
	before := heapAlloc()

	sw := startStopwatch()
	d := yjs.NewDoc(yjs.WithClientID(ef.ClientID))
	x := d.GetText(ef.Root)
	if err := replayEdits(x, ef.Edits); err != nil {
		return workerResult{}, err
	}
	wall, cpu := sw.elapsed()

	retained := heapAlloc() - before
	// The edits must stay live until after the second measurement, or
	// their memory would be subtracted from the document's.
	runtime.KeepAlive(ef.Edits)
	if x.String() != ef.EndContent {
		return workerResult{}, errContent
	}
	res := workerResult{MS: []float64{wall}, CPUMS: []float64{cpu}, RetainedHeapBytes: &retained}
	timeEncode(d, reps, &res)
	runtime.KeepAlive(d)
	return res, nil
}

// timeEncode encodes d's state reps + 1 times. The first time is
// reported apart from the others.
func timeEncode(d *yjs.Doc, reps int, res *workerResult) {
	var update []byte
	for i := 0; i <= reps; i++ {
		sw := startStopwatch()
		update = d.EncodeStateAsUpdate(nil)
		wall, cpu := sw.elapsed()
		if i == 0 {
			res.EncodeFirstMS = append(res.EncodeFirstMS, wall)
			res.EncodeFirstCPUMS = append(res.EncodeFirstCPUMS, cpu)
			continue
		}
		res.EncodeMS = append(res.EncodeMS, wall)
		res.EncodeCPUMS = append(res.EncodeCPUMS, cpu)
	}
	sum := sha256.Sum256(update)
	res.StateLength = len(update)
	res.StateSHA256 = hex.EncodeToString(sum[:])
}

// decodeGo applies the state that yjs encoded to a fresh Doc reps + 1
// times. The first time is reported apart from the others.
func decodeGo(dir string, reps int) (workerResult, error) {
	ef, err := readEdits(dir)
	if err != nil {
		return workerResult{}, err
	}
	state, err := os.ReadFile(filepath.Join(dir, "state.bin"))
	if err != nil {
		return workerResult{}, fmt.Errorf("reading state: %w", err)
	}
	var res workerResult
	for i := 0; i <= reps; i++ {
		sw := startStopwatch()
		d := yjs.NewDoc()
		if err := d.ApplyUpdate(state, nil); err != nil {
			return workerResult{}, fmt.Errorf("applying state: %w", err)
		}
		wall, cpu := sw.elapsed()
		if d.GetText(ef.Root).String() != ef.EndContent {
			return workerResult{}, errContent
		}
		if i == 0 {
			res.FirstMS = append(res.FirstMS, wall)
			res.FirstCPUMS = append(res.FirstCPUMS, cpu)
			continue
		}
		res.MS = append(res.MS, wall)
		res.CPUMS = append(res.CPUMS, cpu)
	}
	return res, nil
}

// updatesGo applies the per-edit updates that yjs emitted to a fresh Doc
// in order, as a collaboration server receives them.
func updatesGo(dir string) (workerResult, error) {
	ef, err := readEdits(dir)
	if err != nil {
		return workerResult{}, err
	}
	updates, err := readUpdatesFile(filepath.Join(dir, "updates.bin"))
	if err != nil {
		return workerResult{}, err
	}

	sw := startStopwatch()
	d := yjs.NewDoc()
	for i, u := range updates {
		if err := d.ApplyUpdate(u, nil); err != nil {
			return workerResult{}, fmt.Errorf("applying update %d: %w", i, err)
		}
	}
	wall, cpu := sw.elapsed()

	if d.GetText(ef.Root).String() != ef.EndContent {
		return workerResult{}, errContent
	}
	return workerResult{MS: []float64{wall}, CPUMS: []float64{cpu}, Updates: len(updates)}, nil
}
