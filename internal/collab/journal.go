package collab

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// journalFileName is the journal of room updates beside the database.
const journalFileName = "jupygo_collaboration.journal"

// journalShrinkBytes is the size past which the journal is rewritten with
// only its records not yet committed. Under steady edits in many rooms,
// the writer never commits at a moment when every record is committed, so
// the file would otherwise never be emptied.
const journalShrinkBytes = 1 << 20

// maxJournalRecord bounds one record's room name and update when the
// journal is read back, so that a damaged length cannot make the reader
// allocate without bound. Messages are smaller (Options.MaxMessageBytes).
const maxJournalRecord = 1 << 30

// journal keeps each room update in a plain file from the moment the room
// applies it until the writer has committed it to SQLite. Appending is one
// write(2), which outlives a kill of the process, so the writer can gather
// updates for its commit window without losing them to a crash. When
// every update written has been committed, the file is emptied. A restart
// adds what the file holds to the histories before any room opens. An
// update committed before the kill then comes twice, which is harmless,
// because a Yjs doc applies an update it has as a no-op.
//
// A record is the room name and the update, each as a uvarint length and
// its bytes, and a CRC-32 (IEEE) of both, big-endian. A record cut short
// by the kill ends the journal, as does a damaged one or one without a
// room name.
type journal struct {
	log *slog.Logger

	path string
	mu   sync.Mutex
	f    *os.File
	fd   uintptr
	// pending counts the records written and not yet committed.
	pending int
	// size is the length of the file, from the records written to it.
	size int
	// shrinkLimit is the size past which the store shrinks the file,
	// journalShrinkBytes but in tests.
	shrinkLimit int
	// lastShrinkFailure is when shrinking last failed, to try again only
	// after resumeInterval.
	lastShrinkFailure time.Time
	buf               []byte
	// broken is set after a failed write or truncation. The journal stops,
	// and updates wait for the writer alone, until store.resumeJournalLocked
	// rewrites it.
	broken bool
	// lastResume is when the store last tried to start a stopped journal.
	lastResume time.Time
	// failures counts the failures that stopped the journal, so that only
	// the first is logged as an error.
	failures int
}

// journalRecord is one update read back from a journal.
type journalRecord struct {
	room   string
	update []byte
}

// openJournal opens the journal at path, creating it when missing, and
// returns the records it holds. A journal that another server holds open,
// one sharing the data folder, is an error: that server empties it as it
// commits its own updates.
func openJournal(path string, log *slog.Logger) (*journal, []journalRecord, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the update journal: %w", err)
	}
	// A device such as /dev/full, reached through a link, would be read
	// without end.
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is not a regular file", path)
		}
		return nil, nil, fmt.Errorf("opening the update journal: %w", err)
	}
	if err := lockJournal(f); err != nil {
		return nil, nil, err
	}
	records, err := readJournal(bufio.NewReader(f))
	if err != nil {
		log.Warn("update journal ends with a damaged record, which is dropped",
			"path", path, "records", len(records), "err", err)
	}
	j := &journal{log: log, path: path, f: f, fd: f.Fd(), size: int(info.Size()),
		shrinkLimit: journalShrinkBytes}
	return j, records, nil
}

// lockJournal locks the journal file f against a second server, and
// closes f when another server has the lock.
func lockJournal(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("locking the update journal %s, which another server may use: %w",
			f.Name(), err)
	}
	return nil
}

// readJournal returns the records of r up to its end or to the first
// record that is cut short or damaged, with an error for the latter.
func readJournal(r *bufio.Reader) ([]journalRecord, error) {
	var records []journalRecord
	for {
		room, err := readJournalField(r)
		if errors.Is(err, io.EOF) {
			return records, nil
		}
		if err != nil {
			return records, err
		}
		update, err := readJournalField(r)
		if err != nil {
			return records, noEOF(err)
		}
		var sum [4]byte
		if _, err := io.ReadFull(r, sum[:]); err != nil {
			return records, noEOF(err)
		}
		if recordSum(room, update) != binary.BigEndian.Uint32(sum[:]) {
			return records, errors.New("checksum mismatch")
		}
		// Zero bytes, as a file system may leave after a power loss, read
		// as a record of empty fields with a matching checksum. Rooms
		// have names.
		if len(room) == 0 {
			return records, errors.New("record with an empty room name")
		}
		records = append(records, journalRecord{string(room), update})
	}
}

// readJournalField reads one length-prefixed field. It returns io.EOF
// only when r ends before the field starts.
func readJournalField(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxJournalRecord {
		return nil, fmt.Errorf("record of %d bytes, more than %d", n, maxJournalRecord)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, noEOF(err)
	}
	return b, nil
}

// recordSum returns the checksum of a record's room name and update.
func recordSum(room, update []byte) uint32 {
	return crc32.Update(crc32.ChecksumIEEE(room), crc32.IEEETable, update)
}

// appendRecord appends the journal record of room and update to b.
func appendRecord(b []byte, room string, update []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(room)))
	b = append(b, room...)
	roomBytes := b[len(b)-len(room):]
	b = binary.AppendUvarint(b, uint64(len(update)))
	b = append(b, update...)
	return binary.BigEndian.AppendUint32(b, recordSum(roomBytes, update))
}

// noEOF turns the end of the file inside a record into an error of its own.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("record cut short")
	}
	return err
}

// append writes one record and reports whether it did. The caller queues
// the update for the writer after it, and the writer reports its commit
// with committed.
func (j *journal) append(room string, update []byte) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.appendLocked(room, update)
}

// appendLocked is append for a caller that holds mu.
func (j *journal) appendLocked(room string, update []byte) bool {
	if j.broken {
		return false
	}
	b := appendRecord(j.buf[:0], room, update)
	if cap(b) <= 64<<10 {
		j.buf = b
	}
	if err := j.write(b); err != nil {
		j.fail("writing the update journal failed", err)
		return false
	}
	j.pending++
	j.size += len(b)
	return true
}

// write appends b with raw system calls. A write to a file in the page
// cache returns within microseconds. In a profile, the runtime's handling
// of a system call that may block cost more than the write itself: it
// wakes the sysmon thread and may hand off the processor.
func (j *journal) write(b []byte) error { return writeRaw(j.fd, b) }

func writeRaw(fd uintptr, b []byte) error {
	for len(b) > 0 {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd,
			uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return errno
		}
		b = b[n:]
	}
	return nil
}

// committed records that n journaled updates were committed, and empties
// the file once no record is left uncommitted.
func (j *journal) committed(n int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.committedLocked(n)
}

// rewriteLocked replaces a stopped journal with one that contains records,
// starts it again, and reports whether it did. The caller holds mu.
func (j *journal) rewriteLocked(records []journalRecord) bool {
	if err := j.replaceLocked(records); err != nil {
		j.fail("writing the update journal failed again", err)
		return false
	}
	j.broken = false
	j.log.Info("update journal in use again", "path", j.path, "records", len(records))
	return true
}

// shrinkLocked replaces a journal past its shrink limit with one that
// contains records, the updates not yet committed. A failure leaves the
// journal as it was, which contains them too. The caller holds mu.
func (j *journal) shrinkLocked(records []journalRecord) {
	size := j.size
	if err := j.replaceLocked(records); err != nil {
		j.lastShrinkFailure = time.Now()
		j.log.Warn("shrinking the update journal failed: it keeps growing until every "+
			"update is committed", "path", j.path, "size", size, "err", err)
		return
	}
	j.log.Debug("update journal shrunk", "path", j.path, "size", size, "records", len(records))
}

// needsShrink reports whether the journal is past its shrink limit and
// the last failure to shrink it is resumeInterval old. The caller holds
// mu.
func (j *journal) needsShrink() bool {
	return !j.broken && j.pending > 0 && j.size >= j.shrinkLimit &&
		time.Since(j.lastShrinkFailure) >= resumeInterval
}

// replaceLocked writes records to a new file and renames it over the
// journal, so that a kill at any moment leaves a journal with every record
// that is not committed. The caller holds mu.
func (j *journal) replaceLocked(records []journalRecord) error {
	tmp := j.path + ".new"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("creating a new update journal: %w", err)
	}
	if err := lockJournal(f); err != nil {
		os.Remove(tmp)
		return err
	}
	b := j.buf[:0]
	for _, r := range records {
		b = appendRecord(b, r.room, r.update)
	}
	if err := writeRaw(f.Fd(), b); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing a new update journal: %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("replacing the update journal: %w", err)
	}
	j.f.Close()
	j.f, j.fd = f, f.Fd()
	j.pending, j.size = len(records), len(b)
	return nil
}

// committedLocked is committed for a caller that holds mu.
func (j *journal) committedLocked(n int) {
	if j.broken || n == 0 {
		return
	}
	j.pending -= n
	if j.pending > 0 {
		return
	}
	j.pending, j.size = 0, 0
	if err := j.f.Truncate(0); err != nil {
		j.fail("emptying the update journal failed", err)
		return
	}
	j.replaceRemovedLocked()
}

// replaceRemovedLocked opens a new journal file in place of the open one
// when that was removed, by hand or by a cleanup of the data folder: its
// records would be read by no start. It runs when no record is left
// uncommitted, so the new file needs none of the old one's.
func (j *journal) replaceRemovedLocked() {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(j.fd), &st); err != nil || st.Nlink > 0 {
		return
	}
	path := j.path
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err == nil {
		err = lockJournal(f)
	}
	if err != nil {
		j.fail("replacing the update journal, which was removed, failed", err)
		return
	}
	j.f.Close()
	j.f, j.fd = f, f.Fd()
	j.log.Warn("update journal was removed while the server ran: a new one replaces it", "path", path)
}

// fail stops the journal. What it holds stays for the next start, or
// until rewriteLocked replaces it.
func (j *journal) fail(msg string, err error) {
	j.broken = true
	j.failures++
	log := j.log.Error
	if j.failures > 1 {
		log = j.log.Warn
	}
	log(msg+": edits are committed to the database only, and a kill may lose the last ones",
		"path", j.path, "err", err)
}

// reset empties the file after its records were added to the database.
func (j *journal) reset() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.size = 0
	return j.f.Truncate(0)
}

func (j *journal) close() error {
	return j.f.Close()
}
