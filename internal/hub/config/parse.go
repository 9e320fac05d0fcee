package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Load reads and parses the configuration file at path: Python, read by
// ParsePython, when its name ends in .py, and TOML, read by Parse, when it
// does not.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading hub config: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".py") {
		return ParsePython(data, path)
	}
	return Parse(data, path)
}

// Parse parses a TOML configuration and returns it with every default,
// secret file and environment fallback applied. name is the file name used
// in messages. Empty data gives the defaults and the environment fallbacks.
//
// A syntax error is returned alone. Otherwise every unknown table, unknown
// key, value of the wrong type and failed check is returned together in an
// ErrorList, each entry with its line and column.
func Parse(data []byte, name string) (*Config, error) {
	// The toml package rejects UTF-16 text by its NUL bytes, which a byte
	// order mark followed by ASCII text lacks.
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, ErrorList{{File: name, Pos: Position{Line: 1, Column: 1},
			Message: "invalid TOML: the file starts with a UTF-16 byte order mark, " +
				"but TOML files must be UTF-8: save it as UTF-8"}}
	}
	if off := tomlNesting(string(data)); off >= 0 {
		return nil, ErrorList{{File: name, Pos: offsetPosition(string(data), off),
			Message: fmt.Sprintf("keys and values nested deeper than %d levels are not supported",
				maxNesting)}}
	}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, ErrorList{syntaxError(name, string(data), err)}
	}
	positions := keyPositions(string(data))
	b := newBuilder(name)
	b.pos = positions

	var values []Value
	for _, top := range sortedNames(raw, "", positions) {
		pos := positions[top]
		table, ok := raw[top].(map[string]any)
		if !ok {
			b.topLevelKey(top, pos)
			continue
		}
		if top == pythonObject {
			b.pythonKeys(table)
			continue
		}
		if !b.checkTable(top, pos) {
			continue
		}
		for _, key := range sortedNames(table, top, positions) {
			values = append(values, Value{Class: top, Key: key, Value: table[key],
				Pos: positions[top+"."+key]})
		}
	}
	slices.SortStableFunc(values, func(x, y Value) int {
		if lineOrMax(x.Pos) != lineOrMax(y.Pos) {
			return lineOrMax(x.Pos) - lineOrMax(y.Pos)
		}
		return x.Pos.Column - y.Pos.Column
	})
	return b.build(values)
}

// topLevelKey reports a key outside any table.
func (b *builder) topLevelKey(name string, pos Position) {
	msg := "keys must be inside a table such as [JupyterHub]"
	if owner := ownerOf(name); owner != "" {
		msg = fmt.Sprintf("keys must be inside a table: put %s under [%s]", name, owner)
	}
	if _, isArray := b.pos[name+"[0]"]; isArray {
		msg = "unknown table [[" + name + "]]; arrays of tables belong to a class, " +
			"such as [[JupyterHub.services]]"
	}
	b.errorf(pos, name, "%s", msg)
}

// syntaxError converts an error of the toml package. The position is worked
// out again from the error's byte offset, because for an error at the end
// of a line the package (v1.6.0) gives the next line with the column of
// the offset in the line before.
func syntaxError(name, src string, err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" {
			msg = fmt.Sprintf("%s (after key %s)", msg, pe.LastKey)
		}
		pos := Position{Line: pe.Position.Line, Column: pe.Position.Col}
		if pe.Position.Start > 0 && pe.Position.Start <= len(src) {
			pos = offsetPosition(src, pe.Position.Start)
		}
		return &Error{File: name, Pos: pos, Message: "invalid TOML: " + msg}
	}
	return &Error{File: name, Message: "invalid TOML: " + err.Error()}
}
