package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at link time with -ldflags "-X main.version=…"; otherwise
// it comes from the module's build information.
var version = ""

func currentVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.1.0-dev"
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: jupygo version")
		fmt.Fprintln(fs.Output(), "\nPrints the version of jupygo and of the Go it was built with.")
	}
	if code, exit := parseFlags(fs, args, stdout, stderr); exit {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "jupygo version: unexpected argument %q; see --help\n", fs.Arg(0))
		return 2
	}
	fmt.Fprintf(stdout, "jupygo %s (%s, %s/%s)\n", currentVersion(), runtime.Version(),
		runtime.GOOS, runtime.GOARCH)
	return 0
}
