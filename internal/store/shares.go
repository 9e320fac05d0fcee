package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Shares stores the shares of servers and the share codes that are
// exchanged for them. A share grants scopes on one server to a user or to
// a group. Its scopes are base scopes such as "access:servers", which the
// hub narrows to the server; the store keeps them sorted and without
// repeats. Deleting the server, its owner, or the user or group shared
// with deletes the share, and deleting the server or its owner deletes
// its codes.
type Shares interface {
	// GrantShare adds scopes to the share k names, and creates the share
	// when there is none. It returns ErrInvalid for an empty scope list or
	// a key that names both or neither of a user and a group, and
	// ErrNotFound when the server, the user or the group does not exist.
	GrantShare(ctx context.Context, k ShareKey, scopes []string) (Share, error)
	// RevokeShare takes scopes away from the share k names, and all of
	// them when scopes is nil. It deletes a share that is left without
	// scopes. It returns the share and true when the share remains, and
	// false when it was deleted or did not exist.
	RevokeShare(ctx context.Context, k ShareKey, scopes []string) (Share, bool, error)
	// GetShare returns the share k names.
	GetShare(ctx context.Context, k ShareKey) (Share, error)
	// ListShares returns the shares that match q in ID order, and the
	// number of them before q's offset and limit are applied. It returns
	// ErrNotFound when a user, group or server that q names does not
	// exist.
	ListShares(ctx context.Context, q ShareQuery) ([]Share, int, error)
	// DeleteShares deletes every share of a server and returns how many
	// it deleted. It returns ErrNotFound when the server does not exist.
	DeleteShares(ctx context.Context, owner, server string) (int64, error)

	// CreateShareCode stores a new random share code for a server and
	// returns its row and its clear text, which no later call can return
	// again. nc.ExpiresAt must be set.
	CreateShareCode(ctx context.Context, nc NewShareCode) (ShareCode, string, error)
	// FindShareCode returns the row of the clear code. It returns
	// ErrNotFound for an unknown code and for an expired one, which it
	// deletes.
	FindShareCode(ctx context.Context, code string) (ShareCode, error)
	// ExchangeShareCode grants the code's scopes to user, as GrantShare
	// does, and counts the exchange on the code, which stays valid until
	// it expires. It returns ErrNotFound for an unknown or expired code
	// and ErrInvalid when user owns the code's server.
	ExchangeShareCode(ctx context.Context, code, user string) (Share, error)
	// ListShareCodes returns the unexpired codes that match q in ID order,
	// and the number of them before q's offset and limit are applied.
	ListShareCodes(ctx context.Context, q ShareCodeQuery) ([]ShareCode, int, error)
	// DeleteShareCodes deletes the codes of a server that f selects and
	// returns how many it deleted. It returns ErrNotFound when the server
	// does not exist.
	DeleteShareCodes(ctx context.Context, f ShareCodeFilter) (int64, error)
}

// ShareKey names a share: a server and the user or group it is shared
// with. Exactly one of User and Group is set.
type ShareKey struct {
	// Owner and Server name the shared server; Server is "" for the
	// owner's default server.
	Owner, Server string
	User, Group   string
}

func (k ShareKey) String() string {
	with := "user " + k.User
	if k.Group != "" {
		with = "group " + k.Group
	}
	return fmt.Sprintf("share of %s/%s with %s", k.Owner, k.Server, with)
}

func (k ShareKey) check() error {
	if (k.User == "") == (k.Group == "") {
		return invalid("%s: want exactly one of user and group", k)
	}
	return nil
}

// Share is a grant of scopes on one server to a user or a group.
type Share struct {
	ID int64
	// Server is the shared server, which names its owner.
	Server Server
	// User or Group is the one the server is shared with; the other is "".
	User, Group string
	// Scopes are base scopes, sorted, that apply to Server alone.
	Scopes  []string
	Created time.Time
}

// ShareQuery selects shares for ListShares. Set fields are combined with
// AND; an empty query selects every share.
type ShareQuery struct {
	Page
	// Owner keeps the shares of the owner's servers, and Server, when not
	// nil, those of the one server of that name.
	Owner  string
	Server *string
	// User keeps the shares with the user and with the user's groups.
	User string
	// Group keeps the shares with the group.
	Group string
}

// ShareCode is a stored share code, without the code itself.
type ShareCode struct {
	ID     int64
	Server Server
	// Scopes are base scopes, sorted, as in Share.
	Scopes    []string
	Created   time.Time
	ExpiresAt time.Time
	// ExchangeCount counts the exchanges, and LastExchanged is the time of
	// the last one, zero if none.
	ExchangeCount int64
	LastExchanged time.Time
}

// NewShareCode describes a share code for CreateShareCode.
type NewShareCode struct {
	Owner, Server string
	Scopes        []string
	ExpiresAt     time.Time
}

// ShareCodeQuery selects share codes for ListShareCodes: those of the
// owner's servers, or of the one server named when Server is not nil.
type ShareCodeQuery struct {
	Page
	Owner  string
	Server *string
}

// ShareCodeFilter selects codes of one server for DeleteShareCodes. ID and
// Code, when set, narrow the selection to one code; with neither, every
// code of the server is selected.
type ShareCodeFilter struct {
	Owner, Server string
	ID            int64
	Code          string
}

// normalizeScopes returns scopes sorted and without repeats.
func normalizeScopes(scopes []string) []string {
	out := slices.Clone(scopes)
	slices.Sort(out)
	return slices.Compact(out)
}

const shareColumns = `sh.id, COALESCE(su.name, ''), COALESCE(g.name, ''), sh.scopes, sh.created, ` +
	serverColumns

const shareFrom = ` FROM shares sh JOIN servers s ON s.id = sh.server_id
	JOIN users u ON u.id = s.user_id
	LEFT JOIN users su ON su.id = sh.user_id
	LEFT JOIN groups g ON g.id = sh.group_id`

func scanShare(row interface{ Scan(...any) error }) (Share, error) {
	var sh Share
	dest := []any{&sh.ID, &sh.User, &sh.Group, listCol{&sh.Scopes}, timeCol{&sh.Created}}
	err := row.Scan(append(dest, serverDest(&sh.Server)...)...)
	return sh, err
}

// serverID returns the id of the owner's server of that name.
func (s *sqlStore) serverID(ctx context.Context, q querier, owner, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, "SELECT s.id"+serverFrom+" WHERE u.name = $1 AND s.name = $2",
		owner, name).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("server %q of user %q: %w", name, owner, s.classify(err))
	}
	return id, nil
}

// shareTarget returns the column and id of the user or group k shares
// with.
func (s *sqlStore) shareTarget(ctx context.Context, q querier, k ShareKey) (string, int64, error) {
	column, table, name := "user_id", "users", k.User
	if k.Group != "" {
		column, table, name = "group_id", "groups", k.Group
	}
	id, err := lookupID(ctx, q, table, name)
	if err != nil {
		return "", 0, fmt.Errorf("%s %q: %w", strings.TrimSuffix(table, "s"), name, s.classify(err))
	}
	return column, id, nil
}

// lockShare returns the id and scopes of the share of serverID with the
// target, locking its row until the transaction ends, or sql.ErrNoRows.
// Under PostgreSQL's READ COMMITTED, the UPDATE waits for a concurrent
// writer of the row and returns the scopes it committed.
func lockShare(ctx context.Context, tx *sql.Tx, serverID int64, column string,
	target int64) (int64, []string, error) {
	var id int64
	var scopes []string
	err := tx.QueryRowContext(ctx, "UPDATE shares SET scopes = scopes WHERE server_id = $1 AND "+
		column+" = $2 RETURNING id, scopes", serverID, target).Scan(&id, listCol{&scopes})
	return id, scopes, err
}

// GrantShare implements Shares.
func (s *sqlStore) GrantShare(ctx context.Context, k ShareKey, scopes []string) (Share, error) {
	if err := k.check(); err != nil {
		return Share{}, err
	}
	if len(scopes) == 0 {
		return Share{}, invalid("granting %s: no scopes", k)
	}
	var sh Share
	err := s.write(ctx, func(tx *sql.Tx) error {
		serverID, err := s.serverID(ctx, tx, k.Owner, k.Server)
		if err != nil {
			return err
		}
		sh, err = s.grantShare(ctx, tx, serverID, k, scopes)
		return err
	})
	if err != nil {
		return Share{}, fmt.Errorf("granting %s: %w", k, err)
	}
	return sh, nil
}

// grantShare adds scopes to the share of serverID with k's user or group,
// creating it when there is none.
func (s *sqlStore) grantShare(ctx context.Context, tx *sql.Tx, serverID int64, k ShareKey,
	scopes []string) (Share, error) {
	column, target, err := s.shareTarget(ctx, tx, k)
	if err != nil {
		return Share{}, err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO shares (server_id, "+column+`, scopes, created)
		VALUES ($1, $2, '[]', $3) ON CONFLICT DO NOTHING`, serverID, target, timeArg(s.timestamp()))
	if err != nil {
		return Share{}, s.classify(err)
	}
	id, held, err := lockShare(ctx, tx, serverID, column, target)
	if err != nil {
		return Share{}, s.classify(err)
	}
	merged := normalizeScopes(append(held, scopes...))
	if _, err := tx.ExecContext(ctx, "UPDATE shares SET scopes = $1 WHERE id = $2",
		listArg(merged), id); err != nil {
		return Share{}, err
	}
	return s.shareByID(ctx, tx, id)
}

func (s *sqlStore) shareByID(ctx context.Context, q querier, id int64) (Share, error) {
	row := q.QueryRowContext(ctx, "SELECT "+shareColumns+shareFrom+" WHERE sh.id = $1", id)
	sh, err := scanShare(row)
	return sh, s.classify(err)
}

// RevokeShare implements Shares.
func (s *sqlStore) RevokeShare(ctx context.Context, k ShareKey, scopes []string) (Share, bool, error) {
	if err := k.check(); err != nil {
		return Share{}, false, err
	}
	var sh Share
	var remains bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		sh, remains = Share{}, false
		serverID, err := s.serverID(ctx, tx, k.Owner, k.Server)
		if err != nil {
			return err
		}
		column, target, err := s.shareTarget(ctx, tx, k)
		if err != nil {
			return err
		}
		id, held, err := lockShare(ctx, tx, serverID, column, target)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		left := []string{}
		if scopes != nil {
			for _, scope := range held {
				if !slices.Contains(scopes, scope) {
					left = append(left, scope)
				}
			}
		}
		if len(left) == 0 {
			_, err := tx.ExecContext(ctx, "DELETE FROM shares WHERE id = $1", id)
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE shares SET scopes = $1 WHERE id = $2",
			listArg(left), id); err != nil {
			return err
		}
		remains = true
		sh, err = s.shareByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Share{}, false, fmt.Errorf("revoking %s: %w", k, err)
	}
	return sh, remains, nil
}

// GetShare implements Shares.
func (s *sqlStore) GetShare(ctx context.Context, k ShareKey) (Share, error) {
	if err := k.check(); err != nil {
		return Share{}, err
	}
	sh, err := readValue(ctx, s, func(tx *sql.Tx) (Share, error) {
		serverID, err := s.serverID(ctx, tx, k.Owner, k.Server)
		if err != nil {
			return Share{}, err
		}
		column, target, err := s.shareTarget(ctx, tx, k)
		if err != nil {
			return Share{}, err
		}
		row := tx.QueryRowContext(ctx, "SELECT "+shareColumns+shareFrom+
			" WHERE sh.server_id = $1 AND sh."+column+" = $2", serverID, target)
		sh, err := scanShare(row)
		return sh, s.classify(err)
	})
	if err != nil {
		return Share{}, fmt.Errorf("getting %s: %w", k, err)
	}
	return sh, nil
}

// conditions collects the WHERE conditions of a query and their
// arguments.
type conditions struct {
	conds []string
	args  []any
}

// add appends cond, a format whose every %[1]d is the argument's number.
func (c *conditions) add(cond string, arg any) {
	c.args = append(c.args, arg)
	c.conds = append(c.conds, fmt.Sprintf(cond, len(c.args)))
}

func (c *conditions) where() string {
	if len(c.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.conds, " AND ")
}

// serverConditions adds the conditions that select the rows of an owner's
// servers, or of the one server when name is not nil, after checking that
// they exist.
func (s *sqlStore) serverConditions(ctx context.Context, q querier, c *conditions,
	owner string, name *string) error {
	if name != nil {
		id, err := s.serverID(ctx, q, owner, *name)
		if err != nil {
			return err
		}
		c.add("s.id = $%d", id)
		return nil
	}
	id, err := lookupID(ctx, q, "users", owner)
	if err != nil {
		return fmt.Errorf("user %q: %w", owner, s.classify(err))
	}
	c.add("s.user_id = $%d", id)
	return nil
}

// shareConditions returns the conditions of q, after checking that what
// it names exists.
func (s *sqlStore) shareConditions(ctx context.Context, tx *sql.Tx, q ShareQuery) (*conditions, error) {
	var c conditions
	if q.Owner != "" {
		if err := s.serverConditions(ctx, tx, &c, q.Owner, q.Server); err != nil {
			return nil, err
		}
	}
	if q.User != "" {
		id, err := lookupID(ctx, tx, "users", q.User)
		if err != nil {
			return nil, fmt.Errorf("user %q: %w", q.User, s.classify(err))
		}
		c.add(`(sh.user_id = $%[1]d OR sh.group_id IN
			(SELECT group_id FROM group_members WHERE user_id = $%[1]d))`, id)
	}
	if q.Group != "" {
		id, err := lookupID(ctx, tx, "groups", q.Group)
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", q.Group, s.classify(err))
		}
		c.add("sh.group_id = $%d", id)
	}
	return &c, nil
}

// ListShares implements Shares.
func (s *sqlStore) ListShares(ctx context.Context, q ShareQuery) ([]Share, int, error) {
	var shares []Share
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		c, err := s.shareConditions(ctx, tx, q)
		if err != nil {
			return err
		}
		shares, total, err = listPage(ctx, tx, shareColumns, shareFrom, "sh.id", c, q.Page, scanShare)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("listing shares: %w", err)
	}
	return shares, total, nil
}

// DeleteShares implements Shares.
func (s *sqlStore) DeleteShares(ctx context.Context, owner, server string) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := s.serverID(ctx, tx, owner, server)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM shares WHERE server_id = $1", id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting shares of server %q of user %q: %w", server, owner, err)
	}
	return n, nil
}

// listPage returns the page p of the rows of from that c selects, in the
// order of orderBy, and the number of rows before p is applied.
func listPage[T any](ctx context.Context, q querier, columns, from, orderBy string,
	c *conditions, p Page, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, int, error) {
	var total int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*)"+from+c.where(), c.args...).Scan(&total)
	if err != nil {
		return nil, 0, fmt.Errorf("counting: %w", err)
	}
	page, args := pageClause(p, len(c.args)+1)
	rows, err := q.QueryContext(ctx, "SELECT "+columns+from+c.where()+" ORDER BY "+orderBy+page,
		append(c.args, args...)...)
	if err != nil {
		return nil, 0, err
	}
	list, err := collect(rows, scan)
	return list, total, err
}
