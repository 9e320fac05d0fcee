package ydoc_test

import (
	"fmt"

	"github.com/jupygo/jupygo/internal/ydoc"
	"github.com/jupygo/jupygo/yjs"
)

// A room loads its file before it replies to the first sync message, saves
// what the clients edited, and records the save in "state".
func Example() {
	model := ydoc.For("file") // from the room id "text:file:<fileId>"
	doc := yjs.NewDoc()
	if err := model.Set(doc, []byte("print('hi')\r\n")); err != nil {
		fmt.Println(err)
		return
	}

	// A client's edit arrives as an update.
	doc.GetText("source").Insert(0, "# greeting\n", nil)

	data, err := model.Content(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", data)
	if err := ydoc.SetState(doc, ydoc.StateDirty, false); err != nil {
		fmt.Println(err)
	}
	dirty, _ := ydoc.State(doc, ydoc.StateDirty)
	fmt.Println("dirty:", dirty)
	// Output:
	// "# greeting\nprint('hi')\n"
	// dirty: false
}
