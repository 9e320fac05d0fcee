package hub

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
)

func TestKnownLoginSurvivesRestart(t *testing.T) {
	st, err := store.Open(context.Background(),
		"sqlite:///"+filepath.Join(t.TempDir(), "hub.sqlite"), store.Options{})
	must(t, err)
	t.Cleanup(func() { st.Close() })
	first := startHub(t, hubOptions{store: st})
	first.addUser("admin", true)
	first.addUser("bob", false)
	first.browser().mustLogin("admin")
	first.stop()

	th := startHub(t, hubOptions{store: st})
	b := th.browser()
	for i := range 30 {
		if p := b.login(fmt.Sprintf("nobody%d", i), "wrong", ""); p.status != http.StatusForbidden {
			t.Fatalf("attempt %d = %d, want 403", i+1, p.status)
		}
	}
	if p := th.browser().login("admin", testPassword, ""); p.status != http.StatusFound {
		t.Errorf("login of admin from the address of its sign-in before the restart = %d, "+
			"want 302", p.status)
	}
	if p := th.browser().login("bob", testPassword, ""); p.status != http.StatusTooManyRequests {
		t.Errorf("first login of bob from that address = %d, want 429", p.status)
	}
}
