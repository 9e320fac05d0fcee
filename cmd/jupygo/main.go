// Command jupygo runs Jupyter for one person or for a team: `jupygo server`
// is a Jupyter server with JupyterLab, and more subcommands follow.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	_ "github.com/jupygo/jupygo/internal/initstack" // grows the stack before gomarkdown initializes
)

// command is one subcommand of jupygo.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	cmds := []command{{"server", "run a Jupyter server with JupyterLab in a folder", runServer}}
	cmds = append(cmds, hubCommands...)
	return append(cmds,
		command{"proxy", "run a routing proxy in configurable-http-proxy's place", runProxy},
		command{"version", "print the version", runVersion},
	)
}

func main() {
	os.Exit(run(commandArgs(os.Args), os.Stdout, os.Stderr))
}

// chpName is configurable-http-proxy's command name. A link of that name to
// jupygo runs `jupygo proxy`, so JupyterHub's default proxy command starts it.
const chpName = "configurable-http-proxy"

// commandArgs returns the arguments for run: argv without the program name,
// with "proxy" in front when the program runs under chpName.
func commandArgs(argv []string) []string {
	if len(argv) == 0 {
		return nil
	}
	if filepath.Base(argv[0]) == chpName {
		return append([]string{"proxy"}, argv[1:]...)
	}
	return argv[1:]
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
	}
	if code, ok := runHidden(args, stderr); ok {
		return code
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "jupygo: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: jupygo <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'jupygo <command> --help' for the flags of a command.")
}
