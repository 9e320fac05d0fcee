package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Service is a hub service: a program with its own tokens and roles, and
// possibly a URL that the proxy routes /services/NAME/ to.
type Service struct {
	ID    int64
	Name  string
	Admin bool
	// URL is the address the service listens on, "" if it has no web
	// endpoint.
	URL string
	// OAuthClientID is the OAuth client the service logs users in with, ""
	// if none.
	OAuthClientID string
	// FromConfig marks a service defined in the hub's configuration, which
	// the hub may delete when the configuration no longer lists it.
	FromConfig bool
	Created    time.Time
	// Roles are the names of the roles granted to the service, in name
	// order. CreateService ignores them; grant roles with GrantRole.
	Roles []string
}

// ServiceUpdate lists the service fields that UpdateService changes. Nil
// fields are left as they are.
type ServiceUpdate struct {
	Admin         *bool
	URL           *string
	OAuthClientID *string
	FromConfig    *bool
}

const serviceColumns = `id, name, admin, url, oauth_client_id, from_config, created`

func scanService(row interface{ Scan(...any) error }) (Service, error) {
	var sv Service
	err := row.Scan(&sv.ID, &sv.Name, &sv.Admin, &sv.URL, &sv.OAuthClientID, &sv.FromConfig,
		timeCol{&sv.Created})
	return sv, err
}

// CreateService implements Services.
func (s *sqlStore) CreateService(ctx context.Context, sv Service) (Service, error) {
	if sv.Name == "" {
		return Service{}, invalid("creating service: empty name")
	}
	var out Service
	err := s.write(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO services
			(name, admin, url, oauth_client_id, from_config, created)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			sv.Name, sv.Admin, sv.URL, sv.OAuthClientID, sv.FromConfig,
			timeArg(s.timestamp())).Scan(&id)
		if err != nil {
			return s.classify(err)
		}
		out, err = s.serviceWhere(ctx, tx, "id = $1", id)
		return err
	})
	if err != nil {
		return Service{}, fmt.Errorf("creating service %q: %w", sv.Name, err)
	}
	return out, nil
}

// GetService implements Services.
func (s *sqlStore) GetService(ctx context.Context, name string) (Service, error) {
	sv, err := readValue(ctx, s, func(tx *sql.Tx) (Service, error) {
		return s.serviceWhere(ctx, tx, "name = $1", name)
	})
	if err != nil {
		return Service{}, fmt.Errorf("getting service %q: %w", name, err)
	}
	return sv, nil
}

// serviceWhere returns the one service that cond selects, with its roles.
func (s *sqlStore) serviceWhere(ctx context.Context, q querier, cond string, arg any) (Service, error) {
	row := q.QueryRowContext(ctx, "SELECT "+serviceColumns+" FROM services WHERE "+cond, arg)
	sv, err := scanService(row)
	if err != nil {
		return Service{}, s.classify(err)
	}
	list := []Service{sv}
	if err := fillServiceRoles(ctx, q, list); err != nil {
		return Service{}, err
	}
	return list[0], nil
}

// ListServices implements Services.
func (s *sqlStore) ListServices(ctx context.Context) ([]Service, error) {
	list, err := readValue(ctx, s, func(tx *sql.Tx) ([]Service, error) {
		rows, err := tx.QueryContext(ctx, "SELECT "+serviceColumns+" FROM services ORDER BY name")
		if err != nil {
			return nil, err
		}
		list, err := collect(rows, scanService)
		if err != nil {
			return nil, err
		}
		return list, fillServiceRoles(ctx, tx, list)
	})
	if err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	return list, nil
}

// fillServiceRoles loads the role names of services.
func fillServiceRoles(ctx context.Context, q querier, list []Service) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	for i, sv := range list {
		ids[i] = sv.ID
	}
	roles, err := namesByOwner(ctx, q, `SELECT x.service_id, r.name FROM service_roles x
		JOIN roles r ON r.id = x.role_id WHERE x.service_id IN (%s) ORDER BY r.name`, ids)
	if err != nil {
		return fmt.Errorf("loading roles of services: %w", err)
	}
	for i := range list {
		list[i].Roles = nonNil(roles[list[i].ID])
	}
	return nil
}

// UpdateService implements Services.
func (s *sqlStore) UpdateService(ctx context.Context, name string, u ServiceUpdate) (Service, error) {
	var b updateBuilder
	if u.Admin != nil {
		b.set("admin", *u.Admin)
	}
	if u.URL != nil {
		b.set("url", *u.URL)
	}
	if u.OAuthClientID != nil {
		b.set("oauth_client_id", *u.OAuthClientID)
	}
	if u.FromConfig != nil {
		b.set("from_config", *u.FromConfig)
	}
	var out Service
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := lookupID(ctx, tx, "services", name)
		if err != nil {
			return s.classify(err)
		}
		if err := b.exec(ctx, tx, "services", id); err != nil {
			return s.classify(err)
		}
		out, err = s.serviceWhere(ctx, tx, "id = $1", id)
		return err
	})
	if err != nil {
		return Service{}, fmt.Errorf("updating service %q: %w", name, err)
	}
	return out, nil
}

// DeleteService implements Services.
func (s *sqlStore) DeleteService(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return deleteWhere(ctx, tx, "DELETE FROM services WHERE name = $1", name)
	})
	if err != nil {
		return fmt.Errorf("deleting service %q: %w", name, s.classify(err))
	}
	return nil
}
