package collab

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// dbFileName is the SQLite file, in the data folder, that holds file ids,
// document sessions and room histories.
const dbFileName = "jupygo_collaboration.db"

// sqliteBusyTimeout is how long a connection waits for a lock that another
// process holds, such as a second server sharing the data folder.
const sqliteBusyTimeout = 10 * time.Second

const schema = `
CREATE TABLE IF NOT EXISTS file_ids (
	root TEXT NOT NULL,
	path TEXT NOT NULL,
	id   TEXT NOT NULL UNIQUE,
	PRIMARY KEY (root, path)
);
CREATE TABLE IF NOT EXISTS sessions (
	id         TEXT PRIMARY KEY,
	version    TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS updates (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT,
	room   TEXT NOT NULL,
	data   BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_room ON updates (room, seq);
CREATE TABLE IF NOT EXISTS room_files (
	room TEXT PRIMARY KEY,
	hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS room_bases (
	room TEXT PRIMARY KEY,
	base BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS room_saves (
	room TEXT PRIMARY KEY,
	hash TEXT NOT NULL,
	base BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS room_unsaved (
	room TEXT PRIMARY KEY
);
`

// store is the SQLite database of the collaboration service. It is safe
// for concurrent use: one connection serializes every statement. Writes
// to room histories go through the store's writer (writer.go).
type store struct {
	db *sql.DB
	// root is the root folder that file ids are recorded for, so that
	// servers of different folders can share one data folder.
	root string
	log  *slog.Logger
	// insert appends a row to the updates table.
	insert *sql.Stmt
	w      writer
	// journal holds the updates appended and not yet committed, or is
	// nil when it could not be opened.
	journal *journal
	// dir is the data folder, an absolute path, and spillDirs the
	// folders for its spill file (see spill.go).
	dir       string
	spillDirs []string
}

// openStore opens or creates the database in dir and starts its writer.
func openStore(dir, root string, log *slog.Logger) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data folder: %w", err)
	}
	// A relative path would read as the host of the file: URI below.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data folder %s: %w", dir, err)
	}
	path := filepath.Join(dir, dbFileName)
	// The page cache is 256 KiB, not SQLite's default 2 MiB. Rows are
	// written once and read once when a room opens, so a cache saves little.
	// SQLite kept a full one (3.4 MB of RSS) once a large notebook's history
	// was written.
	dsn := "file://" + (&url.URL{Path: path}).EscapedPath() +
		fmt.Sprintf("?_busy_timeout=%d", sqliteBusyTimeout.Milliseconds()) +
		"&_journal_mode=WAL&_synchronous=NORMAL&_cache_size=-256&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating tables in %s: %w", path, err)
	}
	insert, err := db.Prepare(`INSERT INTO updates (room, data) VALUES (?, ?)`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("preparing statements in %s: %w", path, err)
	}
	s := &store{db: db, root: root, log: log, insert: insert, dir: dir, spillDirs: spillFolders()}
	if err := s.openJournal(filepath.Join(dir, journalFileName)); err != nil {
		insert.Close()
		db.Close()
		return nil, err
	}
	s.startWriter()
	return s, nil
}

// openJournal opens the journal of updates and adds the updates it holds,
// which a killed server had not committed, to the rooms' histories, with
// those of the spill files that a stop left.
func (s *store) openJournal(path string) error {
	j, records, err := openJournal(path, s.log)
	if err != nil {
		s.log.Error("update journal not opened: a kill may lose the last edits", "err", err)
	}
	spilled, spills := s.readSpills()
	if err := s.addRecords(append(records, spilled...)); err != nil {
		if j != nil {
			j.close()
		}
		return fmt.Errorf("adding the update journal to the database: %w", err)
	}
	if len(records) > 0 {
		s.log.Info("added the updates of the journal to the rooms' histories",
			"updates", len(records))
	}
	for _, p := range spills {
		if err := os.Remove(p); err != nil {
			s.log.Error("spill file of edits from the last stop not removed: remove it by hand, "+
				"or the next start adds its edits again", "path", p, "err", err)
		}
	}
	if len(spills) > 0 {
		s.log.Info("added the edits kept in spill files at the last stop to the rooms' histories",
			"updates", len(spilled), "files", spills)
	}
	if j == nil {
		return nil
	}
	// Emptied even when it held no whole record: records appended behind a
	// damaged one would never be read back.
	if err := j.reset(); err != nil {
		j.close()
		return fmt.Errorf("emptying the update journal: %w", err)
	}
	s.journal = j
	return nil
}

// addRecords adds records to the rooms' histories in one transaction.
func (s *store) addRecords(records []journalRecord) error {
	if len(records) == 0 {
		return nil
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	for _, rec := range records {
		if _, err := tx.Stmt(s.insert).Exec(rec.room, rec.update); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func (s *store) close() error {
	s.stopWriter(false)
	s.insert.Close()
	if s.journal != nil {
		s.journal.close()
	}
	return s.db.Close()
}

// errUnknown is returned for a file id or path that has no record.
var errUnknown = errors.New("not indexed")

// indexPath returns the file id of path, creating one when the path has
// none; created reports whether it did.
func (s *store) indexPath(ctx context.Context, path string) (id string, created bool, err error) {
	id, err = s.fileID(ctx, path)
	if err == nil || !errors.Is(err, errUnknown) {
		return id, false, err
	}
	id = uuid.NewString()
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO file_ids (root, path, id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		s.root, path, id)
	if err != nil {
		return "", false, fmt.Errorf("indexing %s: %w", path, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Another request indexed it first.
		id, err = s.fileID(ctx, path)
		return id, false, err
	}
	return id, true, nil
}

// fileID returns the id of path, or an error wrapping errUnknown.
func (s *store) fileID(ctx context.Context, path string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx,
		`SELECT id FROM file_ids WHERE root = ? AND path = ?`, s.root, path).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("path %s: %w", path, errUnknown)
	}
	if err != nil {
		return "", fmt.Errorf("looking up the id of %s: %w", path, err)
	}
	return id, nil
}

// filePath returns the path of id, or an error wrapping errUnknown.
func (s *store) filePath(ctx context.Context, id string) (string, error) {
	var path string
	err := s.db.QueryRowContext(ctx,
		`SELECT path FROM file_ids WHERE root = ? AND id = ?`, s.root, id).Scan(&path)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("file id %s: %w", id, errUnknown)
	}
	if err != nil {
		return "", fmt.Errorf("looking up file id %s: %w", id, err)
	}
	return path, nil
}

// movePaths gives the ids of oldPath and of everything below it the
// paths at newPath. Records at newPath, left by a file deleted outside
// the contents API, are dropped first.
func (s *store) movePaths(ctx context.Context, oldPath, newPath string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM file_ids WHERE root = ?1 AND `+underPath,
		s.root, newPath, newPath+"/"); err != nil {
		return fmt.Errorf("moving file ids to %s: %w", newPath, err)
	}
	// substr and length count characters, so the prefix is cut whole
	// whatever the path's script.
	_, err = tx.ExecContext(ctx, `UPDATE file_ids SET path = ?4 || substr(path, length(?2) + 1)
		WHERE root = ?1 AND `+underPath, s.root, oldPath, oldPath+"/", newPath)
	if err != nil {
		return fmt.Errorf("moving file ids from %s to %s: %w", oldPath, newPath, err)
	}
	return tx.Commit()
}

// underPath matches the rows of a path (parameter 2) and of everything
// below it (parameter 3, the path with a slash appended).
const underPath = `(path = ?2 OR substr(path, 1, length(?3)) = ?3)`

// deletePaths removes the ids of path and of everything below it.
func (s *store) deletePaths(ctx context.Context, path string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM file_ids WHERE root = ?1 AND `+underPath,
		s.root, path, path+"/")
	if err != nil {
		return fmt.Errorf("removing file ids of %s: %w", path, err)
	}
	return nil
}

// maxSessions is how many document sessions are remembered: a client
// that reconnects with one of them keeps its document without a reload,
// as jupyter-collaboration 4.3 and later keep the last 10.
const maxSessions = 10

// addSession records the session id of this server process.
func (s *store) addSession(ctx context.Context, id, version string, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, version, created_at)
		VALUES (?, ?, ?)`, id, version, now.UnixNano()); err != nil {
		return fmt.Errorf("recording session: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id NOT IN
		(SELECT id FROM sessions ORDER BY created_at DESC LIMIT ?)`, maxSessions); err != nil {
		return fmt.Errorf("dropping old sessions: %w", err)
	}
	return tx.Commit()
}

// sessionVersion returns the version recorded for session id; ok is false
// for an unknown session.
func (s *store) sessionVersion(ctx context.Context, id string) (version string, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT version FROM sessions WHERE id = ?`, id).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("looking up session: %w", err)
	}
	return version, true, nil
}

// appendUpdate queues an update for the room's history.
func (s *store) appendUpdate(room string, update []byte) {
	j := s.journal
	if j == nil {
		s.enqueue(writeOp{kind: opAppend, room: room, data: update})
		return
	}
	// The journal's lock covers the queueing too, so that no update left
	// out of the journal is between the check below and its queueing.
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.broken && time.Since(j.lastResume) >= resumeInterval {
		j.lastResume = time.Now()
		s.resumeJournalLocked()
	}
	journaled := j.appendLocked(room, update)
	s.enqueue(writeOp{kind: opAppend, room: room, data: update, journaled: journaled})
}

// resumeJournalLocked starts a journal stopped by a failure, such as a full
// disk, again. It writes a new file that holds every update queued and not
// committed, so the file and the database together hold every update, in
// order. That needs the writer idle: a batch it took is neither in the
// queue nor committed. The caller holds the journal's lock, so nothing is
// queued meanwhile.
func (s *store) resumeJournalLocked() {
	w := &s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight > 0 {
		return
	}
	if !s.journal.rewriteLocked(queuedAppends(w.queue)) {
		return
	}
	for i := range w.queue {
		if w.queue[i].kind == opAppend {
			w.queue[i].journaled = true
		}
	}
}

// queuedAppends returns the updates of the appends in queue, in order.
func queuedAppends(queue []writeOp) []journalRecord {
	var records []journalRecord
	for _, op := range queue {
		if op.kind == opAppend {
			records = append(records, journalRecord{op.room, op.data})
		}
	}
	return records
}

// shrinkJournal rewrites a journal past its shrink limit with the updates
// still queued, once the writer has finished a batch. While the journal
// runs, every queued append is journaled, and every journaled update not
// committed is queued.
func (s *store) shrinkJournal() {
	j := s.journal
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.needsShrink() {
		return
	}
	w := &s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight > 0 {
		return
	}
	j.shrinkLocked(queuedAppends(w.queue))
}

// resumeInterval bounds how often a stopped journal tries to start again.
const resumeInterval = time.Second

// replaceUpdates queues the replacement of a room's history by one
// update. The writer replaces it in one transaction, so a crash leaves
// the old history or the new one.
func (s *store) replaceUpdates(room string, update []byte) {
	s.enqueue(writeOp{kind: opReplace, room: room, data: update})
}

// compact queues the merge of a room's history into one update.
func (s *store) compact(room string) {
	s.enqueue(writeOp{kind: opCompact, room: room})
}

// updates returns a room's history, oldest first, once the writes queued
// before the call are committed. While they fail it returns the error: the
// database lacks some of them.
func (s *store) updates(ctx context.Context, room string) ([][]byte, error) {
	if err := s.flush(); err != nil {
		return nil, fmt.Errorf("reading history of room %s: writes before it not committed: %w", room, err)
	}
	return readUpdates(ctx, s.db, room)
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readUpdates(ctx context.Context, q queryer, room string) ([][]byte, error) {
	_, data, err := readHistory(ctx, q, room, 0)
	return data, err
}

// readHistory returns the sequence numbers and data of a room's stored
// updates whose sequence numbers are at least from, in order.
func readHistory(ctx context.Context, q queryer, room string, from int64) ([]int64, [][]byte, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, data FROM updates WHERE room = ? AND seq >= ?
		ORDER BY seq`, room, from)
	if err != nil {
		return nil, nil, fmt.Errorf("reading history of room %s: %w", room, err)
	}
	defer rows.Close()
	var seqs []int64
	var data [][]byte
	for rows.Next() {
		var seq int64
		var d []byte
		if err := rows.Scan(&seq, &d); err != nil {
			return nil, nil, fmt.Errorf("reading history of room %s: %w", room, err)
		}
		seqs, data = append(seqs, seq), append(data, d)
	}
	return seqs, data, rows.Err()
}

// historySizes returns the sequence numbers and sizes of a room's stored
// updates, in order, without reading their data.
func historySizes(ctx context.Context, q queryer, room string) ([]int64, []int, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, length(data) FROM updates WHERE room = ?
		ORDER BY seq`, room)
	if err != nil {
		return nil, nil, fmt.Errorf("reading history sizes of room %s: %w", room, err)
	}
	defer rows.Close()
	var seqs []int64
	var sizes []int
	for rows.Next() {
		var seq int64
		var size int
		if err := rows.Scan(&seq, &size); err != nil {
			return nil, nil, fmt.Errorf("reading history sizes of room %s: %w", room, err)
		}
		seqs, sizes = append(seqs, seq), append(sizes, size)
	}
	return seqs, sizes, rows.Err()
}

// fileState returns the hash of the file as a room last read or wrote it,
// or "" when none is recorded, and the room's base state then, or nil.
func (s *store) fileState(ctx context.Context, room string) (string, packedState, error) {
	var hash string
	var base []byte
	err := s.db.QueryRowContext(ctx, `SELECT f.hash, b.base FROM room_files f
		LEFT JOIN room_bases b ON b.room = f.room WHERE f.room = ?`, room).Scan(&hash, &base)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading file state of room %s: %w", room, err)
	}
	return hash, packedState(base), nil
}

// setFileState queues the record of the hash of the file as a room read
// or wrote it, and of the room's base state then, or none when base is nil.
func (s *store) setFileState(room, hash string, base packedState) {
	s.enqueue(writeOp{kind: opHash, room: room, hash: hash, data: base})
}

// savingState returns the hash and base state of the file that a room's
// save was about to write when the room last recorded its file, or "" and
// nil when no save was under way.
func (s *store) savingState(ctx context.Context, room string) (string, packedState, error) {
	var hash string
	var base []byte
	err := s.db.QueryRowContext(ctx, `SELECT hash, base FROM room_saves WHERE room = ?`,
		room).Scan(&hash, &base)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("reading the save under way of room %s: %w", room, err)
	}
	return hash, packedState(base), nil
}

// beginSave queues the record of the hash and base state of the file that
// a room's save is about to write, which the next setFileState clears.
func (s *store) beginSave(room, hash string, base packedState) {
	s.enqueue(writeOp{kind: opSave, room: room, hash: hash, data: base})
}

// markUnsaved queues the record of whether a room holds edits that its
// file lacks and autosave is to write. A room's mark outlives the room,
// and the process: the service opens the rooms marked when it starts, to
// save their edits (Service.sweepOwed).
func (s *store) markUnsaved(room string, unsaved bool) {
	kind := opSaved
	if unsaved {
		kind = opUnsaved
	}
	s.enqueue(writeOp{kind: kind, room: room})
	// A kill within the commit window would lose the mark, while the
	// journal keeps the edit.
	s.commitSoon()
}

// unsavedRooms returns the rooms marked as holding edits that their files
// lack.
func (s *store) unsavedRooms(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT room FROM room_unsaved ORDER BY room`)
	if err != nil {
		return nil, fmt.Errorf("reading the rooms with unsaved edits: %w", err)
	}
	defer rows.Close()
	var rooms []string
	for rows.Next() {
		var room string
		if err := rows.Scan(&room); err != nil {
			return nil, fmt.Errorf("reading the rooms with unsaved edits: %w", err)
		}
		rooms = append(rooms, room)
	}
	return rooms, rows.Err()
}

// deleteRoom removes a room's history and file hash, and returns once the
// removal is committed.
func (s *store) deleteRoom(room string) error {
	done := make(chan error, 1)
	s.enqueue(writeOp{kind: opDelete, room: room, done: done})
	return <-done
}

// errStoreClosed is returned for a write queued after the store closed.
var errStoreClosed = errors.New("collaboration database closed")
