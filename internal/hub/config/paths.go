package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Path resolves p, a path of the hub's own files such as cookie_secret_file:
// "~" and "~/..." are in the home of the user running the hub, and a
// relative path is relative to DataDir. The result is absolute when the
// working folder or home is known.
func (c *Config) Path(p string) string {
	p = expandHome(p, "")
	if !filepath.IsAbs(p) {
		p = filepath.Join(expandHome(c.JupyterHub.DataDir, ""), p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// expandHome replaces a leading "~" of p with home, or with the home of the
// user running the hub when home is "". Other "~user" forms are left alone.
func expandHome(p, home string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return p
		}
		home = h
	}
	return filepath.Join(home, p[1:])
}

// Database is the database that JupyterHub.db_url names.
type Database struct {
	// Driver is "sqlite" or "postgres".
	Driver string
	// Path is the SQLite file, absolute, or ":memory:" for a database that
	// lives only as long as the hub. Empty for PostgreSQL.
	Path string
	// URL is the PostgreSQL connection URL, postgres://..., as pgx takes
	// it. Empty for SQLite.
	URL string
}

// Database parses db_url as SQLAlchemy does for the forms JupyterHub
// documents: "sqlite:///relative", "sqlite:////absolute", "sqlite://" and
// "sqlite:///:memory:" for memory, and "postgresql://..." or
// "postgresql+DRIVER://...". A relative SQLite path is relative to DataDir.
func (c *Config) Database() (Database, error) {
	raw := c.JupyterHub.DBURL
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Database{}, fmt.Errorf("invalid database URL %q: use sqlite:///FILE or "+
			"postgresql://...", raw)
	}
	driver, _, _ := strings.Cut(scheme, "+")
	switch driver {
	case "sqlite":
		return c.sqliteDatabase(raw, rest)
	case "postgresql", "postgres":
		if rest == "" {
			return Database{}, fmt.Errorf("invalid database URL %q: the host is missing", raw)
		}
		return Database{Driver: "postgres", URL: "postgres://" + rest}, nil
	}
	return Database{}, fmt.Errorf("database %q is not supported: use sqlite or postgresql",
		scheme)
}

func (c *Config) sqliteDatabase(raw, rest string) (Database, error) {
	if strings.ContainsAny(rest, "?#") {
		return Database{}, fmt.Errorf("invalid database URL %q: query parameters are "+
			"not supported", raw)
	}
	if rest == "" || rest == "/:memory:" {
		return Database{Driver: "sqlite", Path: ":memory:"}, nil
	}
	path, ok := strings.CutPrefix(rest, "/")
	if !ok || path == "" {
		return Database{}, fmt.Errorf("invalid database URL %q: use sqlite:///FILE for a "+
			"file relative to data_dir or sqlite:////ABSOLUTE/FILE", raw)
	}
	return Database{Driver: "sqlite", Path: c.Path(path)}, nil
}

// HomeDir returns the home folder of username under the simple spawner:
// home_dir_template expanded, relative to DataDir. The caller must have
// checked username, since it becomes part of a path.
func (c *Config) HomeDir(username string) (string, error) {
	dir, err := ExpandTemplate(c.SimpleLocalProcessSpawner.HomeDirTemplate,
		map[string]string{"username": username})
	if err != nil {
		return "", fmt.Errorf("expanding home_dir_template: %w", err)
	}
	return c.Path(dir), nil
}

// ExpandNotebookDir returns notebook_dir with {username} and {base_url}
// expanded, and "" when it is empty. baseURL is the server's URL prefix,
// such as "/user/alice/". A leading "~" is left for the spawner, which
// looks up the user's home folder.
func (s *Spawner) ExpandNotebookDir(username, baseURL string) (string, error) {
	if s.NotebookDir == "" {
		return "", nil
	}
	dir, err := ExpandTemplate(s.NotebookDir,
		map[string]string{"username": username, "base_url": baseURL})
	if err != nil {
		return "", fmt.Errorf("expanding notebook_dir: %w", err)
	}
	return dir, nil
}

// ExpandTemplate expands a template as Python's str.format does for the
// simple fields JupyterHub templates use: "{name}" becomes fields[name],
// and "{{" and "}}" stand for braces. Unknown fields, format specs,
// conversions and unmatched braces are errors.
func ExpandTemplate(template string, fields map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		ch := template[i]
		switch {
		case ch == '{' && strings.HasPrefix(template[i:], "{{"):
			b.WriteByte('{')
			i++
		case ch == '}' && strings.HasPrefix(template[i:], "}}"):
			b.WriteByte('}')
			i++
		case ch == '{':
			end := strings.IndexByte(template[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("template %q has an unmatched {", template)
			}
			name := template[i+1 : i+end]
			value, ok := fields[name]
			if !ok {
				return "", fmt.Errorf("template %q uses {%s}; the fields are %s",
					template, name, fieldList(fields))
			}
			b.WriteString(value)
			i += end
		case ch == '}':
			return "", fmt.Errorf("template %q has an unmatched }: write }} for a brace",
				template)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), nil
}

func fieldList(fields map[string]string) string {
	var names []string
	for n := range fields {
		names = append(names, "{"+n+"}")
	}
	slices.Sort(names)
	return joinNames(names)
}
