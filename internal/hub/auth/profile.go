package auth

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Profile is the full name and the avatar image URL that an OAuth provider
// returned for a user. The hub passes it to the user's servers, whose
// JupyterLab shows it in the user menu. Each field is "" when the provider
// sent nothing usable.
type Profile struct {
	DisplayName string
	AvatarURL   string
}

// Limits on the profile fields, which providers let people set freely.
const (
	maxDisplayNameBytes = 256
	maxAvatarURLBytes   = 2048
)

// ProfileFromAuthState returns the profile in an auth state that GitHub or
// Generic wrote. For GitHub these are the name and avatar_url of
// github_user. For Generic they are the name and picture claims of
// oauth_user (OpenID Connect Core 1.0 section 5.1), or avatar_url when
// picture is missing, as some OAuth 2 providers name it. Control
// characters are dropped from the name, and an avatar URL that is not
// absolute http or https is left out. An auth state of another shape, or
// none, gives the zero Profile.
func ProfileFromAuthState(state []byte) Profile {
	if len(state) == 0 {
		return Profile{}
	}
	var s struct {
		GitHubUser *struct {
			Name      string `json:"name"`
			AvatarURL string `json:"avatar_url"`
		} `json:"github_user"`
		OAuthUser map[string]any `json:"oauth_user"`
	}
	if json.Unmarshal(state, &s) != nil {
		return Profile{}
	}
	var name, avatar string
	switch {
	case s.GitHubUser != nil:
		name, avatar = s.GitHubUser.Name, s.GitHubUser.AvatarURL
	case s.OAuthUser != nil:
		name, _ = s.OAuthUser["name"].(string)
		avatar, _ = s.OAuthUser["picture"].(string)
		if avatar == "" {
			avatar, _ = s.OAuthUser["avatar_url"].(string)
		}
	}
	return Profile{DisplayName: cleanDisplayName(name), AvatarURL: cleanAvatarURL(avatar)}
}

// cleanDisplayName drops control characters, bidirectional controls such
// as U+202E, which could reverse the text around the name, and surrounding
// white space from name, and cuts it to maxDisplayNameBytes at a character
// boundary.
func cleanDisplayName(name string) string {
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name))
	if len(name) > maxDisplayNameBytes {
		cut := maxDisplayNameBytes
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	return strings.TrimSpace(name)
}

// cleanAvatarURL returns raw when it is an absolute http or https URL of
// at most maxAvatarURLBytes, and "" otherwise, so that a javascript: or
// data: URL never reaches a page.
func cleanAvatarURL(raw string) string {
	if raw == "" || len(raw) > maxAvatarURLBytes {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return raw
}

// AccountID is the provider's stable id of an account, which stays with
// the account when its login or user name changes.
type AccountID struct {
	// Issuer names the provider that issued ID: "github" for GitHub, and
	// for Generic the iss claim, "" when the claims have none.
	Issuer string
	// ID is GitHub's numeric user id, or the OpenID Connect sub claim.
	ID string
}

// AccountIDFromAuthState returns the account id in an auth state that
// GitHub or Generic wrote: the id of github_user, or the sub claim of
// oauth_user with its iss claim. The second result is false when the auth
// state has none, such as one of a user that an admin added.
func AccountIDFromAuthState(state []byte) (AccountID, bool) {
	if len(state) == 0 {
		return AccountID{}, false
	}
	var s struct {
		GitHubUser *struct {
			ID int64 `json:"id"`
		} `json:"github_user"`
		OAuthUser map[string]any `json:"oauth_user"`
	}
	if json.Unmarshal(state, &s) != nil {
		return AccountID{}, false
	}
	switch {
	case s.GitHubUser != nil && s.GitHubUser.ID != 0:
		return AccountID{Issuer: "github", ID: strconv.FormatInt(s.GitHubUser.ID, 10)}, true
	case s.OAuthUser != nil:
		sub, _ := s.OAuthUser["sub"].(string)
		if sub == "" {
			return AccountID{}, false
		}
		issuer, _ := s.OAuthUser["iss"].(string)
		return AccountID{Issuer: issuer, ID: sub}, true
	}
	return AccountID{}, false
}
