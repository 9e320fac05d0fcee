package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// User is a hub user.
type User struct {
	ID      int64
	Name    string
	Admin   bool
	Created time.Time
	// LastActivity is the last time the user was seen, zero if never.
	LastActivity time.Time
	// CookieID is the random value that the user's login cookies carry.
	// RotateCookieID replaces it.
	CookieID string
	// PasswordHash is the bcrypt hash of a local account's password, ""
	// when the user has none. See HashPassword.
	PasswordHash string
	// AuthState is the authenticator's opaque state for the user, nil when
	// there is none.
	AuthState []byte
	// Groups and Roles are the names of the user's groups and of the roles
	// granted to the user directly, in name order.
	Groups []string
	Roles  []string
}

// String returns the user's name, so that printing a User never shows its
// secrets.
func (u User) String() string { return u.Name }

// LogValue logs the user without cookie ID, password hash or auth state.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", u.ID), slog.String("name", u.Name),
		slog.Bool("admin", u.Admin))
}

// UserQuery selects users for ListUsers.
type UserQuery struct {
	Page
	// NamePrefix keeps the users whose name starts with it, compared
	// case-sensitively.
	NamePrefix string
	// State keeps the users with servers in that state. "" keeps everyone.
	State UserState
}

// UserState is a filter on the state of a user's servers, as JupyterHub's
// GET /users?state= has it.
type UserState string

const (
	// UserActive is a user with at least one server that is started or has
	// an action pending.
	UserActive UserState = "active"
	// UserReady is a user with at least one server that is started, has a
	// URL and has no action pending.
	UserReady UserState = "ready"
	// UserInactive is a user with no active server.
	UserInactive UserState = "inactive"
)

// UserUpdate lists the user fields that UpdateUser changes. Nil fields are
// left as they are.
type UserUpdate struct {
	Name  *string
	Admin *bool
	// PasswordHash sets the bcrypt hash; "" removes the password.
	PasswordHash *string
	// AuthState sets the authenticator state; a nil slice removes it.
	AuthState *[]byte
	// LastActivity moves the last activity forward to this time. A value
	// earlier than the stored one is ignored.
	LastActivity *time.Time
}

const userColumns = `id, name, admin, created, last_activity, cookie_id, password_hash, auth_state`

// scanUser scans a row of userColumns.
func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Name, &u.Admin, timeCol{&u.Created}, timeCol{&u.LastActivity},
		&u.CookieID, &u.PasswordHash, rawCol{&u.AuthState})
	return u, err
}

// CreateUser implements Users.
func (s *sqlStore) CreateUser(ctx context.Context, name string, admin bool) (User, error) {
	if name == "" {
		return User{}, invalid("creating user: empty name")
	}
	var u User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx,
			"INSERT INTO users (name, admin, created, cookie_id) VALUES ($1, $2, $3, $4) RETURNING id",
			name, admin, timeArg(s.timestamp()), GenerateToken()).Scan(&id)
		if err != nil {
			return s.classify(err)
		}
		u, err = s.userWhere(ctx, tx, "id = $1", id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("creating user %q: %w", name, err)
	}
	return u, nil
}

// NewUser is a user that CreateUsers adds.
type NewUser struct {
	Name  string
	Admin bool
	// PasswordHash is the bcrypt hash of a local account's password, ""
	// for none.
	PasswordHash string
	// AuthState is the authenticator's state for the user, nil for none.
	AuthState []byte
}

// CreateUsers implements Users.
func (s *sqlStore) CreateUsers(ctx context.Context, users []NewUser) ([]User, error) {
	seen := make(map[string]bool, len(users))
	for _, nu := range users {
		if nu.Name == "" {
			return nil, invalid("creating users: empty name")
		}
		if seen[nu.Name] {
			return nil, invalid("creating users: user %q is listed twice", nu.Name)
		}
		seen[nu.Name] = true
	}
	var out []User
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = make([]User, 0, len(users))
		for _, nu := range users {
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO users
				(name, admin, created, cookie_id, password_hash, auth_state)
				VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
				nu.Name, nu.Admin, timeArg(s.timestamp()), GenerateToken(), nu.PasswordHash,
				blobArg(nu.AuthState)).Scan(&id)
			if err != nil {
				return fmt.Errorf("creating user %q: %w", nu.Name, s.classify(err))
			}
			u, err := s.userWhere(ctx, tx, "id = $1", id)
			if err != nil {
				return fmt.Errorf("creating user %q: %w", nu.Name, err)
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("creating %d users, none created: %w", len(users), err)
	}
	return out, nil
}

// GetUser implements Users.
func (s *sqlStore) GetUser(ctx context.Context, name string) (User, error) {
	u, err := readValue(ctx, s, func(tx *sql.Tx) (User, error) {
		return s.userWhere(ctx, tx, "name = $1", name)
	})
	if err != nil {
		return User{}, fmt.Errorf("getting user %q: %w", name, err)
	}
	return u, nil
}

// GetUserByCookieID implements Users.
func (s *sqlStore) GetUserByCookieID(ctx context.Context, id string) (User, error) {
	if id == "" {
		return User{}, notFound("getting user by cookie ID")
	}
	u, err := readValue(ctx, s, func(tx *sql.Tx) (User, error) {
		return s.userWhere(ctx, tx, "cookie_id = $1", id)
	})
	if err != nil {
		return User{}, fmt.Errorf("getting user by cookie ID: %w", err)
	}
	return u, nil
}

// userWhere returns the one user that the condition selects, with groups
// and roles.
func (s *sqlStore) userWhere(ctx context.Context, q querier, cond string, arg any) (User, error) {
	row := q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE "+cond, arg)
	u, err := scanUser(row)
	if err != nil {
		return User{}, s.classify(err)
	}
	users := []User{u}
	if err := fillUserLists(ctx, q, users); err != nil {
		return User{}, err
	}
	return users[0], nil
}

// ListUsers implements Users.
func (s *sqlStore) ListUsers(ctx context.Context, q UserQuery) ([]User, int, error) {
	where, args, err := userFilter(q)
	if err != nil {
		return nil, 0, fmt.Errorf("listing users: %w", err)
	}
	var users []User
	var total int
	err = s.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users u"+where, args...).Scan(&total)
		if err != nil {
			return fmt.Errorf("counting: %w", err)
		}
		page, pageArgs := pageClause(q.Page, len(args)+1)
		rows, err := tx.QueryContext(ctx,
			"SELECT "+userColumns+" FROM users u"+where+" ORDER BY id"+page, append(args, pageArgs...)...)
		if err != nil {
			return err
		}
		if users, err = collect(rows, scanUser); err != nil {
			return err
		}
		return fillUserLists(ctx, tx, users)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("listing users: %w", err)
	}
	return users, total, nil
}

// Conditions on a user's servers for UserQuery.State.
const (
	activeServer = `EXISTS (SELECT 1 FROM servers s WHERE s.user_id = u.id
		AND (s.started IS NOT NULL OR s.pending <> ''))`
	readyServer = `EXISTS (SELECT 1 FROM servers s WHERE s.user_id = u.id
		AND s.started IS NOT NULL AND s.url <> '' AND s.pending = '')`
)

// userFilter returns the WHERE clause and arguments for q.
func userFilter(q UserQuery) (string, []any, error) {
	var conds []string
	var args []any
	if q.NamePrefix != "" {
		args = append(args, q.NamePrefix)
		conds = append(conds, "substr(u.name, 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT)")
	}
	switch q.State {
	case "":
	case UserActive:
		conds = append(conds, activeServer)
	case UserReady:
		conds = append(conds, readyServer)
	case UserInactive:
		conds = append(conds, "NOT "+activeServer)
	default:
		return "", nil, invalid("user state %q: want active, ready or inactive", q.State)
	}
	where := ""
	for i, c := range conds {
		if i == 0 {
			where = " WHERE " + c
		} else {
			where += " AND " + c
		}
	}
	return where, args, nil
}

// fillUserLists loads the group and role names of users.
func fillUserLists(ctx context.Context, q querier, users []User) error {
	if len(users) == 0 {
		return nil
	}
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	groups, err := namesByOwner(ctx, q, `SELECT m.user_id, g.name FROM group_members m
		JOIN groups g ON g.id = m.group_id WHERE m.user_id IN (%s) ORDER BY g.name`, ids)
	if err != nil {
		return fmt.Errorf("loading groups of users: %w", err)
	}
	roles, err := namesByOwner(ctx, q, `SELECT x.user_id, r.name FROM user_roles x
		JOIN roles r ON r.id = x.role_id WHERE x.user_id IN (%s) ORDER BY r.name`, ids)
	if err != nil {
		return fmt.Errorf("loading roles of users: %w", err)
	}
	for i := range users {
		users[i].Groups = nonNil(groups[users[i].ID])
		users[i].Roles = nonNil(roles[users[i].ID])
	}
	return nil
}

// UpdateUser implements Users.
func (s *sqlStore) UpdateUser(ctx context.Context, name string, u UserUpdate) (User, error) {
	if u.Name != nil && *u.Name == "" {
		return User{}, invalid("renaming user %q: empty name", name)
	}
	var b updateBuilder
	if u.Name != nil {
		b.set("name", *u.Name)
	}
	if u.Admin != nil {
		b.set("admin", *u.Admin)
	}
	if u.PasswordHash != nil {
		b.set("password_hash", *u.PasswordHash)
	}
	if u.AuthState != nil {
		b.set("auth_state", blobArg(*u.AuthState))
	}
	if u.LastActivity != nil {
		b.raise("last_activity", *u.LastActivity)
	}
	var out User
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := lookupID(ctx, tx, "users", name)
		if err != nil {
			return s.classify(err)
		}
		if err := b.exec(ctx, tx, "users", id); err != nil {
			return s.classify(err)
		}
		out, err = s.userWhere(ctx, tx, "id = $1", id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("updating user %q: %w", name, err)
	}
	return out, nil
}

// RotateCookieID implements Users.
func (s *sqlStore) RotateCookieID(ctx context.Context, name string) (User, error) {
	var b updateBuilder
	b.set("cookie_id", GenerateToken())
	var out User
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := lookupID(ctx, tx, "users", name)
		if err != nil {
			return s.classify(err)
		}
		if err := b.exec(ctx, tx, "users", id); err != nil {
			return s.classify(err)
		}
		out, err = s.userWhere(ctx, tx, "id = $1", id)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("rotating cookie ID of user %q: %w", name, err)
	}
	return out, nil
}

// DeleteUser implements Users.
func (s *sqlStore) DeleteUser(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return deleteWhere(ctx, tx, "DELETE FROM users WHERE name = $1", name)
	})
	if err != nil {
		return fmt.Errorf("deleting user %q: %w", name, s.classify(err))
	}
	return nil
}

// blobArg returns b as a query argument, or NULL when b is nil.
func blobArg(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}
