package hub

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/store"
)

// accountSpawner is the fake spawner with the account hook of
// spawn.LocalProcess, which records the names it is called with.
type accountSpawner struct {
	*fakeSpawner
	mu      sync.Mutex
	ensured []string
	// err is returned by EnsureAccount.
	err error
}

func (s *accountSpawner) EnsureAccount(ctx context.Context, name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensured = append(s.ensured, name)
	return s.err == nil, s.err
}

func (s *accountSpawner) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ensured)
}

// lockedBuffer is a bytes.Buffer that a hub's logger and a test may use
// at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// allowAllConfig lets every name that the dummy authenticator signs in
// use the hub.
const allowAllConfig = "[Authenticator]\nallow_all = true\n"

// startAccountHub starts a hub with the dummy authenticator and sp, and
// returns it with its log.
func startAccountHub(t *testing.T, sp *accountSpawner) (*testHub, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	sp.fakeSpawner = newFakeSpawner()
	t.Cleanup(sp.kill)
	th := startHub(t, hubOptions{auth: &auth.Dummy{}, spawner: sp, config: allowAllConfig,
		log: slog.New(slog.NewTextHandler(logs, nil))})
	return th, logs
}

// signIn posts the login form as name and returns the reply.
func signIn(b *browser, name string) pageResult {
	b.t.Helper()
	return b.post("/hub/login", url.Values{"_xsrf": {b.xsrf("/hub/login")},
		"username": {name}, "password": {"any password"}})
}

func TestLoginEnsuresSystemAccount(t *testing.T) {
	sp := &accountSpawner{}
	th, _ := startAccountHub(t, sp)
	b := th.browser()
	if p := signIn(b, "ada"); p.status != http.StatusFound {
		t.Fatalf("login = %d: %s", p.status, p.body)
	}
	if got := sp.calls(); !slices.Equal(got, []string{"ada"}) {
		t.Errorf("EnsureAccount calls = %v, want [ada]", got)
	}
	if _, err := th.store.GetUser(t.Context(), "ada"); err != nil {
		t.Errorf("no hub user after the sign-in: %v", err)
	}

	// Each sign-in checks the account again, for users whose account an
	// administrator deleted or who were added before the setting.
	if p := signIn(th.browser(), "ada"); p.status != http.StatusFound {
		t.Fatalf("second login = %d: %s", p.status, p.body)
	}
	if got := sp.calls(); len(got) != 2 {
		t.Errorf("EnsureAccount calls after two sign-ins = %v, want two", got)
	}
}

func TestLoginAccountCreationFails(t *testing.T) {
	sp := &accountSpawner{err: errors.New("running add_user_cmd: exit status 1: no space left")}
	th, logs := startAccountHub(t, sp)
	b := th.browser()
	p := signIn(b, "ada")
	if p.status != http.StatusInternalServerError {
		t.Fatalf("login with a failing account creation = %d, want 500: %s", p.status, p.body)
	}
	if !strings.Contains(p.body, "could not create the system account ada") {
		t.Errorf("error page does not name the account: %s", p.body)
	}
	if strings.Contains(p.body, "no space left") {
		t.Errorf("error page shows the command's output, which belongs in the log: %s", p.body)
	}
	log := logs.String()
	if !strings.Contains(log, `msg="creating the system account at sign-in failed" user=ada`) ||
		!strings.Contains(log, "no space left") {
		t.Errorf("log lacks the failure with the user and the cause:\n%s", log)
	}
	if _, err := th.store.GetUser(t.Context(), "ada"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("hub user after a failed sign-in: %v, want none", err)
	}
	if p := b.get("/hub/home"); p.status != http.StatusFound ||
		!strings.HasPrefix(p.location, "/hub/login") {
		t.Errorf("home after a failed sign-in = %d %q, want the login page", p.status, p.location)
	}
}

func TestLoginInvalidSystemName(t *testing.T) {
	sp := &accountSpawner{}
	th, logs := startAccountHub(t, sp)
	p := signIn(th.browser(), "ada.lovelace")
	if p.status != http.StatusForbidden {
		t.Fatalf("login of an invalid account name = %d, want 403: %s", p.status, p.body)
	}
	for _, want := range []string{"system account of the same name",
		"user ada.lovelace cannot sign in", "lowercase letter"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("error page lacks %q: %s", want, p.body)
		}
	}
	if got := sp.calls(); len(got) != 0 {
		t.Errorf("EnsureAccount ran for an invalid name: %v", got)
	}
	if _, err := th.store.GetUser(t.Context(), "ada.lovelace"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("hub user after a rejected sign-in: %v, want none", err)
	}
	if !strings.Contains(logs.String(), "user=ada.lovelace") {
		t.Errorf("log does not name the rejected user:\n%s", logs.String())
	}
}

func TestLoginWithoutAccountSpawner(t *testing.T) {
	// The fake spawner has no account hook, as the simple spawner has
	// none, so names that cannot be system accounts sign in.
	th := startHub(t, hubOptions{auth: &auth.Dummy{}, config: allowAllConfig})
	if p := signIn(th.browser(), "ada.lovelace"); p.status != http.StatusFound {
		t.Errorf("login of ada.lovelace with the fake spawner = %d: %s", p.status, p.body)
	}
}
