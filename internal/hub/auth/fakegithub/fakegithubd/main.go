// Command fakegithubd runs the fake GitHub of package fakegithub as a
// process, for tests outside Go such as the browser tests. It listens on
// a free loopback port, prints one JSON line with url, api_url, client_id
// and client_secret, and serves until SIGINT or SIGTERM.
//
//	fakegithubd -user alice -user bob=jupyter,jupyter:ops
//
// Each -user is LOGIN or LOGIN=MEMBERSHIPS, where a membership ORG is an
// organization (made public, so any token can read it) and ORG:TEAM an active
// team membership.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
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

func main() {
	var users userFlags
	var opts fakegithub.Options
	flag.Var(&users, "user", "account LOGIN or LOGIN=ORG,ORG:TEAM; repeat for more")
	flag.StringVar(&opts.ClientID, "client-id", "", "OAuth app client id (default: random)")
	flag.StringVar(&opts.ClientSecret, "client-secret", "", "OAuth app client secret (default: random)")
	flag.StringVar(&opts.CallbackURL, "callback-url", "",
		"registered callback URL that redirect_uri must match (default: any)")
	flag.BoolVar(&opts.RequirePKCE, "require-pkce", false, "reject sign-ins without a PKCE challenge")
	flag.Parse()

	gh := fakegithub.Start(opts)
	defer gh.Close()
	for _, u := range users {
		gh.AddUser(u)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]string{"url": gh.URL, "api_url": gh.APIURL,
		"client_id": gh.ClientID, "client_secret": gh.ClientSecret})

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
}
