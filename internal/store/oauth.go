package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// OAuthClient is an OAuth 2 client of the hub, such as a user server or a
// service that logs users in through the hub.
type OAuthClient struct {
	// ID is the client_id of the OAuth protocol.
	ID          string
	Description string
	RedirectURI string
	// AllowedScopes are the scopes that tokens issued to the client may
	// have.
	AllowedScopes []string
	Created       time.Time
}

// OAuthCode is an authorization code of the OAuth authorization code flow:
// what the user approved, waiting for the client to exchange it for a token.
type OAuthCode struct {
	ClientID    string
	User        string
	Scopes      []string
	RedirectURI string
	SessionID   string
	// CodeChallenge and CodeChallengeMethod are the PKCE parameters (RFC
	// 7636) of the authorization request, "" if it had none.
	CodeChallenge       string
	CodeChallengeMethod string
	Created             time.Time
	ExpiresAt           time.Time
}

const clientColumns = `client_id, description, redirect_uri, allowed_scopes, created`

func scanClient(row interface{ Scan(...any) error }) (OAuthClient, error) {
	var c OAuthClient
	err := row.Scan(&c.ID, &c.Description, &c.RedirectURI, listCol{&c.AllowedScopes},
		timeCol{&c.Created})
	return c, err
}

// PutOAuthClient implements OAuth.
func (s *sqlStore) PutOAuthClient(ctx context.Context, c OAuthClient, secret string) (OAuthClient, error) {
	if c.ID == "" {
		return OAuthClient{}, invalid("putting OAuth client: empty client ID")
	}
	hash := ""
	if secret != "" {
		hash = hashSecret(secret, suppliedRounds)
	}
	var out OAuthClient
	err := s.write(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `INSERT INTO oauth_clients
			(client_id, secret_hash, description, redirect_uri, allowed_scopes, created)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (client_id) DO UPDATE SET
				description = excluded.description,
				redirect_uri = excluded.redirect_uri,
				allowed_scopes = excluded.allowed_scopes,
				secret_hash = CASE WHEN excluded.secret_hash <> '' THEN excluded.secret_hash
					ELSE oauth_clients.secret_hash END
			RETURNING `+clientColumns,
			c.ID, hash, c.Description, c.RedirectURI, listArg(c.AllowedScopes),
			timeArg(s.timestamp()))
		var err error
		out, err = scanClient(row)
		return err
	})
	if err != nil {
		return OAuthClient{}, fmt.Errorf("putting OAuth client %q: %w", c.ID, s.classify(err))
	}
	return out, nil
}

// GetOAuthClient implements OAuth.
func (s *sqlStore) GetOAuthClient(ctx context.Context, id string) (OAuthClient, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+clientColumns+" FROM oauth_clients WHERE client_id = $1", id)
	c, err := scanClient(row)
	if err != nil {
		return OAuthClient{}, fmt.Errorf("getting OAuth client %q: %w", id, s.classify(err))
	}
	return c, nil
}

// CheckOAuthClient implements OAuth.
func (s *sqlStore) CheckOAuthClient(ctx context.Context, id, secret string) (OAuthClient, error) {
	row := s.r.QueryRowContext(ctx,
		"SELECT "+clientColumns+", secret_hash FROM oauth_clients WHERE client_id = $1", id)
	var c OAuthClient
	var hash string
	err := row.Scan(&c.ID, &c.Description, &c.RedirectURI, listCol{&c.AllowedScopes},
		timeCol{&c.Created}, &hash)
	if err != nil {
		return OAuthClient{}, fmt.Errorf("checking OAuth client %q: %w", id, s.classify(err))
	}
	if secret == "" || !checkSecret(secret, hash) {
		return OAuthClient{}, notFound("checking OAuth client %q: wrong secret", id)
	}
	return c, nil
}

// ListOAuthClients implements OAuth.
func (s *sqlStore) ListOAuthClients(ctx context.Context) ([]OAuthClient, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+clientColumns+" FROM oauth_clients ORDER BY client_id")
	if err != nil {
		return nil, fmt.Errorf("listing OAuth clients: %w", err)
	}
	list, err := collect(rows, scanClient)
	if err != nil {
		return nil, fmt.Errorf("listing OAuth clients: %w", err)
	}
	return list, nil
}

// DeleteOAuthClient implements OAuth.
func (s *sqlStore) DeleteOAuthClient(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return deleteWhere(ctx, tx, "DELETE FROM oauth_clients WHERE client_id = $1", id)
	})
	if err != nil {
		return fmt.Errorf("deleting OAuth client %q: %w", id, s.classify(err))
	}
	return nil
}

// CreateOAuthCode implements OAuth.
func (s *sqlStore) CreateOAuthCode(ctx context.Context, c OAuthCode) (string, error) {
	if c.ExpiresAt.IsZero() {
		return "", invalid("creating OAuth code: no expiry time")
	}
	code := GenerateToken()
	err := s.write(ctx, func(tx *sql.Tx) error {
		userID, err := lookupID(ctx, tx, "users", c.User)
		if err != nil {
			return fmt.Errorf("user %q: %w", c.User, s.classify(err))
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO oauth_codes (code_hash, client_id, user_id,
			scopes, redirect_uri, session_id, code_challenge, code_challenge_method, created, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			hashCode(code), c.ClientID, userID, listArg(c.Scopes), c.RedirectURI, c.SessionID,
			c.CodeChallenge, c.CodeChallengeMethod, timeArg(s.timestamp()), timeArg(c.ExpiresAt))
		if err != nil {
			return fmt.Errorf("client %q: %w", c.ClientID, s.classify(err))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("creating OAuth code: %w", err)
	}
	return code, nil
}

// ConsumeOAuthCode implements OAuth. The code's row is deleted by the
// statement that reads it, so a second call finds nothing.
func (s *sqlStore) ConsumeOAuthCode(ctx context.Context, code string) (OAuthCode, error) {
	var c OAuthCode
	err := s.write(ctx, func(tx *sql.Tx) error {
		var userID int64
		err := tx.QueryRowContext(ctx, `DELETE FROM oauth_codes WHERE code_hash = $1
			RETURNING client_id, user_id, scopes, redirect_uri, session_id, code_challenge,
				code_challenge_method, created, expires_at`, hashCode(code)).Scan(
			&c.ClientID, &userID, listCol{&c.Scopes}, &c.RedirectURI, &c.SessionID,
			&c.CodeChallenge, &c.CodeChallengeMethod, timeCol{&c.Created}, timeCol{&c.ExpiresAt})
		if err != nil {
			return s.classify(err)
		}
		err = tx.QueryRowContext(ctx, "SELECT name FROM users WHERE id = $1", userID).Scan(&c.User)
		return s.classify(err)
	})
	if err != nil {
		return OAuthCode{}, fmt.Errorf("consuming OAuth code: %w", err)
	}
	if !c.ExpiresAt.After(s.timestamp()) {
		return OAuthCode{}, notFound("consuming OAuth code: expired")
	}
	return c, nil
}
