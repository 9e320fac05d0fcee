package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Server is one of a user's servers, the state of JupyterHub's Spawner
// that must survive a restart of the hub.
type Server struct {
	ID int64
	// User is the owner's name.
	User string
	// Name is "" for the user's default server.
	Name        string
	DisplayName string
	// Started is when the current run began, zero when the server is
	// stopped.
	Started      time.Time
	LastActivity time.Time
	// Pending is the action in progress: "", PendingSpawn or PendingStop.
	Pending string
	// URL is the address of the running server as the proxy reaches it
	// (for example http://127.0.0.1:41234/user/alice/), "" when the server
	// is not running.
	URL string
	// UserOptions are the options the user chose at the last start, a JSON
	// value, nil if none.
	UserOptions json.RawMessage
	// State is the spawner's JSON state, such as the process ID, nil if
	// none.
	State json.RawMessage
}

// Values of Server.Pending.
const (
	PendingSpawn = "spawn"
	PendingStop  = "stop"
)

// Active reports whether the server is started or has an action pending.
func (sv Server) Active() bool { return !sv.Started.IsZero() || sv.Pending != "" }

// Ready reports whether the server is started, has a URL and has no action
// pending.
func (sv Server) Ready() bool { return !sv.Started.IsZero() && sv.URL != "" && sv.Pending == "" }

// ServerUpdate lists the server fields that UpdateServer changes. Nil fields
// are left as they are.
type ServerUpdate struct {
	DisplayName *string
	// Started sets the start time; the zero time marks the server stopped.
	Started *time.Time
	// LastActivity moves the last activity forward to this time. A value
	// earlier than the stored one is ignored.
	LastActivity *time.Time
	// Pending sets the pending action; "" clears it.
	Pending *string
	URL     *string
	// UserOptions and State set those JSON values; a nil slice clears them.
	UserOptions *json.RawMessage
	State       *json.RawMessage
}

const serverColumns = `s.id, u.name, s.name, s.display_name, s.started, s.last_activity,
	s.pending, s.url, s.user_options, s.state`

const serverFrom = ` FROM servers s JOIN users u ON u.id = s.user_id`

func scanServer(row interface{ Scan(...any) error }) (Server, error) {
	var sv Server
	err := row.Scan(serverDest(&sv)...)
	return sv, err
}

// serverDest returns the scan destinations of serverColumns in sv.
func serverDest(sv *Server) []any {
	return []any{&sv.ID, &sv.User, &sv.Name, &sv.DisplayName, timeCol{&sv.Started},
		timeCol{&sv.LastActivity}, &sv.Pending, &sv.URL,
		rawCol{(*[]byte)(&sv.UserOptions)}, rawCol{(*[]byte)(&sv.State)}}
}

// CreateServer implements Servers.
func (s *sqlStore) CreateServer(ctx context.Context, user, name string) (Server, error) {
	var sv Server
	err := s.write(ctx, func(tx *sql.Tx) error {
		userID, err := lookupID(ctx, tx, "users", user)
		if err != nil {
			return fmt.Errorf("user %q: %w", user, s.classify(err))
		}
		var id int64
		err = tx.QueryRowContext(ctx,
			"INSERT INTO servers (user_id, name) VALUES ($1, $2) RETURNING id", userID, name).Scan(&id)
		if err != nil {
			return s.classify(err)
		}
		sv, err = s.serverByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Server{}, fmt.Errorf("creating server %q of user %q: %w", name, user, err)
	}
	return sv, nil
}

// GetServer implements Servers.
func (s *sqlStore) GetServer(ctx context.Context, user, name string) (Server, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+serverColumns+serverFrom+
		" WHERE u.name = $1 AND s.name = $2", user, name)
	sv, err := scanServer(row)
	if err != nil {
		return Server{}, fmt.Errorf("getting server %q of user %q: %w", name, user, s.classify(err))
	}
	return sv, nil
}

func (s *sqlStore) serverByID(ctx context.Context, q querier, id int64) (Server, error) {
	row := q.QueryRowContext(ctx, "SELECT "+serverColumns+serverFrom+" WHERE s.id = $1", id)
	sv, err := scanServer(row)
	return sv, s.classify(err)
}

// ListServers implements Servers.
func (s *sqlStore) ListServers(ctx context.Context, user string) ([]Server, error) {
	query := "SELECT " + serverColumns + serverFrom
	var args []any
	if user != "" {
		query += " WHERE u.name = $1"
		args = append(args, user)
	}
	servers, err := readValue(ctx, s, func(tx *sql.Tx) ([]Server, error) {
		if user != "" {
			if _, err := lookupID(ctx, tx, "users", user); err != nil {
				return nil, fmt.Errorf("user %q: %w", user, s.classify(err))
			}
		}
		rows, err := tx.QueryContext(ctx, query+" ORDER BY s.user_id, s.name", args...)
		if err != nil {
			return nil, err
		}
		return collect(rows, scanServer)
	})
	if err != nil {
		return nil, fmt.Errorf("listing servers: %w", err)
	}
	return servers, nil
}

// UpdateServer implements Servers.
func (s *sqlStore) UpdateServer(ctx context.Context, user, name string, u ServerUpdate) (Server, error) {
	b, err := serverAssignments(u)
	if err != nil {
		return Server{}, fmt.Errorf("updating server %q of user %q: %w", name, user, err)
	}
	var sv Server
	err = s.write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, "SELECT s.id"+serverFrom+" WHERE u.name = $1 AND s.name = $2",
			user, name).Scan(&id)
		if err != nil {
			return s.classify(err)
		}
		if err := b.exec(ctx, tx, "servers", id); err != nil {
			return s.classify(err)
		}
		sv, err = s.serverByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Server{}, fmt.Errorf("updating server %q of user %q: %w", name, user, err)
	}
	return sv, nil
}

// serverAssignments checks u and returns its assignments.
func serverAssignments(u ServerUpdate) (*updateBuilder, error) {
	var b updateBuilder
	if u.DisplayName != nil {
		b.set("display_name", *u.DisplayName)
	}
	if u.Started != nil {
		b.set("started", timeArg(*u.Started))
	}
	if u.LastActivity != nil {
		b.raise("last_activity", *u.LastActivity)
	}
	if u.Pending != nil {
		switch *u.Pending {
		case "", PendingSpawn, PendingStop:
		default:
			return nil, invalid("pending action %q: want spawn, stop or none", *u.Pending)
		}
		b.set("pending", *u.Pending)
	}
	if u.URL != nil {
		b.set("url", *u.URL)
	}
	if u.UserOptions != nil {
		if err := checkJSON("user options", *u.UserOptions); err != nil {
			return nil, err
		}
		b.set("user_options", jsonArg(*u.UserOptions))
	}
	if u.State != nil {
		if err := checkJSON("spawner state", *u.State); err != nil {
			return nil, err
		}
		b.set("state", jsonArg(*u.State))
	}
	return &b, nil
}

// DeleteServer implements Servers.
func (s *sqlStore) DeleteServer(ctx context.Context, user, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return deleteWhere(ctx, tx, `DELETE FROM servers WHERE name = $1
			AND user_id IN (SELECT id FROM users WHERE name = $2)`, name, user)
	})
	if err != nil {
		return fmt.Errorf("deleting server %q of user %q: %w", name, user, s.classify(err))
	}
	return nil
}
