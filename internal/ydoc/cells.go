package ydoc

import (
	"fmt"
	"reflect"

	"github.com/jupygo/jupygo/yjs"
)

// cell is a cell of a notebook being set: the fields of the nbformat cell,
// with its id once one is assigned.
type cell struct {
	fields map[string]any
	id     string
	fileID bool // the id comes from the notebook, not from idSource
	plain  map[string]any
}

// json returns the fields in the form of yjs.ToJSONValue.
func (c *cell) json() map[string]any {
	if c.plain == nil {
		c.plain = toPlain(c.fields).(map[string]any)
	}
	return c.plain
}

// newCells returns the cells of nb, or the one empty code cell that a
// notebook without cells gets. The field maps are copies.
func newCells(nb map[string]any) []*cell {
	list, _ := nb["cells"].([]any)
	if len(list) == 0 {
		return []*cell{{fields: map[string]any{
			"cell_type":       "code",
			"execution_count": nil,
			"metadata":        map[string]any{"trusted": true},
			"outputs":         []any{},
			"source":          "",
		}}}
	}
	cells := make([]*cell, len(list))
	for i, c := range list {
		fields := make(map[string]any, len(c.(map[string]any)))
		for k, v := range c.(map[string]any) {
			fields[k] = v
		}
		cells[i] = &cell{fields: fields}
		if id, ok := fields["id"].(string); ok && id != "" {
			cells[i].id, cells[i].fileID = id, true
		}
		delete(fields, "id")
	}
	return cells
}

// assignID gives c an id from ids unless it has one that no earlier cell
// took.
func (c *cell) assignID(ids *idSource) {
	if c.id != "" && !ids.taken[c.id] {
		ids.taken[c.id] = true
		return
	}
	c.id, c.fileID = ids.next(), false
}

func (c *cell) cellType() string {
	t, _ := c.fields["cell_type"].(string)
	return t
}

// insertCells inserts cells into the array at index.
func insertCells(ycells *yjs.Array, index int, cells []*cell) error {
	for i, c := range cells {
		if err := insertCell(ycells, index+i, c); err != nil {
			return err
		}
	}
	return nil
}

// insertCell inserts a new Y.Map for c at index: source a Y.Text, metadata
// a Y.Map, outputs a Y.Array of outputs, the other fields Any values. Code
// cells get execution_state "idle", as jupyter_ydoc creates them.
func insertCell(ycells *yjs.Array, index int, c *cell) error {
	if err := ycells.Insert(index, yjs.NewMap()); err != nil {
		return err
	}
	v, _ := ycells.Get(index)
	ycell := v.(*yjs.Map)
	if err := ycell.Set("id", c.id); err != nil {
		return err
	}
	if c.cellType() == "code" {
		if err := ycell.Set("execution_state", "idle"); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(c.fields) {
		if err := setCellField(ycell, k, c.fields[k]); err != nil {
			return fmt.Errorf("cell %s: %s: %w", c.id, k, err)
		}
	}
	return nil
}

// setCellField sets a field of a new cell.
func setCellField(ycell *yjs.Map, key string, v any) error {
	switch key {
	case "source":
		s, _ := v.(string)
		if err := ycell.Set(key, yjs.NewText()); err != nil {
			return err
		}
		return getText(ycell, key).Insert(0, s, nil)
	case "metadata":
		if err := ycell.Set(key, yjs.NewMap()); err != nil {
			return err
		}
		md, _ := v.(map[string]any)
		return updateMap(getMap(ycell, key), md, nil)
	case "outputs":
		if err := ycell.Set(key, yjs.NewArray()); err != nil {
			return err
		}
		outputs, _ := v.([]any)
		youtputs := getArray(ycell, key)
		for i, o := range outputs {
			if err := insertOutput(youtputs, i, o.(map[string]any)); err != nil {
				return err
			}
		}
		return nil
	}
	a, err := toAny(v)
	if err != nil {
		return err
	}
	return ycell.Set(key, a)
}

// insertOutput inserts a Y.Map for an output at index. The text of a stream
// output is a Y.Text, as @jupyter/ydoc 3.x and 4.x and jupyter_ydoc 3.0.2
// and later store it.
func insertOutput(youtputs *yjs.Array, index int, output map[string]any) error {
	if err := youtputs.Insert(index, yjs.NewMap()); err != nil {
		return err
	}
	v, _ := youtputs.Get(index)
	youtput := v.(*yjs.Map)
	stream := output["output_type"] == "stream"
	for _, k := range sortedKeys(output) {
		if s, ok := output[k].(string); ok && stream && k == "text" {
			if err := youtput.Set(k, yjs.NewText()); err != nil {
				return err
			}
			if err := getText(youtput, k).Insert(0, s, nil); err != nil {
				return err
			}
			continue
		}
		a, err := toAny(output[k])
		if err != nil {
			return fmt.Errorf("output %d: %q: %w", index, k, err)
		}
		if err := youtput.Set(k, a); err != nil {
			return err
		}
	}
	return nil
}

func getText(m *yjs.Map, key string) *yjs.Text {
	v, _ := m.Get(key)
	t, _ := v.(*yjs.Text)
	return t
}

func getMap(m *yjs.Map, key string) *yjs.Map {
	v, _ := m.Get(key)
	x, _ := v.(*yjs.Map)
	return x
}

func getArray(m *yjs.Map, key string) *yjs.Array {
	v, _ := m.Get(key)
	a, _ := v.(*yjs.Array)
	return a
}

// oldCell is a cell already in the document.
type oldCell struct {
	index int
	ycell *yjs.Map // nil when the element is not a Y.Map
	id    string
	plain map[string]any // the cell's JSON without execution_state, made on demand
}

func (o *oldCell) json() map[string]any {
	if o.plain == nil {
		o.plain, _ = yjs.ToJSONValue(o.ycell).(map[string]any)
		delete(o.plain, "execution_state")
	}
	return o.plain
}

// sameAs reports whether o contains c, apart from its id and from a
// "trusted" metadata key that c lacks.
func (o *oldCell) sameAs(c *cell) bool {
	if o.ycell == nil {
		return false
	}
	old := o.json()
	want := c.json()
	for k := range old {
		if _, ok := want[k]; !ok && k != "id" {
			return false
		}
	}
	for k, v := range want {
		ov, ok := old[k]
		if k == "metadata" {
			ov = withoutTrusted(ov, v)
		}
		if !ok || !reflect.DeepEqual(ov, v) {
			return false
		}
	}
	return true
}

// withoutTrusted returns the metadata old without its "trusted" key when
// want has none.
func withoutTrusted(old, want any) any {
	om, ok := old.(map[string]any)
	wm, _ := want.(map[string]any)
	if !ok {
		return old
	}
	if _, has := om["trusted"]; !has {
		return old
	}
	if _, wants := wm["trusted"]; wants {
		return old
	}
	out := make(map[string]any, len(om))
	for k, v := range om {
		if k != "trusted" {
			out[k] = v
		}
	}
	return out
}

// fits reports whether c can be written into o in place: same cell type
// and nested types of the kinds the schema gives them.
func (o *oldCell) fits(c *cell) bool {
	if o.ycell == nil {
		return false
	}
	if t, _ := o.ycell.Get("cell_type"); t != c.cellType() {
		return false
	}
	if getText(o.ycell, "source") == nil || getMap(o.ycell, "metadata") == nil {
		return false
	}
	if _, ok := c.fields["outputs"]; ok && getArray(o.ycell, "outputs") == nil {
		return false
	}
	return true
}

func readOldCells(values []any) []*oldCell {
	olds := make([]*oldCell, len(values))
	for i, v := range values {
		o := &oldCell{index: i}
		if m, ok := v.(*yjs.Map); ok {
			o.ycell = m
			o.id, _ = getAny(m, "id").(string)
		}
		olds[i] = o
	}
	return olds
}

func getAny(m *yjs.Map, key string) any {
	v, _ := m.Get(key)
	return v
}
