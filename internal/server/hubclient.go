package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// hubUser is the identity model the hub returns from GET {API_URL}/user:
// a user or a service, with its scopes already expanded.
type hubUser struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	Admin  bool     `json:"admin"`
	Groups []string `json:"groups"`
	Scopes []string `json:"scopes"`
	// DisplayName and AvatarURL are the user's name and avatar at their
	// OAuth provider, which jupygo's hub adds to JupyterHub's model and
	// JupyterHub leaves out. Both are "" when the hub sends none.
	DisplayName string `json:"display_name"`
	AvatarURL   string `json:"avatar_url"`
}

// errHubRejected marks a 4xx reply of the hub to a request it considers
// invalid, such as an expired OAuth code.
var errHubRejected = errors.New("rejected by the hub")

// hubClient calls the hub's REST API. It is safe for concurrent use.
type hubClient struct {
	cfg  *HubConfig
	http *http.Client
	log  *slog.Logger
	// checkAttempts and checkBackoff govern the start-up check; tests
	// shorten the backoff.
	checkAttempts int
	checkBackoff  func(attempt int) time.Duration
}

// maxHubReply bounds the hub replies the client reads.
const maxHubReply = 1 << 20

func newHubClient(cfg *HubConfig, log *slog.Logger) *hubClient {
	// The hub API is an internal address, which proxy variables set for the
	// user's own programs must not redirect.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	return &hubClient{
		cfg:           cfg,
		http:          &http.Client{Transport: transport, Timeout: 30 * time.Second},
		log:           log,
		checkAttempts: 5,
		checkBackoff: func(attempt int) time.Duration {
			return min(time.Duration(1<<attempt)*time.Second, 16*time.Second)
		},
	}
}

// check GETs the API URL until the hub replies with a success status, up to
// checkAttempts times, and returns the hub's version: its
// X-JupyterHub-Version header, or the version field of the body.
func (c *hubClient) check(ctx context.Context) (string, error) {
	var lastErr error
	for attempt := 1; attempt <= c.checkAttempts; attempt++ {
		version, err := c.getVersion(ctx)
		if err == nil {
			return version, nil
		}
		lastErr = err
		c.log.Warn("hub not reachable", "url", c.cfg.APIURL,
			"attempt", attempt, "attempts", c.checkAttempts, "err", err)
		if attempt == c.checkAttempts {
			break
		}
		t := time.NewTimer(c.checkBackoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
	}
	return "", fmt.Errorf("cannot reach JupyterHub at %s after %d attempts "+
		"(is the hub running, and is JUPYTERHUB_API_URL an address this machine reaches?): %w",
		c.cfg.APIURL, c.checkAttempts, lastErr)
}

func (c *hubClient) getVersion(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.APIURL+"/", nil)
	if err != nil {
		return "", err
	}
	var body struct {
		Version string `json:"version"`
	}
	resp, err := c.do(req, &body)
	if err != nil {
		return "", err
	}
	if v := resp.Header.Get("X-JupyterHub-Version"); v != "" {
		return v, nil
	}
	return body.Version, nil
}

// userForToken requests the owner of token from the hub. It returns nil and
// no error when the hub does not accept the token.
func (c *hubClient) userForToken(ctx context.Context, token string) (*hubUser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.APIURL+"/user", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "token "+token)
	var user hubUser
	resp, err := c.do(req, &user)
	if resp != nil && (resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusUnauthorized) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identifying a token with the hub: %w", err)
	}
	if user.Name == "" {
		return nil, errors.New("identifying a token with the hub: the reply names no user")
	}
	return &user, nil
}

// tokenForCode exchanges an OAuth authorization code for an access token at
// {API_URL}/oauth2/token, authenticating as the OAuth client with the
// server's API token as the secret.
func (c *hubClient) tokenForCode(ctx context.Context, code string) (string, error) {
	form := url.Values{
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.APIToken},
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {c.cfg.OAuthCallbackURL},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.APIURL+"/oauth2/token",
		strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "token "+c.cfg.APIToken)
	var reply struct {
		AccessToken string `json:"access_token"`
	}
	if _, err := c.do(req, &reply); err != nil {
		return "", fmt.Errorf("exchanging the OAuth code: %w", err)
	}
	if reply.AccessToken == "" {
		return "", errors.New("exchanging the OAuth code: the reply has no access_token")
	}
	return reply.AccessToken, nil
}

// postActivity reports the time of the server's last activity, for the
// server and for its user, to the activity URL.
func (c *hubClient) postActivity(ctx context.Context, last time.Time) error {
	t := isoTime(last)
	body, err := json.Marshal(map[string]any{
		"servers":       map[string]any{c.cfg.ServerName: map[string]string{"last_activity": t}},
		"last_activity": t,
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.ActivityURL,
		strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "token "+c.cfg.APIToken)
	if _, err := c.do(req, nil); err != nil {
		return fmt.Errorf("reporting activity: %w", err)
	}
	return nil
}

// do sends req and decodes a successful JSON reply into v when v is not
// nil. A status of 400 or more is an error, which wraps errHubRejected for
// 4xx. The response comes with the error, so callers can branch on the
// status.
func (c *hubClient) do(req *http.Request, v any) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHubReply))
	if err != nil {
		return resp, fmt.Errorf("reading the reply of %s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode >= 400 {
		err := fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, resp.StatusCode,
			hubErrorMessage(data))
		if resp.StatusCode < 500 {
			err = fmt.Errorf("%w: %w", errHubRejected, err)
		}
		return resp, err
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			return resp, fmt.Errorf("decoding the reply of %s %s: %w", req.Method, req.URL.Path, err)
		}
	}
	return resp, nil
}

// hubErrorMessage returns the message of a hub error body: the message
// field of the REST API, error_description or error of OAuth, or a short
// prefix of the raw body.
func hubErrorMessage(data []byte) string {
	var body struct {
		Message     string `json:"message"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(data, &body) == nil {
		if m := firstNonEmpty(body.Message, body.Description, body.Error); m != "" {
			return m
		}
	}
	s := strings.TrimSpace(string(data))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
