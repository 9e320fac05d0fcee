//go:build !nohub

package main

import (
	"io"

	"github.com/jupygo/jupygo/internal/hub/spawn"
)

// hubCommands are the subcommands that a build with the nohub tag leaves
// out, with every package that only they need.
var hubCommands = []command{
	{"hub", "run the multi-user hub: sign-in, a server per user, a proxy", runHub},
}

// runHidden runs the commands that jupygo runs itself and usage does not
// list. The hub's spawners start every server through spawn.LaunchCommand.
func runHidden(args []string, stderr io.Writer) (code int, ok bool) {
	if args[0] == spawn.LaunchCommand {
		return spawn.RunLaunch(args[1:], stderr), true
	}
	return 0, false
}
