package store

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Errors that callers branch on. Every error a Store returns for one of
// these cases wraps the sentinel, so test with errors.Is.
var (
	// ErrNotFound reports that the named entity does not exist, or that a
	// token, code or secret did not match.
	ErrNotFound = errors.New("not found")
	// ErrInUse is wrapped by the error of an exclusive Open, and by the
	// error an exclusive store sends when it lost its lock, when another
	// hub holds the database.
	ErrInUse = errors.New("database in use by another hub")
	// ErrExists reports that a unique name or value is already taken.
	ErrExists = errors.New("already exists")
	// ErrInvalid reports an argument that the store rejects before it
	// reaches the database, such as an empty name or a token with two owners.
	ErrInvalid = errors.New("invalid argument")
	// ErrSchemaTooNew reports a database whose schema version is newer than
	// this build supports, which happens after a newer jupygo has migrated it.
	ErrSchemaTooNew = errors.New("database schema is newer than this jupygo")
	// ErrJupyterHubDatabase reports a database that JupyterHub created,
	// whose tables have the names but not the columns of the store's.
	ErrJupyterHubDatabase = errors.New("database belongs to JupyterHub")
)

// Store is the hub's state database. Every method is safe for concurrent
// use, takes effect atomically and returns copies that the caller owns.
// Times are stored in UTC with microsecond precision, and a zero time.Time
// stands for a null column ("never" or "not set").
type Store interface {
	Users
	Groups
	Roles
	Servers
	Tokens
	Services
	OAuth
	Sessions
	KnownLogins
	Shares

	// PurgeExpired deletes the API tokens, OAuth authorization codes,
	// share codes and login sessions whose expiry time has passed, and
	// returns how many rows it deleted.
	PurgeExpired(ctx context.Context) (int64, error)

	// Close closes the database. Calls in progress may fail.
	Close() error
}

// Users stores hub users. Deleting a user deletes the user's servers,
// tokens, group memberships, role grants, authorization codes, the shares
// and share codes of the user's servers and the shares with the user.
type Users interface {
	// CreateUser adds a user with a fresh cookie ID. It returns ErrExists
	// when the name is taken.
	CreateUser(ctx context.Context, name string, admin bool) (User, error)
	// CreateUsers adds users, each with a fresh cookie ID, in one
	// transaction: all of them, or none when any fails. It returns
	// ErrExists, naming the first name that is taken, and ErrInvalid for
	// an empty name or a name listed twice.
	CreateUsers(ctx context.Context, users []NewUser) ([]User, error)
	// GetUser returns the named user.
	GetUser(ctx context.Context, name string) (User, error)
	// GetUserByCookieID returns the user whose current cookie ID is id.
	GetUserByCookieID(ctx context.Context, id string) (User, error)
	// ListUsers returns the users that match q in ID order, and the number
	// of matching users before q's offset and limit are applied.
	ListUsers(ctx context.Context, q UserQuery) ([]User, int, error)
	// UpdateUser changes the fields of the named user that u sets and
	// returns the result. A rename to a taken name returns ErrExists.
	UpdateUser(ctx context.Context, name string, u UserUpdate) (User, error)
	// RotateCookieID gives the user a new random cookie ID, so that every
	// login cookie carrying the old one stops working.
	RotateCookieID(ctx context.Context, name string) (User, error)
	// DeleteUser deletes the named user and everything the user owns.
	DeleteUser(ctx context.Context, name string) error
}

// Groups stores groups of users.
type Groups interface {
	// CreateGroup adds an empty group. properties is a JSON object, and nil
	// stores {}. It returns ErrExists when the name is taken.
	CreateGroup(ctx context.Context, name string, properties []byte) (Group, error)
	// GetGroup returns the named group with its members and roles.
	GetGroup(ctx context.Context, name string) (Group, error)
	// ListGroups returns groups in ID order, and the number of groups
	// before p's offset and limit are applied.
	ListGroups(ctx context.Context, p Page) ([]Group, int, error)
	// SetGroupProperties replaces the group's properties, a JSON object.
	SetGroupProperties(ctx context.Context, name string, properties []byte) (Group, error)
	// DeleteGroup deletes the group, its memberships, its role grants and
	// the shares with it.
	DeleteGroup(ctx context.Context, name string) error
	// AddGroupMembers adds users to the group. Users who are members
	// already are skipped. It returns ErrNotFound and changes nothing when
	// the group or one of the users does not exist.
	AddGroupMembers(ctx context.Context, group string, users ...string) (Group, error)
	// RemoveGroupMembers removes users from the group. Names that are not
	// members are skipped.
	RemoveGroupMembers(ctx context.Context, group string, users ...string) (Group, error)
}

// Roles stores roles, which are named lists of scopes, and their grants to
// users, groups, services and tokens.
type Roles interface {
	// PutRole creates the role or replaces the description and scopes of
	// the role with that name, keeping its grants.
	PutRole(ctx context.Context, r Role) (Role, error)
	// GetRole returns the named role.
	GetRole(ctx context.Context, name string) (Role, error)
	// ListRoles returns every role in name order.
	ListRoles(ctx context.Context) ([]Role, error)
	// DeleteRole deletes the role and all its grants.
	DeleteRole(ctx context.Context, name string) error
	// GrantRole grants the role to g. Granting a role twice is not an
	// error. It returns ErrNotFound when the role or g does not exist.
	GrantRole(ctx context.Context, role string, g Grantee) error
	// RevokeRole takes the role away from g. Revoking a role that g does
	// not have is not an error.
	RevokeRole(ctx context.Context, role string, g Grantee) error
	// RolesOf returns the roles granted to g directly, in name order. The
	// roles a user has through groups are not included.
	RolesOf(ctx context.Context, g Grantee) ([]Role, error)
	// ListGrantees returns everyone the role is granted to, ordered by
	// kind and then by name or token ID.
	ListGrantees(ctx context.Context, role string) ([]Grantee, error)
}

// Servers stores user servers, one row per server name and user, running
// or not. A row outlives the hub process, so a restarted hub finds its
// running servers in it.
type Servers interface {
	// CreateServer adds a stopped server. name is "" for the user's default
	// server. It returns ErrNotFound when the user does not exist and
	// ErrExists when the user has a server of that name.
	CreateServer(ctx context.Context, user, name string) (Server, error)
	// GetServer returns one of the user's servers.
	GetServer(ctx context.Context, user, name string) (Server, error)
	// ListServers returns the user's servers in name order, or every
	// server ordered by user ID and name when user is "".
	ListServers(ctx context.Context, user string) ([]Server, error)
	// UpdateServer changes the fields that u sets and returns the result.
	UpdateServer(ctx context.Context, user, name string, u ServerUpdate) (Server, error)
	// DeleteServer deletes one of the user's servers with its shares and
	// share codes.
	DeleteServer(ctx context.Context, user, name string) error
}

// Tokens stores API tokens. A token is kept as a short clear prefix and a
// salted SHA-512 hash, so the database never contains a usable token.
type Tokens interface {
	// CreateToken stores a token and returns its row and its clear text,
	// which no later call can return again. When t.Token is empty, a new
	// random token is generated. A caller-supplied token must have at
	// least MinTokenLength characters, and one that is already stored
	// returns ErrExists.
	CreateToken(ctx context.Context, t NewToken) (Token, string, error)
	// FindToken returns the row of the clear token. It returns ErrNotFound
	// for an unknown token and for an expired one, which it deletes.
	FindToken(ctx context.Context, token string) (Token, error)
	// GetToken returns the token with that ID, unless it has expired.
	GetToken(ctx context.Context, id int64) (Token, error)
	// ListTokens returns the unexpired tokens owned by o in ID order.
	ListTokens(ctx context.Context, o Owner) ([]Token, error)
	// TouchToken moves the token's last activity forward to at, and leaves
	// it as it is when it is later than at already.
	TouchToken(ctx context.Context, id int64, at time.Time) error
	// DeleteToken deletes the token with that ID.
	DeleteToken(ctx context.Context, id int64) error
	// DeleteTokens deletes every token that matches all fields that f sets
	// and returns how many it deleted. A filter that sets no field returns
	// ErrInvalid instead of deleting every token.
	DeleteTokens(ctx context.Context, f TokenFilter) (int64, error)
}

// Services stores the hub's services, which own tokens and roles like
// users do but have no servers.
type Services interface {
	// CreateService adds a service. It returns ErrExists when the name is
	// taken.
	CreateService(ctx context.Context, s Service) (Service, error)
	// GetService returns the named service.
	GetService(ctx context.Context, name string) (Service, error)
	// ListServices returns every service in name order.
	ListServices(ctx context.Context) ([]Service, error)
	// UpdateService changes the fields that u sets and returns the result.
	UpdateService(ctx context.Context, name string, u ServiceUpdate) (Service, error)
	// DeleteService deletes the service, its tokens and its role grants.
	DeleteService(ctx context.Context, name string) error
}

// OAuth stores the hub's OAuth 2 clients and authorization codes. Client
// secrets and codes are stored hashed.
type OAuth interface {
	// PutOAuthClient creates the client or replaces the description,
	// redirect URI and allowed scopes of the client with that ID. A
	// non-empty secret replaces the stored secret; an empty one keeps it,
	// and a client created without a secret matches no secret.
	PutOAuthClient(ctx context.Context, c OAuthClient, secret string) (OAuthClient, error)
	// GetOAuthClient returns the client with that ID.
	GetOAuthClient(ctx context.Context, id string) (OAuthClient, error)
	// CheckOAuthClient returns the client when secret is its secret. A wrong
	// secret returns ErrNotFound, as an unknown client does.
	CheckOAuthClient(ctx context.Context, id, secret string) (OAuthClient, error)
	// ListOAuthClients returns every client in ID order.
	ListOAuthClients(ctx context.Context) ([]OAuthClient, error)
	// DeleteOAuthClient deletes the client with its tokens and codes.
	DeleteOAuthClient(ctx context.Context, id string) error
	// CreateOAuthCode stores an authorization code and returns it in clear
	// text. c.ExpiresAt must be set. It returns ErrNotFound when the client
	// or the user does not exist.
	CreateOAuthCode(ctx context.Context, c OAuthCode) (string, error)
	// ConsumeOAuthCode deletes the code and returns what it was issued
	// for. Of concurrent calls with one code, exactly one succeeds. An
	// unknown, used or expired code returns ErrNotFound.
	ConsumeOAuthCode(ctx context.Context, code string) (OAuthCode, error)
}

// Options configures Open.
type Options struct {
	// Logger receives the store's log records (migrations and purges).
	// Nil discards them.
	Logger *slog.Logger
	// Now returns the current time, used for timestamps and expiry. Nil
	// means time.Now. Tests set it to control expiry.
	Now func() time.Time
	// Exclusive makes Open fail when another store opened with Exclusive
	// uses the same PostgreSQL database, so that two hubs on two machines
	// cannot both serve its users. SQLite ignores it: the hub locks its
	// data folder instead.
	Exclusive bool
}

// Page selects a window of a list. A Limit of 0 or less means no limit.
type Page struct {
	Offset int
	Limit  int
}
