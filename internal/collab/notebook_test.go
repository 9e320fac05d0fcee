package collab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/internal/ydoc"
	"github.com/jupygo/jupygo/yjs"
)

// notebookFile is a notebook as nbformat writes it, with one code cell.
const notebookFile = `{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "a1",
   "metadata": {},
   "outputs": [],
   "source": [
    "x = 1"
   ]
  }
 ],
 "metadata": {
  "kernelspec": {
   "display_name": "Python 3",
   "language": "python",
   "name": "python3"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
`

// cellSource returns the source of cell i of a client's notebook.
func (c *client) cellSource(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	nb, err := ydoc.Notebook{}.JSON(c.doc)
	if err != nil {
		return "error: " + err.Error()
	}
	cells, _ := nb["cells"].([]any)
	if i >= len(cells) {
		return ""
	}
	src, _ := cells[i].(map[string]any)["source"].(string)
	return src
}

func TestNotebookRoomSyncsAndSaves(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = 50 * time.Millisecond })
	ts.writeFile(t, "n.ipynb", notebookFile)
	textRoom, session := ts.openSession(t, "n.ipynb")
	room := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")

	a := ts.join(t, room, session)
	b := ts.join(t, room, session)
	if got := a.cellSource(0); got != "x = 1" {
		t.Fatalf("cell source after the sync = %q, want %q", got, "x = 1")
	}

	// A types into the cell. The text reaches B and then the file.
	a.edit(func(doc *yjs.Doc) {
		cells := doc.GetArray("cells")
		cell, _ := cells.Get(0)
		src, _ := cell.(*yjs.Map).Get("source")
		if err := src.(*yjs.Text).Insert(5, "0", nil); err != nil {
			t.Error(err)
		}
	})
	b.waitFor("A's edit", func() bool {
		nb, err := ydoc.Notebook{}.JSON(b.doc)
		if err != nil {
			return false
		}
		return nb["cells"].([]any)[0].(map[string]any)["source"] == "x = 10"
	})
	want := strings.Replace(notebookFile, `"x = 1"`, `"x = 10"`, 1)
	waitUntil(t, "the autosave", func() bool { return ts.readFile(t, "n.ipynb") == want })

	// The saved file loads back into the same notebook.
	var nb map[string]any
	if err := json.Unmarshal([]byte(ts.readFile(t, "n.ipynb")), &nb); err != nil {
		t.Fatalf("saved notebook is not JSON: %v", err)
	}
	if n := len(nb["cells"].([]any)); n != 1 {
		t.Errorf("saved notebook has %d cells, want 1", n)
	}
}

// breakSchema makes the notebook's meta.nbformat a string, which no file
// can hold, as a faulty client could.
func breakSchema(doc *yjs.Doc) {
	meta := doc.GetMap("meta")
	if err := meta.Set("nbformat", "four"); err != nil {
		panic(err)
	}
}

func TestBrokenNotebookHistoryRepaired(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	// Autosave is on, and the edit waits for it when the server is killed.
	first := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = time.Hour })
	first.writeFile(t, "n.ipynb", notebookFile)
	textRoom, session := first.openSession(t, "n.ipynb")
	room := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	a := first.join(t, room, session)
	a.edit(func(doc *yjs.Doc) {
		src, _ := firstCell(doc).Get("source")
		if err := src.(*yjs.Text).Insert(5, "\nunsaved = 1", nil); err != nil {
			t.Error(err)
		}
	})
	waitUntil(t, "A's edit in the room", func() bool {
		r := first.room(t, room)
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.dirty
	})

	// A history stored before rooms checked updates holds one that breaks
	// the schema.
	a.mu.Lock()
	broken := yjs.NewDoc()
	if err := broken.ApplyUpdate(a.doc.EncodeStateAsUpdate(nil), nil); err != nil {
		t.Fatal(err)
	}
	a.mu.Unlock()
	before := broken.StateVector()
	breakSchema(broken)
	r := first.room(t, room)
	r.mu.Lock()
	first.svc.store.appendUpdate(room, broken.EncodeStateAsUpdate(before))
	r.mu.Unlock()
	first.svc.store.flush()
	first.kill(t)

	// The history is kept, edits and all, and saves write a repaired
	// notebook.
	second := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = 20 * time.Millisecond })
	c := second.join(t, room, session)
	c.waitFor("the broken meta", func() bool {
		v, _ := c.doc.GetMap("meta").Get("nbformat")
		return v == "four"
	})
	if got := c.cellSource(0); got != "x = 1\nunsaved = 1" {
		t.Errorf("cell source = %q, want the history's", got)
	}
	waitUntil(t, "the restored edit on disk", func() bool {
		return strings.Contains(second.readFile(t, "n.ipynb"), "unsaved = 1")
	})
	c.edit(func(doc *yjs.Doc) {
		src, _ := firstCell(doc).Get("source")
		if err := src.(*yjs.Text).Insert(0, "# more\n", nil); err != nil {
			t.Error(err)
		}
	})
	waitUntil(t, "the next edit on disk", func() bool {
		return strings.Contains(second.readFile(t, "n.ipynb"), "# more")
	})
	nb, err := contents.ReadNotebook([]byte(second.readFile(t, "n.ipynb")))
	if err != nil {
		t.Fatalf("the file is not a notebook: %v", err)
	}
	if err := contents.ValidateNotebook(nb); err != nil {
		t.Errorf("the file is not valid nbformat: %v", err)
	}
	logs := second.logs.String()
	if n := strings.Count(logs, "saving a repaired copy"); n != 1 {
		t.Errorf("%d repair warnings, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "meta.nbformat was a string") {
		t.Errorf("the warning does not name the repair:\n%s", logs)
	}
}

func TestBrokenNotebookRoomCloses(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) {
		o.SaveDelay = 20 * time.Millisecond
		o.CleanupDelay = 20 * time.Millisecond
	})
	ts.writeFile(t, "n.ipynb", notebookFile)
	textRoom, session := ts.openSession(t, "n.ipynb")
	room := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	a := ts.join(t, room, session)
	a.edit(breakSchema)
	if code, _ := a.waitClose(); code != websocket.StatusUnsupportedData {
		t.Errorf("the client that broke the schema was closed with %d, want 1003", code)
	}

	// Once empty, the room closes, and a new client gets the file's
	// notebook.
	waitUntil(t, "the room to close", func() bool {
		ts.svc.mu.Lock()
		defer ts.svc.mu.Unlock()
		return len(ts.svc.rooms) == 0
	})
	c := ts.join(t, room, session)
	if got := c.cellSource(0); got != "x = 1" {
		t.Errorf("cell source after reopening = %q, want the file's %q", got, "x = 1")
	}
	if got := ts.readFile(t, "n.ipynb"); got != notebookFile {
		t.Errorf("file changed:\n%s", got)
	}
}

// TestSaveWhileEditing saves a notebook over and over while a client
// edits its source, outputs and metadata: the file's bytes are written
// without the room's lock, and the race detector checks that they share
// nothing the edits change. The last save holds the last edit.
func TestSaveWhileEditing(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = -1 })
	ts.writeFile(t, "n.ipynb", notebookFile)
	textRoom, session := ts.openSession(t, "n.ipynb")
	name := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	a := ts.join(t, name, session)
	r := ts.room(t, name)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			if status := r.save(); status != saveSuccess {
				t.Errorf("save while editing: %s", status)
				return
			}
		}
	}()
	for i := range 50 {
		a.edit(func(doc *yjs.Doc) {
			cell := firstCell(doc)
			src, _ := cell.Get("source")
			_ = src.(*yjs.Text).Insert(0, "#", nil)
			outputs, _ := cell.Get("outputs")
			arr := outputs.(*yjs.Array)
			if arr.Len() > 0 {
				_ = arr.Delete(0, arr.Len())
			}
			_ = arr.Push(map[string]any{"output_type": "stream", "name": "stdout",
				"text": fmt.Sprintf("line %d\n", i)})
			meta, _ := cell.Get("metadata")
			_ = meta.(*yjs.Map).Set("step", float64(i))
		})
	}
	<-done

	want := "#" + strings.Repeat("#", 49) + "x = 1"
	a.waitFor("the room to apply every edit", func() bool { return roomSource(r) == want })
	if status := r.save(); status != saveSuccess {
		t.Fatalf("last save: %s", status)
	}
	var nb struct {
		Cells []struct {
			Source  []string `json:"source"`
			Outputs []struct {
				Text []string `json:"text"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal([]byte(ts.readFile(t, "n.ipynb")), &nb); err != nil {
		t.Fatalf("saved notebook is not JSON: %v", err)
	}
	if len(nb.Cells) != 1 {
		t.Fatalf("saved notebook has %d cells, want 1", len(nb.Cells))
	}
	if got := strings.Join(nb.Cells[0].Source, ""); got != want {
		t.Errorf("saved source %q, want %q", got, want)
	}
	if out := nb.Cells[0].Outputs; len(out) != 1 || strings.Join(out[0].Text, "") != "line 49\n" {
		t.Errorf("saved outputs %+v, want the last edit's one line", out)
	}
}

// roomSource returns the source of the first cell of r's doc.
func roomSource(r *room) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	src, _ := firstCell(r.doc).Get("source")
	return src.(*yjs.Text).String()
}

// TestSignedNotebookStaysTrusted signs a notebook through the contents API,
// edits it in a room and saves it there. The room must mark its code cells
// trusted, as the contents API does, and the save must keep it signed.
func TestSignedNotebookStaysTrusted(t *testing.T) {
	ts := newTestService(t, "", "", func(o *Options) { o.SaveDelay = time.Hour })
	html := map[string]any{"output_type": "display_data", "metadata": map[string]any{},
		"data": map[string]any{"text/html": "<b>hi</b>"}}
	nb := map[string]any{
		"cells": []any{
			map[string]any{"id": "c", "cell_type": "code", "execution_count": nil, "source": "x",
				"metadata": map[string]any{"trusted": true}, "outputs": []any{html}},
			map[string]any{"id": "m", "cell_type": "markdown", "metadata": map[string]any{}, "source": "text"},
		},
		"metadata": map[string]any{}, "nbformat": 4, "nbformat_minor": 5,
	}
	if status, body := ts.request(t, http.MethodPut, "/api/contents/n.ipynb",
		map[string]any{"type": "notebook", "content": nb}); status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("PUT n.ipynb: %d %s", status, body)
	}
	codeTrusted := func() any {
		t.Helper()
		status, body := ts.request(t, http.MethodGet, "/api/contents/n.ipynb", nil)
		if status != http.StatusOK {
			t.Fatalf("GET n.ipynb: %d %s", status, body)
		}
		var model struct {
			Content struct {
				Cells []struct {
					Metadata map[string]any `json:"metadata"`
				} `json:"cells"`
			} `json:"content"`
		}
		if err := json.Unmarshal(body, &model); err != nil {
			t.Fatal(err)
		}
		return model.Content.Cells[0].Metadata["trusted"]
	}
	if got := codeTrusted(); got != true {
		t.Fatalf("after the signing save, the code cell's trusted = %v", got)
	}

	textRoom, session := ts.openSession(t, "n.ipynb")
	name := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	a := ts.join(t, name, session)
	marked := func(want bool) func() bool {
		return func() bool {
			md, _ := firstCell(a.doc).Get("metadata")
			v, _ := md.(*yjs.Map).Get("trusted")
			return v == want
		}
	}
	// editAndSave prefixes the markdown cell's source in the room and saves.
	saves := 0
	editAndSave := func(prefix string) {
		t.Helper()
		a.edit(func(doc *yjs.Doc) {
			v, _ := doc.GetArray("cells").Get(1)
			src, _ := v.(*yjs.Map).Get("source")
			_ = src.(*yjs.Text).Insert(0, prefix, nil)
		})
		saves++
		a.send(saveFrame(uint64(saves)))
		a.waitFor("the save reply", func() bool { return len(a.raw) == saves })
		if !strings.Contains(ts.readFile(t, "n.ipynb"), prefix) {
			t.Fatalf("the edit %q was not saved", prefix)
		}
	}
	a.waitFor("the code cell marked trusted", marked(true))
	editAndSave("more ")
	if got := codeTrusted(); got != true {
		t.Errorf("after the room's save, the code cell's trusted = %v, want true", got)
	}

	// A change on disk voids the signature: the room must mark the code
	// cell untrusted, and its next save must not sign the file again.
	file := ts.readFile(t, "n.ipynb")
	ts.writeFile(t, "n.ipynb", strings.Replace(file, "<b>hi</b>", "<script>alert(1)</script>", 1))
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(ts.root, "n.ipynb"), future, future); err != nil {
		t.Fatal(err)
	}
	a.waitFor("the code cell marked untrusted", marked(false))
	editAndSave("again ")
	if got := codeTrusted(); got != false {
		t.Errorf("after a change on disk and a save, the code cell's trusted = %v, want false", got)
	}
}

// TestRestartForgetsTrust signs a notebook and opens its room, then starts
// a new server on the same folders. Signatures live in memory, so the new
// server's contents API reads the file as untrusted, and the room restored
// from its history must mark the code cell untrusted too.
func TestRestartForgetsTrust(t *testing.T) {
	root, dataDir := t.TempDir(), t.TempDir()
	first := newTestService(t, root, dataDir, func(o *Options) { o.SaveDelay = -1 })
	nb := map[string]any{
		"cells": []any{map[string]any{"id": "c", "cell_type": "code", "execution_count": nil, "source": "x",
			"metadata": map[string]any{"trusted": true}, "outputs": []any{}}},
		"metadata": map[string]any{}, "nbformat": 4, "nbformat_minor": 5,
	}
	if status, body := first.request(t, http.MethodPut, "/api/contents/n.ipynb",
		map[string]any{"type": "notebook", "content": nb}); status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("PUT n.ipynb: %d %s", status, body)
	}
	textRoom, session := first.openSession(t, "n.ipynb")
	name := "json:notebook:" + strings.TrimPrefix(textRoom, "text:file:")
	a := first.join(t, name, session)
	trusted := func(c *client) any {
		md, _ := firstCell(c.doc).Get("metadata")
		v, _ := md.(*yjs.Map).Get("trusted")
		return v
	}
	a.waitFor("the code cell marked trusted", func() bool { return trusted(a) == true })
	first.kill(t)

	second := newTestService(t, root, dataDir, nil)
	b := second.join(t, name, session)
	b.waitFor("the code cell marked untrusted", func() bool { return trusted(b) == false })
}
