package storetest

import (
	"testing"

	"github.com/jupygo/jupygo/internal/store"
)

var serviceTests = []test{
	{"CreateGet", testServiceCreateGet},
	{"CreateErrors", testServiceCreateErrors},
	{"Update", testServiceUpdate},
	{"List", testServiceList},
	{"Delete", testServiceDelete},
}

func testServiceCreateGet(t *testing.T, s store.Store) {
	in := store.Service{Name: "announcements", Admin: true, URL: "http://127.0.0.1:10101",
		OAuthClientID: "service-announcements", FromConfig: true, Roles: []string{"ignored"}}
	sv, err := s.CreateService(t.Context(), in)
	wantErr(t, "CreateService", err, nil)
	want := in
	want.Roles = []string{}
	diff(t, "created service", sv, want)
	checkStamped(t, "Created", sv.Created)

	got, err := s.GetService(t.Context(), "announcements")
	wantErr(t, "GetService", err, nil)
	diff(t, "service", got, want)
}

func testServiceCreateErrors(t *testing.T, s store.Store) {
	mustService(t, s, "cull")
	_, err := s.CreateService(t.Context(), store.Service{Name: "cull"})
	wantErr(t, "CreateService(duplicate)", err, store.ErrExists)
	_, err = s.CreateService(t.Context(), store.Service{})
	wantErr(t, "CreateService(no name)", err, store.ErrInvalid)
	_, err = s.GetService(t.Context(), "missing")
	wantErr(t, "GetService(missing)", err, store.ErrNotFound)
}

func testServiceUpdate(t *testing.T, s store.Store) {
	mustService(t, s, "cull")
	sv, err := s.UpdateService(t.Context(), "cull", store.ServiceUpdate{
		Admin: ptr(true), URL: ptr("http://127.0.0.1:9"), OAuthClientID: ptr("service-cull"),
		FromConfig: ptr(true),
	})
	wantErr(t, "UpdateService", err, nil)
	want := store.Service{Name: "cull", Admin: true, URL: "http://127.0.0.1:9",
		OAuthClientID: "service-cull", FromConfig: true}
	diff(t, "updated service", sv, want)

	sv, err = s.UpdateService(t.Context(), "cull", store.ServiceUpdate{URL: ptr("")})
	wantErr(t, "UpdateService(clear URL)", err, nil)
	want.URL = ""
	diff(t, "service without URL", sv, want)

	_, err = s.UpdateService(t.Context(), "missing", store.ServiceUpdate{Admin: ptr(true)})
	wantErr(t, "UpdateService(missing)", err, store.ErrNotFound)
}

func testServiceList(t *testing.T, s store.Store) {
	mustService(t, s, "zeta")
	mustService(t, s, "alpha")
	list, err := s.ListServices(t.Context())
	wantErr(t, "ListServices", err, nil)
	diff(t, "services", list, []store.Service{{Name: "alpha"}, {Name: "zeta"}})
}

func testServiceDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustService(t, s, "cull")
	mustRole(t, s, "culler", "admin:servers")
	cull := store.Grantee{Kind: store.KindService, Name: "cull"}
	wantErr(t, "GrantRole", s.GrantRole(ctx, "culler", cull), nil)
	wantErr(t, "DeleteService", s.DeleteService(ctx, "cull"), nil)
	wantErr(t, "DeleteService(again)", s.DeleteService(ctx, "cull"), store.ErrNotFound)
	grantees, err := s.ListGrantees(ctx, "culler")
	wantErr(t, "ListGrantees", err, nil)
	diff(t, "grantees", grantees, []store.Grantee{})
	sv := mustService(t, s, "cull")
	diff(t, "new service", sv, store.Service{Name: "cull"})
}
