package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Position is a place in a configuration file. Line and Column start at 1;
// Column counts bytes. The zero Position means the place is unknown.
type Position struct {
	Line   int
	Column int
}

// IsValid reports whether p names a line.
func (p Position) IsValid() bool { return p.Line > 0 }

// String formats p as "line:column", or "" when p is unknown.
func (p Position) String() string {
	if !p.IsValid() {
		return ""
	}
	if p.Column <= 0 {
		return fmt.Sprint(p.Line)
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Column)
}

// Error is one problem in a configuration: a syntax error, an unknown table
// or key, a value of the wrong type, or a value that fails a check.
type Error struct {
	// File is the name of the configuration file, "" when there is none.
	File string
	// Pos is the position of the problem, or zero when it is unknown.
	Pos Position
	// Key is the dotted key the problem is about, such as "JupyterHub.port"
	// or "JupyterHub.services[1].name". It is "" for syntax errors.
	Key string
	// Message describes the problem and, where it helps, the fix.
	Message string
}

// Error formats e as "file:line:column: key: message", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Pos.IsValid() {
		b.WriteString(e.Pos.String())
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ErrorList is every problem found in one configuration, sorted by
// position. Parse, Load and Build return one when the configuration is
// invalid. errors.As finds it, and errors.Is and errors.As also see each
// *Error in it.
type ErrorList []*Error

// Error formats the list one problem per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems as a slice of errors.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sortErrors orders errors by position, with unknown positions last, then
// by key and message, so the same file always gives the same list.
func sortErrors(l []*Error) {
	slices.SortStableFunc(l, func(a, b *Error) int {
		if c := cmp.Compare(lineOrMax(a.Pos), lineOrMax(b.Pos)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Pos.Column, b.Pos.Column); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return cmp.Compare(a.Message, b.Message)
	})
}

func lineOrMax(p Position) int {
	if !p.IsValid() {
		return int(^uint(0) >> 1)
	}
	return p.Line
}

// Warning is a setting that was read but has no effect, or that conflicts
// with another setting that wins. The hub logs each one at startup.
type Warning struct {
	File    string
	Pos     Position
	Key     string
	Message string
}

// String formats w as Error formats an Error.
func (w Warning) String() string {
	e := Error(w)
	return e.Error()
}

// sortWarnings orders warnings as sortErrors orders errors.
func sortWarnings(list []Warning) []Warning {
	if len(list) == 0 {
		return nil
	}
	errs := make([]*Error, len(list))
	for i, w := range list {
		e := Error(w)
		errs[i] = &e
	}
	sortErrors(errs)
	out := make([]Warning, len(errs))
	for i, e := range errs {
		out[i] = Warning(*e)
	}
	return out
}

// ErrorAt returns an Error about key, a path such as
// "JupyterHub.load_roles[0].scopes", for checks that run after Parse. Its
// position is that of key in the file or, when the file does not have
// key itself, of the closest enclosing element or table that it has.
func (c *Config) ErrorAt(key, format string, args ...any) *Error {
	e := &Error{File: c.File, Key: key, Message: fmt.Sprintf(format, args...)}
	for path := key; path != ""; path = parentPath(path) {
		if p, ok := c.positions[path]; ok {
			e.Pos = p
			break
		}
	}
	return e
}

// parentPath returns the path that encloses path: "a.b[1]" for
// "a.b[1].c", "a.b" for "a.b[1]", and "" for "a".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
