package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
)

// shareCodeBytes is the number of random bytes in a share code. A code is
// their URL-safe base64 text of 43 characters, as in JupyterHub 5.0.
const shareCodeBytes = 32

// generateShareCode returns a new random share code.
func generateShareCode() string {
	b := make([]byte, shareCodeBytes)
	rand.Read(b) // never returns an error since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

const shareCodeColumns = `c.id, c.scopes, c.created, c.expires_at, c.exchange_count, c.last_exchanged, ` +
	serverColumns

const shareCodeFrom = ` FROM share_codes c JOIN servers s ON s.id = c.server_id
	JOIN users u ON u.id = s.user_id`

func scanShareCode(row interface{ Scan(...any) error }) (ShareCode, error) {
	var c ShareCode
	dest := []any{&c.ID, listCol{&c.Scopes}, timeCol{&c.Created}, timeCol{&c.ExpiresAt},
		&c.ExchangeCount, timeCol{&c.LastExchanged}}
	err := row.Scan(append(dest, serverDest(&c.Server)...)...)
	return c, err
}

// CreateShareCode implements Shares.
func (s *sqlStore) CreateShareCode(ctx context.Context, nc NewShareCode) (ShareCode, string, error) {
	action := fmt.Sprintf("creating share code for server %q of user %q", nc.Server, nc.Owner)
	if len(nc.Scopes) == 0 {
		return ShareCode{}, "", invalid("%s: no scopes", action)
	}
	if nc.ExpiresAt.IsZero() {
		return ShareCode{}, "", invalid("%s: no expiry time", action)
	}
	plain := generateShareCode()
	var c ShareCode
	err := s.write(ctx, func(tx *sql.Tx) error {
		serverID, err := s.serverID(ctx, tx, nc.Owner, nc.Server)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO share_codes
			(server_id, prefix, hash, scopes, created, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			serverID, tokenPrefix(plain), hashSecret(plain, generatedRounds),
			listArg(normalizeScopes(nc.Scopes)), timeArg(s.timestamp()),
			timeArg(nc.ExpiresAt)).Scan(&id)
		if err != nil {
			return s.classify(err)
		}
		c, err = s.shareCodeByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return ShareCode{}, "", fmt.Errorf("%s: %w", action, err)
	}
	return c, plain, nil
}

func (s *sqlStore) shareCodeByID(ctx context.Context, q querier, id int64) (ShareCode, error) {
	row := q.QueryRowContext(ctx, "SELECT "+shareCodeColumns+shareCodeFrom+" WHERE c.id = $1", id)
	c, err := scanShareCode(row)
	return c, s.classify(err)
}

// matchShareCode returns the stored code whose hash matches plain, expired
// or not, or ErrNotFound.
func (s *sqlStore) matchShareCode(ctx context.Context, q querier, plain string) (ShareCode, error) {
	if plain == "" {
		return ShareCode{}, ErrNotFound
	}
	rows, err := q.QueryContext(ctx, "SELECT id, hash FROM share_codes WHERE prefix = $1",
		tokenPrefix(plain))
	if err != nil {
		return ShareCode{}, err
	}
	id := int64(0)
	for rows.Next() {
		var candidate int64
		var hash string
		if err := rows.Scan(&candidate, &hash); err != nil {
			rows.Close()
			return ShareCode{}, err
		}
		if id == 0 && checkSecret(plain, hash) {
			id = candidate
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return ShareCode{}, err
	}
	if id == 0 {
		return ShareCode{}, ErrNotFound
	}
	return s.shareCodeByID(ctx, q, id)
}

// errShareCodeExpired is returned inside a transaction that deleted an
// expired code, which must commit.
var errShareCodeExpired = errors.New("share code expired")

// liveShareCode returns the unexpired code plain in tx, and deletes it and
// returns errShareCodeExpired when it has expired.
func (s *sqlStore) liveShareCode(ctx context.Context, tx *sql.Tx, plain string) (ShareCode, error) {
	c, err := s.matchShareCode(ctx, tx, plain)
	if err != nil {
		return ShareCode{}, err
	}
	if c.ExpiresAt.After(s.timestamp()) {
		return c, nil
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM share_codes WHERE id = $1", c.ID); err != nil {
		return ShareCode{}, err
	}
	s.log.Debug("expired share code deleted", "share_code_id", c.ID)
	return ShareCode{}, errShareCodeExpired
}

// withLiveShareCode runs fn on the unexpired code plain in a write
// transaction. An expired code is deleted and reported as ErrNotFound.
func (s *sqlStore) withLiveShareCode(ctx context.Context, plain string,
	fn func(tx *sql.Tx, c ShareCode) error) error {
	expired := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		expired = false
		c, err := s.liveShareCode(ctx, tx, plain)
		if errors.Is(err, errShareCodeExpired) {
			expired = true
			return nil
		}
		if err != nil {
			return err
		}
		return fn(tx, c)
	})
	if err == nil && expired {
		return notFound("share code expired")
	}
	return err
}

// FindShareCode implements Shares.
func (s *sqlStore) FindShareCode(ctx context.Context, code string) (ShareCode, error) {
	var found ShareCode
	err := s.withLiveShareCode(ctx, code, func(tx *sql.Tx, c ShareCode) error {
		found = c
		return nil
	})
	if err != nil {
		return ShareCode{}, fmt.Errorf("finding share code: %w", err)
	}
	return found, nil
}

// ExchangeShareCode implements Shares.
func (s *sqlStore) ExchangeShareCode(ctx context.Context, code, user string) (Share, error) {
	var sh Share
	err := s.withLiveShareCode(ctx, code, func(tx *sql.Tx, c ShareCode) error {
		if c.Server.User == user {
			return invalid("user %q owns the server of the code", user)
		}
		k := ShareKey{Owner: c.Server.User, Server: c.Server.Name, User: user}
		var err error
		if sh, err = s.grantShare(ctx, tx, c.Server.ID, k, c.Scopes); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE share_codes SET exchange_count = exchange_count + 1,
			last_exchanged = $1 WHERE id = $2`, timeArg(s.timestamp()), c.ID)
		return err
	})
	if err != nil {
		return Share{}, fmt.Errorf("exchanging share code for user %q: %w", user, err)
	}
	return sh, nil
}

// ListShareCodes implements Shares.
func (s *sqlStore) ListShareCodes(ctx context.Context, q ShareCodeQuery) ([]ShareCode, int, error) {
	var codes []ShareCode
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		var c conditions
		c.add("c.expires_at > $%d", timeArg(s.timestamp()))
		if err := s.serverConditions(ctx, tx, &c, q.Owner, q.Server); err != nil {
			return err
		}
		var err error
		codes, total, err = listPage(ctx, tx, shareCodeColumns, shareCodeFrom, "c.id", &c, q.Page,
			scanShareCode)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("listing share codes of user %q: %w", q.Owner, err)
	}
	return codes, total, nil
}

// DeleteShareCodes implements Shares.
func (s *sqlStore) DeleteShareCodes(ctx context.Context, f ShareCodeFilter) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		serverID, err := s.serverID(ctx, tx, f.Owner, f.Server)
		if err != nil {
			return err
		}
		var c conditions
		c.add("server_id = $%d", serverID)
		if f.ID != 0 {
			c.add("id = $%d", f.ID)
		}
		if f.Code != "" {
			code, err := s.matchShareCode(ctx, tx, f.Code)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			c.add("id = $%d", code.ID)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM share_codes"+c.where(), c.args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting share codes of server %q of user %q: %w", f.Server, f.Owner, err)
	}
	return n, nil
}
