package config

import (
	"errors"
	"strings"
	"testing"
)

// TestNestingLimit checks that deep files are rejected at the first level
// past maxNesting, before any work that grows with the square of the depth.
func TestNestingLimit(t *testing.T) {
	deep := 20000
	tests := []struct {
		name, file, src, want string
	}{
		{"toml arrays", "c.toml",
			"[Spawner]\nargs = " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\n",
			"c.toml:2:108: keys and values nested deeper than 100 levels are not supported"},
		{"toml inline tables", "c.toml",
			"[Spawner]\nx = " + strings.Repeat("{a=", deep) + "1" + strings.Repeat("}", deep) + "\n",
			"c.toml:2:305: keys and values nested deeper than 100 levels"},
		{"toml dotted key", "c.toml", "[Spawner]\n" + strings.Repeat("a.", deep) + "b = 1\n",
			"c.toml:2:202: keys and values nested deeper than 100 levels"},
		{"toml table header", "c.toml", "[" + strings.Repeat("a.", deep) + "b]\n",
			"c.toml:1:201: keys and values nested deeper than 100 levels"},
		{"python lists", "c.py",
			"c.Spawner.args = " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\n",
			"c.py:1:118: unsupported Python: expressions nested deeper than 100 levels"},
		{"python parentheses", "c.py",
			"c.JupyterHub.port = " + strings.Repeat("(", deep) + "1" + strings.Repeat(")", deep) + "\n",
			"c.py:1:121: unsupported Python: expressions nested deeper than 100 levels"},
		{"python calls", "c.py", "import os\nc.JupyterHub.ip = " +
			strings.Repeat("os.path.join(", deep) + "'a'" + strings.Repeat(")", deep) + "\n",
			"c.py:2:1319: unsupported Python: expressions nested deeper than 100 levels"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := parseNamed(tc.file, tc.src)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %v is not an ErrorList", err)
			}
			if !strings.HasPrefix(list[0].Error(), tc.want) {
				t.Errorf("got  %v\nwant %s...", err, tc.want)
			}
		})
	}
}

// TestNestingWithinLimit checks that nesting up to the limit is read, and
// that brackets and dots inside strings and comments do not count.
func TestNestingWithinLimit(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct{ name, file, src string }{
		{"toml strings and comments", "c.toml", "[Spawner]\n# " + strings.Repeat("[", 200) + "\n" +
			"args = ['" + strings.Repeat("[.", 200) + "', \"" + strings.Repeat("{.", 200) + "\", '''" +
			strings.Repeat("[", 200) + "''']\nstart_timeout = 1.5\n"},
		{"toml dots in values and comments", "c.toml", "Spawner.environment.A = \"1.2.3\"\n" +
			"Spawner.args = [\n" + strings.Repeat("  \"1.2\", # a.b.c.d\n", 200) + "]\n" +
			"Spawner.start_timeout = 1.5\n"},
		{"python strings and comments", "c.py", "c.Spawner.args = [  # " + strings.Repeat("[", 200) +
			"\n  '" + strings.Repeat("[", 200) + "']\n"},
		{"python nested list", "c.py", "x = " + strings.Repeat("[", 98) + strings.Repeat("]", 98) +
			"\nc.Spawner.args = ['a']\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parseNamed(tc.file, tc.src)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPythonLongChains checks that long chains of +, of adjacent strings
// and of signs are read whole. Each costs time linear in its length.
func TestPythonLongChains(t *testing.T) {
	clearEnv(t)
	n := 100000
	for _, tc := range []struct{ name, src string }{
		{"string +", "c.JupyterHub.data_dir = " + strings.Repeat("'a'+", n-1) + "'a'\n"},
		{"adjacent strings", "c.JupyterHub.data_dir = " + strings.Repeat("'a' ", n) + "\n"},
		{"list +", "c.Spawner.args = ['a']" + strings.Repeat("+['a']", n-1) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParsePython([]byte(tc.src), "c.py")
			if err != nil {
				t.Fatal(err)
			}
			got := len(c.JupyterHub.DataDir)
			if tc.name == "list +" {
				got = len(c.Spawner.Args)
			}
			if got != n {
				t.Errorf("the sum has %d items, want %d", got, n)
			}
		})
	}
	c, err := ParsePython([]byte("c.JupyterHub.port = "+strings.Repeat("-", n)+"80\n"), "c.py")
	if err != nil {
		t.Fatal(err)
	}
	if c.JupyterHub.Port != 80 {
		t.Errorf("port = %d, want 80", c.JupyterHub.Port)
	}
}

// parseNamed parses src as Python when name ends in .py, else as TOML.
func parseNamed(name, src string) error {
	var err error
	if strings.HasSuffix(name, ".py") {
		_, err = ParsePython([]byte(src), name)
	} else {
		_, err = Parse([]byte(src), name)
	}
	return err
}
