package collab

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/wsconn"
	"github.com/jupygo/jupygo/internal/ydoc"
)

// Close codes of room sockets beyond those of RFC 6455, as
// jupyter-collaboration 4.3 and later send them when loading a document
// fails with an HTTP error.
const (
	statusNotFound    websocket.StatusCode = 4404
	statusBadRequest  websocket.StatusCode = 4400
	statusServerError websocket.StatusCode = 4500
)

// maxCloseReason is the longest close reason a close frame can carry.
const maxCloseReason = 123

// writeTimeout bounds the write of one frame. A client that reads nothing
// for that long is disconnected, which frees its connection.
const writeTimeout = 30 * time.Second

// A connection may have sendQueue frames or sendQueueBytes bytes waiting.
// A client that falls further behind is closed with 1013 and reconnects,
// which costs it a new sync of the whole document. Most frames are single
// keystrokes of a few dozen bytes, while a client that applies a large
// document's first sync reads nothing for a while, so the bound is mostly
// on bytes.
const (
	sendQueue      = 16384
	sendQueueBytes = 32 << 20
)

// maxDirectBytes bounds the frames that send writes itself. A larger one,
// such as a first sync, goes to the writer goroutine, which writes it
// without the room's lock held.
const maxDirectBytes = 64 << 10

// conn is one client's WebSocket to a room. A frame to send is written at
// once by the goroutine that sends it, when the connection is idle: nothing
// queued, no write in progress, and the socket takes the bytes without
// waiting. Otherwise it waits in a queue, which a writer goroutine drains.
// A write that never waits keeps the room's fan-out of an edit on the
// goroutine that applied it, where a hand-off to one writer goroutine per
// client cost a scheduler wake-up per client and edit. The queue is a slice
// rather than a channel because a channel's buffer of sendQueue frames is
// allocated whole: 384 KiB for each connection, most of them idle.
type conn struct {
	ws *websocket.Conn
	// tcp is the connection under ws, for the writes that never wait, or
	// nil when it has no descriptor for them (TLS).
	tcp *wsconn.Conn

	qmu sync.Mutex
	// queue holds the frames to send and queued their bytes. Guarded by
	// qmu.
	queue  [][]byte
	queued int64
	// writing is set while the writer goroutine writes frames it took
	// from the queue, until a take finds the queue empty, and for good
	// once the writer has begun to close the connection. While it is set,
	// frames are queued. Guarded by qmu.
	writing bool
	// wake signals the writer that the queue has frames, or that a direct
	// write left bytes pending or failed.
	wake chan struct{}
	// stall closes the WebSocket when a write takes longer than
	// writeTimeout. One timer, reset for each write, costs less than a
	// context with a deadline per write, on which coder/websocket 1.8
	// also registers a callback.
	stall *time.Timer
	// timeout is the stall timer's duration, writeTimeout unless a test
	// sets it before the writer starts.
	timeout time.Duration

	closeOnce sync.Once
	closed    chan struct{}
	code      websocket.StatusCode
	reason    string

	// awareness is the awareness client ids this connection introduced,
	// which are removed when it closes. Guarded by the room's mu.
	awareness map[uint64]bool
}

// newConn returns the conn of ws, whose TCP connection is tcp or nil.
func newConn(ws *websocket.Conn, tcp *wsconn.Conn) *conn {
	c := &conn{ws: ws, tcp: tcp, wake: make(chan struct{}, 1), closed: make(chan struct{}),
		awareness: map[uint64]bool{}, timeout: writeTimeout}
	c.stall = time.AfterFunc(time.Hour, func() { ws.CloseNow() })
	c.stall.Stop()
	return c
}

// send writes a frame at once when the connection is idle, or queues it.
// A connection whose queue is full is closed.
func (c *conn) send(frame []byte) { c.sendWire(frame, nil) }

// sendWire is send with the frame's bytes on the wire, as wireFrame
// returns them, or nil to build them when they are needed. A room encodes
// an update's frame once for all its clients.
func (c *conn) sendWire(frame, wire []byte) {
	select {
	case <-c.closed:
		return
	default:
	}
	c.qmu.Lock()
	if c.writeDirectLocked(frame, wire) {
		c.qmu.Unlock()
		return
	}
	// A frame larger than the byte bound, such as the first sync of a
	// large document, is accepted when nothing else waits.
	full := (len(c.queue) > 0 && c.queued+int64(len(frame)) > sendQueueBytes) || len(c.queue) >= sendQueue
	if !full {
		c.queue = append(c.queue, frame)
		c.queued += int64(len(frame))
	}
	c.qmu.Unlock()
	if full {
		c.close(websocket.StatusTryAgainLater, "client too slow: reconnect to sync again")
		return
	}
	c.signal()
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// writeDirectLocked writes frame with a write that never waits, when
// nothing is queued before it, the writer is idle and frame is small, and
// reports whether it did. The bytes the socket does not take at once stay
// pending in tcp for the writer. A failed write reports false, so frame is
// queued, and wakes the writer, whose flush then fails and ends the
// connection. The caller holds qmu, so the writer does not take the queue
// meanwhile.
//
// The frame's bytes go to tcp without the WebSocket library, which would
// take two locks and copy them into its buffer for each client. That is
// safe because the library writes to tcp only from the writer, which is
// idle, and for the control frames it answers itself (pong, the reply to a
// close). Those fit its buffer, so each reaches tcp in one Write, which
// tcp orders with this one.
// NOTE: a frame written here after the library replied to a client's close
// frame, before the room removed the client, breaks RFC 6455 on a
// connection that is closing anyway.
func (c *conn) writeDirectLocked(frame, wire []byte) bool {
	if c.tcp == nil || c.writing || len(c.queue) > 0 || len(frame) > maxDirectBytes {
		return false
	}
	if !c.tcp.BeginDirect() {
		return false
	}
	if wire == nil {
		wire = wireFrame(frame)
	}
	_, err := c.tcp.Write(wire)
	if c.tcp.EndDirect() {
		c.signal()
	}
	return err == nil
}

// wireFrame returns the bytes of an unmasked, final binary WebSocket
// frame, as a server sends it (RFC 6455 section 5.2), carrying payload.
func wireFrame(payload []byte) []byte {
	n := len(payload)
	var b []byte
	switch {
	case n < 126:
		b = append(make([]byte, 0, 2+n), 0x82, byte(n))
	case n <= 0xffff:
		b = append(make([]byte, 0, 4+n), 0x82, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(make([]byte, 0, 10+n), 0x82, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// take returns the queued frames and empties the queue, keeping spare as
// the next queue's storage. Until a take finds the queue empty, the writer
// is writing and send queues frames behind those taken. A final take marks
// the writer writing for good, so that nothing is written directly after
// the frames it returns.
func (c *conn) take(spare [][]byte, final bool) [][]byte {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	frames := c.queue
	c.queue, c.queued = spare[:0], 0
	c.writing = final || len(frames) > 0
	return frames
}

// close makes the writer close the WebSocket with code and reason once
// the frames queued before it are sent. Only the first call counts.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		c.code, c.reason = code, truncateReason(reason)
		close(c.closed)
	})
}

// writeLoop sends what direct writes left pending and the queued frames
// until the connection is closed, then sends what is left and the close
// frame. Writes end with an error when the stall timer closes the
// connection, not when ctx ends.
func (c *conn) writeLoop(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	defer c.stall.Stop()
	var spare [][]byte
	for {
		closing := false
		select {
		case <-c.wake:
		case <-c.closed:
			closing = true
		}
		var ok bool
		if spare, ok = c.writeQueue(ctx, spare, closing); !ok {
			c.close(websocket.StatusGoingAway, "")
			c.ws.CloseNow()
			return
		}
		if closing {
			c.ws.Close(c.code, c.reason)
			return
		}
	}
}

// writeQueue flushes the bytes that direct writes left pending, then writes
// the queued frames until a take finds the queue empty. It returns the
// storage of the last frames taken, for reuse, and reports false when a
// write failed. With final set, the takes are final.
func (c *conn) writeQueue(ctx context.Context, spare [][]byte, final bool) ([][]byte, bool) {
	for {
		if c.flush() != nil {
			return spare, false
		}
		frames := c.take(spare, final)
		if len(frames) == 0 {
			return frames, true
		}
		for i, frame := range frames {
			frames[i] = nil
			if c.write(ctx, frame) != nil {
				return frames, false
			}
		}
		spare = frames
	}
}

// flush writes the bytes that direct writes left pending.
func (c *conn) flush() error {
	if c.tcp == nil {
		return nil
	}
	c.stall.Reset(c.timeout)
	err := c.tcp.Flush()
	c.stall.Stop()
	return err
}

func (c *conn) write(ctx context.Context, frame []byte) error {
	c.stall.Reset(c.timeout)
	err := c.ws.Write(ctx, websocket.MessageBinary, frame)
	c.stall.Stop()
	return err
}

// truncateReason cuts a close reason to what a close frame can carry, at
// a character boundary.
func truncateReason(s string) string {
	if len(s) <= maxCloseReason {
		return s
	}
	// Cut at the last space that leaves room for the ellipsis.
	s = s[:maxCloseReason-len("…")]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	if i := strings.LastIndexByte(s, ' '); i > maxCloseReason/2 {
		s = s[:i]
	}
	return s + "…"
}

// deletedCloseReason is the close reason for the clients of a document
// whose file was deleted: @jupyter/docprovider 5 shows errorReason in a
// dialog and stops reconnecting, where a 4404 would make it retry.
var deletedCloseReason = func() string {
	b, _ := json.Marshal(map[string]any{"reason": "initialization_error", "reloadable": false,
		"errorReason": "This file was deleted on the server. Close this tab."})
	return string(b)
}()

// refusedCloseReason returns the close status and reason for a client
// whose change the room refused, such as one over the message size limit.
// @jupyter/docprovider 5 shows errorReason in a dialog, and stops
// reconnecting, where with 1009 it would reconnect and send the change
// again, in a loop that saves nothing.
func refusedCloseReason(msg string) (websocket.StatusCode, string) {
	encode := func(msg string) string {
		b, _ := json.Marshal(map[string]any{"reason": "initialization_error", "reloadable": false,
			"errorReason": msg})
		return string(b)
	}
	reason := encode(msg)
	if excess := len(reason) - maxCloseReason; excess > 0 {
		// Cut the message, not the JSON, at a character boundary.
		cut := max(0, len(msg)-excess-len("…"))
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		reason = encode(msg[:cut] + "…")
	}
	return websocket.StatusUnsupportedData, reason
}

// sizeText writes n bytes in MiB when n is a whole number of MiB, and in
// bytes otherwise.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// sessionCloseReason returns the JSON close reason of a rejected session,
// as @jupyter/docprovider 5 parses it.
func sessionCloseReason(reason, sessionID string) string {
	b, _ := json.Marshal(map[string]any{"reason": reason, "sessionId": sessionID, "reloadable": true})
	if len(b) > maxCloseReason {
		b, _ = json.Marshal(map[string]any{"reason": reason, "sessionId": "", "reloadable": true})
	}
	return string(b)
}

// roomKind splits a room name. Names with at least two colons, such as
// "text:file:<file id>", name a document. Others, such as
// "JupyterLab:globalAwareness", name a transient room that only relays
// awareness.
func roomKind(name string) (format, docType, fileID string, isDoc bool) {
	parts := strings.SplitN(name, ":", 3)
	if len(parts) < 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// serveRoom serves the WebSocket of a room.
func (s *Service) serveRoom(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("room")
	format, docType, _, isDoc := roomKind(name)
	if err := s.available(); err != nil {
		w.Header().Set("Retry-After", strconv.Itoa(int(storeRetry.Seconds())))
		httpapi.WriteError(s.log, w, r, err)
		return
	}
	if !s.trackSocket() {
		httpapi.WriteError(s.log, w, r,
			httpapi.Errorf(http.StatusServiceUnavailable, "server is shutting down"))
		return
	}
	defer s.sockets.Done()

	if isDoc {
		if err := checkFormat(format, docType); err != nil {
			httpapi.WriteError(s.log, w, r, err)
			return
		}
		if err := s.recentFailure(name); err != nil {
			s.log.Debug("room not opened: it failed moments ago", "room", name, "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(int(rejectMemory.Seconds())))
			httpapi.WriteError(s.log, w, r, err)
			return
		}
	}
	fits := s.makeRoomFor(r.Context(), name)
	var rejected rejectKind
	if !fits {
		rejected = s.noteRejection(name)
	}
	if !fits && rejected == rejectUpgrade {
		s.log.Info("room not opened", "room", name, "err", errTooManyRooms)
		w.Header().Set("Retry-After", "2")
		httpapi.WriteError(s.log, w, r, httpapi.Errorf(http.StatusServiceUnavailable,
			"too many open documents: try again later"))
		return
	}

	// The server checks the Origin of upgrades before the mux.
	ws, tcp, err := wsconn.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true},
		s.opts.MaxMessageBytes, true)
	if err != nil {
		s.log.Info("room WebSocket upgrade failed", "room", name, "err", err)
		return
	}
	c := newConn(ws, tcp)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var writer sync.WaitGroup
	writer.Go(func() { c.writeLoop(ctx) })
	defer writer.Wait()

	if isDoc {
		if reason := s.checkSession(r.Context(), r.URL.Query().Get("sessionId")); reason != "" {
			c.close(websocket.StatusUnsupportedData, reason)
			return
		}
	}
	rm, err := s.joinRoom(r.Context(), name, c)
	if err != nil {
		code, reason := loadErrorClose(err, name, docType)
		if !fits && rejected == rejectLoad && errors.Is(err, errTooManyRooms) {
			code, reason = statusServerError, tooManyRoomsText
		}
		s.log.Info("room not opened", "room", name, "err", err)
		if isDoc && !errors.Is(err, errTooManyRooms) {
			s.noteFailure(name, err)
		}
		c.close(code, reason)
		return
	}
	s.log.Debug("room client joined", "room", name)
	go func() {
		// Unblocks the reader when the room or a slow send closes c.
		select {
		case <-c.closed:
			writer.Wait()
			ws.CloseNow()
		case <-ctx.Done():
		}
	}()
	rm.readLoop(ctx, c)
	rm.leave(c)
	c.close(websocket.StatusNormalClosure, "")
	if c.code != websocket.StatusNormalClosure {
		s.log.Info("room client disconnected", "room", name, "code", int(c.code), "reason", c.reason)
	} else {
		s.log.Debug("room client left", "room", name)
	}
}

// rejectKind is the kind of rejection of a client of a room that has no
// place to open.
type rejectKind int

const (
	// rejectWithReason accepts the WebSocket and closes it with 1003 and
	// a reason, which JupyterLab shows in a dialog.
	rejectWithReason rejectKind = iota
	// rejectLoad accepts the WebSocket and closes it with 4500, on which
	// JupyterLab closes the document's tab.
	rejectLoad
	// rejectUpgrade responds to the upgrade request with 503.
	rejectUpgrade
)

// noteRejection returns the kind of rejection for a client of the room
// name, which has no place to open, and records it.
//
// A JupyterLab document client closed with 1003 shows the reason in a
// dialog, and stops once the user dismisses it. Meanwhile y-websocket
// reconnects after 100 ms, and each retry closed with 1003 would add a
// dialog. One closed with 4500 before the first sync makes the client
// stop, and close the document's tab, which would otherwise stay open,
// empty, and take typing that reaches no one. JupyterLab then shows a
// load error of its own, with a text for 4500 that it does not take from
// the server. So the first client of a
// document room gets 1003, the next one within rejectMemory gets 4500, and
// the rest get 503 before the upgrade, on which y-websocket backs off up
// to 2.5 s. Transient rooms always get 503: no user opened them.
func (s *Service) noteRejection(name string) rejectKind {
	if _, _, _, isDoc := roomKind(name); !isDoc {
		return rejectUpgrade
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	dropExpired(s.rejected, now, func(r rejection) time.Time { return r.at })
	r := s.rejected[name]
	s.rejected[name] = rejection{at: now, count: r.count + 1}
	return min(rejectKind(r.count), rejectUpgrade)
}

// rejection records the rejections of a room's clients: the time of the
// last one, and how many came within rejectMemory of each other.
type rejection struct {
	at    time.Time
	count int
}

// rejectMemory is how long the refusal of a document room is remembered.
// It is longer than the longest wait between a client's retries.
const rejectMemory = 10 * time.Second

// noteFailure records that the document room name failed to open with
// err, or that its file was deleted.
//
// A JupyterLab client that had the document open reconnects 100 ms after
// each connection that opened and closed, whatever the close code, and
// backs off up to 2.5 s only after connections that did not open. So
// recentFailure refuses its retries within rejectMemory with the HTTP
// status before the upgrade, where each would otherwise load the room
// again, up to ten times a second. A client that opens the document anew
// requests a session first, which clears the failure, so it gets the
// close code that closes its tab.
func (s *Service) noteFailure(name string, err error) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	dropExpired(s.failed, now, func(f failure) time.Time { return f.at })
	s.failed[name] = failure{at: now, err: err}
}

// dropExpired deletes the entries of m whose time, given by at, is more
// than rejectMemory before now.
func dropExpired[V any](m map[string]V, now time.Time, at func(V) time.Time) {
	for k, v := range m {
		if now.Sub(at(v)) > rejectMemory {
			delete(m, k)
		}
	}
}

// failure is a document room's failure to open, and its time.
type failure struct {
	at  time.Time
	err error
}

// recentFailure returns the error of the room's failure to open within
// rejectMemory, with the HTTP status of a contents error, or nil.
func (s *Service) recentFailure(name string) error {
	s.mu.Lock()
	f, ok := s.failed[name]
	s.mu.Unlock()
	if !ok || time.Since(f.at) > rejectMemory {
		return nil
	}
	var he *httpapi.Error
	if errors.As(f.err, &he) {
		return f.err
	}
	return httpapi.Errorf(http.StatusInternalServerError, "%v", f.err)
}

// forgetFailures removes the recorded failures of the rooms of fileID.
func (s *Service) forgetFailures(fileID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range s.failed {
		if _, _, id, _ := roomKind(name); id == fileID {
			delete(s.failed, name)
		}
	}
}

// checkFormat returns a 400 error unless format is the one in which
// JupyterLab shares documents of docType: json for notebooks, base64 for
// blobs and text for the rest. Rooms of other formats would be more rooms
// on the same file, each saving it.
func checkFormat(format, docType string) error {
	want := "text"
	switch docType {
	case ydoc.TypeNotebook:
		want = "json"
	case ydoc.TypeBlob:
		want = "base64"
	}
	if format != want {
		return httpapi.Errorf(http.StatusBadRequest,
			"documents of type %q are shared in format %q, not %q", docType, want, format)
	}
	return nil
}

// joinRoom opens the room name and adds c to it. A room found closing,
// after its cleanup delay, is opened anew.
func (s *Service) joinRoom(ctx context.Context, name string, c *conn) (*room, error) {
	for {
		rm, err := s.openRoom(ctx, name)
		if err != nil {
			return nil, err
		}
		if rm.join(c) {
			return rm, nil
		}
		// Wait until the closing room has left the service.
		select {
		case <-rm.removed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// trackSocket counts a room handler for Close, unless Close has begun.
func (s *Service) trackSocket() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.sockets.Add(1)
	return true
}

// checkSession returns the close reason for a client whose document
// session cannot continue, or "" to accept it. Sessions of earlier server
// processes are accepted when the version matches, because a room's
// history survives restarts and the client's document merges with it.
func (s *Service) checkSession(ctx context.Context, id string) string {
	if id == s.session {
		return ""
	}
	version, known, err := s.store.sessionVersion(ctx, id)
	switch {
	case err != nil:
		s.log.Error("reading document sessions", "err", err)
		return sessionCloseReason("unknown_session", id)
	case !known:
		return sessionCloseReason("unknown_session", id)
	case version != s.opts.Version:
		return sessionCloseReason("version_mismatch", id)
	}
	return ""
}

// tooManyRoomsText is the close reason of a client rejected for
// Options.MaxRooms.
const tooManyRoomsText = "Too many documents open on the server; reopen later."

// errTooManyRooms is returned when Options.MaxRooms rooms are open.
var errTooManyRooms = errors.New("too many open rooms")

// loadErrorClose returns the close code and reason for a room that did
// not open: 4404, 4400 or 4500 for the HTTP status of a contents error,
// and 1003 with a JSON reason for other failures, such as a room past
// Options.MaxRooms.
func loadErrorClose(err error, name, docType string) (websocket.StatusCode, string) {
	if errors.Is(err, errTooManyRooms) {
		return refusedCloseReason(tooManyRoomsText)
	}
	var he *httpapi.Error
	if errors.As(err, &he) {
		code := statusServerError
		switch he.Status {
		case http.StatusNotFound:
			code = statusNotFound
		case http.StatusBadRequest:
			code = statusBadRequest
		}
		return code, "Error initializing: " + loadTarget(err, name) + "."
	}
	b, _ := json.Marshal(map[string]any{"reason": "initialization_error", "reloadable": false})
	return websocket.StatusUnsupportedData, string(b)
}

// loadTarget names what failed to load: the file's path when known.
func loadTarget(err error, name string) string {
	var le *loadError
	if errors.As(err, &le) && le.path != "" {
		return le.path
	}
	return name
}

// loadError is an error that occurred while loading the file at path.
type loadError struct {
	path string
	err  error
}

func (e *loadError) Error() string { return "loading " + e.path + ": " + e.err.Error() }
func (e *loadError) Unwrap() error { return e.err }

// errReadBudget is the error of readMessage when the messages that all
// clients are sending at once would pass Options.MaxReadBytes.
var errReadBudget = &closeError{websocket.StatusTryAgainLater,
	"server busy reading other large messages: try again later"}

// readMessage reads one message of ws. The bytes it buffers count against
// the service's read budget, s.reading, until the returned release is
// called. Each client may send up to Options.MaxMessageBytes, so without
// a shared bound many clients sending large messages at once could take
// all the server's memory. A message that would pass the budget fails
// with errReadBudget, and the caller closes its connection with 1013.
func (s *Service) readMessage(ctx context.Context, ws *websocket.Conn) (websocket.MessageType, []byte, func(), error) {
	typ, rd, err := ws.Reader(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	var held int64
	release := func() {
		s.reading.Add(-held)
		held = 0
	}
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			// Grow as io.ReadAll does, up to one byte past the message
			// limit, where the reader fails with 1009.
			grow := min(max(int64(cap(buf)), 512), s.opts.MaxMessageBytes+1-int64(cap(buf)))
			grow = max(grow, 1)
			if s.reading.Add(grow) > s.opts.MaxReadBytes {
				s.reading.Add(-grow)
				release()
				return 0, nil, nil, errReadBudget
			}
			old := cap(buf)
			buf = slices.Grow(buf, int(grow))
			// Allocation rounds the capacity up to a size class.
			extra := int64(cap(buf)-old) - grow
			s.reading.Add(extra)
			held += grow + extra
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return typ, buf, release, nil
		}
		if err != nil {
			release()
			return 0, nil, nil, err
		}
	}
}
