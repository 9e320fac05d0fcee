package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Session is a hub login session: one browser's login, which the login
// cookie names by ID.
type Session struct {
	// ID is the random session ID the hub chose. OAuth tokens issued
	// during the session carry it as Token.SessionID.
	ID   string
	User string
	// Created is when the user logged in, and ExpiresAt when the session
	// ends by itself.
	Created   time.Time
	ExpiresAt time.Time
}

// Sessions stores login sessions. Deleting a user deletes the user's
// sessions.
type Sessions interface {
	// CreateSession records a session of the named user. s.ID and
	// s.ExpiresAt must be set, and Created is set by the store. It returns
	// ErrNotFound when the user does not exist and ErrExists when the ID
	// is taken.
	CreateSession(ctx context.Context, s Session) (Session, error)
	// GetSession returns the session with that ID. An unknown or expired
	// session returns ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// DeleteSession deletes the session with that ID.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions deletes every session of the named user and
	// returns how many it deleted.
	DeleteUserSessions(ctx context.Context, user string) (int64, error)
	// EndOtherSessions deletes every session of the named user except the
	// one with ID keep, and the OAuth tokens and authorization codes
	// issued through them, in one transaction. keep "" ends all of them.
	// The tokens deleted are those of the user with a session ID other
	// than keep, so tokens of sessions that expired go too. It returns
	// the number of sessions and of tokens deleted.
	EndOtherSessions(ctx context.Context, user, keep string) (sessions, tokens int64, err error)
}

const sessionColumns = `ls.session_id, u.name, ls.created, ls.expires_at`

const sessionFrom = ` FROM login_sessions ls JOIN users u ON u.id = ls.user_id`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var s Session
	err := row.Scan(&s.ID, &s.User, timeCol{&s.Created}, timeCol{&s.ExpiresAt})
	return s, err
}

// CreateSession implements Sessions.
func (s *sqlStore) CreateSession(ctx context.Context, in Session) (Session, error) {
	if in.ID == "" || in.User == "" || in.ExpiresAt.IsZero() {
		return Session{}, invalid("creating session: ID, user and expiry must be set")
	}
	var out Session
	err := s.write(ctx, func(tx *sql.Tx) error {
		userID, err := lookupID(ctx, tx, "users", in.User)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO login_sessions
			(session_id, user_id, created, expires_at) VALUES ($1, $2, $3, $4)`,
			in.ID, userID, timeArg(s.timestamp()), timeArg(in.ExpiresAt))
		if err != nil {
			return err
		}
		out, err = scanSession(tx.QueryRowContext(ctx,
			"SELECT "+sessionColumns+sessionFrom+" WHERE ls.session_id = $1", in.ID))
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("creating session of user %q: %w", in.User, s.classify(err))
	}
	return out, nil
}

// GetSession implements Sessions.
func (s *sqlStore) GetSession(ctx context.Context, id string) (Session, error) {
	sess, err := readValue(ctx, s, func(tx *sql.Tx) (Session, error) {
		return scanSession(tx.QueryRowContext(ctx, "SELECT "+sessionColumns+sessionFrom+
			" WHERE ls.session_id = $1 AND ls.expires_at > $2", id, timeArg(s.timestamp())))
	})
	if err != nil {
		return Session{}, fmt.Errorf("reading session: %w", s.classify(err))
	}
	return sess, nil
}

// DeleteSession implements Sessions.
func (s *sqlStore) DeleteSession(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return deleteWhere(ctx, tx, "DELETE FROM login_sessions WHERE session_id = $1", id)
	})
	if err != nil {
		return fmt.Errorf("deleting session: %w", s.classify(err))
	}
	return nil
}

// DeleteUserSessions implements Sessions.
func (s *sqlStore) DeleteUserSessions(ctx context.Context, user string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		userID, err := lookupID(ctx, tx, "users", user)
		if err != nil {
			return err
		}
		n, err = execCount(ctx, tx, "DELETE FROM login_sessions WHERE user_id = $1", userID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting sessions of user %q: %w", user, s.classify(err))
	}
	return n, nil
}

// EndOtherSessions implements Sessions.
func (s *sqlStore) EndOtherSessions(ctx context.Context, user, keep string) (int64, int64, error) {
	var sessions, tokens int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		userID, err := lookupID(ctx, tx, "users", user)
		if err != nil {
			return err
		}
		if sessions, err = execCount(ctx, tx,
			"DELETE FROM login_sessions WHERE user_id = $1 AND session_id <> $2", userID, keep); err != nil {
			return err
		}
		if tokens, err = execCount(ctx, tx, `DELETE FROM api_tokens
			WHERE user_id = $1 AND session_id <> '' AND session_id <> $2`, userID, keep); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM oauth_codes
			WHERE user_id = $1 AND session_id <> '' AND session_id <> $2`, userID, keep)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("ending sessions of user %q: %w", user, s.classify(err))
	}
	return sessions, tokens, nil
}

// execCount runs a statement and returns how many rows it changed.
func execCount(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
