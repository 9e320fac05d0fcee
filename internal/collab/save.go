package collab

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/ydoc"
	"github.com/jupygo/jupygo/yjs"
)

// loadDocument fills the doc of a document room from its file and its
// stored history. With no history, the file is loaded deterministically.
// With history, the history wins when the file is as the room last saw it,
// because it then holds edits made since the last save (the server may
// have stopped before saving them). Otherwise the file changed while the
// room was closed, and the doc is set from the file.
func (r *room) loadDocument() error {
	ctx := context.Background()
	p, err := r.svc.store.filePath(ctx, r.fileID)
	if errors.Is(err, errUnknown) {
		return httpapi.Errorf(http.StatusNotFound, "unknown file id %s", r.fileID)
	}
	if err != nil {
		return err
	}
	if r.model = modelFor(r.docType); r.model == nil {
		return &loadError{p, httpapi.Errorf(http.StatusBadRequest,
			"documents of type %q cannot be shared yet", r.docType)}
	}
	data, info, err := r.svc.opts.Files.Read(p)
	if err != nil {
		return &loadError{p, err}
	}
	history, err := r.svc.store.updates(ctx, r.name)
	if err != nil {
		return err
	}
	lastHash, storedBase, err := r.svc.store.fileState(ctx, r.name)
	if err != nil {
		return err
	}
	savingHash, savingBase, err := r.svc.store.savingState(ctx, r.name)
	if err != nil {
		return err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.path = p
	for i, u := range history {
		if err := r.doc.ApplyUpdate(u, historyOrigin); err != nil {
			r.log.Warn("stored update skipped", "index", i, "err", err)
		}
	}
	r.stored = len(history)
	r.loadedFrom = "Content loaded from the room's history."
	switch {
	case len(history) == 0:
		r.loadedFrom = "Content loaded from disk."
		err = setDeterministic(r.model, r.doc, data, serverOrigin)
	case lastHash == info.Hash:
		r.dirty, err = r.differsFrom(data)
		r.base = storedBase
	case savingHash == info.Hash && savingBase != nil:
		// A save wrote the file, and the server stopped before it recorded
		// that. The history holds every edit the file does.
		r.dirty, err = r.differsFrom(data)
		r.base = savingBase
		r.log.Info("room found its last save written", "path", p)
	case storedBase != nil:
		// The file changed while the room was closed: merge the change
		// into the edits made since the last save, as while it is open,
		// unless the file holds the doc as it is.
		r.base = storedBase
		r.dirty, err = r.differsFrom(data)
		if err == nil && r.dirty {
			if err = r.mergeLocked(data, info.Hash); err == nil {
				r.dirty, err = r.differsFrom(data)
				r.loadedFrom = "Content loaded from the room's history, merged with the change " +
					"made on disk while the room was closed."
				r.log.Info("room merged its file, which changed while it was closed", "path", p)
			}
		}
	default:
		r.loadedFrom = "Content loaded from disk, which changed while the room was closed."
		r.doc.Transact(func(*yjs.Transaction) { err = r.model.Set(r.doc, data) }, serverOrigin)
	}
	if err == nil {
		err = r.markTrustLocked(info)
	}
	if err != nil {
		return &loadError{p, httpapi.Wrap(http.StatusBadRequest, err, err.Error())}
	}
	if r.dirty {
		// NOTE: this includes edits made with autosave off and then
		// discarded in JupyterLab, which does not tell the server. They
		// are saved too once the room opens with autosave on.
		r.log.Info("room restored edits that were not saved")
		r.noteChangeLocked()
	}
	err = setState(r.doc, serverOrigin, statePath, p, stateHash, info.Hash, stateDirty, r.dirty)
	if err != nil {
		return err
	}
	r.modTime, r.hash, r.fileSize = info.ModTime, info.Hash, len(data)
	if !r.dirty {
		r.base = packState(r.doc.EncodeStateAsUpdate(nil))
	}
	r.recordFileLocked()
	// A mark left by a process that stopped before it recorded a save is
	// replaced too.
	r.marked = r.unsavedLocked()
	r.svc.store.markUnsaved(r.name, r.marked)
	if r.stored >= r.svc.opts.CompactAfter {
		// Clients wait for the load, so the doc is encoded here rather
		// than merged by the writer: unlike a merge, the encoding drops
		// the content of deleted items.
		r.svc.store.replaceUpdates(r.name, r.doc.EncodeStateAsUpdate(nil))
		r.stored = 1
	}
	return nil
}

// markTrustLocked marks the code cells of a notebook trusted when this
// server signed its file and untrusted otherwise, as the contents API does
// when it reads the file. So a save from the doc signs the notebook again
// only while its file is signed, or when a client trusts it.
func (r *room) markTrustLocked(info FileInfo) error {
	if r.docType != "notebook" {
		return nil
	}
	var err error
	r.doc.Transact(func(*yjs.Transaction) { err = ydoc.SetTrusted(r.doc, info.Signed) }, serverOrigin)
	return err
}

// differsFrom reports whether the doc's content differs from what loading
// data would give, which for text files has LF line ends.
func (r *room) differsFrom(data []byte) (bool, error) {
	loaded := yjs.NewDoc()
	if err := r.model.Set(loaded, data); err != nil {
		return false, err
	}
	want, err := r.model.Content(loaded)
	if err != nil {
		return false, err
	}
	have, err := r.model.Content(r.doc)
	return !bytes.Equal(have, want), err
}

// recordFileLocked queues the file's hash and the base state, which a
// restart needs to merge a change made on disk while the room was closed.
func (r *room) recordFileLocked() {
	r.svc.store.setFileState(r.name, r.hash, r.base)
	// The hash is committed at once, in one transaction with the updates
	// queued before it, so that a restart finds the history and the hash
	// of the file that it matches.
	r.svc.store.commitSoon()
}

// noteUnsavedLocked records in the database whether the room holds edits
// that autosave is to write to its file, when that changed. The service
// opens the marked rooms when it starts (Service.sweepOwed), so that
// edits kept in a closed room's history reach the file without a reader.
func (r *room) noteUnsavedLocked() {
	if unsaved := r.unsavedLocked(); unsaved != r.marked {
		r.marked = unsaved
		r.svc.store.markUnsaved(r.name, unsaved)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// run owns the room's timers: it polls the file, saves a changed document
// once it has gone Options.SaveDelay without changes, and closes the room
// once it has been empty for Options.CleanupDelay.
func (r *room) run() {
	defer close(r.done)
	poll := time.NewTicker(r.svc.opts.PollInterval)
	defer poll.Stop()
	saveTimer := time.NewTimer(time.Hour)
	saveTimer.Stop()
	// A room starts empty: clients join once it is ready. One whose
	// client gave up while it loaded closes like any other.
	cleanupTimer := time.NewTimer(r.svc.opts.CleanupDelay)
	defer cleanupTimer.Stop()
	for {
		select {
		case <-r.stop:
			r.finalErr = r.finish()
			return
		case <-r.changed:
			if r.svc.opts.SaveDelay > 0 {
				saveTimer.Reset(r.svc.opts.SaveDelay)
			}
		case <-saveTimer.C:
			if wait := r.saveWait(); wait > 0 {
				saveTimer.Reset(wait)
				continue
			}
			if !r.autosaveNow() {
				// A save that failed, as while the database cannot be
				// written, is tried again without waiting for an edit.
				saveTimer.Reset(saveRetry)
			}
		case <-poll.C:
			r.poll()
		case <-r.emptied:
			cleanupTimer.Reset(r.svc.opts.CleanupDelay)
		case <-cleanupTimer.C:
			if r.tryClose() {
				return
			}
			cleanupTimer.Reset(r.svc.opts.CleanupDelay)
		case <-r.evict:
			if r.tryClose() {
				return
			}
		}
	}
}

// saveWait returns how long autosave must still wait for the doc to go
// Options.SaveDelay without changes. At zero the save is due, and the next
// change starts the timer again.
func (r *room) saveWait() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	wait := r.svc.opts.SaveDelay - time.Since(r.lastChange)
	if wait <= 0 {
		r.saveArmed = false
	}
	return wait
}

// unsavedLocked reports whether the doc has changes that autosave should
// write before the room closes.
func (r *room) unsavedLocked() bool {
	return r.fileID != "" && r.dirty && !r.noSave && r.svc.opts.SaveDelay > 0 && r.autosave
}

// autosaveNow saves the doc if autosave should, and reports false when
// that save failed.
func (r *room) autosaveNow() bool {
	r.mu.Lock()
	save := r.unsavedLocked() && r.autosaveLocked()
	r.mu.Unlock()
	// A read-only file is saved again when the poll finds it writable.
	return !save || r.save() != saveFailed || r.fileReadOnly()
}

// errReadOnly is the error of a save to a file that cannot be written.
var errReadOnly = errors.New("the file is read-only")

// saveRetry is the wait before autosave tries a failed save again.
const saveRetry = 3 * time.Second

// tryClose closes a room that has no clients, after saving its unsaved
// changes. It returns false, leaving the room open, when a client joined
// or the save failed.
func (r *room) tryClose() bool {
	r.mu.Lock()
	if len(r.clients) > 0 {
		r.mu.Unlock()
		return false
	}
	unsaved := r.unsavedLocked()
	r.mu.Unlock()
	owed := false
	if unsaved {
		status := r.save()
		if status != saveSuccess && !r.fileGone() && !r.dropIfBroken() {
			if owed = r.keptForReadOnly(); !owed {
				r.log.Warn("empty room kept open: its changes are not saved", "status", status)
				return false
			}
		}
	}

	r.mu.Lock()
	if len(r.clients) > 0 {
		r.mu.Unlock()
		return false
	}
	r.closed = true
	close(r.stop)
	r.mu.Unlock()
	r.svc.removeRoom(r)
	if owed {
		r.svc.noteOwed(r.name)
	}
	r.log.Debug("room closed", "reason", "no clients")
	return true
}

// fileGone reports whether the room's file id no longer names a file,
// because the file was deleted through the contents API while the room
// loaded. Such a room has nowhere to save to.
func (r *room) fileGone() bool {
	_, err := r.svc.store.filePath(context.Background(), r.fileID)
	return errors.Is(err, errUnknown)
}

// finish saves unsaved changes when the room stops.
func (r *room) finish() error {
	r.mu.Lock()
	unsaved := r.unsavedLocked()
	r.mu.Unlock()
	if !unsaved {
		return nil
	}
	if status := r.save(); status != saveSuccess && !r.dropIfBroken() && !r.keptForReadOnly() {
		return fmt.Errorf("saving %s before closing: %s", r.currentPath(), status)
	}
	return nil
}

// fileReadOnly reports whether the last save found the file read-only.
func (r *room) fileReadOnly() bool {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	return r.readOnly
}

// keptForReadOnly reports whether the last save failed because the
// file is read-only, and logs that the room's history keeps the edits the
// file lacks. A save commits the history before it checks the file, so the
// room may close: it restores those edits when it opens again, and saves
// them once the file can be written (Service.sweepOwed).
func (r *room) keptForReadOnly() bool {
	readOnly := r.fileReadOnly()
	if readOnly {
		r.log.Info("room closing with edits that its read-only file lacks: its history keeps them",
			"path", r.currentPath())
	}
	return readOnly
}

// dropIfBroken deletes the history of a room whose doc cannot be saved
// because it does not follow the schema of its type, so that the room can
// close and open again from the file, and reports whether it did. Rooms
// reject client updates that break the schema, and a notebook outside it
// is saved repaired. So this is left for what no repair fixes, such as a
// blob whose bytes are a string in a history stored before the check. The
// edits since the last save are lost with it.
func (r *room) dropIfBroken() bool {
	r.mu.Lock()
	write := r.contentLocked()
	r.mu.Unlock()
	_, err := write()
	if !errors.Is(err, ydoc.ErrSchema) {
		return false
	}
	r.log.Warn("dropping a room whose document does not follow the schema; its unsaved edits are lost",
		"path", r.currentPath(), "err", err)
	if err := r.svc.store.deleteRoom(r.name); err != nil {
		r.log.Warn("history of a broken room not deleted", "err", err)
	}
	return true
}

// save writes the doc to its file and returns the status for the RAW save
// reply. A file changed on disk since the room last read it is loaded
// instead, as jupyter-collaboration does, and the status is "skipped".
// A file whose bytes equal the doc's content is not written again.
func (r *room) save() string {
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	// The file's new hash and base state, or the update of a change loaded
	// from disk, are committed before the next save or reload.
	defer r.svc.store.flush()

	r.mu.Lock()
	if r.noSave {
		r.mu.Unlock()
		return saveFailed
	}
	write := r.contentLocked()
	snapshot := r.doc.EncodeStateAsUpdate(nil)
	p, modTime, hash := r.path, r.modTime, r.hash
	wasDirty := r.dirty
	r.dirty = false // changes from here on set it again
	r.mu.Unlock()

	content, err := write()
	var newHash string
	var base packedState
	if err == nil {
		newHash, base = sha256Hex(content.Bytes), packState(snapshot)
		if newHash != hash {
			// A restart that finds the file written but its new hash not
			// recorded would otherwise merge the file's content into the
			// doc a second time.
			r.svc.store.beginSave(r.name, newHash, base)
		}
	}
	// Every update in content, and the record of the save, are committed
	// before the file holds them, so a restart never finds edits on disk
	// that its history lacks. While the database fails, saves fail too.
	if flushErr := r.svc.store.flush(); flushErr != nil && err == nil {
		err = fmt.Errorf("room history not committed: %w", flushErr)
	}
	lock := r.svc.fileLock(r.fileID)
	lock.Lock()
	status, info, err := r.write(p, modTime, hash, newHash, content, wasDirty, err)
	lock.Unlock()
	if status != saveSuccess {
		if err != nil {
			r.log.Warn("document not saved", "path", p, "status", status, "err", err)
		}
		if status == saveFailed && err != nil {
			r.reportSaveError(p, err)
		}
		// A save skipped because the file changed on disk leaves dirty to
		// the reload.
		r.mu.Lock()
		r.dirty = r.dirty || wasDirty && status != saveSkipped
		r.noteUnsavedLocked()
		r.mu.Unlock()
		return status
	}
	r.readOnly = false

	r.mu.Lock()
	defer r.mu.Unlock()
	r.modTime, r.hash, r.fileSize = info.ModTime, info.Hash, len(content.Bytes)
	r.base = base
	r.recordFileLocked()
	r.noteUnsavedLocked()
	kv := []any{stateHash, info.Hash}
	if !r.dirty {
		kv = append(kv, stateDirty, false)
	}
	if err := setState(r.doc, serverOrigin, kv...); err != nil {
		r.log.Warn("state not updated after a save", "err", err)
	}
	r.log.Debug("document saved", "path", p)
	r.saveError = ""
	if newHash != hash {
		r.svc.emit(sessionInfo, r.name, p, "save", "Content saved.")
	}
	return saveSuccess
}

// reportSaveError sends the session event of a failed save of the file at
// p, unless the last one sent had the same message. The caller holds
// saveMu.
func (r *room) reportSaveError(p string, err error) {
	msg := "Error saving file: " + p + "\n" + eventReason(err)
	if msg == r.saveError {
		return
	}
	r.saveError = msg
	r.svc.emit(sessionError, r.name, p, "save", msg)
}

// preparer is a Model that saves a doc outside its schema by repairing
// what it can, and reads a doc in one step and encodes the file in
// another: ydoc.Notebook.
type preparer interface {
	PrepareContent(doc *yjs.Doc) (encode func(sizeHint int) (*contents.EncodedNotebook, error), repairs []string, err error)
}

// maxLoggedRepairs bounds the repairs that the warning lists.
const maxLoggedRepairs = 10

// contentLocked reads the doc's content and returns the function that
// encodes the file to save from it, which the caller runs without mu
// held: for a 2 MB notebook, encoding takes milliseconds. A doc
// outside the schema, such as one whose history holds updates stored
// before rooms checked them, is saved repaired, and the room logs the
// first repair it makes.
func (r *room) contentLocked() func() (Content, error) {
	m, ok := r.model.(preparer)
	if !ok {
		data, err := r.model.Content(r.doc)
		return func() (Content, error) { return Content{Bytes: data}, err }
	}
	encode, repairs, err := m.PrepareContent(r.doc)
	sizeHint := r.fileSize + r.fileSize/8
	if len(repairs) > 0 && !r.repairLogged {
		r.repairLogged = true
		r.log.Warn("document does not follow the schema: saving a repaired copy",
			"path", r.path, "repairs", len(repairs),
			"first", repairs[:min(len(repairs), maxLoggedRepairs)])
	}
	if err != nil {
		return func() (Content, error) { return Content{}, err }
	}
	return func() (Content, error) {
		nb, err := encode(sizeHint)
		if err != nil {
			return Content{}, err
		}
		return Content{Bytes: nb.Bytes(), Notebook: nb}, nil
	}
}

// write is the file part of save. It holds saveMu but not mu. unsaved
// is whether content holds edits that the file lacks: save clears dirty
// before it writes, so dirty no longer shows them.
func (r *room) write(p string, modTime time.Time, hash, newHash string, content Content,
	unsaved bool, contentErr error) (string, FileInfo, error) {
	if contentErr != nil {
		return saveFailed, FileInfo{}, contentErr
	}
	files := r.svc.opts.Files
	info, err := files.Stat(p)
	if err != nil && r.removedOnDisk(p, err) {
		// Removed outside the API (rm, a git checkout) while the doc still
		// names it: writing it again keeps the edits it holds.
		r.log.Info("file removed on disk: writing the document to it again", "path", p)
		info, err = files.Write(p, r.docType, content)
		if err != nil {
			return saveFailed, info, err
		}
		return saveSuccess, info, nil
	}
	if err != nil {
		return saveFailed, info, err
	}
	if !info.Writable {
		r.readOnly = true
		return saveFailed, info, errReadOnly
	}
	if !info.ModTime.Equal(modTime) {
		changed, err := r.reload(p, unsaved)
		if err != nil {
			return saveFailed, info, err
		}
		if changed {
			return saveSkipped, info, errors.New("the file changed on disk and was loaded instead")
		}
		hash = r.lastHash()
	}
	if newHash == hash {
		info.Hash = hash
		return saveSuccess, info, nil
	}
	info, err = files.Write(p, r.docType, content)
	if err != nil {
		return saveFailed, info, err
	}
	return saveSuccess, info, nil
}

// removedOnDisk reports whether err, from reading the file at p, is a
// not-found error while the room's file id still maps to p.
func (r *room) removedOnDisk(p string, err error) bool {
	var he *httpapi.Error
	if !errors.As(err, &he) || he.Status != http.StatusNotFound {
		return false
	}
	now, err := r.svc.store.filePath(context.Background(), r.fileID)
	return err == nil && now == p
}

func (r *room) lastHash() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hash
}

// reload loads the file at p into the doc when its bytes differ from what
// the room last read or wrote, and reports whether they did. A file only
// touched keeps the doc as it is. With edits not saved yet, the change on
// disk is merged into them. unsaved reports such edits that dirty no
// longer shows, in a save. The caller holds saveMu.
func (r *room) reload(p string, unsaved bool) (bool, error) {
	data, info, err := r.svc.opts.Files.Read(p)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.noteUnsavedLocked()
	r.modTime, r.fileSize = info.ModTime, len(data)
	if info.Hash == r.hash {
		return false, nil
	}
	dirty := r.dirty || unsaved
	if dirty {
		// The file may hold the doc as it is, written through the
		// contents API by a client that saved without the room.
		differs, err := r.differsFrom(data)
		if err == nil && !differs {
			r.adoptLocked(info.Hash)
			r.log.Info("file changed on disk to the document's content", "path", p)
			return false, nil
		}
	}
	if dirty && r.base != nil {
		// Edits not saved yet: merge the change made on disk into them.
		if err := r.mergeLocked(data, info.Hash); err != nil {
			return false, fmt.Errorf("merging the change on disk into %s: %w", p, err)
		}
		r.dirty = true
		if err := r.markTrustLocked(info); err != nil {
			return false, fmt.Errorf("marking the cells of %s trusted or not: %w", p, err)
		}
		r.log.Info("document merged with its file, which changed on disk", "path", p)
		r.svc.emit(sessionInfo, r.name, p, "overwrite",
			"The file changed on disk: the change is merged with the edits not saved yet.")
		return true, nil
	}
	r.doc.Transact(func(*yjs.Transaction) {
		if err = r.model.Set(r.doc, data); err == nil {
			err = r.markTrustLocked(info)
		}
		if err == nil {
			err = setState(r.doc, serverOrigin, stateHash, info.Hash, stateDirty, false)
		}
	}, serverOrigin)
	if err != nil {
		return false, fmt.Errorf("loading %s after it changed on disk: %w", p, err)
	}
	r.hash = info.Hash
	r.dirty = false
	r.base = packState(r.doc.EncodeStateAsUpdate(nil))
	r.recordFileLocked()
	r.log.Info("document reloaded: its file changed on disk", "path", p)
	r.svc.emit(sessionInfo, r.name, p, "overwrite",
		"The file changed on disk: the room now holds its content.")
	return true, nil
}

// adoptLocked records that the file, whose hash is hash, now holds the
// doc's content.
func (r *room) adoptLocked(hash string) {
	r.hash = hash
	r.dirty = false
	r.base = packState(r.doc.EncodeStateAsUpdate(nil))
	if err := setState(r.doc, serverOrigin, stateHash, hash, stateDirty, false); err != nil {
		r.log.Warn("state not updated", "err", err)
	}
	r.recordFileLocked()
}

// mergeLocked applies to the doc the change from r.base to the file
// content data, made by a client id of its own, so that the CRDT merges it
// with the edits made since base, and none of them is lost. The doc then
// holds both, which differs from the file, and stays dirty for the next
// save.
func (r *room) mergeLocked(data []byte, hash string) error {
	base, err := r.base.unpack()
	if err != nil {
		return err
	}
	scratch := yjs.NewDoc()
	if err := scratch.ApplyUpdate(base, nil); err != nil {
		return err
	}
	before := scratch.StateVector()
	if err := r.model.Set(scratch, data); err != nil {
		return err
	}
	if err := r.doc.ApplyUpdate(scratch.EncodeStateAsUpdate(before), serverOrigin); err != nil {
		return err
	}
	if err := setState(r.doc, serverOrigin, stateHash, hash, stateDirty, true); err != nil {
		return err
	}
	r.hash = hash
	r.base = packState(scratch.EncodeStateAsUpdate(nil))
	r.recordFileLocked()
	r.noteChangeLocked()
	return nil
}

// poll renews awareness, drops a first-sync cache that went unused, and
// loads the file when it changed on disk. It skips the file check while a
// save or reload holds saveMu.
func (r *room) poll() {
	r.mu.Lock()
	r.aw.Check(time.Now())
	r.relayRenewalsLocked()
	r.state.dropUnused()
	p, modTime := r.path, r.modTime
	isDoc := r.fileID != ""
	r.mu.Unlock()
	if !isDoc || !r.saveMu.TryLock() {
		return
	}
	defer r.saveMu.Unlock()
	info, err := r.svc.opts.Files.Stat(p)
	if err != nil {
		r.followFileID(p)
		return
	}
	if r.readOnly && info.Writable {
		// Made writable again (chmod, chattr), which leaves the
		// modification time as it was: save the edits the file lacks.
		r.readOnly = false
		r.mu.Lock()
		if r.dirty {
			r.noteChangeLocked()
		}
		r.mu.Unlock()
	}
	if info.ModTime.Equal(modTime) {
		return
	}
	if _, err := r.reload(p, false); err != nil {
		r.log.Warn("file changed on disk but not loaded", "path", p, "err", err)
	}
}

// followFileID moves the room to the path its file id now names, when the
// file at p is gone because a rename passed the room by, such as one made
// while the room was loading.
func (r *room) followFileID(p string) {
	now, err := r.svc.store.filePath(context.Background(), r.fileID)
	if err != nil || now == p {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.path != p {
		return
	}
	r.path = now
	if err := setState(r.doc, serverOrigin, statePath, now); err != nil {
		r.log.Warn("state path not updated", "err", err)
	}
	r.log.Info("room follows its file", "path", now)
}
