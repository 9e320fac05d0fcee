package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Group is a named set of users.
type Group struct {
	ID   int64
	Name string
	// Properties is a JSON object that the hub keeps for the deployment and
	// does not interpret.
	Properties json.RawMessage
	// Users and Roles are the names of the members and of the roles
	// granted to the group, in name order.
	Users []string
	Roles []string
}

const groupColumns = `id, name, properties`

func scanGroup(row interface{ Scan(...any) error }) (Group, error) {
	var g Group
	err := row.Scan(&g.ID, &g.Name, rawCol{(*[]byte)(&g.Properties)})
	return g, err
}

// CreateGroup implements Groups.
func (s *sqlStore) CreateGroup(ctx context.Context, name string, properties []byte) (Group, error) {
	if name == "" {
		return Group{}, invalid("creating group: empty name")
	}
	if properties == nil {
		properties = []byte("{}")
	}
	if err := checkObject("group properties", properties); err != nil {
		return Group{}, fmt.Errorf("creating group %q: %w", name, err)
	}
	var g Group
	err := s.write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx,
			"INSERT INTO groups (name, properties) VALUES ($1, $2) RETURNING id",
			name, string(properties)).Scan(&id)
		if err != nil {
			return s.classify(err)
		}
		g, err = s.groupByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Group{}, fmt.Errorf("creating group %q: %w", name, err)
	}
	return g, nil
}

// GetGroup implements Groups.
func (s *sqlStore) GetGroup(ctx context.Context, name string) (Group, error) {
	g, err := readValue(ctx, s, func(tx *sql.Tx) (Group, error) {
		return s.groupWhere(ctx, tx, "name = $1", name)
	})
	if err != nil {
		return Group{}, fmt.Errorf("getting group %q: %w", name, err)
	}
	return g, nil
}

func (s *sqlStore) groupByID(ctx context.Context, q querier, id int64) (Group, error) {
	return s.groupWhere(ctx, q, "id = $1", id)
}

// groupWhere returns the one group that cond selects, with members and
// roles.
func (s *sqlStore) groupWhere(ctx context.Context, q querier, cond string, arg any) (Group, error) {
	row := q.QueryRowContext(ctx, "SELECT "+groupColumns+" FROM groups WHERE "+cond, arg)
	g, err := scanGroup(row)
	if err != nil {
		return Group{}, s.classify(err)
	}
	groups := []Group{g}
	if err := fillGroupLists(ctx, q, groups); err != nil {
		return Group{}, err
	}
	return groups[0], nil
}

// ListGroups implements Groups.
func (s *sqlStore) ListGroups(ctx context.Context, p Page) ([]Group, int, error) {
	var groups []Group
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM groups").Scan(&total); err != nil {
			return fmt.Errorf("counting: %w", err)
		}
		page, args := pageClause(p, 1)
		rows, err := tx.QueryContext(ctx, "SELECT "+groupColumns+" FROM groups ORDER BY id"+page, args...)
		if err != nil {
			return err
		}
		if groups, err = collect(rows, scanGroup); err != nil {
			return err
		}
		return fillGroupLists(ctx, tx, groups)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("listing groups: %w", err)
	}
	return groups, total, nil
}

// fillGroupLists loads the member and role names of groups.
func fillGroupLists(ctx context.Context, q querier, groups []Group) error {
	if len(groups) == 0 {
		return nil
	}
	ids := make([]int64, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	users, err := namesByOwner(ctx, q, `SELECT m.group_id, u.name FROM group_members m
		JOIN users u ON u.id = m.user_id WHERE m.group_id IN (%s) ORDER BY u.name`, ids)
	if err != nil {
		return fmt.Errorf("loading group members: %w", err)
	}
	roles, err := namesByOwner(ctx, q, `SELECT x.group_id, r.name FROM group_roles x
		JOIN roles r ON r.id = x.role_id WHERE x.group_id IN (%s) ORDER BY r.name`, ids)
	if err != nil {
		return fmt.Errorf("loading roles of groups: %w", err)
	}
	for i := range groups {
		groups[i].Users = nonNil(users[groups[i].ID])
		groups[i].Roles = nonNil(roles[groups[i].ID])
	}
	return nil
}

// SetGroupProperties implements Groups.
func (s *sqlStore) SetGroupProperties(ctx context.Context, name string, properties []byte) (Group, error) {
	if err := checkObject("group properties", properties); err != nil {
		return Group{}, fmt.Errorf("setting properties of group %q: %w", name, err)
	}
	var g Group
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := lookupID(ctx, tx, "groups", name)
		if err != nil {
			return s.classify(err)
		}
		var b updateBuilder
		b.set("properties", string(properties))
		if err := b.exec(ctx, tx, "groups", id); err != nil {
			return s.classify(err)
		}
		g, err = s.groupByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Group{}, fmt.Errorf("setting properties of group %q: %w", name, err)
	}
	return g, nil
}

// DeleteGroup implements Groups.
func (s *sqlStore) DeleteGroup(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return deleteWhere(ctx, tx, "DELETE FROM groups WHERE name = $1", name)
	})
	if err != nil {
		return fmt.Errorf("deleting group %q: %w", name, s.classify(err))
	}
	return nil
}

// AddGroupMembers implements Groups.
func (s *sqlStore) AddGroupMembers(ctx context.Context, group string, users ...string) (Group, error) {
	var g Group
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := lookupID(ctx, tx, "groups", group)
		if err != nil {
			return s.classify(err)
		}
		for _, name := range users {
			userID, err := lookupID(ctx, tx, "users", name)
			if err != nil {
				return fmt.Errorf("user %q: %w", name, s.classify(err))
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id)
				VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, userID)
			if err != nil {
				return err
			}
		}
		g, err = s.groupByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Group{}, fmt.Errorf("adding members to group %q: %w", group, err)
	}
	return g, nil
}

// RemoveGroupMembers implements Groups.
func (s *sqlStore) RemoveGroupMembers(ctx context.Context, group string, users ...string) (Group, error) {
	var g Group
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := lookupID(ctx, tx, "groups", group)
		if err != nil {
			return s.classify(err)
		}
		for _, name := range users {
			_, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = $1
				AND user_id IN (SELECT id FROM users WHERE name = $2)`, id, name)
			if err != nil {
				return err
			}
		}
		g, err = s.groupByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Group{}, fmt.Errorf("removing members from group %q: %w", group, err)
	}
	return g, nil
}
