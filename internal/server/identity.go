package server

import (
	"context"
	"os/user"
	"strings"
	"unicode"
)

type identityKey struct{}

func withIdentity(ctx context.Context, cred credentials) context.Context {
	return context.WithValue(ctx, identityKey{}, cred)
}

// requestCredentials returns the credentials that authenticated the request
// of ctx; the zero value when there were none.
func requestCredentials(ctx context.Context) credentials {
	cred, _ := ctx.Value(identityKey{}).(credentials)
	return cred
}

// requestIdentity returns who sends the request of ctx: the hub user in
// single-user mode, the person running the server otherwise.
func requestIdentity(ctx context.Context) identity {
	if cred := requestCredentials(ctx); cred.user != nil {
		return cred.user.identity()
	}
	return localIdentity()
}

// identity is the user model of /api/me, as JupyterLab 4 reads it.
type identity struct {
	Username    string  `json:"username"`
	Name        string  `json:"name"`
	DisplayName string  `json:"display_name"`
	Initials    string  `json:"initials"`
	AvatarURL   *string `json:"avatar_url"`
	Color       *string `json:"color"`
}

// localIdentity describes the person running the server: the login name of
// the process's user, with initials taken from the name's words.
func localIdentity() identity {
	name := "anonymous"
	display := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
		display = strings.TrimSpace(strings.Split(u.Name, ",")[0])
	}
	if display == "" {
		display = name
	}
	return identity{
		Username:    name,
		Name:        display,
		DisplayName: display,
		Initials:    initials(display),
	}
}

// initials returns the first letters of the first two words of name, in
// upper case; a single word gives its first letter.
func initials(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || r == '-' || r == '_' || r == '.'
	})
	var b strings.Builder
	for i, w := range words {
		if i == 2 {
			break
		}
		r := []rune(w)[0]
		b.WriteRune(unicode.ToUpper(r))
	}
	if b.Len() == 0 {
		return "?"
	}
	return b.String()
}
