package hub

import (
	"net/http"
	"testing"
)

func TestAPIPatchUserKeys(t *testing.T) {
	th := startHub(t, hubOptions{})
	th.addUser("root", true)
	th.addUser("bob", false)
	admin := th.token("root")
	tests := []struct {
		name string
		body any
		want int
	}{
		{"unknown key", map[string]any{"foo": 1}, http.StatusBadRequest},
		{"unknown key beside admin", map[string]any{"admin": false, "foo": 1}, http.StatusBadRequest},
		{"groups", map[string]any{"groups": []string{"staff"}}, http.StatusBadRequest},
		{"admin of the wrong type", map[string]any{"admin": "yes"}, http.StatusBadRequest},
		{"not an object", []string{"admin"}, http.StatusBadRequest},
		{"admin", map[string]any{"admin": false}, http.StatusOK},
		{"empty object", map[string]any{}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := th.api("PATCH", "/hub/api/users/bob", admin, tt.body)
			if r.status != tt.want {
				t.Errorf("PATCH %v = %d %s, want %d", tt.body, r.status, r.body, tt.want)
			}
		})
	}
}
