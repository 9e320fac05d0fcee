package collab

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/internal/httpapi"
)

// Options configures a Service. Zero durations and sizes take the
// defaults named on each field.
type Options struct {
	// Files loads and saves documents.
	Files Files
	// DataDir is the folder of the SQLite file that holds file ids,
	// document sessions and room histories. It is created when missing.
	DataDir string
	// RootDir is the root folder the contents API serves. File ids are
	// recorded per root, so servers of different folders can share
	// DataDir.
	RootDir string
	// Version identifies the server build. A client whose document
	// session began under another version is asked to reload.
	Version string
	Log     *slog.Logger

	// SaveDelay is how long a document must go without changes before it
	// is saved (default 1 s). A negative value turns autosave off.
	SaveDelay time.Duration
	// PollInterval is how often the file of an open document is checked
	// for changes made on disk (default 1 s).
	PollInterval time.Duration
	// CleanupDelay is how long a room stays open after its last client
	// left (default 60 s).
	CleanupDelay time.Duration
	// RenewalDelay is how long an awareness renewal, a client's state sent
	// again unchanged, waits for others to share its frame (default 4 s).
	// Clients renew every 15 s and send back each frame of renewals they
	// apply, so fewer frames save the room and its clients work. The first
	// poll after RenewalDelay relays the renewals. A renewal waits at most
	// 5 s, so RenewalDelay is cut to 5 s less PollInterval.
	RenewalDelay time.Duration
	// MaxMessageBytes bounds one WebSocket message (default 64 MiB). A
	// longer one closes its connection with status 1009.
	MaxMessageBytes int64
	// MaxReadBytes bounds the bytes of the messages that all clients are
	// sending at once (default 256 MiB). A client whose message would pass
	// it is closed with status 1013 and sends it again when it reconnects.
	MaxReadBytes int64
	// MaxUpdateItems bounds the items one update may create (default
	// 262144), counting each delete range as two. A few bytes of update
	// can describe many nested types. Applying 100,000 empty Y.Maps
	// allocated about 450 bytes per map (amd64, Go 1.26), so the default
	// bounds an update's memory near 120 MB, an estimate. A client that
	// sends a larger update is closed with status 1009.
	MaxUpdateItems int
	// MaxRooms bounds the document rooms open at once, and apart from them
	// the transient rooms (default 256 each). A client of a further room
	// gets 503 before the WebSocket upgrade, and tries again later.
	MaxRooms int
	// CompactAfter is how many updates a room stores between two
	// compactions of its history, which merge the newest rows into one
	// (default 500).
	CompactAfter int
	// CommitWindow is how long an update may wait in the history queue
	// for others to share its transaction (default 500 ms). Until it is
	// committed, the update is in the journal beside the database, which a
	// restart adds to the history, so a kill of the process loses none. A
	// negative window commits every update at once.
	CommitWindow time.Duration
	// Emit, when set, sends an event to the server's event stream
	// (/api/events/subscribe) under the schema id, as
	// jupyter-collaboration's session events.
	Emit func(schemaID string, data map[string]any)
}

// sessionEventSchema is the schema id of jupyter-collaboration's session
// events, on whose WARNING level JupyterLab's collaboration extension shows
// a dialog about the file of the event's path.
const sessionEventSchema = "https://schema.jupyter.org/jupyter_collaboration/session/v1"

// The levels of session events that rooms send.
const (
	sessionInfo    = "INFO"
	sessionWarning = "WARNING"
	sessionError   = "ERROR"
)

func (o *Options) fillDefaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SaveDelay == 0 {
		o.SaveDelay = time.Second
	}
	if o.CommitWindow == 0 {
		o.CommitWindow = 500 * time.Millisecond
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if limit := max(0, maxRenewalDelay-o.PollInterval); o.RenewalDelay <= 0 || o.RenewalDelay > limit {
		o.RenewalDelay = min(4*time.Second, limit)
	}
	if o.CleanupDelay <= 0 {
		o.CleanupDelay = 60 * time.Second
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 64 << 20
	}
	if o.MaxReadBytes <= 0 {
		o.MaxReadBytes = 256 << 20
	}
	if o.MaxUpdateItems <= 0 {
		o.MaxUpdateItems = 1 << 18
	}
	if o.MaxRooms <= 0 {
		o.MaxRooms = 256
	}
	if o.CompactAfter <= 0 {
		o.CompactAfter = 500
	}
}

// Service is the server side of JupyterLab's real-time collaboration: the
// file id API, document sessions and the room WebSockets. It is safe for
// concurrent use. Create it with New, mount it with Register, and end it
// with Close.
type Service struct {
	opts Options
	log  *slog.Logger
	// store is nil until the database opens. It is set under mu, and
	// every request checks it with available before anything uses it.
	store   *store
	session string // the session id of this process
	// storeErr is the last failure to open the database.
	storeErr error
	// stopRetry ends the goroutine that tries to open the database again,
	// which closes retryDone when it returns.
	stopRetry chan struct{}
	retryDone chan struct{}

	// reading is the number of bytes that clients' messages being read
	// hold, bounded by opts.MaxReadBytes.
	reading atomic.Int64

	mu      sync.Mutex
	rooms   map[string]*room
	closing bool
	// rejected maps each document room past Options.MaxRooms to its
	// recent rejections (noteRejection).
	rejected map[string]rejection
	// failed maps each document room that failed to open, or whose file
	// was deleted, to that failure (noteFailure).
	failed map[string]failure
	// owed holds the names of the rooms that closed with edits that their
	// read-only files lacked (sweepOwed).
	owed    map[string]struct{}
	sockets sync.WaitGroup
	// sweeping is set while sweepOwed runs, which is only while owed is
	// not empty. Closing stopSweep ends it, and sweeps waits for it.
	sweeping      bool
	stopSweep     chan struct{}
	stopSweepOnce sync.Once
	sweeps        sync.WaitGroup
	// fileLocks serialize the saves of the rooms of one file (fileLock).
	fileLocks [64]sync.Mutex
}

// fileLock returns the lock that the saves of the rooms of the file id
// hold while they check the file and write it. A notebook open in
// JupyterLab's notebook view and in its text editor has two rooms, which
// save the same file. Without it, both could find the file as they last
// wrote it and write it in turn, and the room whose write was overwritten
// then took the other's as a change on disk, without its own edits.
func (s *Service) fileLock(fileID string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(fileID))
	return &s.fileLocks[h.Sum32()%uint32(len(s.fileLocks))]
}

// New opens the service's database in opts.DataDir and records a new
// document session. A database that cannot be opened, as on a full disk,
// does not stop the service. Its requests fail with 503 and the reason
// while it tries again every storeRetry, and the rest of the server stays
// up for the user to fix the cause.
func New(opts Options) (*Service, error) {
	opts.fillDefaults()
	if opts.Files == nil {
		return nil, errors.New("collab: Options.Files is nil")
	}
	s := &Service{opts: opts, log: opts.Log, session: uuid.NewString(),
		rooms: map[string]*room{}, rejected: map[string]rejection{},
		failed: map[string]failure{}, owed: map[string]struct{}{},
		stopSweep: make(chan struct{})}
	st, err := s.openStore()
	if err == nil {
		s.store = st
		s.resumeOwed()
		return s, nil
	}
	s.log.Error("collaboration database not opened: shared documents cannot be opened until "+
		"it is; the server tries again", "data_dir", opts.DataDir, "retry", storeRetry, "err", err)
	s.storeErr = err
	s.stopRetry, s.retryDone = make(chan struct{}), make(chan struct{})
	go s.retryStore()
	return s, nil
}

// resumeOwed notes the rooms that the database marks as holding edits
// their files lack: rooms closed while their files were read-only, and
// rooms of a server that stopped or was killed before it saved them.
func (s *Service) resumeOwed() {
	names, err := s.store.unsavedRooms(context.Background())
	if err != nil {
		s.log.Warn("rooms with unsaved edits not found: their edits wait for the next reader",
			"err", err)
		return
	}
	if len(names) > 0 {
		s.log.Info("rooms hold edits that their files lack: each opens to save them once its "+
			"file can be written", "rooms", len(names))
	}
	for _, name := range names {
		s.noteOwed(name)
	}
}

// noteOwed records that the room name closed with edits that its file
// lacks, and starts sweepOwed unless it runs.
func (s *Service) noteOwed(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owed[name] = struct{}{}
	if s.sweeping || s.closing || s.stopSweep == nil {
		return
	}
	s.sweeping = true
	s.sweeps.Go(s.sweepOwed)
}

// sweepOwed checks, every Options.PollInterval, the files of the rooms
// that closed with edits their files lacked, most often because the files
// were read-only. It opens the room of each file that can be written,
// which restores the edits and saves them. So the file does not wait for
// its next reader, and a move from a shell after that keeps the edits. It
// returns when no such room is left or the service closes, so an idle
// server does not wake for it.
func (s *Service) sweepOwed() {
	tick := time.NewTicker(s.opts.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.stopSweep:
			return
		case <-tick.C:
		}
		s.mu.Lock()
		names := slices.Collect(maps.Keys(s.owed))
		s.mu.Unlock()
		for _, name := range names {
			s.reopenIfWritable(name)
		}
		s.mu.Lock()
		if len(s.owed) == 0 {
			s.sweeping = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// reopenIfWritable opens the room name, which closed with edits its file
// lacked, once the file can be written. A room whose file was deleted
// through the contents API is forgotten, with its mark. One whose file is
// missing on disk is left to the next start or reader: its room cannot
// open without the file.
func (s *Service) reopenIfWritable(name string) {
	if s.available() != nil {
		return
	}
	_, _, id, _ := roomKind(name)
	p, err := s.store.filePath(context.Background(), id)
	if errors.Is(err, errUnknown) {
		s.forgetOwed(name)
		s.store.markUnsaved(name, false)
		return
	}
	if err != nil {
		return
	}
	info, err := s.opts.Files.Stat(p)
	if he, ok := errors.AsType[*httpapi.Error](err); ok && he.Status == http.StatusNotFound {
		s.log.Warn("file of a room with unsaved edits not found: the edits stay in the room's "+
			"history until a file is back at that path. A file moved outside JupyterLab "+
			"while the server was stopped leaves them behind", "room", name, "path", p)
		s.forgetOwed(name)
		return
	}
	if err != nil || !info.Writable {
		return
	}
	s.forgetOwed(name)
	if _, err := s.openRoom(context.Background(), name); err != nil {
		s.log.Warn("room of a file made writable again not opened: its edits wait for the next "+
			"reader", "room", name, "path", p, "err", err)
		return
	}
	s.log.Info("room opened to save the edits its file lacks", "room", name, "path", p)
}

// forgetOwed stops sweepOwed from checking the room name.
func (s *Service) forgetOwed(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.owed, name)
}

// storeRetry is the time between tries to open the database. Tests
// shorten it.
var storeRetry = 5 * time.Second

// openStore opens the database and records the service's session in it.
func (s *Service) openStore() (*store, error) {
	st, err := openStore(s.opts.DataDir, s.opts.RootDir, s.log)
	if err != nil {
		return nil, err
	}
	st.setCommitWindow(max(s.opts.CommitWindow, 0))
	if err := st.addSession(context.Background(), s.session, s.opts.Version, time.Now()); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

// retryStore tries to open the database every storeRetry until it opens
// or the service closes.
func (s *Service) retryStore() {
	defer close(s.retryDone)
	tick := time.NewTicker(storeRetry)
	defer tick.Stop()
	for {
		select {
		case <-s.stopRetry:
			return
		case <-tick.C:
		}
		st, err := s.openStore()
		s.mu.Lock()
		if err != nil {
			s.storeErr = err
			s.mu.Unlock()
			s.log.Debug("collaboration database still not opened", "err", err)
			continue
		}
		s.store = st
		s.mu.Unlock()
		s.log.Info("collaboration database opened", "data_dir", s.opts.DataDir)
		s.resumeOwed()
		return
	}
}

// available returns nil once the database is open, and a 503 error with
// the reason before.
func (s *Service) available() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store != nil {
		return nil
	}
	return httpapi.Errorf(http.StatusServiceUnavailable,
		"collaboration is unavailable: its database in %s could not be opened (%v); "+
			"the server tries again every %v", s.opts.DataDir, s.storeErr, storeRetry)
}

// Register mounts the endpoints on mux: /api/fileid/id, /api/fileid/path,
// PUT /api/collaboration/session/{path} and the room WebSockets at
// /api/collaboration/room/{room}. The server authenticates requests and
// checks the Origin of WebSocket upgrades before they arrive.
func (s *Service) Register(mux httpapi.Router) {
	h := func(f httpapi.HandlerFunc) http.Handler { return httpapi.Handle(s.log, f) }
	mux.Handle("GET /api/fileid/id", h(s.handleFileID))
	mux.Handle("GET /api/fileid/path", h(s.handleFilePath))
	mux.Handle("PUT /api/collaboration/session/{path...}", h(s.handleSession))
	mux.HandleFunc("GET /api/collaboration/room/{room}", s.serveRoom)
}

// ContentsChanged keeps file ids and rooms in step with a rename, copy or
// delete made through the contents API. Give it to
// contents.Manager.OnChange.
func (s *Service) ContentsChanged(c contents.Change) {
	if err := s.available(); err != nil {
		s.log.Warn("file ids not updated for a change", "op", c.Op, "path", c.Path, "err", err)
		return
	}
	ctx := context.Background()
	var err error
	switch c.Op {
	case contents.Renamed:
		err = s.store.movePaths(ctx, c.Path, c.NewPath)
		s.forRoomsUnder(c.Path, func(r *room) { r.renamed(c.Path, c.NewPath) })
	case contents.Copied:
		// A copy gets its own id when it is first opened. A record left at
		// the new path, by a file deleted outside the API, must go.
		err = s.store.deletePaths(ctx, c.NewPath)
	case contents.Deleted:
		err = s.store.deletePaths(ctx, c.Path)
		s.forRoomsUnder(c.Path, func(r *room) { s.dropRoom(r, "file deleted") })
	}
	if err != nil {
		s.log.Error("file ids out of step with the files", "path", c.Path, "err", err)
	}
}

// forRoomsUnder calls f for every document room whose file is p or lies
// below it.
func (s *Service) forRoomsUnder(p string, f func(*room)) {
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		if r.fileID != "" && isUnder(r.currentPath(), p) {
			f(r)
		}
	}
}

func isUnder(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// Close ends every connection with status 1001, saves the documents with
// unsaved changes and closes the database. It waits for the room
// WebSocket handlers to return or ctx to end.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.stopSweepOnce.Do(func() {
		if s.stopSweep != nil {
			close(s.stopSweep)
		}
	})
	s.sweeps.Wait()
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()

	var errs []error
	for _, r := range rooms {
		if err := r.shutdown(); err != nil {
			errs = append(errs, err)
		}
	}
	done := make(chan struct{})
	go func() {
		s.sockets.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("waiting for room connections: %w", ctx.Err()))
	}
	s.mu.Lock()
	clear(s.rooms)
	s.mu.Unlock()
	if s.stopRetry != nil {
		close(s.stopRetry)
		<-s.retryDone
	}
	if s.available() != nil {
		return errors.Join(errs...)
	}
	if err := s.store.close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the collaboration database: %w", err))
	}
	return errors.Join(errs...)
}

// cleanAPIPath returns an API path as the contents manager cleans it:
// slash-separated, without leading or trailing slashes.
func cleanAPIPath(p string) string {
	p = strings.Trim(path.Clean("/"+p), "/")
	return p
}

// handleFileID serves GET /api/fileid/id?path=.
func (s *Service) handleFileID(w http.ResponseWriter, r *http.Request) error {
	if err := s.available(); err != nil {
		return err
	}
	if !r.URL.Query().Has("path") {
		return httpapi.Errorf(http.StatusBadRequest, "missing query parameter path")
	}
	p := cleanAPIPath(r.URL.Query().Get("path"))
	id, err := s.store.fileID(r.Context(), p)
	if errors.Is(err, errUnknown) {
		return httpapi.Errorf(http.StatusNotFound, "no file id for path %q", p)
	}
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]string{"id": id, "path": p})
}

// handleFilePath serves GET /api/fileid/path?id=.
func (s *Service) handleFilePath(w http.ResponseWriter, r *http.Request) error {
	if err := s.available(); err != nil {
		return err
	}
	if !r.URL.Query().Has("id") {
		return httpapi.Errorf(http.StatusBadRequest, "missing query parameter id")
	}
	id := r.URL.Query().Get("id")
	p, err := s.store.filePath(r.Context(), id)
	if errors.Is(err, errUnknown) {
		return httpapi.Errorf(http.StatusNotFound, "unknown file id %q", id)
	}
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, map[string]string{"id": id, "path": p})
}

// sessionReply is the body of a PUT /api/collaboration/session response.
type sessionReply struct {
	Format    string `json:"format"`
	Type      string `json:"type"`
	FileID    string `json:"fileId"`
	SessionID string `json:"sessionId"`
}

// handleSession serves PUT /api/collaboration/session/{path}: it returns
// the file id of the path, with 201 when the path got its id now and 200
// when it had one, and the session id of this server.
func (s *Service) handleSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.available(); err != nil {
		return err
	}
	var body struct {
		Format string `json:"format"`
		Type   string `json:"type"`
	}
	if err := httpapi.DecodeJSON(w, r, &body, 1<<16, false); err != nil {
		return err
	}
	if body.Format == "" || body.Type == "" {
		return httpapi.Errorf(http.StatusBadRequest,
			`the body must name the document's "format" and "type", such as {"format":"text","type":"file"}`)
	}
	if err := checkFormat(body.Format, body.Type); err != nil {
		return err
	}
	p := cleanAPIPath(r.PathValue("path"))
	info, err := s.opts.Files.Stat(p)
	if err != nil {
		return err
	}
	if info.IsDir {
		return httpapi.Errorf(http.StatusBadRequest, "%s is a directory, not a document", p)
	}
	id, created, err := s.store.indexPath(r.Context(), p)
	if err != nil {
		// Such as a full disk, or a lock that another process holds.
		s.log.Error("file id not recorded", "path", p, "err", err)
		return httpapi.Errorf(http.StatusServiceUnavailable,
			"the collaboration database cannot record %s: %v; try again later", p, err)
	}
	// A client that asks for a session opens the document anew, so it
	// gets the room's own close code if the room fails again.
	s.forgetFailures(id)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return httpapi.WriteJSON(w, status, sessionReply{
		Format: body.Format, Type: body.Type, FileID: id, SessionID: s.session})
}
