//go:build nohub

package main

import "io"

// hubCommands is empty in a build with the nohub tag: such a jupygo runs
// single-user servers and the proxy only, for sites whose hub is
// JupyterHub, and each of its processes is smaller (docs/design.md).
var hubCommands []command

// runHidden runs no hidden commands without the hub.
func runHidden(args []string, stderr io.Writer) (code int, ok bool) {
	return 0, false
}
