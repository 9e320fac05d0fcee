// Package collab is the server side of JupyterLab's real-time
// collaboration, compatible with jupyter-collaboration 5.0 as
// @jupyter/docprovider 5 speaks to it: the file id API, document
// sessions, and rooms that share a Y.Doc over WebSockets.
//
// # File ids and sessions
//
// A file id is a random UUID that names a file for as long as it is
// renamed and moved through the contents API: contents.Manager reports
// those changes to Service.ContentsChanged. Ids live in a SQLite file in
// the data folder, per root folder. PUT /api/collaboration/session/{path}
// returns the id with the session id of this server process. A client
// sends that session id back when it joins a room. Sessions of earlier
// processes (the last 10) are accepted when the server version is the
// same, because a room's history outlives the process and an old client's
// document still merges with it. Other clients are closed with 1003 and a
// JSON reason that makes JupyterLab offer a reload.
//
// # Rooms
//
// A room named "{format}:{type}:{fileId}" holds a document. Other names,
// such as "JupyterLab:globalAwareness", are transient rooms that relay
// awareness and keep nothing. A document room loads its file before it
// reads or sends any frame, so frames a client sends earlier wait in the
// socket. It
// then sends SyncStep1 and replies to the client's. Updates go to every
// other client, and awareness entries newer than the room's to every
// client, the sender too, because y-websocket clients reconnect when they
// hear nothing for 30 seconds. A new client's SyncStep1 gets the room's
// cached encoding of the doc. When a connection closes, the awareness states it introduced
// are removed and the removal is sent to the others.
//
// # Load, save and changes on disk
//
// A document type's Model maps file bytes to the doc and back; rooms
// implement text files ("file", "unicode": the Y.Text "source"). Without
// stored history a file is loaded deterministically, under client id 0,
// so that equal content always has equal history. After each load,
// reload and merge, the code cells of a notebook are marked trusted when
// the server signed its file and untrusted otherwise, under the room's
// own client id.
// Every update is sent on at once and queued for the room's history in
// SQLite. One writer goroutine per database commits what is queued in
// one transaction as soon as the previous one has committed, and merges the
// newest rows of a room's history into one every Options.CompactAfter
// updates. An
// update is acknowledged once the writer has committed it. A room loads its history, and keeps it
// when the file is as the room last read or wrote it: those are edits the
// server had not saved when it stopped. Otherwise the file changed while
// the room was closed, and the doc is set from the file.
//
// Client changes are saved Options.SaveDelay after the last one, unless
// every client's awareness state says "autosave": false, and at once on a
// RAW "save" message, which gets a {"type":"save","responseTo":id,
// "status":...} reply. A save writes through the contents manager's
// atomic writer, then sets the state map's hash (the sha256 that
// /api/contents?hash=1 returns) and dirty=false. Each room polls its file
// every Options.PollInterval: new bytes are loaded into the doc with the
// least change, and a new modification time with the same bytes (a touch,
// or the server's own save) changes nothing. A rename through the API sets
// the state map's path, and a delete closes the room without saving. A
// room left without clients closes after Options.CleanupDelay, once its
// changes are saved.
//
// # Limits
//
// A message longer than Options.MaxMessageBytes, or an update that would
// create more than Options.MaxUpdateItems items, closes its connection
// with 1003 and a reason that names the limit. The messages being read by all clients at once hold at
// most Options.MaxReadBytes, and a client whose message would pass that is
// closed with 1013. A malformed message closes its connection with 1007, and
// unknown message types are ignored. At most Options.MaxRooms document
// rooms, and as many transient ones, are open at once. At the limit, rooms
// without clients close to make room. A client of a document room that
// still has no place is closed with 1003 and a reason that JupyterLab
// shows. Its next retry within 10 s is closed with 4500, on which
// JupyterLab closes the document's tab, and the retries after that are
// rejected with 503 and Retry-After before the WebSocket upgrade, as are
// clients of a transient room. The clients of a document whose file is deleted are closed with
// 1003 and a reason that JupyterLab shows.
//
// A sync step 2 or update that would take the doc out of the schema of
// its type (ydoc.CheckUpdate) closes its connection with 1003 and a
// reason naming the offending value, before it reaches the doc, the
// history or the other clients. An update whose items depend on structs
// the doc lacks cannot be checked. It closes its connection with 1013, and
// the client reconnects and sends it again with what it depends on. A doc outside the
// schema all the same, from a history stored before rooms checked
// updates, is saved repaired, with one warning per room.
//
// # Concurrency
//
// A room's mu guards its doc, awareness and clients, and orders the
// history writes it queues. No database write happens under it. Clients' frames are
// handled on their connection's goroutine under mu, and sends go to a
// queue per connection that a writer goroutine drains, closing with 1013 a
// client that has 32 MiB or 16,384 frames waiting. The room's own goroutine owns its timers.
// saveMu serializes saves and reloads, which read and write the file
// without holding mu. Service.mu guards the room table and is never taken
// while a room's mu is held.
package collab
