//go:build nohub

package main

import (
	"fmt"
	"io"
)

// hubCommands is empty in a build with the nohub tag: such a jupygo runs
// single-user servers and the proxy only, for sites whose hub is
// JupyterHub, and each of its processes is smaller (docs/design.md).
var hubCommands []command

// runHidden rejects the hub's commands with an error that explains why
// they are missing.
func runHidden(args []string, stderr io.Writer) (code int, ok bool) {
	if args[0] == "hub" {
		fmt.Fprintln(stderr, "jupygo: this jupygo was built without the hub (go build -tags nohub);"+
			" build it without that tag to run jupygo hub")
		return 2, true
	}
	return 0, false
}
