// Package frontend embeds the JupyterLab application that build.sh builds
// into the build folder: the bundle under static/, the settings schemas
// under schemas/ and the theme CSS under themes/.
//
// A fresh clone compiles without the build, because build/README.md keeps
// the folder present. Built then reports false, and FS holds only that file.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed all:build
var build embed.FS

// stampFile is written by build.sh as the last step of a successful build.
const stampFile = "build/.inputs-sha256"

// FS returns the embedded build output, rooted at the build folder. It is
// safe for concurrent use.
func FS() fs.FS {
	sub, err := fs.Sub(build, "build")
	if err != nil {
		panic("frontend: the embedded build folder is missing: " + err.Error())
	}
	return sub
}

// Built reports whether the embedded output is a finished build, that is
// whether build.sh completed before the Go binary was compiled.
func Built() bool {
	for _, name := range []string{stampFile, "build/static/index.html"} {
		if _, err := fs.Stat(build, name); err != nil {
			return false
		}
	}
	return true
}
