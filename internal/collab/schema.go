package collab

import (
	"errors"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/ydoc"
	"github.com/jupygo/jupygo/yjs"
)

// checkSchemaLocked rejects a client's sync step 2 or update u that would
// take a document room's doc out of the schema of its type, before it
// reaches the doc, the history or the other clients. Such an update
// closes its connection with 1003 and the reason, which JupyterLab shows.
// An update that cannot be checked yet, because it depends on structs the
// doc lacks, closes the connection with 1013: the client reconnects and
// its next sync step 2 carries the update with what it depends on. Rooms
// without a file take any update.
func (r *room) checkSchemaLocked(u *yjs.Update) error {
	if r.fileID == "" {
		return nil
	}
	err := ydoc.CheckDecoded(r.docType, r.doc, u)
	var ue *ydoc.UpdateError
	switch {
	case errors.As(err, &ue):
		return &closeError{websocket.StatusUnsupportedData, ue.Error()}
	case errors.Is(err, ydoc.ErrUnresolved):
		return &closeError{websocket.StatusTryAgainLater,
			"update depends on changes the server lacks: reconnect to sync"}
	}
	return nil
}
