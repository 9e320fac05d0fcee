package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/store"
)

// handleStartServer serves POST .../server and .../servers/{server}. The
// body is the user options. It returns 201 when the server started within
// the slow-spawn timeout, and 202 while it is still starting. Starting
// another user's server needs only servers, without checkNoEscalation's
// rule, because the start gives the caller no access: the spawner does not
// receive the user options, and the server's token goes to the server alone.
func (h *Hub) handleStartServer(w http.ResponseWriter, r *http.Request, id *identity) error {
	ctx := r.Context()
	name := r.PathValue("server")
	u, err := h.lookupServerOwner(r, id, "servers", name)
	if err != nil {
		return err
	}
	var options json.RawMessage
	if err := decodeBody(w, r, &options); err != nil {
		return err
	}
	if len(options) > 0 && options[0] != '{' && string(options) != "null" {
		return badRequest("user options must be a JSON object")
	}
	if rn := h.runOf(u.Name, name); rn != nil && rn.action == store.PendingSpawn {
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	rn, err := h.startServer(ctx, u, name, options)
	if errors.Is(err, errSpawnPending) {
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	if err != nil {
		return err
	}
	done, err := h.waitStart(ctx, rn)
	if err != nil {
		return httpapi.Wrap(http.StatusInternalServerError, err,
			"Failed to start "+serverLabel(u.Name, name)+": "+err.Error())
	}
	if done {
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusAccepted)
	}
	return nil
}

// lookupServerOwner returns the owner of a server when the caller holds
// scope for it.
func (h *Hub) lookupServerOwner(r *http.Request, id *identity, scope, server string) (store.User, error) {
	name := r.PathValue("name")
	u, err := h.store.GetUser(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		if id.scopes.allows(scope, serverTarget(name, nil, server)) {
			return store.User{}, notFound("No such user: %s", name)
		}
		return store.User{}, deny(id.scopes, scope)
	}
	if err != nil {
		return store.User{}, err
	}
	if !id.scopes.allows(scope, serverTarget(u.Name, u.Groups, server)) {
		return store.User{}, deny(id.scopes, scope)
	}
	return u, nil
}

// handleStopServer serves DELETE .../server and .../servers/{server}, with
// {"remove": true} deleting a named server's record after it stops.
func (h *Hub) handleStopServer(w http.ResponseWriter, r *http.Request, id *identity) error {
	ctx := r.Context()
	name := r.PathValue("server")
	u, err := h.lookupServerOwner(r, id, "delete:servers", name)
	if err != nil {
		return err
	}
	var body struct {
		Remove bool `json:"remove"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	if name != "" && !h.cfg.JupyterHub.AllowNamedServers {
		return badRequest("Named servers are not enabled.")
	}
	if name == "" && body.Remove {
		return badRequest("Cannot delete the default server")
	}
	done, err := h.stopServer(ctx, u.Name, name)
	if err != nil {
		return err
	}
	if body.Remove {
		if !done {
			h.deleteAfterStop(u.Name, name)
		} else if err := h.store.DeleteServer(ctx, u.Name, name); err != nil &&
			!errors.Is(err, store.ErrNotFound) {
			return err
		}
		h.namedServers.forget(u.Name)
	}
	if done {
		w.WriteHeader(http.StatusNoContent)
	} else {
		w.WriteHeader(http.StatusAccepted)
	}
	return nil
}

func (h *Hub) handleProgress(w http.ResponseWriter, r *http.Request, id *identity) error {
	name := r.PathValue("server")
	u, err := h.lookupServerOwner(r, id, "read:servers", name)
	if err != nil {
		return err
	}
	if name != "" {
		if _, err := h.store.GetServer(r.Context(), u.Name, name); errors.Is(err, store.ErrNotFound) {
			return notFound("%s has no server named '%s'", u.Name, name)
		}
	}
	return h.streamProgress(w, r, u.Name, name)
}

func (h *Hub) handleListTokens(w http.ResponseWriter, r *http.Request, id *identity) error {
	u, err := h.lookupUser(r.Context(), id, r.PathValue("name"), "read:tokens")
	if err != nil {
		return err
	}
	tokens, err := h.store.ListTokens(r.Context(), store.Owner{User: u.Name})
	if err != nil {
		return err
	}
	models := make([]any, 0, len(tokens))
	for _, t := range tokens {
		models = append(models, tokenModel(t))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"api_tokens": models})
}

// maxTokenLifetime bounds expires_in, so that its conversion to a
// duration cannot overflow.
const maxTokenLifetime = 100 * 365 * 24 * time.Hour

// jsonSeconds is the expires_in of a token request: a JSON number of
// seconds. A number beyond the range of float64 decodes to ±Inf, not to
// an error, so that createToken rejects it with the message that names
// maxTokenLifetime.
type jsonSeconds float64

func (s *jsonSeconds) UnmarshalJSON(data []byte) error {
	if kind := jsonValueKind(data); kind != "number" {
		return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeFor[float64]()}
	}
	v, err := strconv.ParseFloat(string(data), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return err
	}
	*s = jsonSeconds(v)
	return nil
}

// jsonValueKind names the kind of the JSON value that data starts with.
func jsonValueKind(data []byte) string {
	if len(data) == 0 {
		return "nothing"
	}
	switch data[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case '{':
		return "object"
	case '[':
		return "array"
	case 'n':
		return "null"
	}
	return "number"
}

// checkTokenLifetime returns a 400 unless seconds is a positive number of
// seconds of at most maxTokenLifetime. NaN and ±Inf fail too.
func checkTokenLifetime(seconds float64) error {
	if seconds > 0 && seconds <= maxTokenLifetime.Seconds() {
		return nil
	}
	return badRequest("expires_in must be a positive number of seconds, at most %d seconds (%d years)",
		int64(maxTokenLifetime/time.Second), int64(maxTokenLifetime/(365*24*time.Hour)))
}

// handleCreateToken serves POST .../tokens: {"note", "expires_in"
// (seconds), "scopes"}. The new token's scopes must be covered by the
// caller's, so a token can never create a stronger one.
func (h *Hub) handleCreateToken(w http.ResponseWriter, r *http.Request, id *identity) error {
	ctx := r.Context()
	u, err := h.lookupUser(ctx, id, r.PathValue("name"), "tokens")
	if err != nil {
		return err
	}
	var body struct {
		Note      string       `json:"note"`
		ExpiresIn *jsonSeconds `json:"expires_in"`
		Scopes    []string     `json:"scopes"`
		Roles     []string     `json:"roles"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		return err
	}
	t, plain, err := h.createToken(ctx, id, u, body.Note, (*float64)(body.ExpiresIn), body.Scopes,
		body.Roles)
	if err != nil {
		return err
	}
	m := tokenModel(t)
	m["token"] = plain
	return writeJSON(w, http.StatusCreated, m)
}

// createToken issues an API token of u for the caller id. The token gets
// either scopes or the scopes of roles, and "inherit" when both are nil.
// It returns a 400 when both are non-nil, even if empty, as JupyterHub's
// orm.APIToken.new does. As in JupyterHub 3.0, it returns a 400 for a scope
// or role that does not exist and for scopes that u does not hold. Unlike
// JupyterHub 3.0, it returns a 403 for scopes of the token that the caller
// does not hold.
func (h *Hub) createToken(ctx context.Context, id *identity, u store.User, note string,
	expiresIn *float64, scopes, roles []string) (store.Token, string, error) {
	if scopes != nil && roles != nil {
		return store.Token{}, "", badRequest("Can only assign one of scopes or roles when creating tokens")
	}
	scopes, err := h.requestedTokenScopes(ctx, scopes, roles)
	if err != nil {
		return store.Token{}, "", err
	}
	owner, err := h.userScopes(ctx, u)
	if err != nil {
		return store.Token{}, "", err
	}
	expanded := expandScopes(scopes, principal{user: u.Name, groups: u.Groups})
	if !expanded.has("inherit") {
		if excess := owner.missing(expanded); len(excess) > 0 {
			return store.Token{}, "", badRequest("Not assigning requested scopes %s not held by user %s",
				strings.Join(excess, ","), u.Name)
		}
	}
	if excess := id.scopes.missing(intersect(expanded, owner)); len(excess) > 0 {
		return store.Token{}, "", httpapi.Errorf(http.StatusForbidden,
			"Not assigning requested scopes %s not held by %s", strings.Join(excess, ","), id.describe())
	}
	if note == "" {
		note = "Requested via api"
		if id.token == nil {
			note = "Requested via token page"
		}
	}
	nt := store.NewToken{Owner: store.Owner{User: u.Name}, Scopes: scopes, Note: note}
	if expiresIn != nil {
		if err := checkTokenLifetime(*expiresIn); err != nil {
			return store.Token{}, "", err
		}
		nt.ExpiresAt = h.now().Add(time.Duration(*expiresIn * float64(time.Second)))
	}
	t, plain, err := h.store.CreateToken(ctx, nt)
	if err != nil {
		return store.Token{}, "", err
	}
	h.log.Info("token created", "user", u.Name, "token_id", t.ID, "by", id.name())
	return t, plain, nil
}

// requestedTokenScopes returns the raw scopes of a new token: scopes and
// those of roles, or "inherit" when both are empty. It returns a 400 for a
// role or scope that does not exist.
func (h *Hub) requestedTokenScopes(ctx context.Context, scopes, roles []string) ([]string, error) {
	for _, name := range roles {
		if _, builtin := builtinRoles()[name]; builtin {
			continue
		}
		if _, err := h.store.GetRole(ctx, name); errors.Is(err, store.ErrNotFound) {
			return nil, badRequest("No such role: %s", name)
		} else if err != nil {
			return nil, fmt.Errorf("reading role %q: %w", name, err)
		}
	}
	raw, err := h.roleScopes(ctx, roles)
	if err != nil {
		return nil, err
	}
	scopes = append(slices.Clone(scopes), raw...)
	if len(scopes) == 0 {
		return []string{"inherit"}, nil
	}
	if err := checkScopesExist(scopes); err != nil {
		return nil, badRequest("Invalid scopes for the token: %v", err)
	}
	return scopes, nil
}

// tokenOf returns the token in the path when it belongs to the user.
func (h *Hub) tokenOf(r *http.Request, u store.User) (store.Token, error) {
	tid, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return store.Token{}, notFound("No such token: %s", r.PathValue("id"))
	}
	t, err := h.store.GetToken(r.Context(), tid)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Owner.User != u.Name) {
		return store.Token{}, notFound("No such token: %d", tid)
	}
	return t, err
}

func (h *Hub) handleGetToken(w http.ResponseWriter, r *http.Request, id *identity) error {
	u, err := h.lookupUser(r.Context(), id, r.PathValue("name"), "read:tokens")
	if err != nil {
		return err
	}
	t, err := h.tokenOf(r, u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tokenModel(t))
}

func (h *Hub) handleDeleteToken(w http.ResponseWriter, r *http.Request, id *identity) error {
	u, err := h.lookupUser(r.Context(), id, r.PathValue("name"), "tokens")
	if err != nil {
		return err
	}
	t, err := h.tokenOf(r, u)
	if err != nil {
		return err
	}
	if err := h.store.DeleteToken(r.Context(), t.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
