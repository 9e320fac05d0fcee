package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

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
