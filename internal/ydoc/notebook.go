package ydoc

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/yjs"
)

// Notebook is the Model of a Jupyter notebook (@jupyter/ydoc's YNotebook,
// schema version 2.0.0). Besides the Model methods it converts to and from
// the notebook trees of package contents (SetJSON, JSON). So a caller can
// load through contents.Manager.Get, which marks trusted cells. It can also
// save through contents.Manager.Save, which keeps number literals such as
// 1.0, signs trusted notebooks and makes checkpoints.
type Notebook struct{}

// ErrInvalidNotebook wraps the reason why content is not a notebook.
var ErrInvalidNotebook = errors.New("invalid notebook")

// Set reads content with contents.ReadNotebook and sets the document to
// it (see SetJSON). Cells without an id get one derived from a hash of
// content, so the same bytes always give the same document.
func (Notebook) Set(doc *yjs.Doc, content []byte) error {
	nb, err := contents.ReadNotebook(content)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidNotebook, err)
	}
	if md, ok := nb["metadata"].(map[string]any); ok && md["orig_nbformat"] != nil {
		// ReadNotebook converted a version 3 notebook and gave its
		// cells random ids; derived ones keep the load deterministic.
		for _, c := range nb["cells"].([]any) {
			delete(c.(map[string]any), "id")
		}
	}
	seed := sha256.Sum256(content)
	return setNotebook(doc, nb, func() []byte { return seed[:] }, false)
}

// SetJSON sets the document to nb, a notebook as contents.ReadNotebook
// returns it. nb is not modified. The notebook must pass
// contents.ValidateNotebook. A notebook without cells gets one empty code
// cell with metadata {"trusted": true}, as jupyter_ydoc gives it.
//
// A document without content gets nb as one update of client id 0 (see
// Model.Set). On a loaded document, cells are kept by id. When no cell of
// nb has an id (nbformat 4.0 to 4.4), equal cells are kept (a longest
// common subsequence), and the cells between two kept ones pair up by
// position. A kept cell is edited in place: its source Y.Text where it
// changed, its metadata key by key, its outputs one by one (stream text
// edited in place) and its other keys where they differ. A cell's
// metadata key "trusted" is left alone when nb lacks it, because the
// nbformat reader removes it from every file. Kept cells that moved, and
// cells whose type changed, are deleted and inserted anew, because Yjs 13
// cannot move an item.
//
// Either way, every key of the root map "state" but "dirty", "path" and
// "document_id" is deleted, as jupyter_ydoc does, because those keys
// describe the version of the file that nb replaces.
//
// NOTE: contents.Manager.Get gives random ids to the cells of an nbformat
// 4.5 file that lack one, so for such a file the update of client id 0
// differs between server processes. Set derives those ids from the file.
func (Notebook) SetJSON(doc *yjs.Doc, nb map[string]any) error {
	return setNotebook(doc, nb, func() []byte {
		data, _ := contents.WriteNotebook(nb)
		sum := sha256.Sum256(data)
		return sum[:]
	}, true)
}

// setNotebook is SetJSON. With splitTrust, the "trusted" marks of the
// cells stay out of the update of client id 0 (see takeTrust).
func setNotebook(doc *yjs.Doc, nb map[string]any, seed func() []byte, splitTrust bool) error {
	if err := contents.ValidateNotebook(nb); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidNotebook, err)
	}
	// Checked before any change, so that an error leaves doc as it was.
	if err := checkJSON(nb, 0); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidNotebook, err)
	}
	for _, root := range []struct {
		name string
		kind yjs.Kind
	}{{"meta", yjs.KindMap}, {"cells", yjs.KindArray}, {"state", yjs.KindMap}} {
		if err := checkRoot(doc, root.name, root.kind); err != nil {
			return err
		}
	}
	cells := newCells(nb)

	if canSetFresh(doc, doc.GetArray("cells").Len() == 0 && doc.GetMap("meta").Len() == 0) {
		ids := newIDSource(seed, nil)
		for _, c := range cells {
			c.assignID(ids)
		}
		trust := map[int]any{}
		if splitTrust && len(nb["cells"].([]any)) > 0 {
			trust = takeTrust(cells)
		}
		err := setFresh(doc, func(scratch *yjs.Doc) error {
			if err := setMeta(scratch.GetMap("meta"), nb); err != nil {
				return err
			}
			return insertCells(scratch.GetArray("cells"), 0, cells)
		})
		if err != nil {
			return err
		}
		doc.Transact(func(*yjs.Transaction) {
			if err = restoreTrust(doc.GetArray("cells"), trust); err == nil {
				err = clearState(doc.GetMap("state"))
			}
		}, Origin)
		return err
	}

	var err error
	doc.Transact(func(*yjs.Transaction) {
		if err = setMeta(doc.GetMap("meta"), nb); err != nil {
			return
		}
		if err = updateCells(doc.GetArray("cells"), cells, seed); err != nil {
			return
		}
		err = clearState(doc.GetMap("state"))
	}, Origin)
	return err
}

// takeTrust removes the "trusted" key from the metadata of cells and
// returns the values by cell index. The key is not part of the file, but
// contents.Manager.Get adds it from the trust store of the running server,
// which would make the update of client id 0 differ from one server
// process to the next. Clients that merged different updates of client 0
// would hold different documents.
func takeTrust(cells []*cell) map[int]any {
	trust := map[int]any{}
	for i, c := range cells {
		md, _ := c.fields["metadata"].(map[string]any)
		v, ok := md["trusted"]
		if !ok {
			continue
		}
		trust[i] = v
		rest := make(map[string]any, len(md))
		for k, x := range md {
			if k != "trusted" {
				rest[k] = x
			}
		}
		c.fields["metadata"] = rest
	}
	return trust
}

// restoreTrust sets the "trusted" metadata that takeTrust removed.
func restoreTrust(ycells *yjs.Array, trust map[int]any) error {
	for _, i := range slices.Sorted(maps.Keys(trust)) {
		v, err := toAny(trust[i])
		if err != nil {
			return err
		}
		ycell, _ := ycells.Get(i)
		if err := getMap(ycell.(*yjs.Map), "metadata").Set("trusted", v); err != nil {
			return err
		}
	}
	return nil
}

// SetTrusted sets the "trusted" metadata of every code cell to trusted, as
// the contents API marks the cells of a notebook when it reads one: true
// when this server signed the file, false otherwise. Cells that have the
// value already are left alone, and so are cells without the mark when
// trusted is false, which JupyterLab reads as untrusted.
func SetTrusted(doc *yjs.Doc, trusted bool) error {
	if err := checkRoot(doc, "cells", yjs.KindArray); err != nil {
		return err
	}
	var err error
	doc.Transact(func(*yjs.Transaction) {
		for _, v := range doc.GetArray("cells").Slice() {
			ycell, ok := v.(*yjs.Map)
			if !ok || getAny(ycell, "cell_type") != "code" {
				continue
			}
			md := getMap(ycell, "metadata")
			if md == nil {
				continue
			}
			if mark, _ := md.Get("trusted"); mark == trusted || (!trusted && mark != true) {
				continue
			}
			if err = md.Set("trusted", trusted); err != nil {
				return
			}
		}
	}, Origin)
	return err
}

// setMeta sets the root map "meta": nbformat, nbformat_minor and the
// Y.Map metadata, edited key by key when it exists.
func setMeta(meta *yjs.Map, nb map[string]any) error {
	for _, key := range []string{"nbformat", "nbformat_minor"} {
		v, err := toAny(nb[key])
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if old, ok := meta.Get(key); !ok || !equalAny(old, v) {
			if err := meta.Set(key, v); err != nil {
				return err
			}
		}
	}
	md, _ := nb["metadata"].(map[string]any)
	if ymd, ok := meta.Get("metadata"); ok {
		if m, ok := ymd.(*yjs.Map); ok {
			return updateMap(m, md, nil)
		}
	}
	if err := meta.Set("metadata", yjs.NewMap()); err != nil {
		return err
	}
	m, _ := meta.Get("metadata")
	return updateMap(m.(*yjs.Map), md, nil)
}

// updateMap makes m hold the entries of want: keys missing from want are
// deleted unless keep reports them, and keys whose value differs are set.
func updateMap(m *yjs.Map, want map[string]any, keep func(string) bool) error {
	for _, k := range m.Keys() {
		if _, ok := want[k]; !ok && (keep == nil || !keep(k)) {
			if err := m.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, k := range sortedKeys(want) {
		v, err := toAny(want[k])
		if err != nil {
			return fmt.Errorf("%q: %w", k, err)
		}
		if old, ok := m.Get(k); ok && equalAny(old, v) {
			continue
		}
		if err := m.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}

// clearState deletes the keys of "state" that describe a saved version of
// the document, which a new content replaces.
func clearState(state *yjs.Map) error {
	for _, k := range state.Keys() {
		switch k {
		case StateDirty, StatePath, "document_id":
			continue
		}
		if err := state.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// idSource makes cell ids that are not in use yet. Ids derive from a seed
// (a hash of the notebook) and a counter, so the same notebook always gets
// the same ids.
type idSource struct {
	seed  func() []byte
	taken map[string]bool
	n     uint64
}

func newIDSource(seed func() []byte, taken map[string]bool) *idSource {
	if taken == nil {
		taken = map[string]bool{}
	}
	return &idSource{seed: seed, taken: taken}
}

// next returns an unused id, formatted as a UUID (version 8, whose bits
// are free for the application).
func (s *idSource) next() string {
	for {
		s.n++
		h := sha256.New()
		h.Write(s.seed())
		h.Write(binary.BigEndian.AppendUint64(nil, s.n))
		id := formatUUID(h.Sum(nil), 8)
		if !s.taken[id] {
			s.taken[id] = true
			return id
		}
	}
}

// randomID returns a random UUID (version 4), as jupyter_ydoc gives a cell
// whose id another cell already has.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return formatUUID(b[:], 4)
}

func formatUUID(b []byte, version byte) string {
	var u [16]byte
	copy(u[:], b)
	u[6] = u[6]&0x0f | version<<4
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// JSON returns the notebook that doc holds, as contents.ReadNotebook would
// return the file that Content writes: numbers with an integer value are
// json.Number integers (jupyter_ydoc casts them back to int), other numbers
// float64. The execution_state of cells is left out, and so are empty
// attachments of markdown and raw cells. Cell ids are left out for nbformat
// 4.0 to 4.4. From 4.5 on, a cell without an id, or with the id of a
// different earlier cell, gets a new id, which is written back to the
// document. An exact copy of an earlier cell with the same id is dropped,
// as jupyter_ydoc does.
//
// Values outside the schema are repaired so that the notebook can still be
// saved (see JSONRepairs). It returns ErrSchema only when a root has
// another kind, such as a "cells" that is a Y.Text.
func (n Notebook) JSON(doc *yjs.Doc) (map[string]any, error) {
	nb, _, err := n.JSONRepairs(doc)
	return nb, err
}

// JSONRepairs is JSON that also returns what it repaired in a document
// outside the schema, one entry per value, such as "cells[2].source was
// a number: saved its JSON text". Elements of "cells" that are not maps
// are skipped. A source that is not a string becomes its JSON text, or
// empty for null. A missing or unknown cell_type makes a raw cell, which
// keeps the source, metadata and attachments. Metadata that is not an
// object becomes {}, outputs that nbformat rejects are dropped, an
// execution_count that is not a non-negative integer becomes null, an id
// that is not a string is replaced, and a missing or non-integer nbformat
// or nbformat_minor takes the current version's value. Values without a
// JSON form, such as binary data, are dropped.
func (Notebook) JSONRepairs(doc *yjs.Doc) (map[string]any, []string, error) {
	if err := checkRoot(doc, "meta", yjs.KindMap); err != nil {
		return nil, nil, err
	}
	if err := checkRoot(doc, "cells", yjs.KindArray); err != nil {
		return nil, nil, err
	}
	var rep repairs
	nb := readMeta(doc.GetMap("meta"), &rep)
	major, _ := nb["nbformat"].(json.Number).Int64()
	minor, _ := nb["nbformat_minor"].(json.Number).Int64()
	withIDs := major > 4 || (major == 4 && minor >= 5)

	ycells := doc.GetArray("cells")
	cells, fixes := readCells(ycells.Slice(), withIDs, &rep)
	if len(fixes) > 0 {
		var err error
		doc.Transact(func(*yjs.Transaction) {
			for _, f := range fixes {
				if err == nil {
					err = f.ycell.Set("id", f.id)
				}
			}
		}, Origin)
		if err != nil {
			return nil, nil, err
		}
	}
	nb["cells"] = cells
	return nb, rep, nil
}

// Content returns the notebook as the nbformat writer of package contents
// writes it (see JSON). For a document set from a file that nbformat
// wrote, the bytes are the file's, except for number literals that do not
// survive a float64: 1.0 is written as 1. Save through
// contents.Manager.Save, which keeps the literals of the file it replaces,
// to avoid that.
func (n Notebook) Content(doc *yjs.Doc) ([]byte, error) {
	data, _, err := n.ContentRepairs(doc)
	return data, err
}

// ContentRepairs is Content that also returns what it repaired (see
// JSONRepairs).
func (n Notebook) ContentRepairs(doc *yjs.Doc) ([]byte, []string, error) {
	encode, rep, err := n.PrepareContent(doc)
	if err != nil {
		return nil, nil, err
	}
	e, err := encode(0)
	if err != nil {
		return nil, nil, err
	}
	return e.Bytes(), rep, nil
}

// PrepareContent is ContentRepairs in two steps. It reads doc, and the
// function it returns encodes what was read, without reading doc again,
// with room for sizeHint bytes reserved. So only the first step needs the
// doc to stay unchanged. The encoded notebook saves through
// contents.Manager.Save without a second encoding. For the 2,000-cell
// notebook of BenchmarkNotebookContent, reading took about 18 ms and
// encoding 13 ms on a 2-core test machine.
func (n Notebook) PrepareContent(doc *yjs.Doc) (encode func(sizeHint int) (*contents.EncodedNotebook, error), repairs []string, err error) {
	nb, rep, err := n.JSONRepairs(doc)
	if err != nil {
		return nil, nil, err
	}
	return func(sizeHint int) (*contents.EncodedNotebook, error) {
		return contents.EncodeNotebook(nb, sizeHint)
	}, rep, nil
}

// readMeta returns the notebook without cells from the root map "meta".
// A missing or invalid version is the current one, and missing or invalid
// metadata is empty.
func readMeta(meta *yjs.Map, rep *repairs) map[string]any {
	nb := map[string]any{}
	defaults := map[string]int{"nbformat": contents.NBFormat, "nbformat_minor": contents.NBFormatMinor}
	for _, key := range []string{"nbformat", "nbformat_minor"} {
		v, ok := meta.Get(key)
		if !ok {
			v = float64(defaults[key])
		}
		f, isNumber := v.(float64)
		if !isNumber || f != math.Trunc(f) || math.Abs(f) > 1<<31 {
			rep.add("meta.%s was %s, not an integer: saved %d", key, withArticle(describe(v)), defaults[key])
			f = float64(defaults[key])
		}
		nb[key] = json.Number(fmt.Sprint(int64(f)))
	}

	nb["metadata"] = map[string]any{}
	v, ok := meta.Get("metadata")
	if !ok {
		return nb
	}
	if _, isMap := v.(*yjs.Map); !isMap {
		rep.add("meta.metadata was %s, not a Y.Map: saved {}", withArticle(describe(v)))
		return nb
	}
	md, err := fromY(v)
	if err != nil {
		rep.add("meta.metadata: %v: saved {}", err)
		return nb
	}
	nb["metadata"] = md
	return nb
}

// repairs lists what JSONRepairs changed to save a document outside the
// schema.
type repairs []string

func (r *repairs) add(format string, args ...any) {
	*r = append(*r, fmt.Sprintf(format, args...))
}
