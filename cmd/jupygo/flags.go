package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseFlags parses args with fs. Help (-h, -help or --help) writes the
// usage to stdout with exit code 0, as jupygo --help does, and a flag
// error writes the error and the usage to stderr with exit code 2. It
// returns the exit code and true when the command must exit at once.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, exit bool) {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		stdout.Write(out.Bytes())
		return 0, true
	case err != nil:
		stderr.Write(out.Bytes())
		return 2, true
	}
	return 0, false
}

// printFlags lists the flags of fs as people type them, each with its
// usage text and default: one-letter flags with one dash, such as -f, and
// the others with two.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if len(f.Name) == 1 {
			line = "  -" + f.Name
		}
		if name != "" {
			line += " " + name
		}
		fmt.Fprintln(w, line)
		usage = strings.ReplaceAll(usage, "\n", "\n      ")
		switch {
		case strings.Contains(usage, "(default"):
		case f.DefValue == "false":
			usage += " (default off)"
		case f.DefValue != "":
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "      %s\n", usage)
	})
}
