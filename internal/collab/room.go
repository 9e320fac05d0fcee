package collab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/wsconn"
	"github.com/jupygo/jupygo/yjs"
	"github.com/jupygo/jupygo/yjs/yprotocol"
)

// Origins of the changes a room makes to its doc, beside the *conn of the
// client whose update it applies.
type origin int

const (
	// serverOrigin marks the server's own changes: loads, reloads from
	// disk, the state it sets after a save. They are stored and sent to
	// every client but do not schedule a save.
	serverOrigin origin = iota + 1
	// historyOrigin marks the replay of the stored history at load,
	// which is neither stored again nor sent.
	historyOrigin
)

// room is one shared document, or for a transient room an empty doc that
// carries only awareness. Its goroutine (run) polls the file, debounces
// saves and closes the room once it has been empty for the cleanup delay.
type room struct {
	svc  *Service
	name string
	log  *slog.Logger
	// fileID and docType are empty for a transient room.
	fileID  string
	docType string
	model   Model

	// ready is closed when the room is loaded. loadErr is then set if
	// loading failed.
	ready   chan struct{}
	loadErr error

	// saveMu serializes saves and reloads, which read and write the file
	// outside mu.
	saveMu sync.Mutex

	mu  sync.Mutex
	doc *yjs.Doc
	aw  *yprotocol.Awareness
	// clients is the room's connections in the order they joined, which
	// is the order a frame to all of them is written in.
	clients []*conn
	path    string
	// modTime and hash describe the file as the room last read or wrote
	// it.
	modTime time.Time
	hash    string
	// fileSize is the file's size then, which saves reserve room for.
	fileSize int
	// base is the doc's state when its content last equaled the file's,
	// or nil when the room has not seen such a state (it restored edits
	// that were never saved). A change made on disk is merged into the
	// doc as the change from base, so edits made since then are kept.
	base packedState
	// awApplied is the change of the last awareness update applied, and
	// awChanged the part of it that changed states, without renewals.
	awApplied, awChanged yprotocol.Change
	// renewals are the clients whose awareness renewals wait to be
	// relayed in one frame, since renewalsSince.
	renewals      map[uint64]struct{}
	renewalsSince time.Time
	// changes are the clients whose awareness changes wait for the end of
	// the window that began at changesSent, when the room last relayed
	// changes. changesArmed is set while a timer will relay them.
	changes      map[uint64]struct{}
	changesSent  time.Time
	changesArmed bool
	// state caches the whole doc for the first sync of new clients.
	state stateCache
	// stored is the number of updates in the room's history, counting
	// those queued and not yet written.
	stored int
	// dirty is set by client changes not yet saved.
	dirty bool
	// marked is whether the database last recorded the room as holding
	// edits that autosave owes its file (noteUnsavedLocked).
	marked bool
	// repairLogged is set once a save logged that it repaired the doc.
	repairLogged bool
	// loadedFrom is the message of the session event that reports where
	// the doc's content came from when the room loaded.
	loadedFrom string
	// autosave is the autosave setting of the clients' awareness states
	// as last received. It outlives their states, for the save at cleanup.
	autosave bool
	closed   bool

	// lastChange is when the doc last changed in a way that autosave
	// writes, and saveArmed is set from the change that started the save
	// timer until the timer fires at least Options.SaveDelay after
	// lastChange. So run wakes up to restart the timer once per save, not
	// once per edit.
	lastChange time.Time
	saveArmed  bool
	// saveError is the message of the last session event about a failed
	// save, so that a save retried every few seconds reports its error
	// once. It is guarded by saveMu.
	saveError string
	// readOnly is set when a save found the file read-only, until the
	// poll finds it writable or a save succeeds. It is guarded by saveMu.
	readOnly bool

	// changed wakes run to start the save timer, and emptied to start the
	// cleanup timer. evict makes run close the room at once if it has no
	// clients, so that another room can open. Closing stop ends run.
	changed chan struct{}
	emptied chan struct{}
	evict   chan struct{}
	stop    chan struct{}
	done    chan struct{}
	// removed is closed when the room has left the service's table.
	removed     chan struct{}
	removedOnce sync.Once
	// noSave makes run stop without saving, for rooms whose file is gone.
	noSave bool
	// finalErr is the error of the save run made when it stopped.
	finalErr error
	wg       sync.WaitGroup
}

// openRoom returns the loaded room name, creating and loading it when it
// is not open.
func (s *Service) openRoom(ctx context.Context, name string) (*room, error) {
	s.mu.Lock()
	r, ok := s.rooms[name]
	if !ok {
		if s.closing {
			s.mu.Unlock()
			return nil, errors.New("server is shutting down")
		}
		if s.countRoomsLocked(name) >= s.opts.MaxRooms {
			s.mu.Unlock()
			return nil, errTooManyRooms
		}
		r = s.newRoom(name)
		s.rooms[name] = r
		go r.load()
		if other := s.otherRoomOfFileLocked(name); other != "" {
			go s.warnTwoRooms(name, other)
		}
	}
	s.mu.Unlock()

	select {
	case <-r.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.loadErr != nil {
		return nil, r.loadErr
	}
	return r, nil
}

// otherRoomOfFileLocked returns the name of another open room of the
// document room name's file, or "".
func (s *Service) otherRoomOfFileLocked(name string) string {
	_, _, id, isDoc := roomKind(name)
	if !isDoc {
		return ""
	}
	for other := range s.rooms {
		if _, _, otherID, ok := roomKind(other); ok && otherID == id && other != name {
			return other
		}
	}
	return ""
}

// warnTwoRooms logs that the room name opened beside the room other of
// the same file, and sends the session event on which JupyterLab shows the
// user that two views of one file are not supported. Each room saves the
// file, and the text room merges a notebook's changes as text.
func (s *Service) warnTwoRooms(name, other string) {
	_, _, id, _ := roomKind(name)
	p, err := s.store.filePath(context.Background(), id)
	if err != nil {
		s.log.Warn("a second room opened on a file whose path was not found", "room", name, "err", err)
		return
	}
	s.log.Warn("a second room opened on a file", "room", name, "other", other, "path", p)
	s.emit(sessionWarning, name, p, "",
		"The file is open in another room as well. Edits made in both at once "+
			"are merged as text, and some may not be saved.")
}

// eventReason returns the text of err for a session event. For an API
// error that is its message alone, because its Error method adds the
// status and may repeat the message.
func eventReason(err error) string {
	if he, ok := errors.AsType[*httpapi.Error](err); ok && he.Message != "" {
		return he.Message
	}
	return err.Error()
}

// emit sends a session event about room, whose file is at path, to the
// server's event stream. JupyterLab's collaboration extension logs it in
// the log console of the document at path, and for a WARNING it also
// shows its dialog about two views of one file. action may be empty.
func (s *Service) emit(level, room, path, action, msg string) {
	if s.opts.Emit == nil {
		return
	}
	data := map[string]any{"level": level, "room": room, "path": path, "msg": msg}
	if action != "" {
		data["action"] = action
	}
	s.opts.Emit(sessionEventSchema, data)
}

// makeRoomFor reports whether the room name is open or has a place to
// open. When the rooms of its kind are at Options.MaxRooms, it first closes
// those among them that have no client, which would otherwise keep their
// places for Options.CleanupDelay, and waits for them up to evictWait.
func (s *Service) makeRoomFor(ctx context.Context, name string) bool {
	if s.roomFits(name) {
		return true
	}

	_, _, _, isDoc := roomKind(name)
	var idle []*room
	s.mu.Lock()
	for other, r := range s.rooms {
		if _, _, _, otherIsDoc := roomKind(other); otherIsDoc == isDoc && r.idle() {
			idle = append(idle, r)
		}
	}
	s.mu.Unlock()
	if len(idle) == 0 {
		return false
	}

	for _, r := range idle {
		select {
		case r.evict <- struct{}{}:
		default:
		}
	}

	timeout := time.NewTimer(evictWait)
	defer timeout.Stop()
	for _, r := range idle {
		select {
		case <-r.removed:
			if s.roomFits(name) {
				return true
			}
		case <-timeout.C:
			return s.roomFits(name)
		case <-ctx.Done():
			return false
		}
	}
	return s.roomFits(name)
}

// evictWait bounds the wait for idle rooms to close, which may save them.
const evictWait = 10 * time.Second

// idle reports whether r has loaded and has no client.
func (r *room) idle() bool {
	select {
	case <-r.ready:
	default:
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clients) == 0 && !r.closed
}

// roomFits reports whether the room name is open or has a place to open.
// openRoom checks again, since rooms may open meanwhile.
func (s *Service) roomFits(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, open := s.rooms[name]
	return open || s.countRoomsLocked(name) < s.opts.MaxRooms
}

// countRoomsLocked counts the open rooms of the same kind as name:
// document rooms and transient ones, such as JupyterLab's global awareness
// room, are bounded apart, so that neither kind can take the other's
// places. The caller holds s.mu.
func (s *Service) countRoomsLocked(name string) int {
	_, _, _, isDoc := roomKind(name)
	n := 0
	for other := range s.rooms {
		if _, _, _, otherIsDoc := roomKind(other); otherIsDoc == isDoc {
			n++
		}
	}
	return n
}

func (s *Service) newRoom(name string) *room {
	_, docType, fileID, _ := roomKind(name)
	r := &room{
		svc: s, name: name, log: s.log.With("room", name),
		fileID: fileID, docType: docType, autosave: true,
		ready:   make(chan struct{}),
		changed: make(chan struct{}, 1),
		emptied: make(chan struct{}, 1),
		evict:   make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		removed: make(chan struct{}),
	}
	r.doc = yjs.NewDoc()
	r.doc.OnUpdate(r.onUpdateLocked)
	r.aw = yprotocol.NewAwareness(r.doc.ClientID(), time.Now())
	r.aw.OnUpdate(func(ch yprotocol.Change, _ any) { r.awApplied = ch })
	r.aw.OnChange(func(ch yprotocol.Change, _ any) { r.awChanged = ch })
	// The server has no awareness state of its own.
	r.aw.SetLocalState(nil, time.Now())
	return r
}

// load fills the doc, then starts run; on failure it removes the room.
func (r *room) load() {
	var err error
	if r.fileID != "" {
		err = r.loadDocument()
	}
	if err != nil {
		if le, ok := errors.AsType[*loadError](err); ok {
			r.svc.emit(sessionError, r.name, le.path, "load",
				"Error loading content from file: "+le.path+"\n"+eventReason(le.err))
		}
		r.loadErr = err
		r.svc.removeRoom(r)
		close(r.done)
		close(r.ready)
		return
	}
	if r.fileID != "" {
		// The client that opened the room waits for the whole doc, and
		// encoding it leaves garbage too, so it is encoded here, before
		// the release below.
		r.mu.Lock()
		r.state.encode(r.doc)
		r.mu.Unlock()
	}
	if r.fileID != "" {
		p := r.currentPath()
		r.svc.emit(sessionInfo, r.name, p, "load", r.loadedFrom)
		r.svc.emit(sessionInfo, r.name, p, "initialize", "Room initialized")
	}
	go r.run()
	close(r.ready)
	if r.fileID != "" {
		// Loading leaves garbage several times the document's size, and
		// the heap would keep those pages until it grew again.
		go debug.FreeOSMemory()
	}
}

// removeRoom removes r from the room table, so that the next client of
// its name opens a new room.
func (s *Service) removeRoom(r *room) {
	s.mu.Lock()
	if s.rooms[r.name] == r {
		delete(s.rooms, r.name)
	}
	s.mu.Unlock()
	r.removedOnce.Do(func() { close(r.removed) })
}

// join adds c to the room and sends it the first sync step and the
// awareness states known. It returns false when the room has closed.
func (r *room) join(c *conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.clients = append(r.clients, c)
	c.send(yprotocol.SyncStep1Frame(r.doc))
	if len(r.aw.States()) > 0 {
		c.send(yprotocol.AwarenessFrame(r.aw.EncodeAll()))
	}
	return true
}

// leave removes c, sends the other clients the removal of its awareness
// states, and starts the cleanup timer when c was the last client.
func (r *room) leave(c *conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients = slices.DeleteFunc(r.clients, func(x *conn) bool { return x == c })
	// The client's updates that wait for the commit window are committed
	// now: a client that left cannot send them again to a restarted server.
	r.svc.store.commitSoon()
	if ids := mapKeys(c.awareness); len(ids) > 0 {
		r.aw.RemoveStates(ids, c, time.Now())
		r.relayChangesLocked(ids, nil, nil)
	}
	if len(r.clients) == 0 {
		select {
		case r.emptied <- struct{}{}:
		default:
		}
	}
}

func mapKeys(m map[uint64]bool) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// broadcastLocked sends frame to every client but except.
func (r *room) broadcastLocked(frame []byte, except *conn) {
	var wire []byte
	if len(frame) <= maxDirectBytes {
		wire = wireFrame(frame)
	}
	for _, c := range r.clients {
		if c != except {
			c.sendWire(frame, wire)
		}
	}
}

// onUpdateLocked sends a doc update to the clients other than the one it
// came from, queues it for the room's history, and schedules a save for a
// client's change. The room's lock orders the queue as the doc applied
// the updates.
func (r *room) onUpdateLocked(update []byte, o any, _ *yjs.Transaction) {
	r.state.noteUpdate(update)
	if o == historyOrigin {
		return
	}
	from, _ := o.(*conn)
	if r.fileID == "" {
		r.broadcastLocked(yprotocol.UpdateFrame(update), from)
		return
	}
	// The journal holds the update before any client sees it, so a kill
	// after that loses nothing a client has.
	r.svc.store.appendUpdate(r.name, update)
	r.broadcastLocked(yprotocol.UpdateFrame(update), from)
	r.stored++
	if r.stored >= r.svc.opts.CompactAfter {
		r.svc.store.compact(r.name)
		r.stored = 1
	}
	if from != nil {
		r.dirty = true
		r.noteUnsavedLocked()
		r.noteChangeLocked()
	}
}

// noteChangeLocked records a change for autosave, and starts the save
// timer unless it runs already.
func (r *room) noteChangeLocked() {
	r.lastChange = time.Now()
	if r.saveArmed {
		return
	}
	r.saveArmed = true
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// readLoop handles the client's frames until the connection ends or a
// frame is malformed. Reads end when the connection is closed, which
// closing c does, not when ctx ends: a context that can end costs the
// WebSocket library a timer registration and removal on every read.
func (r *room) readLoop(ctx context.Context, c *conn) {
	ctx = context.WithoutCancel(ctx)
	for {
		typ, data, release, err := r.svc.readMessage(ctx, c.ws)
		if errors.Is(err, errReadBudget) {
			r.log.Warn("closing room client: messages being read pass the read budget",
				"max_read_bytes", r.svc.opts.MaxReadBytes)
			c.close(errReadBudget.code, errReadBudget.reason)
			return
		}
		if fe := wsconn.AsFrameError(err); fe != nil {
			r.log.Info("closing room client for an invalid frame", "err", fe)
			code, reason := fe.Code, fe.Reason
			if code == websocket.StatusMessageTooBig {
				code, reason = refusedCloseReason(fmt.Sprintf("Change over %s refused, so not saved.",
					sizeText(r.svc.opts.MaxMessageBytes)))
			}
			c.close(code, reason)
			return
		}
		if err != nil {
			return
		}
		if typ != websocket.MessageBinary {
			release()
			c.close(websocket.StatusUnsupportedData, "room messages are binary")
			return
		}
		err = r.handle(c, data)
		release()
		if err != nil {
			r.log.Info("closing room client", "err", err)
			code := websocket.StatusInvalidFramePayloadData
			var ce *closeError
			if errors.As(err, &ce) {
				code = ce.code
			}
			c.close(code, err.Error())
			return
		}
	}
}

// handle acts on one frame from c. An error closes c.
func (r *room) handle(c *conn, data []byte) error {
	m, err := parseMessage(data)
	if errors.Is(err, errUnknownType) {
		r.log.Debug("ignoring room message", "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	switch m.typ {
	case msgSync:
		return r.handleSync(c, m.sync)
	case msgAwareness:
		return r.handleAwareness(c, m.awareness, data)
	case msgQueryAwareness:
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.aw.States()) > 0 {
			c.send(yprotocol.AwarenessFrame(r.aw.EncodeAll()))
		}
	case msgRaw:
		if m.raw != "save" {
			r.log.Debug("ignoring RAW message", "text", m.raw)
			return nil
		}
		if r.fileID == "" {
			c.send(saveReplyFrame(m.saveID, saveFailed))
			return nil
		}
		r.wg.Go(func() { c.send(saveReplyFrame(m.saveID, r.save())) })
	}
	return nil
}

func (r *room) handleSync(c *conn, m yprotocol.SyncMessage) error {
	if m.Type != yprotocol.SyncStep1 {
		limit := r.svc.opts.MaxUpdateItems
		n, err := updateCost(m.Payload, limit)
		if err != nil {
			return err
		}
		if n > limit {
			r.log.Info("closing room client: update creates too many items", "limit", limit)
			code, reason := refusedCloseReason(fmt.Sprintf(
				"Change of over %d items refused, so not saved.", limit))
			return &closeError{code, reason}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.Type == yprotocol.SyncStep1 {
		if frames, ok := r.firstSyncLocked(m.Payload); ok {
			for _, f := range frames {
				c.send(f)
			}
			return nil
		}
		reply, err := yprotocol.HandleSync(r.doc, m, c)
		if err != nil {
			return fmt.Errorf("sync message: %w", err)
		}
		if reply != nil {
			c.send(reply)
		}
		return nil
	}
	// The update is decoded once, for the schema check and the apply.
	u, err := yjs.DecodeUpdate(m.Payload)
	if err == nil {
		if err := r.checkSchemaLocked(u); err != nil {
			return err
		}
		err = r.doc.ApplyDecoded(u, c)
	}
	if err != nil {
		return fmt.Errorf("sync message: applying sync message %d: %w", m.Type, err)
	}
	r.restoreStatePathLocked()
	return nil
}

// handleAwareness applies an awareness update and relays the entries
// that changed the room's awareness to every client, the sender too: a
// lone client's own renewals coming back are what keep y-websocket's
// 30-second watchdog from reconnecting. An update of renewals alone waits
// to share a frame with others (relayRenewalsLocked). A client announcing
// that it leaves gets no echo when the room relays the removal at once.
// Entries with a clock the room already has are
// dropped, as @y/websocket-server drops them. y-websocket 1.5 clients
// send back every awareness update they apply, so relaying those would
// multiply each change by the number of clients.
func (r *room) handleAwareness(c *conn, update, frame []byte) error {
	entries, err := yprotocol.DecodeUpdate(update)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.awApplied, r.awChanged = yprotocol.Change{}, yprotocol.Change{}
	r.aw.ApplyEntries(entries, c, time.Now())
	// A connection owns the states it added, not those it sent back:
	// y-websocket 1.5 clients send every client's entries back to the
	// room, which removes a connection's states when it closes.
	for _, id := range r.awApplied.Added {
		c.awareness[id] = true
	}
	for _, id := range r.awApplied.Removed {
		delete(c.awareness, id)
	}
	if len(c.awareness) > maxAwarenessClients {
		return &closeError{websocket.StatusPolicyViolation,
			fmt.Sprintf("more than %d awareness states from one connection", maxAwarenessClients)}
	}
	applied := slices.Concat(r.awApplied.Added, r.awApplied.Updated, r.awApplied.Removed)
	if len(applied) == 0 {
		// Clients send back most of what the room relays, and none of it
		// changes a state.
		return nil
	}
	if r.aw.Len() > 0 {
		// Otherwise the last state was removed, as JupyterLab does when
		// the document's tab closes. Its setting stays for the cleanup.
		r.autosave = r.autosaveLocked()
	}
	r.noteUnsavedLocked()
	if r.awChanged.Empty() && r.svc.opts.PollInterval <= maxRenewalDelay {
		if r.renewals == nil {
			r.renewals = map[uint64]struct{}{}
		}
		if len(r.renewals) == 0 {
			r.renewalsSince = time.Now()
		}
		for _, id := range applied {
			r.renewals[id] = struct{}{}
		}
		return nil
	}
	if len(applied) < len(entries) {
		frame = nil
	}
	var except *conn
	if len(entries) == 1 && entries[0].State == nil {
		except = c
	}
	r.relayChangesLocked(applied, frame, except)
	return nil
}

// changeWindow is the shortest time between two frames of awareness
// changes in a room. y-websocket 1.5 clients send back every frame with
// the entries they applied, so a room of n clients that relays k frames
// reads k·n messages back. Changes made by many clients at once share a
// few frames: when they join together, when they leave together, and 15 s
// after they joined, because y-protocols ignores a client's first state
// (clock 0) and its first renewal adds it. A change that follows no other
// within the window is relayed at once.
const changeWindow = 20 * time.Millisecond

// relayChangesLocked sends every client but except the awareness entries
// of clients, frame when it is not nil, at once if the room relayed no
// change within changeWindow, or else in one frame at the window's end.
// A frame carries the newest clocks of its clients, so their pending
// renewals are dropped.
func (r *room) relayChangesLocked(clients []uint64, frame []byte, except *conn) {
	for _, id := range clients {
		delete(r.renewals, id)
	}
	now := time.Now()
	if !r.changesArmed && now.Sub(r.changesSent) >= changeWindow {
		r.changesSent = now
		if frame == nil {
			frame = yprotocol.AwarenessFrame(r.aw.EncodeUpdate(clients))
		}
		r.broadcastLocked(frame, except)
		return
	}
	if r.changes == nil {
		r.changes = map[uint64]struct{}{}
	}
	for _, id := range clients {
		r.changes[id] = struct{}{}
	}
	if !r.changesArmed {
		r.changesArmed = true
		time.AfterFunc(r.changesSent.Add(changeWindow).Sub(now), r.relayPendingChanges)
	}
}

// relayPendingChanges sends every client one frame with the awareness
// changes that waited for the end of the window.
func (r *room) relayPendingChanges() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changesArmed = false
	r.changesSent = time.Now()
	if r.closed || len(r.changes) == 0 {
		return
	}
	ids := make([]uint64, 0, len(r.changes))
	for id := range r.changes {
		ids = append(ids, id)
	}
	clear(r.changes)
	slices.Sort(ids)
	r.broadcastLocked(yprotocol.AwarenessFrame(r.aw.EncodeUpdate(ids)), nil)
}

// maxRenewalDelay bounds how long a renewal may wait for the poll that
// relays it. Clients renew their states every 15 s and drop the states of
// others after 30 s without an update.
const maxRenewalDelay = 5 * time.Second

// relayRenewalsLocked sends every client, the renewing ones too, one frame
// with the waiting awareness renewals, once the first has waited
// Options.RenewalDelay. Clients renew their states every 15 s, so with n
// clients and the default delay a frame carries about n/3 renewals, and 3
// frames of n writes each take the place of n² writes. y-websocket 1.5
// clients send back each frame with the entries they applied, which the
// room reads and drops, so each frame also costs n messages read.
func (r *room) relayRenewalsLocked() {
	if len(r.renewals) == 0 || time.Since(r.renewalsSince) < r.svc.opts.RenewalDelay {
		return
	}
	states := r.aw.States()
	ids := make([]uint64, 0, len(r.renewals))
	for id := range r.renewals {
		if _, ok := states[id]; ok {
			ids = append(ids, id)
		}
	}
	clear(r.renewals)
	if len(ids) > 0 {
		slices.Sort(ids)
		r.broadcastLocked(yprotocol.AwarenessFrame(r.aw.EncodeUpdate(ids)), nil)
	}
}

// maxAwarenessClients bounds the awareness states one connection may
// hold. A browser tab holds one per shared document.
const maxAwarenessClients = 64

// closeError is an error that closes a connection with its own code.
type closeError struct {
	code   websocket.StatusCode
	reason string
}

func (e *closeError) Error() string { return e.reason }

// autosaveLocked reports whether the clients allow autosave: a client
// turns it off with "autosave": false in its awareness state, and any
// client that leaves it on, or has no state yet, wins.
func (r *room) autosaveLocked() bool {
	states := r.aw.States()
	if len(states) == 0 {
		return true
	}
	for _, st := range states {
		obj, ok := st.(yjs.Object)
		if !ok {
			return true
		}
		v, ok := obj.Get("autosave")
		if !ok || v == true {
			return true
		}
	}
	return false
}

func (r *room) currentPath() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.path
}

// restoreStatePathLocked sets the state's path back to the room's when a
// client changed it. Clients follow that path to rename their document,
// and only the server may move it, after a rename through the API.
func (r *room) restoreStatePathLocked() {
	if r.fileID == "" {
		return
	}
	if v, _ := r.doc.GetMap("state").Get(statePath); v == r.path {
		return
	}
	r.log.Warn("a client changed the document's path: set back", "path", r.path)
	if err := setState(r.doc, serverOrigin, statePath, r.path); err != nil {
		r.log.Warn("state path not set back", "err", err)
	}
}

// renamed moves the room to the new path of its file and sets the path in
// the state map, which clients follow.
func (r *room) renamed(oldPath, newPath string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.path = newPath + r.path[len(oldPath):]
	if err := setState(r.doc, serverOrigin, statePath, r.path); err != nil {
		r.log.Warn("state path not updated", "err", err)
	}
	r.log.Info("room follows its file", "path", r.path)
}

// dropRoom closes a room whose file was deleted, without saving, and
// removes its history.
func (s *Service) dropRoom(r *room, reason string) {
	r.mu.Lock()
	r.noSave = true
	r.mu.Unlock()
	s.noteFailure(r.name, httpapi.Errorf(http.StatusNotFound, "%s was deleted", r.currentPath()))
	r.shutdownWith(websocket.StatusUnsupportedData, deletedCloseReason)
	if err := s.store.deleteRoom(r.name); err != nil {
		r.log.Warn("history of a deleted file not removed", "err", err)
	}
	r.log.Info("room closed", "reason", reason)
}

// shutdown closes every client with 1001, stops run, which saves unsaved
// changes unless noSave is set, and removes the room from the service. It
// returns the error of that save.
func (r *room) shutdown() error {
	return r.shutdownWith(websocket.StatusGoingAway, "document closed on the server")
}

// shutdownWith is shutdown with the clients closed by code and reason.
func (r *room) shutdownWith(code websocket.StatusCode, reason string) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		for _, c := range r.clients {
			c.close(code, reason)
		}
		close(r.stop)
	}
	r.mu.Unlock()
	<-r.done
	r.wg.Wait()
	r.svc.removeRoom(r)
	return r.finalErr
}
