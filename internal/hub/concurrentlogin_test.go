package hub

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/store"
)

// lookupBarrierStore holds the first n lookups of a missing user until all
// n have arrived, so that n sign-ins of one new user all find no record and
// then race to create it.
type lookupBarrierStore struct {
	store.Store
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (s *lookupBarrierStore) GetUser(ctx context.Context, name string) (store.User, error) {
	u, err := s.Store.GetUser(ctx, name)
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	s.mu.Lock()
	s.arrived++
	switch {
	case s.arrived == s.n:
		close(s.all)
	case s.arrived > s.n:
		s.mu.Unlock()
		return u, err
	}
	s.mu.Unlock()
	select {
	case <-s.all:
	case <-time.After(5 * time.Second):
	}
	return u, err
}

func TestConcurrentFirstSignIns(t *testing.T) {
	const signIns = 3
	inner, err := store.Open(t.Context(), "sqlite:///"+filepath.Join(t.TempDir(), "hub.sqlite"),
		store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	st := &lookupBarrierStore{Store: inner, n: signIns, all: make(chan struct{})}
	th := startHub(t, hubOptions{auth: &auth.Dummy{}, store: st, config: allowAllConfig})

	browsers := make([]*browser, signIns)
	for i := range browsers {
		browsers[i] = th.browser()
		browsers[i].xsrf("/hub/login") // the login form's session, before the barrier
	}
	results := make([]pageResult, signIns)
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Go(func() { results[i] = signIn(b, "grace") })
	}
	wg.Wait()
	for i, p := range results {
		if p.status != http.StatusFound {
			t.Errorf("concurrent sign-in %d = %d, want 302: %.300s", i, p.status, p.body)
		}
	}
	for i, b := range browsers {
		if p := b.get("/hub/home"); p.status != http.StatusOK {
			t.Errorf("home after concurrent sign-in %d = %d", i, p.status)
		}
	}
}
