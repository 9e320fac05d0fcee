package auth

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestProfileFromAuthState(t *testing.T) {
	long := strings.Repeat("é", maxDisplayNameBytes) // two bytes each
	tests := []struct {
		name  string
		state string
		want  Profile
	}{
		{"github", `{"github_user":{"login":"octocat","name":"The Octocat",` +
			`"avatar_url":"https://avatars.example.com/u/1?v=4"},"scope":[]}`,
			Profile{"The Octocat", "https://avatars.example.com/u/1?v=4"}},
		{"github without name", `{"github_user":{"login":"octocat","name":null,` +
			`"avatar_url":"https://avatars.example.com/u/1"}}`,
			Profile{"", "https://avatars.example.com/u/1"}},
		{"oidc claims", `{"oauth_user":{"sub":"7","name":"Ada Lovelace",` +
			`"picture":"https://sso.example.org/ada.png"},"scope":["openid"]}`,
			Profile{"Ada Lovelace", "https://sso.example.org/ada.png"}},
		{"oauth avatar_url", `{"oauth_user":{"username":"ada",` +
			`"avatar_url":"http://git.example.org/ada.png"}}`,
			Profile{"", "http://git.example.org/ada.png"}},
		{"picture wins over avatar_url", `{"oauth_user":{"picture":"https://a.example/p",` +
			`"avatar_url":"https://a.example/q"}}`, Profile{"", "https://a.example/p"}},
		{"claims of other types", `{"oauth_user":{"name":7,"picture":["https://a.example/p"]}}`,
			Profile{}},
		{"javascript avatar", `{"github_user":{"name":"x","avatar_url":"javascript:alert(1)"}}`,
			Profile{"x", ""}},
		{"data avatar", `{"oauth_user":{"picture":"data:image/png;base64,AAAA"}}`, Profile{}},
		{"relative avatar", `{"oauth_user":{"picture":"/avatars/1.png"}}`, Profile{}},
		{"avatar too long", `{"oauth_user":{"picture":"https://a.example/` +
			strings.Repeat("p", maxAvatarURLBytes) + `"}}`, Profile{}},
		{"control characters", `{"github_user":{"name":" Ada\u0000\n Lovelace\u202e "}}`,
			Profile{"Ada Lovelace", ""}},
		{"name cut at a character", `{"github_user":{"name":"` + long + `"}}`,
			Profile{long[:maxDisplayNameBytes], ""}},
		{"no state", ``, Profile{}},
		{"not JSON", `not json`, Profile{}},
		{"other shape", `{"access_token":"secret"}`, Profile{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ProfileFromAuthState([]byte(tc.state))
			if got != tc.want {
				t.Errorf("ProfileFromAuthState(%.80s) = %+v, want %+v", tc.state, got, tc.want)
			}
			if !utf8.ValidString(got.DisplayName) || len(got.DisplayName) > maxDisplayNameBytes {
				t.Errorf("display name %q is not valid UTF-8 of at most %d bytes",
					got.DisplayName, maxDisplayNameBytes)
			}
		})
	}
}

// TestProfileOfAuthStateTypes reads the profile from the types that the
// callbacks write, so renaming one of their JSON fields fails it.
func TestProfileOfAuthStateTypes(t *testing.T) {
	state := GitHubAuthState{GitHubUser: GitHubUser{Login: "octocat", Name: "The Octocat",
		AvatarURL: "https://avatars.example.com/u/1"}}
	raw := mustJSON(t, state)
	want := Profile{"The Octocat", "https://avatars.example.com/u/1"}
	if got := ProfileFromAuthState(raw); got != want {
		t.Errorf("profile of GitHubAuthState = %+v, want %+v", got, want)
	}
	generic := mustJSON(t, GenericAuthState{OAuthUser: map[string]any{"name": "Ada",
		"picture": "https://sso.example.org/ada.png"}})
	want = Profile{"Ada", "https://sso.example.org/ada.png"}
	if got := ProfileFromAuthState(generic); got != want {
		t.Errorf("profile of GenericAuthState = %+v, want %+v", got, want)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestAccountIDFromAuthState(t *testing.T) {
	tests := []struct {
		name  string
		state string
		want  AccountID
		found bool
	}{
		{"github", `{"github_user": {"login": "alice", "id": 583231}}`, AccountID{"github", "583231"}, true},
		{"github without id", `{"github_user": {"login": "alice"}}`, AccountID{}, false},
		{"oidc", `{"oauth_user": {"sub": "abc", "iss": "https://sso.example"}}`,
			AccountID{"https://sso.example", "abc"}, true},
		{"oauth2 without iss", `{"oauth_user": {"sub": "abc"}}`, AccountID{"", "abc"}, true},
		{"no sub", `{"oauth_user": {"preferred_username": "dana"}}`, AccountID{}, false},
		{"sub not a string", `{"oauth_user": {"sub": 7}}`, AccountID{}, false},
		{"empty", ``, AccountID{}, false},
		{"not json", `{`, AccountID{}, false},
	}
	for _, tt := range tests {
		got, found := AccountIDFromAuthState([]byte(tt.state))
		if got != tt.want || found != tt.found {
			t.Errorf("%s: AccountIDFromAuthState = %+v, %v; want %+v, %v", tt.name, got, found,
				tt.want, tt.found)
		}
	}
}
