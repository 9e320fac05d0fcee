package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Role is a named list of scopes, such as JupyterHub's "user" role with
// its "self" scope.
type Role struct {
	ID          int64
	Name        string
	Description string
	Scopes      []string
}

// Kind is a kind of entity that roles are granted to.
type Kind string

// The kinds of grantee.
const (
	KindUser    Kind = "user"
	KindGroup   Kind = "group"
	KindService Kind = "service"
	KindToken   Kind = "token"
)

// Grantee names an entity that a role is granted to: a user, group or
// service by Name, or an API token by TokenID.
type Grantee struct {
	Kind    Kind
	Name    string
	TokenID int64
}

// String returns "kind name", or "token ID" for a token.
func (g Grantee) String() string {
	if g.Kind == KindToken {
		return fmt.Sprintf("token %d", g.TokenID)
	}
	return fmt.Sprintf("%s %q", g.Kind, g.Name)
}

// grantTable describes the table that records grants to one kind.
type grantTable struct {
	kind   Kind
	table  string // the grant table
	column string // its column naming the grantee
	owner  string // the grantee's own table
}

// grantTables lists the grant tables in the order ListGrantees returns.
var grantTables = []grantTable{
	{KindUser, "user_roles", "user_id", "users"},
	{KindGroup, "group_roles", "group_id", "groups"},
	{KindService, "service_roles", "service_id", "services"},
	{KindToken, "token_roles", "token_id", "api_tokens"},
}

// grantTableOf returns the grant table for kind.
func grantTableOf(kind Kind) (grantTable, error) {
	for _, t := range grantTables {
		if t.kind == kind {
			return t, nil
		}
	}
	return grantTable{}, invalid("grantee kind %q: want user, group, service or token", kind)
}

// resolveGrantee returns the grant table of g and the ID of the row g
// names.
func (s *sqlStore) resolveGrantee(ctx context.Context, q querier, g Grantee) (grantTable, int64, error) {
	t, err := grantTableOf(g.Kind)
	if err != nil {
		return grantTable{}, 0, err
	}
	var id int64
	if g.Kind == KindToken {
		err = q.QueryRowContext(ctx, "SELECT id FROM api_tokens WHERE id = $1", g.TokenID).Scan(&id)
	} else {
		id, err = lookupID(ctx, q, t.owner, g.Name)
	}
	if err != nil {
		return grantTable{}, 0, fmt.Errorf("%s: %w", g, s.classify(err))
	}
	return t, id, nil
}

const roleColumns = `id, name, description, scopes`

func scanRole(row interface{ Scan(...any) error }) (Role, error) {
	var r Role
	err := row.Scan(&r.ID, &r.Name, &r.Description, listCol{&r.Scopes})
	return r, err
}

// PutRole implements Roles.
func (s *sqlStore) PutRole(ctx context.Context, r Role) (Role, error) {
	if r.Name == "" {
		return Role{}, invalid("putting role: empty name")
	}
	var out Role
	err := s.write(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `INSERT INTO roles (name, description, scopes)
			VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET description = excluded.description, scopes = excluded.scopes
			RETURNING `+roleColumns, r.Name, r.Description, listArg(r.Scopes))
		var err error
		out, err = scanRole(row)
		return err
	})
	if err != nil {
		return Role{}, fmt.Errorf("putting role %q: %w", r.Name, s.classify(err))
	}
	return out, nil
}

// GetRole implements Roles.
func (s *sqlStore) GetRole(ctx context.Context, name string) (Role, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+roleColumns+" FROM roles WHERE name = $1", name)
	r, err := scanRole(row)
	if err != nil {
		return Role{}, fmt.Errorf("getting role %q: %w", name, s.classify(err))
	}
	return r, nil
}

// ListRoles implements Roles.
func (s *sqlStore) ListRoles(ctx context.Context) ([]Role, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+roleColumns+" FROM roles ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("listing roles: %w", err)
	}
	roles, err := collect(rows, scanRole)
	if err != nil {
		return nil, fmt.Errorf("listing roles: %w", err)
	}
	return roles, nil
}

// DeleteRole implements Roles.
func (s *sqlStore) DeleteRole(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return deleteWhere(ctx, tx, "DELETE FROM roles WHERE name = $1", name)
	})
	if err != nil {
		return fmt.Errorf("deleting role %q: %w", name, s.classify(err))
	}
	return nil
}

// GrantRole implements Roles.
func (s *sqlStore) GrantRole(ctx context.Context, role string, g Grantee) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		roleID, err := lookupID(ctx, tx, "roles", role)
		if err != nil {
			return s.classify(err)
		}
		t, id, err := s.resolveGrantee(ctx, tx, g)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, fmt.Sprintf(
			"INSERT INTO %s (%s, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", t.table, t.column),
			id, roleID)
		return err
	})
	if err != nil {
		return fmt.Errorf("granting role %q to %s: %w", role, g, err)
	}
	return nil
}

// RevokeRole implements Roles.
func (s *sqlStore) RevokeRole(ctx context.Context, role string, g Grantee) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		roleID, err := lookupID(ctx, tx, "roles", role)
		if err != nil {
			return s.classify(err)
		}
		t, id, err := s.resolveGrantee(ctx, tx, g)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, fmt.Sprintf(
			"DELETE FROM %s WHERE %s = $1 AND role_id = $2", t.table, t.column), id, roleID)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoking role %q from %s: %w", role, g, err)
	}
	return nil
}

// RolesOf implements Roles.
func (s *sqlStore) RolesOf(ctx context.Context, g Grantee) ([]Role, error) {
	roles, err := readValue(ctx, s, func(tx *sql.Tx) ([]Role, error) {
		t, id, err := s.resolveGrantee(ctx, tx, g)
		if err != nil {
			return nil, err
		}
		rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT r.id, r.name, r.description, r.scopes
			FROM roles r JOIN %s x ON x.role_id = r.id WHERE x.%s = $1 ORDER BY r.name`,
			t.table, t.column), id)
		if err != nil {
			return nil, err
		}
		return collect(rows, scanRole)
	})
	if err != nil {
		return nil, fmt.Errorf("listing roles of %s: %w", g, err)
	}
	return roles, nil
}

// ListGrantees implements Roles.
func (s *sqlStore) ListGrantees(ctx context.Context, role string) ([]Grantee, error) {
	grantees, err := readValue(ctx, s, func(tx *sql.Tx) ([]Grantee, error) {
		roleID, err := lookupID(ctx, tx, "roles", role)
		if err != nil {
			return nil, s.classify(err)
		}
		grantees := []Grantee{}
		for _, t := range grantTables {
			list, err := granteesIn(ctx, tx, t, roleID)
			if err != nil {
				return nil, err
			}
			grantees = append(grantees, list...)
		}
		return grantees, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing grantees of role %q: %w", role, err)
	}
	return grantees, nil
}

// granteesIn returns the grantees of one kind that have the role.
func granteesIn(ctx context.Context, q querier, t grantTable, roleID int64) ([]Grantee, error) {
	query := fmt.Sprintf(`SELECT o.name FROM %s x JOIN %s o ON o.id = x.%s
		WHERE x.role_id = $1 ORDER BY o.name`, t.table, t.owner, t.column)
	if t.kind == KindToken {
		query = "SELECT token_id FROM token_roles WHERE role_id = $1 ORDER BY token_id"
	}
	rows, err := q.QueryContext(ctx, query, roleID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (Grantee, error) {
		g := Grantee{Kind: t.kind}
		if t.kind == KindToken {
			return g, row.Scan(&g.TokenID)
		}
		return g, row.Scan(&g.Name)
	})
}
