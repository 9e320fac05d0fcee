package hub

import (
	"errors"
	"net/http"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/hub/spawn"
)

// renameHome moves the home folder of a user who is renamed, when the
// spawner keeps one per user name. It returns a 400 when the new name's
// folder exists, because the renamed user would get another's files.
func (h *Hub) renameHome(oldName, newName string) error {
	mover, ok := h.spawner.(spawn.HomeMover)
	if !ok {
		return nil
	}
	err := mover.RenameHome(oldName, newName)
	if errors.Is(err, spawn.ErrHomeExists) {
		return badRequest("User %s not renamed: the home folder of %s exists already. "+
			"Move it away, then rename again", oldName, newName)
	}
	if err != nil {
		return &httpapi.Error{Status: http.StatusInternalServerError, Err: err,
			Message: "User " + oldName + " not renamed: its home folder could not be moved. " +
				"The hub's log has the details."}
	}
	h.log.Info("home folder renamed", "user", oldName, "new_user", newName)
	return nil
}

// undoRenameHome moves the home folder back after the store failed to
// rename the user.
func (h *Hub) undoRenameHome(oldName, newName string) {
	mover, ok := h.spawner.(spawn.HomeMover)
	if !ok {
		return
	}
	if err := mover.RenameHome(newName, oldName); err != nil {
		h.log.Error("moving the home folder back after a failed rename", "user", oldName,
			"new_user", newName, "err", err)
	}
}

// archiveHome moves the home folder of a user who is deleted aside, when
// the spawner keeps one per user name, so that a later user of that name
// starts empty. It returns the function that moves the folder back, nil
// when there was no folder.
func (h *Hub) archiveHome(name string) (func() error, error) {
	mover, ok := h.spawner.(spawn.HomeMover)
	if !ok {
		return nil, nil
	}
	archived, restore, err := mover.ArchiveHome(name, h.now())
	if errors.Is(err, spawn.ErrHomeNotMovable) {
		return nil, httpapi.Errorf(http.StatusConflict, "User %s not deleted: %v", name, err)
	}
	if err != nil {
		return nil, &httpapi.Error{Status: http.StatusInternalServerError, Err: err,
			Message: "User " + name + " not deleted: its home folder could not be moved aside. " +
				"The hub's log has the details."}
	}
	if archived != "" {
		h.log.Info("home folder of a deleted user moved aside", "user", name, "path", archived)
	}
	return restore, nil
}
