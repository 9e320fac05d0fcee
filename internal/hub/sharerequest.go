package hub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Share codes expire after defaultShareCodeLifetime unless the request
// sets expires_in, which must lie between the bounds below: JupyterHub
// 5.0's one day, one minute and one year (525,600 minutes).
const (
	defaultShareCodeLifetime = 24 * time.Hour
	minShareCodeLifetime     = time.Minute
	maxShareCodeLifetime     = 525600 * time.Minute
)

// shareRequest is the body of a request that grants or revokes a share, or
// creates a share code.
type shareRequest struct {
	// User or Group is the one to share with; share codes have neither.
	User, Group string
	// Scopes are the base scopes of the request, without their filter,
	// sorted; nil when the request names none.
	Scopes []string
	// ExpiresIn is the lifetime of a share code.
	ExpiresIn time.Duration
}

// shareBodyKind selects the fields that parseShareBody accepts.
type shareBodyKind int

const (
	// shareGrantBody is the body of POST and PATCH /shares/{owner}/{server}:
	// {"user" or "group": NAME, "scopes": [...]}, scopes optional.
	shareGrantBody shareBodyKind = iota
	// shareCodeBody is the body of POST /share-codes/{owner}/{server}:
	// {"scopes": [...], "expires_in": SECONDS}, both optional.
	shareCodeBody
)

// parseShareBody parses and checks the JSON body of a share request for
// the server owner/server. As JupyterHub 5.0 does, it rejects unknown
// fields, and it narrows each scope to the server: a scope may carry no
// filter or exactly "!server=OWNER/SERVER", and the filter is dropped. An
// empty body is an empty object. Every error is a message for a 400.
func parseShareBody(data []byte, kind shareBodyKind, owner, server string) (shareRequest, error) {
	var fields map[string]json.RawMessage
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
			return shareRequest{}, fmt.Errorf("the request body must be a JSON object")
		}
	}
	allowed := []string{"user", "group", "scopes"}
	if kind == shareCodeBody {
		allowed = []string{"scopes", "expires_in"}
	}
	for key := range fields {
		if !slices.Contains(allowed, key) {
			return shareRequest{}, fmt.Errorf("unexpected field %q: the fields are %s",
				key, strings.Join(allowed, ", "))
		}
	}

	req := shareRequest{ExpiresIn: defaultShareCodeLifetime}
	if err := decodeOptional(fields, "user", &req.User); err != nil {
		return shareRequest{}, err
	}
	if err := decodeOptional(fields, "group", &req.Group); err != nil {
		return shareRequest{}, err
	}
	if kind == shareGrantBody && (req.User == "") == (req.Group == "") {
		return shareRequest{}, fmt.Errorf("specify exactly one of user and group")
	}
	var scopes []string
	if err := decodeOptional(fields, "scopes", &scopes); err != nil {
		return shareRequest{}, err
	}
	if len(scopes) > 0 {
		base, err := shareBaseScopes(scopes, owner, server)
		if err != nil {
			return shareRequest{}, err
		}
		req.Scopes = base
	}
	if raw, ok := fields["expires_in"]; ok && string(raw) != "null" {
		var seconds int64
		if err := json.Unmarshal(raw, &seconds); err != nil {
			return shareRequest{}, fmt.Errorf("expires_in must be an integer number of seconds")
		}
		req.ExpiresIn = time.Duration(seconds) * time.Second
		if seconds < int64(minShareCodeLifetime/time.Second) ||
			seconds > int64(maxShareCodeLifetime/time.Second) {
			return shareRequest{}, fmt.Errorf("expires_in must be between %d and %d seconds, not %d",
				int64(minShareCodeLifetime/time.Second), int64(maxShareCodeLifetime/time.Second), seconds)
		}
	}
	return req, nil
}

// decodeOptional decodes fields[key] into v unless it is missing or null.
func decodeOptional(fields map[string]json.RawMessage, key string, v any) error {
	raw, ok := fields[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		kind := "a string"
		if _, isList := v.(*[]string); isList {
			kind = "a list of strings"
		}
		return fmt.Errorf("%s must be %s", key, kind)
	}
	return nil
}

// shareBaseScopes returns the base scopes of scopes, sorted, after checking
// that each exists and is unfiltered or filtered to the server.
func shareBaseScopes(scopes []string, owner, server string) ([]string, error) {
	filter := "server=" + owner + "/" + server
	var out []string
	for _, scope := range scopes {
		base, f, filtered := strings.Cut(scope, "!")
		if filtered && f != filter {
			return nil, fmt.Errorf("!%s is not allowed on shared scope %s, only !%s", f, scope, filter)
		}
		switch {
		case base == "self" || base == "inherit":
			return nil, fmt.Errorf("scope '%s' cannot be shared", base)
		case !slices.Contains(scopeNames, base):
			return nil, fmt.Errorf("scope '%s' does not exist", base)
		}
		out = append(out, base)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// serverScopes returns base scopes narrowed to the server owner/server.
func serverScopes(base []string, owner, server string) []string {
	out := make([]string, len(base))
	for i, b := range base {
		out[i] = b + "!server=" + owner + "/" + server
	}
	return out
}
