package yjs

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var updateFixtures = flag.Bool("update", false, "regenerate testdata fixtures with the yjs oracle")

type peer struct {
	Name   string `json:"name"`
	Client uint64 `json:"client"`
	NoGC   bool   `json:"noGC,omitempty"`
}

// step is one action of a scenario: a transaction of edits on Peer, the
// delivery of the updates an earlier edit step emitted (ApplyStep), or a
// sync from another peer (SyncFrom), diffed against Peer's state vector.
type step struct {
	Peer      string `json:"peer"`
	Edits     []edit `json:"edits,omitempty"`
	ApplyStep *int   `json:"applyStep,omitempty"`
	SyncFrom  string `json:"syncFrom,omitempty"`
	Full      bool   `json:"full,omitempty"` // sync the whole state, ignoring Peer's

	V2 bool `json:"v2,omitempty"`
	// Recorded by yjs: the updates an edit step emitted and the updates an
	// apply or sync step applied.
	Updates   []string `json:"updates,omitempty"`
	UpdatesV2 []string `json:"updatesV2,omitempty"`
	Apply     []string `json:"apply,omitempty"`
	// Events are the deep events of the step's transactions, as the
	// oracle describes them.
	Events []any `json:"events,omitempty"`
	// Raw is an update, in hex, that the step applies as it is.
	Raw string `json:"raw,omitempty"`
	// Undo is "undo", "redo" or "stopCapturing" on Peer's undo manager;
	// Done is whether yjs reverted a step.
	Undo string `json:"undo,omitempty"`
	Done bool   `json:"done,omitempty"`
}

type undoSpec struct {
	Scope          []string `json:"scope"`
	CaptureTimeout int      `json:"captureTimeout"` // milliseconds
}

type peerState struct {
	Update   string         `json:"update"`
	UpdateV2 string         `json:"updateV2"`
	SV       string         `json:"sv"`
	JSON     map[string]any `json:"json"`
	Deltas   map[string]any `json:"deltas"`
	// V2ToV1 is yjs's convertUpdateFormatV2ToV1 of UpdateV2.
	V2ToV1 string `json:"v2ToV1"`
}

type scenario struct {
	Name  string            `json:"name"`
	Roots map[string]string `json:"roots"`
	// Undo gives every peer an undo manager over the named roots.
	Undo *undoSpec `json:"undo,omitempty"`
	// LateRoots leaves the roots undeclared until a peer edits them, so
	// that updates first create them as types of unknown kind.
	LateRoots bool   `json:"lateRoots,omitempty"`
	Peers     []peer `json:"peers"`
	Steps     []step `json:"steps"`
	// Recorded by yjs.
	Final map[string]peerState `json:"final"`
	// Merged is mergeUpdates of every edit step's updates in step order,
	// MergedReverse the same in reverse order, Diffed diffUpdate(Merged,
	// DiffSV) and SVFromUpdate encodeStateVectorFromUpdate(Merged).
	Merged        string `json:"merged"`
	MergedReverse string `json:"mergedReverse"`
	DiffSV        string `json:"diffSV"`
	Diffed        string `json:"diffed"`
	SVFromUpdate  string `json:"svFromUpdate"`
	// MergedV2 and DiffedV2 are the same in the V2 format.
	MergedV2 string `json:"mergedV2"`
	DiffedV2 string `json:"diffedV2"`
}

func at(i int) *int { return &i }

// record runs the scenario in yjs and fills in the recorded fields.
func record(t *testing.T, o *oracle, sc scenario) scenario {
	t.Helper()
	sc.Steps = slices.Clone(sc.Steps)
	prefix := sc.Name + "/"
	for _, p := range sc.Peers {
		roots := sc.Roots
		if sc.LateRoots {
			roots = nil
		}
		req := map[string]any{"op": "new", "doc": prefix + p.Name, "client": p.Client,
			"gc": !p.NoGC, "roots": roots}
		if sc.Undo != nil {
			req["undo"] = sc.Undo
		}
		o.call(t, req, nil)
	}
	var all, allV2 []string
	for i := range sc.Steps {
		s := &sc.Steps[i]
		doc := prefix + s.Peer
		switch {
		case s.Edits != nil:
			var r struct {
				Updates   []string
				UpdatesV2 []string
				Events    []any
			}
			o.call(t, map[string]any{"op": "edit", "doc": doc, "edits": s.Edits}, &r)
			s.Updates = r.Updates
			s.UpdatesV2 = r.UpdatesV2
			s.Events = r.Events
			all = append(all, r.Updates...)
			allV2 = append(allV2, r.UpdatesV2...)
		case s.Raw != "":
			s.Apply = []string{s.Raw}
		case s.Undo != "":
			var r struct {
				Updates   []string
				UpdatesV2 []string
				Events    []any
				Done      bool
			}
			o.call(t, map[string]any{"op": s.Undo, "doc": doc}, &r)
			s.Updates, s.UpdatesV2, s.Events, s.Done = r.Updates, r.UpdatesV2, r.Events, r.Done
		case s.ApplyStep != nil:
			s.Apply = sc.Steps[*s.ApplyStep].Updates
		case s.SyncFrom != "":
			var mine, theirs struct {
				SV, Update, UpdateV2 string
			}
			o.call(t, map[string]any{"op": "state", "doc": doc}, &mine)
			if s.Full {
				mine.SV = "00"
			}
			o.call(t, map[string]any{"op": "state", "doc": prefix + s.SyncFrom, "sv": mine.SV}, &theirs)
			s.Apply = []string{theirs.Update}
			if s.V2 {
				s.Apply = []string{theirs.UpdateV2}
			}
		}
		for _, u := range s.Apply {
			var r struct{ Events []any }
			o.call(t, map[string]any{"op": "apply", "doc": doc, "update": u, "v2": s.V2}, &r)
			s.Events = append(s.Events, r.Events...)
		}
		if i == 0 && sc.DiffSV == "" {
			var st struct{ SV string }
			o.call(t, map[string]any{"op": "state", "doc": doc}, &st)
			sc.DiffSV = st.SV
		}
	}
	sc.Final = map[string]peerState{}
	for _, p := range sc.Peers {
		var st peerState
		o.call(t, map[string]any{"op": "state", "doc": prefix + p.Name, "roots": sc.Roots}, &st)
		var conv struct{ Update string }
		o.call(t, map[string]any{"op": "toV1", "update": st.UpdateV2}, &conv)
		st.V2ToV1 = conv.Update
		sc.Final[p.Name] = st
	}
	if len(all) > 0 {
		var r struct{ Update, SV string }
		o.call(t, map[string]any{"op": "merge", "updates": all}, &r)
		sc.Merged = r.Update
		o.call(t, map[string]any{"op": "merge", "updates": reversed(all)}, &r)
		sc.MergedReverse = r.Update
		o.call(t, map[string]any{"op": "diff", "update": sc.Merged, "sv": sc.DiffSV}, &r)
		sc.Diffed = r.Update
		o.call(t, map[string]any{"op": "svFromUpdate", "update": sc.Merged}, &r)
		sc.SVFromUpdate = r.SV
		o.call(t, map[string]any{"op": "mergeV2", "updates": allV2}, &r)
		sc.MergedV2 = r.Update
		o.call(t, map[string]any{"op": "diffV2", "update": sc.MergedV2, "sv": sc.DiffSV}, &r)
		sc.DiffedV2 = r.Update
	}
	for _, p := range sc.Peers {
		o.call(t, map[string]any{"op": "drop", "doc": prefix + p.Name}, nil)
	}
	return roundTripScenario(t, sc)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// roundTripScenario passes a scenario through JSON, so that recorded and
// loaded scenarios hold the same Go types.
func roundTripScenario(t *testing.T, sc scenario) scenario {
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var out scenario
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// replay runs a recorded scenario with this package and compares every
// update, state vector and JSON value with what yjs produced.
func replay(t *testing.T, sc scenario) map[string]*Doc {
	t.Helper()
	docs := map[string]*Doc{}
	ums := map[string]*UndoManager{}
	logs := map[string]*eventLog{}
	for _, p := range sc.Peers {
		d := NewDoc(WithClientID(p.Client), WithGC(!p.NoGC))
		logs[p.Name] = &eventLog{}
		if sc.Undo != nil {
			var scope []any
			for _, name := range sc.Undo.Scope {
				scope = append(scope, rootOf(d, name, sc.Roots[name]))
			}
			ums[p.Name] = NewUndoManager(d, scope, UndoOptions{
				CaptureTimeout: time.Duration(sc.Undo.CaptureTimeout) * time.Millisecond})
		}
		if !sc.LateRoots {
			logs[p.Name] = observeRoots(d, sc.Roots)
		}
		docs[p.Name] = d
	}
	for i, s := range sc.Steps {
		d := docs[s.Peer]
		switch {
		case s.Edits != nil:
			var got, gotV2 []string
			cancel := d.OnUpdate(func(u []byte, _ any, _ *Transaction) { got = append(got, hexOf(u)) })
			cancelV2 := d.OnUpdateV2(func(u []byte, _ any, _ *Transaction) { gotV2 = append(gotV2, hexOf(u)) })
			err := applyEdits(d, s.Edits)
			cancel()
			cancelV2()
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if diff := cmp.Diff(s.Updates, got); diff != "" {
				t.Errorf("step %d: updates of edits (-yjs +go):\n%s", i, diff)
			}
			if diff := cmp.Diff(s.UpdatesV2, gotV2); diff != "" {
				t.Errorf("step %d: V2 updates of edits (-yjs +go):\n%s", i, diff)
			}
		case s.Undo != "":
			var done bool
			got, gotV2, _ := captureUpdates(d, func() error {
				switch s.Undo {
				case "undo":
					done = ums[s.Peer].Undo()
				case "redo":
					done = ums[s.Peer].Redo()
				default:
					ums[s.Peer].StopCapturing()
				}
				return nil
			})
			if done != s.Done {
				t.Errorf("step %d: %s reverted a step: %v, yjs: %v", i, s.Undo, done, s.Done)
			}
			if diff := cmp.Diff(nonNil(s.Updates), got); diff != "" {
				t.Errorf("step %d: updates of %s (-yjs +go):\n%s", i, s.Undo, diff)
			}
			if diff := cmp.Diff(nonNil(s.UpdatesV2), gotV2); diff != "" {
				t.Errorf("step %d: V2 updates of %s (-yjs +go):\n%s", i, s.Undo, diff)
			}
		case s.SyncFrom != "":
			sv := d.StateVector()
			if s.Full {
				sv = nil
			}
			ours := docs[s.SyncFrom].EncodeStateAsUpdate(sv)
			if s.V2 {
				ours = docs[s.SyncFrom].EncodeStateAsUpdateV2(sv)
			}
			if diff := cmp.Diff(s.Apply[0], hexOf(ours)); diff != "" {
				t.Errorf("step %d: sync update from %s (-yjs +go):\n%s", i, s.SyncFrom, diff)
			}
		}
		for _, u := range s.Apply {
			var err error
			if s.V2 {
				err = d.ApplyUpdateV2(mustHex(t, u), "remote")
			} else {
				err = d.ApplyUpdate(mustHex(t, u), "remote")
			}
			if err != nil {
				t.Fatalf("step %d: applying update: %v", i, err)
			}
		}
		want := s.Events
		if want == nil {
			want = []any{}
		}
		if diff := cmp.Diff(want, logs[s.Peer].take()); diff != "" {
			t.Errorf("step %d: events (-yjs +go):\n%s", i, diff)
		}
	}
	for _, p := range sc.Peers {
		// With an undo manager, deleted content is kept from collection,
		// so only a document without one re-encodes a decoded state alike.
		checkState(t, p.Name, docs[p.Name], sc.Roots, sc.Final[p.Name], !p.NoGC && sc.Undo == nil)
	}
	checkMerges(t, sc)
	return docs
}

func checkState(t *testing.T, name string, d *Doc, roots map[string]string, want peerState, gc bool) {
	t.Helper()
	js, deltas := docJSON(d, roots)
	if diff := cmp.Diff(want.JSON, js); diff != "" {
		t.Errorf("%s: JSON (-yjs +go):\n%s", name, diff)
	}
	if diff := cmp.Diff(want.Deltas, deltas); diff != "" {
		t.Errorf("%s: text deltas (-yjs +go):\n%s", name, diff)
	}
	if diff := cmp.Diff(want.SV, hexOf(d.EncodeStateVector())); diff != "" {
		t.Errorf("%s: state vector (-yjs +go):\n%s", name, diff)
	}
	if diff := cmp.Diff(want.Update, hexOf(d.EncodeStateAsUpdate(nil))); diff != "" {
		t.Errorf("%s: encoded state (-yjs +go):\n%s", name, diff)
	}
	if diff := cmp.Diff(want.UpdateV2, hexOf(d.EncodeStateAsUpdateV2(nil))); diff != "" {
		t.Errorf("%s: encoded V2 state (-yjs +go):\n%s", name, diff)
	}
	toV1, err := ConvertUpdateV2ToV1(mustHex(t, want.UpdateV2))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.V2ToV1, hexOf(toV1)); diff != "" {
		t.Errorf("%s: V2 state converted to V1 (-yjs +go):\n%s", name, diff)
	}
	// Converting the V1 state to V2 must give a V2 update of the same
	// document. Its bytes differ from yjs's V2 state where a map entry has
	// an origin: decoded without a document, such an entry has no key, so
	// the key bit is not written, as in yjs's conversion.
	v2, err := ConvertUpdateV1ToV2(mustHex(t, want.Update))
	if err != nil {
		t.Fatal(err)
	}
	back, err := ConvertUpdateV2ToV1(v2)
	if err != nil {
		t.Fatal(err)
	}
	converted := NewDoc(WithClientID(434343), WithGC(gc))
	for n, kind := range roots {
		rootOf(converted, n, kind)
	}
	if err := converted.ApplyUpdate(back, nil); err != nil {
		t.Fatal(err)
	}
	if js3, _ := docJSON(converted, roots); !cmp.Equal(want.JSON, js3) {
		t.Errorf("%s: JSON after V1 to V2 to V1 conversion differs:\n%s", name, cmp.Diff(want.JSON, js3))
	}
	// yjs's V2 encoding of the state decodes to the same document.
	fresh := NewDoc(WithClientID(424242), WithGC(gc))
	for n, kind := range roots {
		rootOf(fresh, n, kind)
	}
	if err := fresh.ApplyUpdateV2(mustHex(t, want.UpdateV2), nil); err != nil {
		t.Fatalf("%s: applying yjs V2 state: %v", name, err)
	}
	js2, _ := docJSON(fresh, roots)
	if diff := cmp.Diff(want.JSON, js2); diff != "" {
		t.Errorf("%s: JSON from V2 state (-yjs +go):\n%s", name, diff)
	}
	if diff := cmp.Diff(want.Update, hexOf(fresh.EncodeStateAsUpdate(nil))); diff != "" {
		t.Errorf("%s: V1 encoding of V2 state (-yjs +go):\n%s", name, diff)
	}
}

func checkMerges(t *testing.T, sc scenario) {
	t.Helper()
	if sc.Merged == "" {
		return
	}
	var all [][]byte
	for _, s := range sc.Steps {
		if s.Edits == nil {
			continue
		}
		for _, u := range s.Updates {
			all = append(all, mustHex(t, u))
		}
	}
	merged, err := MergeUpdates(all...)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sc.Merged, hexOf(merged)); diff != "" {
		t.Errorf("mergeUpdates (-yjs +go):\n%s", diff)
	}
	rev := slices.Clone(all)
	slices.Reverse(rev)
	merged, err = MergeUpdates(rev...)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sc.MergedReverse, hexOf(merged)); diff != "" {
		t.Errorf("mergeUpdates reversed (-yjs +go):\n%s", diff)
	}
	diffed, err := DiffUpdate(mustHex(t, sc.Merged), mustHex(t, sc.DiffSV))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sc.Diffed, hexOf(diffed)); diff != "" {
		t.Errorf("diffUpdate (-yjs +go):\n%s", diff)
	}
	var allV2 [][]byte
	for _, s := range sc.Steps {
		if s.Edits == nil {
			continue
		}
		for _, u := range s.UpdatesV2 {
			allV2 = append(allV2, mustHex(t, u))
		}
	}
	mergedV2, err := MergeUpdatesV2(allV2...)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sc.MergedV2, hexOf(mergedV2)); diff != "" {
		t.Errorf("mergeUpdatesV2 (-yjs +go):\n%s", diff)
	}
	diffedV2, err := DiffUpdateV2(mustHex(t, sc.MergedV2), mustHex(t, sc.DiffSV))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sc.DiffedV2, hexOf(diffedV2)); diff != "" {
		t.Errorf("diffUpdateV2 (-yjs +go):\n%s", diff)
	}
	sv, err := EncodeStateVectorFromUpdate(mustHex(t, sc.Merged))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sc.SVFromUpdate, hexOf(sv)); diff != "" {
		t.Errorf("encodeStateVectorFromUpdate (-yjs +go):\n%s", diff)
	}
}

const fixturesFile = "testdata/fixtures.json"

func loadFixtures(t testing.TB) []scenario {
	t.Helper()
	b, err := os.ReadFile(fixturesFile)
	if err != nil {
		t.Fatal(err)
	}
	var fixtures []scenario
	if err := json.Unmarshal(b, &fixtures); err != nil {
		t.Fatal(err)
	}
	return fixtures
}

// TestFixtures replays scenarios recorded with yjs 13.6.33. With node and
// the npm packages installed it also records them afresh and checks that
// the committed fixtures are current; -update rewrites them.
func TestFixtures(t *testing.T) {
	var fixtures []scenario
	if *updateFixtures {
		o := startOracle(t)
		for _, sc := range scenarios() {
			fixtures = append(fixtures, record(t, o, sc))
		}
		b, err := json.MarshalIndent(fixtures, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixturesFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		b, err := os.ReadFile(fixturesFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &fixtures); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for _, sc := range scenarios() {
		names[sc.Name] = true
	}
	for _, sc := range fixtures {
		if !names[sc.Name] {
			t.Errorf("fixture %q has no scenario; run go test -run TestFixtures -update", sc.Name)
		}
		t.Run(sc.Name, func(t *testing.T) { replay(t, sc) })
	}
}

// TestFixturesCurrent records the scenarios with yjs and compares them with
// the committed fixtures, and checks that yjs accepts this package's
// encoding of every final state.
func TestFixturesCurrent(t *testing.T) {
	if *updateFixtures {
		t.Skip("fixtures are being regenerated")
	}
	o := startOracle(t)
	b, err := os.ReadFile(fixturesFile)
	if err != nil {
		t.Fatal(err)
	}
	var fixtures []scenario
	if err := json.Unmarshal(b, &fixtures); err != nil {
		t.Fatal(err)
	}
	byName := map[string]scenario{}
	for _, sc := range fixtures {
		byName[sc.Name] = sc
	}
	for _, sc := range scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			fresh := record(t, o, sc)
			if diff := cmp.Diff(byName[sc.Name], fresh); diff != "" {
				t.Fatalf("fixture is stale; run go test -run TestFixtures -update (-file +yjs):\n%s", diff)
			}
			docs := replay(t, fresh)
			for _, p := range sc.Peers {
				checkAcceptedByYjs(t, o, sc.Roots, docs[p.Name], fresh.Final[p.Name])
			}
		})
	}
}

// checkAcceptedByYjs loads this package's encoding of d into a fresh yjs
// document and compares JSON and state vector.
func checkAcceptedByYjs(t *testing.T, o *oracle, roots map[string]string, d *Doc, want peerState) {
	t.Helper()
	name := "accept/" + filepath.Base(t.Name())
	o.call(t, map[string]any{"op": "new", "doc": name, "client": 777, "roots": roots}, nil)
	defer o.call(t, map[string]any{"op": "drop", "doc": name}, nil)
	for _, v2 := range []bool{false, true} {
		update := d.EncodeStateAsUpdate(nil)
		if v2 {
			update = d.EncodeStateAsUpdateV2(nil)
		}
		o.call(t, map[string]any{"op": "apply", "doc": name, "update": hexOf(update), "v2": v2}, nil)
		var st peerState
		o.call(t, map[string]any{"op": "state", "doc": name, "roots": roots}, &st)
		if diff := cmp.Diff(want.JSON, st.JSON); diff != "" {
			t.Errorf("yjs JSON of our encoding, V2 %v (-want +yjs):\n%s", v2, diff)
		}
		if diff := cmp.Diff(want.SV, st.SV); diff != "" {
			t.Errorf("yjs state vector of our encoding, V2 %v (-want +yjs):\n%s", v2, diff)
		}
	}
}
