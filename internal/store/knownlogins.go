package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// KnownLogins stores the client addresses of each user's recent successful
// sign-ins, which the hub's login limiter trusts. Deleting a user deletes
// the user's addresses, and renaming keeps them.
type KnownLogins interface {
	// RecordKnownLogin stores that user signed in from address at time at.
	// It then deletes the user's addresses last used at since or before,
	// and all but the keep most recent ones. It returns ErrNotFound when the user
	// does not exist and ErrInvalid when keep is less than 1.
	RecordKnownLogin(ctx context.Context, user, address string, at time.Time,
		keep int, since time.Time) error
	// IsKnownLogin reports whether user signed in from address after
	// since.
	IsKnownLogin(ctx context.Context, user, address string, since time.Time) (bool, error)
}

// RecordKnownLogin implements KnownLogins.
func (s *sqlStore) RecordKnownLogin(ctx context.Context, user, address string, at time.Time,
	keep int, since time.Time) error {
	if keep < 1 {
		return invalid("recording a sign-in of user %q: keep is %d, want at least 1", user, keep)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		userID, err := lookupID(ctx, tx, "users", user)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO known_logins (user_id, address, last_login)
			VALUES ($1, $2, $3) ON CONFLICT (user_id, address) DO UPDATE SET last_login = `+
			activityExpr("known_logins.last_login", 3), userID, address, timeArg(at))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM known_logins WHERE user_id = $1
			AND (last_login <= $2 OR id NOT IN (SELECT id FROM known_logins WHERE user_id = $1
				ORDER BY last_login DESC, id DESC LIMIT $3))`, userID, timeArg(since), keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording a sign-in of user %q: %w", user, s.classify(err))
	}
	return nil
}

// IsKnownLogin implements KnownLogins.
func (s *sqlStore) IsKnownLogin(ctx context.Context, user, address string, since time.Time) (bool, error) {
	known, err := readValue(ctx, s, func(tx *sql.Tx) (bool, error) {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM known_logins k JOIN users u ON u.id = k.user_id
			WHERE u.name = $1 AND k.address = $2 AND k.last_login > $3`,
			user, address, timeArg(since)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return false, fmt.Errorf("looking up a sign-in of user %q: %w", user, err)
	}
	return known, nil
}
