package collab

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
`

// store is the SQLite database of the collaboration service. It is safe
// for concurrent use: one connection serializes every statement.
type store struct {
	db *sql.DB
	// root is the root folder that file ids are recorded for, so that
	// servers of different folders can share one data folder.
	root string
}

// openStore opens or creates the database in dir.
func openStore(dir, root string) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data folder: %w", err)
	}
	path := filepath.Join(dir, dbFileName)
	dsn := "file://" + (&url.URL{Path: path}).EscapedPath() +
		fmt.Sprintf("?_busy_timeout=%d", sqliteBusyTimeout.Milliseconds()) +
		"&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"
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
	return &store{db: db, root: root}, nil
}

func (s *store) close() error { return s.db.Close() }

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

// appendUpdate adds an update to a room's history.
func (s *store) appendUpdate(room string, update []byte) error {
	_, err := s.db.Exec(`INSERT INTO updates (room, data) VALUES (?, ?)`, room, update)
	if err != nil {
		return fmt.Errorf("storing update of room %s: %w", room, err)
	}
	return nil
}

// updates returns a room's history, oldest first.
func (s *store) updates(ctx context.Context, room string) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM updates WHERE room = ? ORDER BY seq`, room)
	if err != nil {
		return nil, fmt.Errorf("reading history of room %s: %w", room, err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("reading history of room %s: %w", room, err)
		}
		out = append(out, data)
	}
	return out, rows.Err()
}

// replaceUpdates replaces a room's history by one update, in one
// transaction, so a crash leaves the old history or the new one.
func (s *store) replaceUpdates(room string, update []byte) error {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM updates WHERE room = ?`, room); err != nil {
		return fmt.Errorf("compacting room %s: %w", room, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO updates (room, data) VALUES (?, ?)`,
		room, update); err != nil {
		return fmt.Errorf("compacting room %s: %w", room, err)
	}
	return tx.Commit()
}

// fileHash returns the hash of the file as a room last read or wrote it,
// or "" when none is recorded.
func (s *store) fileHash(ctx context.Context, room string) (string, error) {
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT hash FROM room_files WHERE room = ?`, room).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading file hash of room %s: %w", room, err)
	}
	return hash, nil
}

// setFileHash records the hash of the file as a room read or wrote it.
func (s *store) setFileHash(room, hash string) error {
	_, err := s.db.Exec(`INSERT INTO room_files (room, hash) VALUES (?, ?)
		ON CONFLICT (room) DO UPDATE SET hash = excluded.hash`, room, hash)
	if err != nil {
		return fmt.Errorf("recording file hash of room %s: %w", room, err)
	}
	return nil
}

// deleteRoom removes a room's history and file hash.
func (s *store) deleteRoom(room string) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM updates WHERE room = ?`, room); err != nil {
		return fmt.Errorf("removing history of room %s: %w", room, err)
	}
	if _, err := tx.Exec(`DELETE FROM room_files WHERE room = ?`, room); err != nil {
		return fmt.Errorf("removing file hash of room %s: %w", room, err)
	}
	return tx.Commit()
}
