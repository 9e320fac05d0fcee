package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/store"
)

var concurrencyTests = []test{
	{"Writers", testConcurrentWriters},
	{"ReadersAndWriters", testConcurrentReadersAndWriters},
	{"ConsumeCodeOnce", testConsumeCodeOnce},
	{"AddMembersOnce", testConcurrentAddMembers},
	{"SuppliedTokenOnce", testConcurrentSuppliedToken},
	{"ActivityMovesForward", testConcurrentActivity},
}

// workers and perWorker size the concurrent tests: enough goroutines to
// keep several writes in flight at once on any machine.
const (
	workers   = 8
	perWorker = 20
)

// runWorkers runs fn(i) for i in [0, workers) at once and returns the
// errors they return.
func runWorkers(fn func(i int) error) []error {
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustGroup(t, s, "everyone")
	errs := runWorkers(func(w int) error {
		for i := range perWorker {
			name := fmt.Sprintf("user-%d-%d", w, i)
			if _, err := s.CreateUser(ctx, name, false); err != nil {
				return err
			}
			if _, _, err := s.CreateToken(ctx, store.NewToken{Owner: store.Owner{User: name}}); err != nil {
				return err
			}
			if _, err := s.CreateServer(ctx, name, ""); err != nil {
				return err
			}
			if _, err := s.AddGroupMembers(ctx, "everyone", name); err != nil {
				return err
			}
			at := time.Now()
			if _, err := s.UpdateUser(ctx, name, store.UserUpdate{LastActivity: &at}); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	_, total, err := s.ListUsers(ctx, store.UserQuery{})
	wantErr(t, "ListUsers", err, nil)
	if total != workers*perWorker {
		t.Errorf("%d users, want %d", total, workers*perWorker)
	}
	g, err := s.GetGroup(ctx, "everyone")
	wantErr(t, "GetGroup", err, nil)
	if len(g.Users) != workers*perWorker {
		t.Errorf("%d members, want %d", len(g.Users), workers*perWorker)
	}
}

func testConcurrentReadersAndWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustServer(t, s, "alice", "")
	_, clear := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}})
	errs := runWorkers(func(w int) error {
		for i := range perWorker {
			if w%2 == 0 {
				tok, err := s.FindToken(ctx, clear)
				if err != nil {
					return err
				}
				if err := s.TouchToken(ctx, tok.ID, time.Now()); err != nil {
					return err
				}
				continue
			}
			at := time.Now()
			update := store.ServerUpdate{LastActivity: &at, URL: ptr(fmt.Sprintf("http://127.0.0.1:%d/", 1000+i))}
			if _, err := s.UpdateServer(ctx, "alice", "", update); err != nil {
				return err
			}
			if _, err := s.GetServer(ctx, "alice", ""); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
}

func testConsumeCodeOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustClient(t, s, "client", "")
	for round := range 5 {
		code, err := s.CreateOAuthCode(ctx, store.OAuthCode{ClientID: "client", User: "alice",
			ExpiresAt: time.Now().Add(time.Hour)})
		wantErr(t, "CreateOAuthCode", err, nil)
		errs := runWorkers(func(int) error {
			_, err := s.ConsumeOAuthCode(ctx, code)
			return err
		})
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("round %d: ConsumeOAuthCode: %v", round, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d of %d concurrent calls consumed the code, want 1", round, won, workers)
		}
	}
}

func testConcurrentAddMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	mustGroup(t, s, "staff")
	errs := runWorkers(func(int) error {
		_, err := s.AddGroupMembers(ctx, "staff", "alice", "bob")
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	g, err := s.GetGroup(ctx, "staff")
	wantErr(t, "GetGroup", err, nil)
	diff(t, "members", g.Users, []string{"alice", "bob"})
}

// testConcurrentSuppliedToken stores one caller-supplied token from several
// goroutines at once. The store checks that the token is new before it
// inserts it, and exactly one of the calls may pass that check.
func testConcurrentSuppliedToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	const supplied = "a-token-that-the-deployment-chose"
	errs := runWorkers(func(int) error {
		_, _, err := s.CreateToken(ctx, store.NewToken{Token: supplied, Owner: store.Owner{User: "alice"}})
		return err
	})
	created := 0
	for i, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, store.ErrExists):
			t.Errorf("worker %d: CreateToken: %v", i, err)
		}
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent calls stored the token, want 1", created, workers)
	}
	tokens, err := s.ListTokens(ctx, store.Owner{User: "alice"})
	wantErr(t, "ListTokens", err, nil)
	if len(tokens) != 1 {
		t.Errorf("alice has %d tokens, want 1", len(tokens))
	}
}

// testConcurrentActivity reports activity of one token, user and server
// from several goroutines at once, with times in random order. Each last
// activity must end at the latest time reported, so no update may compute
// its value from a row that another one changed meanwhile.
func testConcurrentActivity(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustUser(t, s, "alice")
	mustServer(t, s, "alice", "")
	tok, _ := mustToken(t, s, store.NewToken{Owner: store.Owner{User: "alice"}})
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	latest := base.Add(time.Duration(workers*perWorker-1) * time.Second)

	errs := runWorkers(func(w int) error {
		for i := range perWorker {
			// Worker w reports seconds w, w+workers, ... in descending
			// order, so that late calls often carry early times.
			at := base.Add(time.Duration((perWorker-1-i)*workers+w) * time.Second)
			if err := s.TouchToken(ctx, tok.ID, at); err != nil {
				return err
			}
			if _, err := s.UpdateUser(ctx, "alice", store.UserUpdate{LastActivity: &at}); err != nil {
				return err
			}
			if _, err := s.UpdateServer(ctx, "alice", "", store.ServerUpdate{LastActivity: &at}); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}

	got, err := s.GetToken(ctx, tok.ID)
	wantErr(t, "GetToken", err, nil)
	if !got.LastActivity.Equal(latest) {
		t.Errorf("token's last activity %v, want %v", got.LastActivity, latest)
	}
	u, err := s.GetUser(ctx, "alice")
	wantErr(t, "GetUser", err, nil)
	if !u.LastActivity.Equal(latest) {
		t.Errorf("user's last activity %v, want %v", u.LastActivity, latest)
	}
	sv, err := s.GetServer(ctx, "alice", "")
	wantErr(t, "GetServer", err, nil)
	if !sv.LastActivity.Equal(latest) {
		t.Errorf("server's last activity %v, want %v", sv.LastActivity, latest)
	}
}
