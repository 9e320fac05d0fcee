// Command fakegithubd runs the fake GitHub of package fakegithub as a
// process, for tests outside Go such as the browser tests. It listens on
// a free loopback port, prints one JSON line with url, api_url, client_id
// and client_secret, and serves until SIGINT or SIGTERM.
//
//	fakegithubd -user alice -user bob=jupyter,jupyter:ops
//	fakegithubd -user alice -name 'alice=Alice Smith' -avatar-url alice=http://127.0.0.1:8000/a.png
//
// Each -user is LOGIN or LOGIN=MEMBERSHIPS, where a membership ORG is an
// organization (made public, so any token can read it) and ORG:TEAM an active
// team membership. An account's name is its login unless -name gives one, and
// it has an avatar URL only where -avatar-url gives one.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/jupygo/jupygo/internal/hub/auth/fakegithub"
)

// userFlags collects the -user flags.
type userFlags []fakegithub.User

func (u *userFlags) String() string { return fmt.Sprint(len(*u), " users") }

func (u *userFlags) Set(s string) error {
	login, memberships, _ := strings.Cut(s, "=")
	if login == "" {
		return fmt.Errorf("invalid -user %q: use LOGIN or LOGIN=ORG,ORG:TEAM", s)
	}
	user := fakegithub.User{Login: login, Name: login}
	for _, m := range strings.Split(memberships, ",") {
		switch org, _, isTeam := strings.Cut(m, ":"); {
		case m == "":
		case isTeam:
			user.Teams = append(user.Teams, m)
			user.Orgs = append(user.Orgs, org)
		default:
			user.Orgs = append(user.Orgs, m)
			user.PublicOrgs = append(user.PublicOrgs, m)
		}
	}
	*u = append(*u, user)
	return nil
}

// loginValues collects flags of the form LOGIN=VALUE.
type loginValues map[string]string

func (v loginValues) String() string { return fmt.Sprint(len(v), " values") }

func (v loginValues) Set(s string) error {
	login, value, ok := strings.Cut(s, "=")
	if login == "" || !ok {
		return fmt.Errorf("invalid value %q: use LOGIN=VALUE", s)
	}
	v[login] = value
	return nil
}

func main() {
	var users userFlags
	var opts fakegithub.Options
	names, avatars := loginValues{}, loginValues{}
	flag.Var(&users, "user", "account LOGIN or LOGIN=ORG,ORG:TEAM; repeat for more")
	flag.Var(names, "name", "LOGIN=NAME: the name of account LOGIN; repeat for more")
	flag.Var(avatars, "avatar-url", "LOGIN=URL: the avatar URL of account LOGIN; repeat for more")
	flag.StringVar(&opts.ClientID, "client-id", "", "OAuth app client id (default: random)")
	flag.StringVar(&opts.ClientSecret, "client-secret", "", "OAuth app client secret (default: random)")
	flag.StringVar(&opts.CallbackURL, "callback-url", "",
		"registered callback URL that redirect_uri must match (default: any)")
	flag.BoolVar(&opts.RequirePKCE, "require-pkce", false, "reject sign-ins without a PKCE challenge")
	flag.Parse()
	for _, values := range []loginValues{names, avatars} {
		for login := range values {
			if !slices.ContainsFunc(users, func(u fakegithub.User) bool { return u.Login == login }) {
				fmt.Fprintf(os.Stderr, "fakegithubd: -name or -avatar-url names %s, which no -user adds\n", login)
				os.Exit(2)
			}
		}
	}

	gh := fakegithub.Start(opts)
	defer gh.Close()
	for _, u := range users {
		if name, ok := names[u.Login]; ok {
			u.Name = name
		}
		u.AvatarURL = avatars[u.Login]
		gh.AddUser(u)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]string{"url": gh.URL, "api_url": gh.APIURL,
		"client_id": gh.ClientID, "client_secret": gh.ClientSecret})

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
}
