// Package fakegithub is a GitHub stand-in for tests: an HTTP server on
// loopback that serves the OAuth app web flow and the REST API calls of a
// GitHub sign-in. Its layout is that of GitHub Enterprise Server, with the
// web flow at URL and the API at URL + "/api/v3", so a hub configured with
// github_url = URL finds every endpoint without further settings.
//
// Endpoints, as GitHub's documentation describes them:
//
//	GET  /login/oauth/authorize              sign-in form, or a redirect with a code
//	POST /login/oauth/authorize              the form: login=NAME, or deny=1
//	POST /login/oauth/access_token           code for token; errors with status 200
//	GET  /api/v3/user                        the signed-in user
//	GET  /api/v3/user/orgs                   the user's organizations
//	GET  /api/v3/user/teams                  the user's teams, paginated (read:org)
//	GET  /api/v3/orgs/ORG/members/USER       204, 404, or 302 to public_members
//	GET  /api/v3/orgs/ORG/public_members/USER
//	GET  /api/v3/orgs/ORG/teams/TEAM/memberships/USER   (read:org)
//
// The authorize endpoint signs a browser in once and remembers it in a
// cookie, as GitHub does, so a second authorize request redirects at once.
// A test without a browser posts login=NAME to the authorize URL, which
// returns the redirect to the callback.
package fakegithub

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// User is an account of the fake GitHub.
type User struct {
	Login     string
	ID        int64
	Name      string
	Email     string
	AvatarURL string
	// Orgs are the organizations the user is a member of. PublicOrgs are
	// those whose membership the user made public, which any token can
	// read. Only a token with the read:org scope reads the others.
	Orgs       []string
	PublicOrgs []string
	// Teams are "org:team" entries with active memberships, and
	// PendingTeams those whose invitation the user has not accepted.
	Teams        []string
	PendingTeams []string
}

// Options configures a Server.
type Options struct {
	// ClientID and ClientSecret are the OAuth app's credentials. Empty
	// means random ones, which the Server fields then hold.
	ClientID, ClientSecret string
	// CallbackURL is the app's registered callback URL. A redirect_uri
	// must be on its host and under its path, as GitHub requires. Empty
	// accepts any redirect_uri.
	CallbackURL string
	// RequirePKCE rejects authorize requests without an S256 code
	// challenge. GitHub accepts both, so this only checks a client.
	RequirePKCE bool
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// codeLifetime is how long an authorization code may be exchanged: ten
// minutes at GitHub.
const codeLifetime = 10 * time.Minute

// sessionCookie is the fake's sign-in cookie.
const sessionCookie = "fakegithub_session"

// Server is a running fake GitHub. It is safe for concurrent use.
type Server struct {
	// URL is the web URL, to be set as github_url. APIURL is URL +
	// "/api/v3".
	URL, APIURL string
	// ClientID and ClientSecret are the OAuth app's credentials.
	ClientID, ClientSecret string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	users    map[string]*User // by lower-case login
	sessions map[string]string
	codes    map[string]*grant
	tokens   map[string]*grant
	// tokenRequests counts access_token requests, and jsonTokenRequests
	// those that accepted JSON.
	tokenRequests, jsonTokenRequests int
}

// grant is the sign-in that an authorization code, and then its token,
// stand for.
type grant struct {
	login       string
	scopes      []string
	redirectURI string
	challenge   string
	expires     time.Time
}

// Start starts a fake GitHub on a free loopback port. Close stops it.
func Start(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		ClientID:     opts.ClientID,
		ClientSecret: opts.ClientSecret,
		opts:         opts,
		users:        map[string]*User{},
		sessions:     map[string]string{},
		codes:        map[string]*grant{},
		tokens:       map[string]*grant{},
	}
	if s.ClientID == "" {
		s.ClientID = "Iv1." + randomHex(8)
	}
	if s.ClientSecret == "" {
		s.ClientSecret = randomHex(20)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", s.handleAuthorize)
	mux.HandleFunc("POST /login/oauth/authorize", s.handleAuthorizeForm)
	mux.HandleFunc("POST /login/oauth/access_token", s.handleAccessToken)
	mux.HandleFunc("GET /api/v3/user", s.api(s.handleUser))
	mux.HandleFunc("GET /api/v3/user/orgs", s.api(s.handleUserOrgs))
	mux.HandleFunc("GET /api/v3/user/teams", s.api(s.handleUserTeams))
	mux.HandleFunc("GET /api/v3/orgs/{org}/members/{user}", s.api(s.handleOrgMember))
	mux.HandleFunc("GET /api/v3/orgs/{org}/public_members/{user}", s.api(s.handlePublicMember))
	mux.HandleFunc("GET /api/v3/orgs/{org}/teams/{team}/memberships/{user}",
		s.api(s.handleTeamMembership))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	s.APIURL = s.srv.URL + "/api/v3"
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AddUser adds or replaces an account. ID 0 gets the next free id.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == 0 {
		u.ID = int64(len(s.users) + 1000)
	}
	s.users[strings.ToLower(u.Login)] = &u
}

// TokenRequests returns the number of access_token requests so far and how
// many of them sent "Accept: application/json".
func (s *Server) TokenRequests() (all, json int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests, s.jsonTokenRequests
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// authorizeRequest is a checked GET or POST of /login/oauth/authorize.
type authorizeRequest struct {
	redirectURI string
	state       string
	scopes      []string
	challenge   string
}

// parseAuthorize checks the parameters of an authorize request. It writes
// the error reply itself and returns false when they are invalid. As at
// GitHub, an unknown client gets a 404 page, and a redirect_uri that does
// not match the registered callback sends the browser to the callback with
// error=redirect_uri_mismatch.
func (s *Server) parseAuthorize(w http.ResponseWriter, r *http.Request, q url.Values) (authorizeRequest, bool) {
	if q.Get("client_id") != s.ClientID {
		http.Error(w, "Not Found: unknown client_id", http.StatusNotFound)
		return authorizeRequest{}, false
	}
	req := authorizeRequest{redirectURI: q.Get("redirect_uri"), state: q.Get("state"),
		scopes: splitScopes(q.Get("scope")), challenge: q.Get("code_challenge")}
	if req.redirectURI == "" {
		req.redirectURI = s.opts.CallbackURL
	}
	if !s.redirectAllowed(req.redirectURI) {
		target := s.opts.CallbackURL + "?" + url.Values{"error": {"redirect_uri_mismatch"},
			"error_description": {"The redirect_uri MUST match the registered callback URL for this application."},
			"state":             {req.state}}.Encode()
		http.Redirect(w, r, target, http.StatusFound)
		return authorizeRequest{}, false
	}
	method := q.Get("code_challenge_method")
	if req.challenge != "" && method != "S256" {
		// GitHub accepts only the S256 method.
		http.Error(w, "code_challenge_method must be S256", http.StatusBadRequest)
		return authorizeRequest{}, false
	}
	if req.challenge == "" && s.opts.RequirePKCE {
		http.Error(w, "this fake requires a PKCE code_challenge", http.StatusBadRequest)
		return authorizeRequest{}, false
	}
	return req, true
}

// redirectAllowed applies GitHub's rule: same scheme, host and port as the
// callback URL, and a path at or under its path.
func (s *Server) redirectAllowed(raw string) bool {
	if s.opts.CallbackURL == "" {
		return raw != ""
	}
	got, err1 := url.Parse(raw)
	want, err2 := url.Parse(s.opts.CallbackURL)
	if err1 != nil || err2 != nil || got.Scheme != want.Scheme || got.Host != want.Host {
		return false
	}
	return got.Path == want.Path || strings.HasPrefix(got.Path, strings.TrimSuffix(want.Path, "/")+"/")
}

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	req, ok := s.parseAuthorize(w, r, r.URL.Query())
	if !ok {
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		login := s.sessions[c.Value]
		s.mu.Unlock()
		if login != "" {
			s.redirectWithCode(w, r, req, login)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	signInPage.Execute(w, r.URL.Query())
}

var signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<title>Sign in to fake GitHub</title>
<h1>Sign in to fake GitHub</h1>
<form method="post" action="/login/oauth/authorize">
{{range $name, $values := .}}{{range $values}}<input type="hidden" name="{{$name}}" value="{{.}}">
{{end}}{{end}}<label for="login">Username</label>
<input id="login" name="login" autofocus required>
<button type="submit" id="authorize">Sign in and authorize</button>
<button type="submit" id="deny" name="deny" value="1" formnovalidate>Cancel</button>
</form>
`))

// handleAuthorizeForm signs the browser in as the posted login, or sends
// it back with error=access_denied when it posted deny. The authorize
// parameters come in the URL's query or, from the sign-in page, in the
// form.
func (s *Server) handleAuthorizeForm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid form: "+err.Error(), http.StatusBadRequest)
		return
	}
	req, ok := s.parseAuthorize(w, r, r.Form)
	if !ok {
		return
	}

	if r.PostFormValue("deny") != "" {
		http.Redirect(w, r, withQuery(req.redirectURI, url.Values{"error": {"access_denied"},
			"error_description": {"The user has denied your application access."},
			"state":             {req.state}}), http.StatusFound)
		return
	}

	login := strings.ToLower(r.PostFormValue("login"))
	s.mu.Lock()
	u := s.users[login]
	s.mu.Unlock()
	if u == nil {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "Incorrect username or password.\n")
		return
	}
	session := randomHex(16)
	s.mu.Lock()
	s.sessions[session] = u.Login
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: session, Path: "/login/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.redirectWithCode(w, r, req, u.Login)
}

func (s *Server) redirectWithCode(w http.ResponseWriter, r *http.Request, req authorizeRequest, login string) {
	code := randomHex(10)
	s.mu.Lock()
	s.codes[code] = &grant{login: login, scopes: req.scopes, redirectURI: req.redirectURI,
		challenge: req.challenge, expires: s.opts.Now().Add(codeLifetime)}
	s.mu.Unlock()
	http.Redirect(w, r, withQuery(req.redirectURI, url.Values{"code": {code}, "state": {req.state}}),
		http.StatusFound)
}

func withQuery(raw string, q url.Values) string {
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + q.Encode()
}

// tokenError is an error reply of the token endpoint. GitHub sends these
// with status 200.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	URI         string `json:"error_uri"`
}

var (
	errClientCredentials = tokenError{"incorrect_client_credentials",
		"The client_id and/or client_secret passed are incorrect.",
		"/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials"}
	errRedirectMismatch = tokenError{"redirect_uri_mismatch",
		"The redirect_uri MUST match the registered callback URL for this application.",
		"/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2"}
	errBadCode = tokenError{"bad_verification_code",
		"The code passed is incorrect or expired.",
		"/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"}
)

// handleAccessToken exchanges a code. The client credentials come in the
// form or in a Basic Authorization header. The reply is JSON when the
// request accepts application/json, and form-encoded otherwise.
func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	wantsJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	s.mu.Lock()
	s.tokenRequests++
	if wantsJSON {
		s.jsonTokenRequests++
	}
	s.mu.Unlock()

	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != s.ClientID || secret != s.ClientSecret {
		writeToken(w, wantsJSON, errClientCredentials)
		return
	}

	code := r.PostFormValue("code")
	s.mu.Lock()
	g := s.codes[code]
	// A code is good for one exchange, even a failed one.
	delete(s.codes, code)
	s.mu.Unlock()
	if g == nil || s.opts.Now().After(g.expires) {
		writeToken(w, wantsJSON, errBadCode)
		return
	}
	if uri := r.PostFormValue("redirect_uri"); uri != "" && uri != g.redirectURI {
		writeToken(w, wantsJSON, errRedirectMismatch)
		return
	}
	// NOTE: GitHub's documentation names no error for a wrong
	// code_verifier, so the fake returns bad_verification_code.
	if g.challenge != "" && !verifierMatches(r.PostFormValue("code_verifier"), g.challenge) {
		writeToken(w, wantsJSON, errBadCode)
		return
	}

	token := "gho_" + randomHex(18)
	s.mu.Lock()
	s.tokens[token] = g
	s.mu.Unlock()
	writeToken(w, wantsJSON, map[string]string{"access_token": token,
		"scope": strings.Join(g.scopes, ","), "token_type": "bearer"})
}

// verifierMatches checks an S256 PKCE pair (RFC 7636 section 4.6).
func verifierMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

func writeToken(w http.ResponseWriter, asJSON bool, reply any) {
	if asJSON {
		writeJSON(w, http.StatusOK, reply)
		return
	}
	form := url.Values{}
	switch v := reply.(type) {
	case tokenError:
		form.Set("error", v.Error)
		form.Set("error_description", v.Description)
		form.Set("error_uri", v.URI)
	case map[string]string:
		for k, x := range v {
			form.Set(k, x)
		}
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.Write([]byte(form.Encode()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiMessage is the REST API's error body.
func apiMessage(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"message": message})
}

// caller is the user and scopes of an API request's token.
type caller struct {
	user   *User
	scopes []string
}

// api authenticates an API request by its "Bearer" or "token"
// Authorization header, replying 401 as GitHub does when it is missing or
// unknown.
func (s *Server) api(h func(http.ResponseWriter, *http.Request, caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if token == "" || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
			apiMessage(w, http.StatusUnauthorized, "Requires authentication")
			return
		}
		s.mu.Lock()
		g := s.tokens[token]
		var u *User
		if g != nil {
			u = s.users[strings.ToLower(g.login)]
		}
		s.mu.Unlock()
		if u == nil {
			apiMessage(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
		h(w, r, caller{user: u, scopes: g.scopes})
	}
}

func (c caller) hasScope(scope string) bool {
	// admin:org includes read:org.
	return slices.Contains(c.scopes, scope) || (scope == "read:org" && slices.Contains(c.scopes, "admin:org"))
}

func (s *Server) handleUser(w http.ResponseWriter, _ *http.Request, c caller) {
	u := c.user
	writeJSON(w, http.StatusOK, map[string]any{
		"login": u.Login, "id": u.ID, "name": nullable(u.Name), "email": nullable(u.Email),
		"avatar_url": u.AvatarURL, "html_url": s.URL + "/" + u.Login, "type": "User",
	})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// visibleOrgs returns the organizations of u that the caller's token can
// read.
func (c caller) visibleOrgs(u *User) []string {
	if c.hasScope("read:org") && c.user == u {
		return u.Orgs
	}
	return u.PublicOrgs
}

func (s *Server) handleUserOrgs(w http.ResponseWriter, _ *http.Request, c caller) {
	orgs := []map[string]any{}
	for i, org := range c.visibleOrgs(c.user) {
		orgs = append(orgs, map[string]any{"login": org, "id": i + 1})
	}
	writeJSON(w, http.StatusOK, orgs)
}

// handleUserTeams lists the caller's active teams, with a Link header to
// the next page as GitHub paginates (per_page at most 100, default 30).
//
// NOTE: without read:org the fake returns 403. GitHub documents that the
// endpoint needs that scope, not the status it returns without it.
func (s *Server) handleUserTeams(w http.ResponseWriter, r *http.Request, c caller) {
	if !c.hasScope("read:org") {
		apiMessage(w, http.StatusForbidden, "Resource not accessible without the read:org scope")
		return
	}
	perPage := queryInt(r, "per_page", 30, 1, 100)
	page := queryInt(r, "page", 1, 1, 1<<20)
	all := c.user.Teams
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	teams := []map[string]any{}
	for _, entry := range all[start:end] {
		org, team, _ := strings.Cut(entry, ":")
		teams = append(teams, map[string]any{"slug": team, "name": team,
			"organization": map[string]any{"login": org}})
	}
	if end < len(all) {
		next := fmt.Sprintf("%s/user/teams?per_page=%d&page=%d", s.APIURL, perPage, page+1)
		w.Header().Set("Link", `<`+next+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, teams)
}

func queryInt(r *http.Request, name string, def, lo, hi int) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil {
		return def
	}
	return max(lo, min(n, hi))
}

func (s *Server) lookup(login string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[strings.ToLower(login)]
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// handleOrgMember serves "check organization membership for a user": 204
// for a member and 404 for a non-member when the caller is a member of the
// organization, and otherwise a 302 to the public membership check.
func (s *Server) handleOrgMember(w http.ResponseWriter, r *http.Request, c caller) {
	org := r.PathValue("org")
	if !containsFold(c.visibleOrgs(c.user), org) {
		http.Redirect(w, r, s.APIURL+"/orgs/"+org+"/public_members/"+r.PathValue("user"),
			http.StatusFound)
		return
	}
	// A member of the organization can read private memberships too.
	if u := s.lookup(r.PathValue("user")); u != nil && containsFold(u.Orgs, org) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	apiMessage(w, http.StatusNotFound, "User does not exist or is not a member of the organization")
}

func (s *Server) handlePublicMember(w http.ResponseWriter, r *http.Request, _ caller) {
	u := s.lookup(r.PathValue("user"))
	if u != nil && containsFold(u.PublicOrgs, r.PathValue("org")) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	apiMessage(w, http.StatusNotFound, "Not Found")
}

// handleTeamMembership serves "get team membership for a user" with the
// membership's state, active or pending, or 404.
func (s *Server) handleTeamMembership(w http.ResponseWriter, r *http.Request, c caller) {
	entry := r.PathValue("org") + ":" + r.PathValue("team")
	u := s.lookup(r.PathValue("user"))
	if !c.hasScope("read:org") || u == nil {
		apiMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	state := ""
	switch {
	case containsFold(u.Teams, entry):
		state = "active"
	case containsFold(u.PendingTeams, entry):
		state = "pending"
	default:
		apiMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"state": state, "role": "member",
		"url": s.APIURL + "/orgs/" + r.PathValue("org") + "/teams/" + r.PathValue("team") +
			"/memberships/" + u.Login})
}
