package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

var serverTests = []test{
	{"CreateGet", testServerCreateGet},
	{"CreateErrors", testServerCreateErrors},
	{"Lifecycle", testServerLifecycle},
	{"UpdateErrors", testServerUpdateErrors},
	{"LastActivityForward", testServerLastActivity},
	{"List", testServerList},
	{"Delete", testServerDelete},
}

func testServerCreateGet(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	sv, err := s.CreateServer(t.Context(), "alice", "")
	wantErr(t, "CreateServer", err, nil)
	want := store.Server{User: "alice", Name: ""}
	diff(t, "created server", sv, want)
	if sv.Active() || sv.Ready() {
		t.Errorf("new server: Active() = %v, Ready() = %v, want both false", sv.Active(), sv.Ready())
	}
	got, err := s.GetServer(t.Context(), "alice", "")
	wantErr(t, "GetServer", err, nil)
	diff(t, "server", got, want)
	if got.ID != sv.ID || sv.ID == 0 {
		t.Errorf("IDs: created %d, got %d", sv.ID, got.ID)
	}

	named := mustServer(t, s, "alice", "gpu")
	diff(t, "named server", named, store.Server{User: "alice", Name: "gpu"})
}

func testServerCreateErrors(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustServer(t, s, "alice", "")
	tests := []struct {
		name      string
		user, srv string
		want      error
	}{
		{name: "duplicate default", user: "alice", srv: "", want: store.ErrExists},
		{name: "same name, other user", user: "bob", srv: "", want: nil},
		{name: "missing user", user: "carol", srv: "", want: store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateServer(t.Context(), tc.user, tc.srv)
			wantErr(t, "CreateServer", err, tc.want)
		})
	}
	_, err := s.GetServer(t.Context(), "alice", "missing")
	wantErr(t, "GetServer(missing server)", err, store.ErrNotFound)
	_, err = s.GetServer(t.Context(), "carol", "")
	wantErr(t, "GetServer(missing user)", err, store.ErrNotFound)
}

func testServerLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustServer(t, s, "alice", "lab")

	options := json.RawMessage(`{"image":"python"}`)
	sv, err := s.UpdateServer(ctx, "alice", "lab", store.ServerUpdate{
		DisplayName: ptr("My lab"),
		Pending:     ptr(store.PendingSpawn),
		Started:     ptr(t1),
		UserOptions: &options,
	})
	wantErr(t, "UpdateServer(spawn)", err, nil)
	spawning := store.Server{User: "alice", Name: "lab", DisplayName: "My lab",
		Pending: store.PendingSpawn, Started: t1, UserOptions: options}
	diff(t, "spawning server", sv, spawning)
	if !sv.Active() || sv.Ready() {
		t.Errorf("spawning: Active() = %v, Ready() = %v, want true, false", sv.Active(), sv.Ready())
	}

	state := json.RawMessage(`{"pid":4242}`)
	sv, err = s.UpdateServer(ctx, "alice", "lab", store.ServerUpdate{
		Pending: ptr(""),
		URL:     ptr("http://127.0.0.1:40123/user/alice/lab/"),
		State:   &state,
	})
	wantErr(t, "UpdateServer(ready)", err, nil)
	ready := spawning
	ready.Pending = ""
	ready.URL = "http://127.0.0.1:40123/user/alice/lab/"
	ready.State = state
	diff(t, "ready server", sv, ready)
	if !sv.Ready() {
		t.Errorf("ready server: Ready() = false")
	}

	got, err := s.GetServer(ctx, "alice", "lab")
	wantErr(t, "GetServer", err, nil)
	diff(t, "reread ready server", got, ready)

	sv, err = s.UpdateServer(ctx, "alice", "lab", store.ServerUpdate{
		Started: ptr(time.Time{}),
		URL:     ptr(""),
		State:   new(json.RawMessage),
	})
	wantErr(t, "UpdateServer(stopped)", err, nil)
	stopped := store.Server{User: "alice", Name: "lab", DisplayName: "My lab", UserOptions: options}
	diff(t, "stopped server", sv, stopped)
	if sv.Active() || sv.State != nil {
		t.Errorf("stopped server: Active() = %v, State = %q", sv.Active(), sv.State)
	}
}

func testServerUpdateErrors(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustServer(t, s, "alice", "")
	bad := json.RawMessage(`{"pid":`)
	tests := []struct {
		name   string
		user   string
		server string
		update store.ServerUpdate
		want   error
	}{
		{"bad pending", "alice", "", store.ServerUpdate{Pending: ptr("restart")}, store.ErrInvalid},
		{"bad state", "alice", "", store.ServerUpdate{State: &bad}, store.ErrInvalid},
		{"bad options", "alice", "", store.ServerUpdate{UserOptions: &bad}, store.ErrInvalid},
		{"missing server", "alice", "x", store.ServerUpdate{URL: ptr("http://127.0.0.1:1/")}, store.ErrNotFound},
		{"missing user", "bob", "", store.ServerUpdate{}, store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateServer(t.Context(), tc.user, tc.server, tc.update)
			wantErr(t, "UpdateServer", err, tc.want)
		})
	}
	sv, err := s.GetServer(t.Context(), "alice", "")
	wantErr(t, "GetServer", err, nil)
	diff(t, "server after failed updates", sv, store.Server{User: "alice"})
}

func testServerLastActivity(t *testing.T, s store.Store) {
	mustUser(t, s, "alice")
	mustServer(t, s, "alice", "")
	for _, step := range []struct{ set, want time.Time }{{t2, t2}, {t1, t2}, {t3, t3}} {
		sv, err := s.UpdateServer(t.Context(), "alice", "", store.ServerUpdate{LastActivity: ptr(step.set)})
		wantErr(t, "UpdateServer", err, nil)
		if !sv.LastActivity.Equal(step.want) {
			t.Errorf("after setting %v, LastActivity = %v, want %v", step.set, sv.LastActivity, step.want)
		}
	}
}

func testServerList(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "bob")
	mustUser(t, s, "alice")
	mustUser(t, s, "carol")
	mustServer(t, s, "alice", "zeta")
	mustServer(t, s, "alice", "")
	mustServer(t, s, "bob", "b")

	servers, err := s.ListServers(ctx, "alice")
	wantErr(t, "ListServers(alice)", err, nil)
	diff(t, "servers of alice", servers, []store.Server{
		{User: "alice", Name: ""}, {User: "alice", Name: "zeta"},
	})
	servers, err = s.ListServers(ctx, "carol")
	wantErr(t, "ListServers(carol)", err, nil)
	diff(t, "servers of carol", servers, []store.Server{})
	_, err = s.ListServers(ctx, "dave")
	wantErr(t, "ListServers(missing user)", err, store.ErrNotFound)

	// Every server, by user ID (bob was created first) and then name.
	servers, err = s.ListServers(ctx, "")
	wantErr(t, "ListServers(all)", err, nil)
	diff(t, "all servers", servers, []store.Server{
		{User: "bob", Name: "b"}, {User: "alice", Name: ""}, {User: "alice", Name: "zeta"},
	})
}

func testServerDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustServer(t, s, "alice", "")
	mustServer(t, s, "bob", "")
	wantErr(t, "DeleteServer", s.DeleteServer(ctx, "alice", ""), nil)
	wantErr(t, "DeleteServer(again)", s.DeleteServer(ctx, "alice", ""), store.ErrNotFound)
	wantErr(t, "DeleteServer(missing user)", s.DeleteServer(ctx, "carol", ""), store.ErrNotFound)
	_, err := s.GetServer(ctx, "bob", "")
	wantErr(t, "GetServer(bob)", err, nil)
	mustServer(t, s, "alice", "")
}
