package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/jupygo/jupygo/internal/lazy"
)

// GitHubClass is the class name of GitHub, as oauthenticator names its
// GitHubOAuthenticator.
const GitHubClass = "oauthenticator.github.GitHubOAuthenticator"

// Default GitHub endpoints, those of github.com.
const (
	DefaultGitHubURL = "https://github.com"
	DefaultGitHubAPI = "https://api.github.com"
)

// githubAPIVersion is the REST API version the requests ask for.
const githubAPIVersion = "2022-11-28"

// maxGitHubPages bounds the pages of a paginated GitHub reply that are
// read, 100 items each.
const maxGitHubPages = 20

// GitHubOptions configures a GitHub authenticator. The names follow
// oauthenticator's GitHubOAuthenticator traits.
type GitHubOptions struct {
	OAuthOptions
	// GitHubURL is the web URL of GitHub, where people sign in. Empty means
	// DefaultGitHubURL. A GitHub Enterprise Server has its own.
	GitHubURL string
	// GitHubAPI is the REST API URL. Empty means DefaultGitHubAPI for
	// github.com and GitHubURL + "/api/v3" for any other GitHubURL, as
	// GitHub Enterprise Server serves it.
	GitHubAPI string
	// AuthorizeURL, TokenURL and UserdataURL override the endpoints that
	// GitHubURL and GitHubAPI imply, as oauthenticator allows.
	AuthorizeURL string
	TokenURL     string
	UserdataURL  string
	// UsernameClaim is the field of the /user reply that is the hub name.
	// Empty means "login".
	UsernameClaim string
	// AllowedOrganizations admits members of these organizations, and
	// "org:team" admits members of a team. Private memberships are seen
	// only with the read:org scope.
	AllowedOrganizations []string
	// PopulateTeamsInAuthState stores the user's teams in the auth state,
	// under "teams". It needs the read:org scope.
	PopulateTeamsInAuthState bool
	// LoginService is the provider name on the login button. Empty means
	// "GitHub".
	LoginService string
	// Logger receives the authenticator's log records. Nil discards them.
	Logger *slog.Logger
}

// GitHub signs users in with a GitHub OAuth app (authorization code grant
// with PKCE, which GitHub accepts for OAuth apps since July 2025). The hub
// name of a user is their GitHub login in lower case, because GitHub
// logins are case-insensitive. It is safe for concurrent use.
type GitHub struct {
	oauth         *oauthClient
	api           string
	userdataURL   string
	usernameClaim string
	orgs          []string
	populateTeams bool
	loginService  string
	log           *slog.Logger
}

// NewGitHub checks opts and returns a GitHub authenticator. It sends no
// request.
func NewGitHub(opts GitHubOptions) (*GitHub, error) {
	web := strings.TrimRight(opts.GitHubURL, "/")
	if web == "" {
		web = DefaultGitHubURL
	}
	if err := checkProviderURL("github_url", web); err != nil {
		return nil, err
	}

	api := strings.TrimRight(opts.GitHubAPI, "/")
	if api == "" {
		api = web + "/api/v3"
		if web == DefaultGitHubURL {
			api = DefaultGitHubAPI
		}
	}
	if err := checkProviderURL("github_api", api); err != nil {
		return nil, err
	}

	userdata := cmp.Or(opts.UserdataURL, api+"/user")
	if err := checkProviderURL("userdata_url", userdata); err != nil {
		return nil, err
	}
	client, err := newOAuthClient(opts.OAuthOptions,
		cmp.Or(opts.AuthorizeURL, web+"/login/oauth/authorize"),
		cmp.Or(opts.TokenURL, web+"/login/oauth/access_token"))
	if err != nil {
		return nil, err
	}
	for _, org := range opts.AllowedOrganizations {
		if err := checkOrgTeam(org); err != nil {
			return nil, err
		}
	}

	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	needsOrgScope := len(opts.AllowedOrganizations) > 0 || opts.PopulateTeamsInAuthState
	if needsOrgScope && !slices.Contains(opts.Scope, "read:org") {
		log.Warn("GitHub scope lacks read:org: only public organization memberships are seen, "+
			"and teams are not", "scope", opts.Scope)
	}

	service := opts.LoginService
	if service == "" {
		service = "GitHub"
	}
	return &GitHub{oauth: client, api: api, userdataURL: userdata,
		usernameClaim: cmp.Or(opts.UsernameClaim, "login"), orgs: opts.AllowedOrganizations,
		populateTeams: opts.PopulateTeamsInAuthState, loginService: service, log: log}, nil
}

// checkOrgTeam rejects an allowed_organizations entry that is neither
// "org" nor "org:team".
func checkOrgTeam(s string) error {
	org, team, hasTeam := strings.Cut(s, ":")
	if org == "" || (hasTeam && team == "") || strings.ContainsAny(s, "/?#") ||
		strings.Count(s, ":") > 1 {
		return fmt.Errorf("allowed_organizations entry %q is invalid: use ORG or ORG:TEAM, "+
			"with the names as they appear in GitHub URLs", s)
	}
	return nil
}

// Class implements Authenticator.
func (g *GitHub) Class() string { return GitHubClass }

// LoginService returns the provider name of the login button.
func (g *GitHub) LoginService() string { return g.loginService }

// NormalizeUsername implements Authenticator: GitHub logins are
// case-insensitive, so the hub name is the lower-case login.
func (g *GitHub) NormalizeUsername(name string) string {
	return NormalizeUsername(name)
}

// LoginURL implements RedirectAuthenticator.
func (g *GitHub) LoginURL(state, callbackURL string) string {
	return g.oauth.authCodeURL(state, callbackURL)
}

// GitHubUser is the part of GitHub's user object (GET /user) that the hub
// keeps in the auth state, under "github_user" as oauthenticator does.
type GitHubUser struct {
	Login     string `json:"login"`
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	AvatarURL string `json:"avatar_url"`
	HTMLURL   string `json:"html_url"`
}

// GitHubTeam is one team of GET /user/teams, as the auth state keeps it.
type GitHubTeam struct {
	Slug         string `json:"slug"`
	Name         string `json:"name"`
	Organization struct {
		Login string `json:"login"`
	} `json:"organization"`
}

// GitHubAuthState is the auth state of a GitHub user.
//
// NOTE: the access token is left out, because the hub stores auth state
// unencrypted. Keep it out until the store encrypts auth state with
// CryptKeeper keys.
type GitHubAuthState struct {
	GitHubUser GitHubUser `json:"github_user"`
	// Scope lists the scopes that GitHub granted.
	Scope []string `json:"scope"`
	// Teams is set with PopulateTeamsInAuthState.
	Teams []GitHubTeam `json:"teams,omitempty"`
}

// Callback implements RedirectAuthenticator: it exchanges the code, reads
// the user and, with AllowedOrganizations, checks their memberships.
func (g *GitHub) Callback(ctx context.Context, query url.Values, callbackURL string) (User, error) {
	token, err := g.oauth.exchange(ctx, query, callbackURL)
	if err != nil {
		return User{}, err
	}

	var reply json.RawMessage
	if _, err := g.oauth.getJSON(ctx, token, g.userdataURL, githubHeaders(), &reply); err != nil {
		return User{}, fmt.Errorf("reading the GitHub user: %w", err)
	}
	var gu GitHubUser
	var fields map[string]any
	if json.Unmarshal(reply, &gu) != nil || json.Unmarshal(reply, &fields) != nil {
		return User{}, fmt.Errorf("reading the GitHub user: GET %s returned no JSON object",
			g.userdataURL)
	}
	name, _ := fields[g.usernameClaim].(string)
	if strings.TrimSpace(name) == "" {
		return User{}, fmt.Errorf("reading the GitHub user: the reply has no %q string",
			g.usernameClaim)
	}

	state := GitHubAuthState{GitHubUser: gu, Scope: grantedScopes(token)}
	if g.populateTeams {
		if state.Teams, err = g.teams(ctx, token); err != nil {
			return User{}, err
		}
	}
	allowed, err := g.memberOfAllowed(ctx, token, gu.Login)
	if err != nil {
		return User{}, err
	}
	raw, err := json.Marshal(state)
	if err != nil {
		return User{}, err
	}
	return User{Name: g.NormalizeUsername(name), Allowed: allowed, AuthState: raw}, nil
}

var githubHeadersValue lazy.Value[map[string]string]

// githubHeaders returns the headers that GitHub's REST API documentation
// recommends on every request.
func githubHeaders() map[string]string {
	return githubHeadersValue.Get(func() map[string]string {
		return map[string]string{
			"Accept":               "application/vnd.github+json",
			"X-GitHub-Api-Version": githubAPIVersion,
		}
	})
}

// memberOfAllowed reports whether login is a member of one of the allowed
// organizations or teams. It stops at the first match.
func (g *GitHub) memberOfAllowed(ctx context.Context, token *oauth2.Token, login string) (bool, error) {
	for _, entry := range g.orgs {
		ok, err := g.isMember(ctx, token, entry, login)
		if err != nil {
			return false, err
		}
		if ok {
			g.log.Debug("GitHub membership admits user", "user", login, "organization", entry)
			return true, nil
		}
	}
	if len(g.orgs) > 0 {
		g.log.Info("user is in none of allowed_organizations", "user", login)
	}
	return false, nil
}

// isMember checks one "org" or "org:team" entry. An organization member
// gets 204 from GET /orgs/ORG/members/USER, and GitHub redirects a token
// of a non-member of ORG to the public membership check, which the client
// follows. A team member has an active membership at
// GET /orgs/ORG/teams/TEAM/memberships/USER.
func (g *GitHub) isMember(ctx context.Context, token *oauth2.Token, entry, login string) (bool, error) {
	org, team, isTeam := strings.Cut(entry, ":")
	if !isTeam {
		u := g.api + "/orgs/" + url.PathEscape(org) + "/members/" + url.PathEscape(login)
		resp, err := g.oauth.get(ctx, token, u, githubHeaders())
		if err != nil {
			return false, fmt.Errorf("checking membership of %s: %w", org, err)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxProviderReply))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusNoContent:
			return true, nil
		case http.StatusNotFound:
			return false, nil
		}
		return false, fmt.Errorf("checking membership of %s: GET %s returned status %d",
			org, u, resp.StatusCode)
	}
	u := g.api + "/orgs/" + url.PathEscape(org) + "/teams/" + url.PathEscape(team) +
		"/memberships/" + url.PathEscape(login)
	var m struct {
		State string `json:"state"`
	}
	_, err := g.oauth.getJSON(ctx, token, u, githubHeaders(), &m)
	var status *errHTTPStatus
	if errors.As(err, &status) && status.status == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking membership of %s: %w", entry, err)
	}
	// A pending membership is an invitation the user has not accepted.
	return m.State == "active", nil
}

// teams returns the user's teams from GET /user/teams, following the Link
// header's next pages.
func (g *GitHub) teams(ctx context.Context, token *oauth2.Token) ([]GitHubTeam, error) {
	next := g.api + "/user/teams?per_page=100"
	teams := []GitHubTeam{}
	for page := 0; next != ""; page++ {
		if page == maxGitHubPages {
			g.log.Warn("GitHub teams truncated", "pages", page)
			break
		}
		var batch []GitHubTeam
		header, err := g.oauth.getJSON(ctx, token, next, githubHeaders(), &batch)
		if err != nil {
			return nil, fmt.Errorf("reading the user's GitHub teams: %w", err)
		}
		teams = append(teams, batch...)
		next = nextLink(header.Get("Link"))
		// The token goes only to the API it was issued for.
		if next != "" && !strings.HasPrefix(next, g.api+"/") {
			return nil, fmt.Errorf("reading the user's GitHub teams: next page %q is outside %s",
				next, g.api)
		}
	}
	return teams, nil
}

// nextLink returns the URL of the rel="next" link of a Link header (RFC
// 8288), "" if none.
func nextLink(header string) string {
	for _, link := range strings.Split(header, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(link), ";")
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.TrimSpace(k) == "rel" && slices.Contains(strings.Fields(strings.Trim(v, `"`)), "next") {
				return target[1 : len(target)-1]
			}
		}
	}
	return ""
}
