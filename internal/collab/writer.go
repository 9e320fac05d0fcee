package collab

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jupygo/jupygo/yjs"
)

// Room histories are written by one goroutine per store, the writer, so
// that a room relays an update without waiting for SQLite and without
// holding its lock during a write. Rooms queue writes. The writer takes
// everything queued and applies it in one transaction, in queue order, as
// soon as the previous transaction has committed. So under load the
// writes batch themselves, and with one edit at a time each is committed
// alone, a fraction of a millisecond after it was queued.
//
// A commit window makes the writer gather writes. A batch is committed
// once its first write has waited for the window. It is committed sooner
// when commitBytes of data are queued, when a caller waits for a queued
// write or a flush, and when the store closes. So updates typed one after
// another share a transaction, where each cost a commit of its own.
//
// An update is acknowledged once the writer has committed it. Only
// acknowledged updates survive a crash of the process. flush waits until
// every write queued before it is committed, and close commits what is
// queued before it closes the database.
//
// A batch that fails, as when the disk is full or another process holds
// the database's lock past the busy timeout, is rolled back and kept at the
// head of the queue. The writer tries it again after a delay that grows
// from retryMin to retryMax, with the writes queued since. So a history is
// always the rooms' updates up to some point, in order, with no gap. A
// history with a gap lacks items that later updates build on: a room loaded
// from it would show less than the saved file, and its next save would
// overwrite the file with that. A caller that waits for a write in a
// batch that fails gets the error, and the write stays queued. Updates are
// idempotent, so an append that reached the database in a batch whose
// commit failed may be stored twice, at no cost but its size.

// opKind is the kind of a queued history write.
type opKind int

const (
	// opAppend adds data to the room's history.
	opAppend opKind = iota
	// opReplace replaces the room's history by data.
	opReplace
	// opCompact merges the room's history into one update. The merge
	// runs on the writer, from the stored rows, so no room lock is held
	// while it runs. Updates queued meanwhile wait in the queue.
	// NOTE: a merge keeps the content of deleted items. Only a load,
	// which replaces a long history by the encoded doc, drops it.
	opCompact
	// opDelete removes the room's history and file hash.
	opDelete
	// opHash records hash as the hash of the room's file, and data as its
	// packed base state.
	opHash
	// opSave records hash and data as the hash and packed base state of the
	// file that a save is about to write. A restart that finds the file
	// with that hash takes it as the save's.
	opSave
	// opUnsaved marks the room as holding edits that its file lacks, and
	// opSaved removes the mark.
	opUnsaved
	opSaved
)

func (k opKind) String() string {
	return [...]string{"append", "replace", "compact", "delete", "hash", "save", "unsaved", "saved"}[k]
}

// writeOp is one queued write. done, when set, receives the write's
// error once its transaction has committed or failed.
type writeOp struct {
	kind opKind
	room string
	data []byte
	hash string
	done chan error
	// journaled is set for an append whose update the journal holds.
	journaled bool
}

// writer is the queue of a store's history writes. Its fields are guarded
// by mu.
type writer struct {
	mu sync.Mutex
	// cond is broadcast when handled grows or the writer stops.
	cond  sync.Cond
	queue []writeOp
	// queued and handled count the writes queued and handled so far.
	queued, handled uint64
	closing         bool
	stopped         bool
	// abandon makes the writer stop without handling the queue, as a
	// killed process would.
	abandon bool

	// window is how long the first write of a batch waits for others
	// before the batch is committed. Zero commits at once.
	window time.Duration
	// since is when the first write of the queue was queued, and bytes
	// the size of the queued data.
	since time.Time
	bytes int
	// waited is set while the queue holds a write that a caller waits
	// for, or that commitSoon marked, and flushes counts the flush calls
	// waiting. Both commit the queue without waiting for the window.
	waited  bool
	flushes int

	// failure is the error of the last batch when it failed, and nil once
	// a batch commits. retryAt is when the writer tries the queue again,
	// and retryDelay is the wait after the next failure.
	failure    error
	retryAt    time.Time
	retryDelay time.Duration

	// inflight counts the writes that the writer took and has not finished.
	inflight int

	wake chan struct{}
	done chan struct{}

	// hookForTest, when set, is called by the writer with "batch" before
	// it writes a batch, and with "compacting" during a compaction, after
	// it read the rows and before it replaces them.
	hookForTest atomic.Pointer[func(event string)]
}

func (w *writer) hook(event string) {
	if f := w.hookForTest.Load(); f != nil {
		(*f)(event)
	}
}

func (s *store) startWriter() {
	w := &s.w
	w.cond.L = &w.mu
	w.wake = make(chan struct{}, 1)
	w.done = make(chan struct{})
	go s.writeLoop()
}

// setCommitWindow sets the writer's commit window.
func (s *store) setCommitWindow(d time.Duration) {
	s.w.mu.Lock()
	s.w.window = d
	s.w.mu.Unlock()
}

// enqueue queues a write. Writes queued after close are dropped.
func (s *store) enqueue(op writeOp) {
	w := &s.w
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		s.log.Error("room history write after the database closed", "room", op.room, "op", op.kind)
		if op.done != nil {
			op.done <- errStoreClosed
		}
		return
	}
	first := len(w.queue) == 0
	if first {
		w.since = time.Now()
	}
	w.queue = append(w.queue, op)
	w.queued++
	w.bytes += len(op.data)
	w.waited = w.waited || op.done != nil
	// Within the window, the writer needs no wake-up for each write.
	signal := first || w.window == 0 || w.waited || w.bytes >= commitBytes
	w.mu.Unlock()
	if signal {
		w.signal()
	}
}

// commitBytes is the queued data that ends the commit window at once.
const commitBytes = 1 << 20

func (w *writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// commitSoon ends the commit window of the writes queued so far, without
// waiting for their commit.
func (s *store) commitSoon() {
	w := &s.w
	w.mu.Lock()
	urgent := len(w.queue) > 0
	w.waited = w.waited || urgent
	w.mu.Unlock()
	if urgent {
		w.signal()
	}
}

// flush waits until every write queued before it has been committed, and
// returns nil, or until the writer has stopped or fails to commit them,
// and returns why.
func (s *store) flush() error {
	w := &s.w
	w.mu.Lock()
	defer w.mu.Unlock()
	target := w.queued
	if w.handled < target && !w.stopped {
		w.flushes++
		defer func() { w.flushes-- }()
		w.signal()
	}
	for w.handled < target && !w.stopped && w.failure == nil {
		w.cond.Wait()
	}
	switch {
	case w.handled >= target:
		return nil
	case w.failure != nil:
		return w.failure
	}
	return errStoreClosed
}

// retryMin and retryMax bound the writer's wait before it tries a failed
// batch again.
const (
	retryMin = 250 * time.Millisecond
	retryMax = 2 * time.Second
)

// stopWriter stops the writer once it has handled the queue, or at once,
// dropping the queue, when abandon is set.
func (s *store) stopWriter(abandon bool) {
	w := &s.w
	w.mu.Lock()
	w.closing = true
	w.abandon = w.abandon || abandon
	w.mu.Unlock()
	w.signal()
	<-w.done
}

// take returns the queued writes and empties the queue, unless the batch
// should wait: then wait is how long, from now. stop reports that the
// writer should end.
func (w *writer) take(now time.Time) (ops []writeOp, wait time.Duration, stop bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.abandon {
		return nil, 0, true
	}
	var until time.Time
	switch {
	case len(w.queue) == 0 || w.closing:
	case w.failure != nil:
		// A failed batch is tried again at retryAt, whatever the window.
		until = w.retryAt
	case !w.waited && w.flushes == 0 && w.bytes < commitBytes:
		until = w.since.Add(w.window)
	}
	if wait := until.Sub(now); wait > 0 {
		return nil, wait, false
	}
	ops, w.queue = w.queue, nil
	w.bytes, w.waited = 0, false
	w.inflight = len(ops)
	return ops, 0, len(ops) == 0 && w.closing
}

// reject sends errStoreClosed to the callers waiting on ops, which were
// dropped.
func reject(ops []writeOp) {
	for _, op := range ops {
		if op.done != nil {
			op.done <- errStoreClosed
		}
	}
}

func (w *writer) abandoned() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.abandon
}

// unjournaled returns the updates of the appends of ops that the journal
// does not hold.
func unjournaled(ops []writeOp) []journalRecord {
	var records []journalRecord
	for _, op := range ops {
		if op.kind == opAppend && !op.journaled {
			records = append(records, journalRecord{op.room, op.data})
		}
	}
	return records
}

// spillLost writes the updates lost, which neither the database nor the
// journal holds as the store closes after the failure err, to a spill
// file, and logs where they went or that they are lost.
func (s *store) spillLost(lost []journalRecord, writes int, err error) {
	path, spillErr := s.spill(lost)
	if path == "" {
		s.log.Error("room history writes failed as the database closed: edits are lost, "+
			"because neither the database, the journal nor a spill file holds them",
			"lost_updates", len(lost), "writes", writes, "err", err, "spill_err", spillErr)
		return
	}
	attrs := []any{"spilled_updates", len(lost), "path", path, "writes", writes, "err", err}
	if spillErr != nil {
		attrs = append(attrs, "skipped", spillErr)
	}
	s.log.Error("room history writes failed as the database closed: the edits that the "+
		"journal lacks are kept in a spill file, which the next start on this data "+
		"folder adds", attrs...)
}

// finish counts the handled writes of a batch. When the batch failed with
// err, it puts the writes in kept back at the head of the queue, to try
// again after the retry delay, or drops them while the store closes. It
// returns the error of the batch before, and whether it dropped kept.
func (w *writer) finish(ops, kept []writeOp, err error) (before error, dropped bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	before = w.failure
	w.handled += uint64(len(ops) - len(kept))
	w.inflight = 0
	switch {
	case err == nil:
		w.failure, w.retryDelay = nil, 0
	case w.closing:
		// Close tries once more and then drops what fails.
		reject(kept)
		w.handled += uint64(len(kept))
		dropped = true
	default:
		w.failure = err
		w.retryDelay = min(max(2*w.retryDelay, retryMin), retryMax)
		w.retryAt = time.Now().Add(w.retryDelay)
		w.queue = append(kept, w.queue...)
		for _, op := range kept {
			w.bytes += len(op.data)
		}
	}
	w.cond.Broadcast()
	return before, dropped
}

func (s *store) writeLoop() {
	w := &s.w
	defer func() {
		w.mu.Lock()
		reject(w.queue)
		w.queue = nil
		w.stopped = true
		w.cond.Broadcast()
		w.mu.Unlock()
		close(w.done)
	}()
	window := time.NewTimer(time.Hour)
	window.Stop()
	for range w.wake {
		for {
			ops, wait, stop := w.take(time.Now())
			if stop {
				return
			}
			if wait > 0 {
				window.Reset(wait)
				select {
				case <-w.wake:
				case <-window.C:
				}
				window.Stop()
				continue
			}
			if len(ops) == 0 {
				break
			}
			w.hook("batch")
			if w.abandoned() {
				reject(ops)
				return
			}
			s.finishBatch(ops, s.writeBatch(ops))
			s.shrinkJournal()
		}
	}
}

// writeBatch applies ops in one transaction, and returns the error of the
// first write that failed, or of the commit, after which nothing of the
// batch is committed.
func (s *store) writeBatch(ops []writeOp) error {
	if len(ops) == 1 && ops[0].kind == opAppend {
		// A single append, the write of a room with one client typing, is
		// a statement of its own, which SQLite commits as a transaction. A
		// transaction of database/sql would cost a goroutine, and two more
		// round trips to SQLite.
		if _, err := s.insert.Exec(ops[0].room, ops[0].data); err != nil {
			return fmt.Errorf("storing update of room %s: %w", ops[0].room, err)
		}
		return nil
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("beginning room history writes: %w", err)
	}
	for _, op := range ops {
		if err := s.write(tx, op); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		return fmt.Errorf("committing room history writes: %w", err)
	}
	return nil
}

// finishBatch reports the outcome of the batch ops to the callers that
// wait and to the journal, and keeps a failed batch's other writes for the
// writer to try again.
func (s *store) finishBatch(ops []writeOp, err error) {
	if err == nil {
		s.journalCommitted(ops)
	}
	var kept []writeOp
	for _, op := range ops {
		if op.done != nil {
			op.done <- err
			// The caller has the error. A failed write stays queued all
			// the same, so that flush, which counts writes in queue
			// order, never passes one that is not committed.
			op.done = nil
		}
		if err != nil {
			kept = append(kept, op)
		}
	}
	before, dropped := s.w.finish(ops, kept, err)
	switch {
	case dropped:
		if lost := unjournaled(kept); len(lost) > 0 {
			s.spillLost(lost, len(kept), err)
		} else {
			s.log.Warn("room history writes failed as the database closed: the journal "+
				"keeps their updates for the next start", "writes", len(kept), "err", err)
		}
	case err != nil && before == nil:
		s.log.Error("room history writes failed: they wait to be tried again, saves fail "+
			"meanwhile, and a kill loses the edits the journal does not hold",
			"writes", len(ops), "err", err)
	case err != nil:
		s.log.Warn("room history writes failed again", "writes", len(ops), "err", err)
	case before != nil:
		s.log.Info("room history writes committed again after failing", "writes", len(ops))
	}
}

// journalCommitted reports to the journal that the journaled updates of
// ops are committed. A failed commit leaves them in the journal, for the next
// start to add.
func (s *store) journalCommitted(ops []writeOp) {
	if s.journal == nil {
		return
	}
	n := 0
	for _, op := range ops {
		if op.journaled {
			n++
		}
	}
	s.journal.committed(n)
}

// write applies one op inside tx.
func (s *store) write(tx *sql.Tx, op writeOp) error {
	switch op.kind {
	case opAppend:
		return s.appendTx(tx, op.room, op.data)
	case opReplace:
		return s.replaceTx(tx, op.room, op.data)
	case opCompact:
		return s.compactTx(tx, op.room)
	case opDelete:
		return deleteRoomTx(tx, op.room)
	case opHash:
		return setFileStateTx(tx, op.room, op.hash, op.data)
	case opSave:
		return beginSaveTx(tx, op.room, op.hash, op.data)
	case opUnsaved, opSaved:
		return markUnsavedTx(tx, op.room, op.kind == opUnsaved)
	}
	return fmt.Errorf("unknown history write %d", op.kind)
}

func (s *store) appendTx(tx *sql.Tx, room string, update []byte) error {
	if _, err := tx.Stmt(s.insert).Exec(room, update); err != nil {
		return fmt.Errorf("storing update of room %s: %w", room, err)
	}
	return nil
}

func (s *store) replaceTx(tx *sql.Tx, room string, update []byte) error {
	if _, err := tx.Exec(`DELETE FROM updates WHERE room = ?`, room); err != nil {
		return fmt.Errorf("replacing history of room %s: %w", room, err)
	}
	return s.appendTx(tx, room, update)
}

// compactTx merges the newest of the room's stored updates into one: the
// last one, and each before it that is no larger than those after it
// together. A merge takes time in proportion to its input, and most
// histories begin with the whole document, stored when the room loaded
// its file. That update joins a merge only once the edits after it add up
// to its size. Each row stays larger than the rows after it together, so
// the history keeps about log2(total size / smallest row) rows. An update
// that does not decode stops the merge and leaves the history as it is.
func (s *store) compactTx(tx *sql.Tx, room string) error {
	ctx := context.Background()
	seqs, sizes, err := historySizes(ctx, tx, room)
	if err != nil {
		return err
	}
	first := mergeStart(sizes)
	if len(sizes)-first < 2 {
		return nil
	}
	// Only the rows to merge are read: the first row, often the whole
	// document, is read only when it joins the merge.
	_, rows, err := readHistory(ctx, tx, room, seqs[first])
	if err != nil {
		return err
	}
	s.w.hook("compacting")
	merged, err := yjs.MergeUpdates(rows...)
	if err != nil {
		// Not an error of the batch, which would then fail at every try.
		s.log.Warn("room history not compacted", "room", room, "err", err)
		return nil
	}
	if _, err := tx.Exec(`DELETE FROM updates WHERE room = ? AND seq >= ?`, room, seqs[first]); err != nil {
		return fmt.Errorf("compacting history of room %s: %w", room, err)
	}
	return s.appendTx(tx, room, merged)
}

// mergeStart returns the index of the first of the updates, given their
// sizes, that compactTx merges: the last update, and each before it whose
// size is at most the total size of the updates after it.
func mergeStart(sizes []int) int {
	if len(sizes) == 0 {
		return 0
	}
	first := len(sizes) - 1
	total := sizes[first]
	for first > 0 && sizes[first-1] <= total {
		first--
		total += sizes[first]
	}
	return first
}

func deleteRoomTx(tx *sql.Tx, room string) error {
	if _, err := tx.Exec(`DELETE FROM updates WHERE room = ?`, room); err != nil {
		return fmt.Errorf("removing history of room %s: %w", room, err)
	}
	if _, err := tx.Exec(`DELETE FROM room_files WHERE room = ?`, room); err != nil {
		return fmt.Errorf("removing file hash of room %s: %w", room, err)
	}
	if _, err := tx.Exec(`DELETE FROM room_bases WHERE room = ?`, room); err != nil {
		return fmt.Errorf("removing base state of room %s: %w", room, err)
	}
	if _, err := tx.Exec(`DELETE FROM room_saves WHERE room = ?`, room); err != nil {
		return fmt.Errorf("removing the save under way of room %s: %w", room, err)
	}
	return markUnsavedTx(tx, room, false)
}

// markUnsavedTx marks the room as holding edits that its file lacks, or
// removes the mark.
func markUnsavedTx(tx *sql.Tx, room string, unsaved bool) error {
	query := `DELETE FROM room_unsaved WHERE room = ?`
	if unsaved {
		query = `INSERT INTO room_unsaved (room) VALUES (?) ON CONFLICT (room) DO NOTHING`
	}
	if _, err := tx.Exec(query, room); err != nil {
		return fmt.Errorf("updating the unsaved mark of room %s: %w", room, err)
	}
	return nil
}

// beginSaveTx records the hash and packed base state of the file that a
// room's save is about to write.
func beginSaveTx(tx *sql.Tx, room, hash string, base []byte) error {
	_, err := tx.Exec(`INSERT INTO room_saves (room, hash, base) VALUES (?, ?, ?)
		ON CONFLICT (room) DO UPDATE SET hash = excluded.hash, base = excluded.base`,
		room, hash, base)
	if err != nil {
		return fmt.Errorf("recording the save under way of room %s: %w", room, err)
	}
	return nil
}

// setFileStateTx records the hash of a room's file and its base state,
// packed, or removes the base state when base is nil. It ends the record
// of a save under way.
func setFileStateTx(tx *sql.Tx, room, hash string, base []byte) error {
	_, err := tx.Exec(`DELETE FROM room_saves WHERE room = ?`, room)
	if err == nil {
		_, err = tx.Exec(`INSERT INTO room_files (room, hash) VALUES (?, ?)
			ON CONFLICT (room) DO UPDATE SET hash = excluded.hash`, room, hash)
	}
	if err == nil && base == nil {
		_, err = tx.Exec(`DELETE FROM room_bases WHERE room = ?`, room)
	} else if err == nil {
		_, err = tx.Exec(`INSERT INTO room_bases (room, base) VALUES (?, ?)
			ON CONFLICT (room) DO UPDATE SET base = excluded.base`, room, base)
	}
	if err != nil {
		return fmt.Errorf("recording file state of room %s: %w", room, err)
	}
	return nil
}
