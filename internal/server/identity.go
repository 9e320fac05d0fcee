package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// single-user mode, the person running the server otherwise. With
// perSession, each cookie session of a server outside a hub is a person of
// its own (see sessionIdentity).
func requestIdentity(ctx context.Context, perSession bool) identity {
	cred := requestCredentials(ctx)
	if cred.user != nil {
		return cred.user.identity()
	}
	if perSession && cred.session != "" {
		return sessionIdentity(cred.session)
	}
	return localIdentity()
}

// moons name the people of sessionIdentity, as jupyter_server names its
// anonymous users.
var moons = [...]string{
	"Adrastea", "Aitne", "Amalthea", "Ananke", "Aoede", "Arche", "Callisto", "Carme",
	"Carpo", "Chaldene", "Cyllene", "Elara", "Erinome", "Euanthe", "Eukelade", "Euporie",
	"Europa", "Eurydome", "Ganymede", "Harpalyke", "Hegemone", "Helike", "Hermippe", "Himalia",
	"Io", "Iocaste", "Isonoe", "Kale", "Kallichore", "Kalyke", "Kore", "Leda",
	"Lysithea", "Megaclite", "Metis", "Mneme", "Orthosie", "Pasiphae", "Pasithee", "Praxidike",
	"Sinope", "Sponde", "Taygete", "Thebe", "Thelxinoe", "Themisto", "Thyone",
}

// sessionIdentity is the person of a cookie session when collaboration is
// on: everyone who opens the token's URL shares one server, and
// JupyterLab's Collaboration panel and cursors tell people apart by user
// name, so each session gets a name of its own, as jupyter_server gives
// every token login an anonymous user. The name is derived from the
// session id, so it stays the same across requests and restarts.
func sessionIdentity(session string) identity {
	sum := sha256.Sum256([]byte("jupygo identity\x00" + session))
	moon := moons[int(sum[0])%len(moons)]
	name := "Anonymous " + moon
	return identity{
		Username:    hex.EncodeToString(sum[:16]),
		Name:        name,
		DisplayName: name,
		Initials:    "A" + moon[:1],
	}
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
