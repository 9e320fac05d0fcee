package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Owner names the owner of a token: a user or a service. Exactly one of
// the fields is set.
type Owner struct {
	User    string
	Service string
}

// String returns `user "NAME"` or `service "NAME"`.
func (o Owner) String() string {
	if o.Service != "" {
		return fmt.Sprintf("service %q", o.Service)
	}
	return fmt.Sprintf("user %q", o.User)
}

// check returns ErrInvalid unless exactly one field is set.
func (o Owner) check() error {
	if (o.User == "") == (o.Service == "") {
		return invalid("token owner: want exactly one of user and service")
	}
	return nil
}

// Token is a stored API token, without the token itself.
type Token struct {
	ID int64
	// Prefix is the token's first characters, kept in clear so that
	// people can tell their tokens apart.
	Prefix string
	Owner  Owner
	Scopes []string
	Note   string
	// Created, LastActivity and ExpiresAt are zero for "never" where that
	// applies: a token that was never used, or never expires.
	Created      time.Time
	LastActivity time.Time
	ExpiresAt    time.Time
	// SessionID is the hub login session that an OAuth token was issued
	// in, so logging out can revoke it.
	SessionID string
	// OAuthClientID is the client an OAuth token was issued to, "" for
	// other tokens.
	OAuthClientID string
}

// NewToken describes a token for CreateToken.
type NewToken struct {
	// Token is the clear token to store, or "" for a new random one.
	Token     string
	Owner     Owner
	Scopes    []string
	Note      string
	ExpiresAt time.Time
	SessionID string
	// OAuthClientID must name a stored client when set.
	OAuthClientID string
}

// String describes the token to create without the token itself.
func (nt NewToken) String() string {
	return fmt.Sprintf("new token for %s", nt.Owner)
}

// LogValue logs the token to create without the token itself.
func (nt NewToken) LogValue() slog.Value {
	return slog.GroupValue(slog.String("owner", nt.Owner.String()),
		slog.Any("scopes", nt.Scopes), slog.String("note", nt.Note))
}

// TokenFilter selects tokens for DeleteTokens. Set fields are combined
// with AND.
type TokenFilter struct {
	// Owner selects the tokens of a user or a service. Unlike elsewhere,
	// both fields may be set, and then both must match.
	Owner         Owner
	SessionID     string
	OAuthClientID string
}

const tokenColumns = `t.id, t.prefix, COALESCE(u.name, ''), COALESCE(sv.name, ''), t.scopes,
	t.note, t.created, t.last_activity, t.expires_at, t.session_id, t.oauth_client_id`

const tokenFrom = ` FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
	LEFT JOIN services sv ON sv.id = t.service_id`

// unexpired is the condition that keeps tokens whose expiry is after $1.
const unexpired = `(t.expires_at IS NULL OR t.expires_at > $1)`

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var t Token
	err := row.Scan(&t.ID, &t.Prefix, &t.Owner.User, &t.Owner.Service, listCol{&t.Scopes}, &t.Note,
		timeCol{&t.Created}, timeCol{&t.LastActivity}, timeCol{&t.ExpiresAt},
		&t.SessionID, textCol{&t.OAuthClientID})
	return t, err
}

// CreateToken implements Tokens.
func (s *sqlStore) CreateToken(ctx context.Context, nt NewToken) (Token, string, error) {
	if err := nt.Owner.check(); err != nil {
		return Token{}, "", fmt.Errorf("creating token: %w", err)
	}
	plain, rounds := nt.Token, suppliedRounds
	if plain == "" {
		plain, rounds = GenerateToken(), generatedRounds
	} else if len(plain) < MinTokenLength {
		return Token{}, "", fmt.Errorf("creating token for %s: %w", nt.Owner,
			invalid("token shorter than %d characters", MinTokenLength))
	}

	var t Token
	err := s.write(ctx, func(tx *sql.Tx) error {
		// A generated token has too many random bits to collide.
		if rounds == suppliedRounds {
			if s.d.lockTokenPrefix != "" {
				if _, err := tx.ExecContext(ctx, s.d.lockTokenPrefix, tokenPrefix(plain)); err != nil {
					return fmt.Errorf("locking the token prefix: %w", err)
				}
			}
			if err := s.checkTokenFree(ctx, tx, plain); err != nil {
				return err
			}
		}
		var err error
		t, err = s.insertToken(ctx, tx, nt, plain, rounds)
		return err
	})
	if err != nil {
		return Token{}, "", fmt.Errorf("creating token for %s: %w", nt.Owner, err)
	}
	return t, plain, nil
}

// checkTokenFree returns ErrExists when the plain token is stored already.
func (s *sqlStore) checkTokenFree(ctx context.Context, q querier, plain string) error {
	_, err := s.matchToken(ctx, q, plain)
	switch {
	case err == nil:
		return fmt.Errorf("token: %w", ErrExists)
	case errors.Is(err, ErrNotFound):
		return nil
	}
	return err
}

// insertToken stores the hash of plain with the fields of nt and returns
// the new row.
func (s *sqlStore) insertToken(ctx context.Context, tx *sql.Tx, nt NewToken,
	plain string, rounds int) (Token, error) {
	userID, serviceID, err := s.ownerIDs(ctx, tx, nt.Owner)
	if err != nil {
		return Token{}, err
	}
	if nt.OAuthClientID != "" {
		var clientID int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM oauth_clients WHERE client_id = $1",
			nt.OAuthClientID).Scan(&clientID)
		if err != nil {
			return Token{}, fmt.Errorf("OAuth client %q: %w", nt.OAuthClientID, s.classify(err))
		}
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO api_tokens (prefix, hash, user_id, service_id,
		scopes, note, created, expires_at, session_id, oauth_client_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		tokenPrefix(plain), hashSecret(plain, rounds), userID, serviceID, listArg(nt.Scopes),
		nt.Note, timeArg(s.timestamp()), timeArg(nt.ExpiresAt), nt.SessionID,
		textArg(nt.OAuthClientID)).Scan(&id)
	if err != nil {
		return Token{}, s.classify(err)
	}
	return s.tokenByID(ctx, tx, id)
}

// ownerIDs returns the user and service ID arguments for o, one of them
// NULL.
func (s *sqlStore) ownerIDs(ctx context.Context, q querier, o Owner) (user, service any, err error) {
	if o.User != "" {
		id, err := lookupID(ctx, q, "users", o.User)
		if err != nil {
			return nil, nil, fmt.Errorf("user %q: %w", o.User, s.classify(err))
		}
		return id, nil, nil
	}
	id, err := lookupID(ctx, q, "services", o.Service)
	if err != nil {
		return nil, nil, fmt.Errorf("service %q: %w", o.Service, s.classify(err))
	}
	return nil, id, nil
}

// matchedToken is a stored token whose hash matched a plain token.
type matchedToken struct {
	id        int64
	expiresAt time.Time
}

// matchToken returns the stored token whose hash matches plain, expired
// or not, or ErrNotFound.
func (s *sqlStore) matchToken(ctx context.Context, q querier, plain string) (matchedToken, error) {
	rows, err := q.QueryContext(ctx,
		"SELECT id, hash, expires_at FROM api_tokens WHERE prefix = $1", tokenPrefix(plain))
	if err != nil {
		return matchedToken{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var m matchedToken
		var hash string
		if err := rows.Scan(&m.id, &hash, timeCol{&m.expiresAt}); err != nil {
			return matchedToken{}, err
		}
		if checkSecret(plain, hash) {
			return m, nil
		}
	}
	if err := rows.Err(); err != nil {
		return matchedToken{}, err
	}
	return matchedToken{}, ErrNotFound
}

// FindToken implements Tokens.
func (s *sqlStore) FindToken(ctx context.Context, token string) (Token, error) {
	if token == "" {
		return Token{}, notFound("finding token")
	}
	var t Token
	m, err := readValue(ctx, s, func(tx *sql.Tx) (matchedToken, error) {
		m, err := s.matchToken(ctx, tx, token)
		if err != nil {
			return m, err
		}
		t, err = s.tokenByID(ctx, tx, m.id)
		return m, err
	})
	if err != nil {
		return Token{}, fmt.Errorf("finding token: %w", err)
	}
	if !m.expiresAt.IsZero() && !m.expiresAt.After(s.timestamp()) {
		err := s.write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "DELETE FROM api_tokens WHERE id = $1", m.id)
			return err
		})
		if err != nil {
			return Token{}, fmt.Errorf("deleting expired token %d: %w", m.id, err)
		}
		s.log.Debug("expired token deleted", "token_id", m.id)
		return Token{}, notFound("finding token: expired")
	}
	return t, nil
}

// tokenByID returns the token with that ID, expired or not.
func (s *sqlStore) tokenByID(ctx context.Context, q querier, id int64) (Token, error) {
	row := q.QueryRowContext(ctx, "SELECT "+tokenColumns+tokenFrom+" WHERE t.id = $1", id)
	t, err := scanToken(row)
	return t, s.classify(err)
}

// GetToken implements Tokens.
func (s *sqlStore) GetToken(ctx context.Context, id int64) (Token, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+tokenColumns+tokenFrom+
		" WHERE "+unexpired+" AND t.id = $2", timeArg(s.timestamp()), id)
	t, err := scanToken(row)
	if err != nil {
		return Token{}, fmt.Errorf("getting token %d: %w", id, s.classify(err))
	}
	return t, nil
}

// ListTokens implements Tokens.
func (s *sqlStore) ListTokens(ctx context.Context, o Owner) ([]Token, error) {
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	tokens, err := readValue(ctx, s, func(tx *sql.Tx) ([]Token, error) {
		userID, serviceID, err := s.ownerIDs(ctx, tx, o)
		if err != nil {
			return nil, err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+tokenColumns+tokenFrom+" WHERE "+unexpired+
			" AND (t.user_id = $2 OR t.service_id = $3) ORDER BY t.id",
			timeArg(s.timestamp()), userID, serviceID)
		if err != nil {
			return nil, err
		}
		return collect(rows, scanToken)
	})
	if err != nil {
		return nil, fmt.Errorf("listing tokens of %s: %w", o, err)
	}
	return tokens, nil
}

// TouchToken implements Tokens.
func (s *sqlStore) TouchToken(ctx context.Context, id int64, at time.Time) error {
	var b updateBuilder
	b.raise("last_activity", at)
	err := s.write(ctx, func(tx *sql.Tx) error {
		return b.exec(ctx, tx, "api_tokens", id)
	})
	if err != nil {
		return fmt.Errorf("touching token %d: %w", id, s.classify(err))
	}
	return nil
}

// DeleteToken implements Tokens.
func (s *sqlStore) DeleteToken(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return deleteWhere(ctx, tx, "DELETE FROM api_tokens WHERE id = $1", id)
	})
	if err != nil {
		return fmt.Errorf("deleting token %d: %w", id, s.classify(err))
	}
	return nil
}

// DeleteTokens implements Tokens.
func (s *sqlStore) DeleteTokens(ctx context.Context, f TokenFilter) (int64, error) {
	var conds []string
	var args []any
	add := func(cond, arg string) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Owner.User != "" {
		add("user_id IN (SELECT id FROM users WHERE name = $%d)", f.Owner.User)
	}
	if f.Owner.Service != "" {
		add("service_id IN (SELECT id FROM services WHERE name = $%d)", f.Owner.Service)
	}
	if f.SessionID != "" {
		add("session_id = $%d", f.SessionID)
	}
	if f.OAuthClientID != "" {
		add("oauth_client_id = $%d", f.OAuthClientID)
	}

	if len(conds) == 0 {
		return 0, invalid("deleting tokens: empty filter")
	}

	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			"DELETE FROM api_tokens WHERE "+strings.Join(conds, " AND "), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting tokens: %w", err)
	}
	return n, nil
}

// PurgeExpired implements Store.
func (s *sqlStore) PurgeExpired(ctx context.Context) (int64, error) {
	now := timeArg(s.timestamp())
	var total int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		total = 0
		for _, query := range []string{
			"DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND expires_at <= $1",
			"DELETE FROM oauth_codes WHERE expires_at <= $1",
			"DELETE FROM login_sessions WHERE expires_at <= $1",
			"DELETE FROM share_codes WHERE expires_at <= $1",
		} {
			res, err := tx.ExecContext(ctx, query, now)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purging expired tokens, codes and sessions: %w", err)
	}
	if total > 0 {
		s.log.Debug("expired tokens, codes and sessions purged", "count", total)
	}
	return total, nil
}
