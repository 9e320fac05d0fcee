package config

import (
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

func TestKeyPositions(t *testing.T) {
	src := `# a comment with [Fake] and key = 1
[JupyterHub]
port = 8000 # trailing comment
  bind_url = "http://:8000/ [NotATable]"
banner = """
[AlsoNotATable]
fake = 1
"""""
literal = '''
x = 2 '''
"quoted key" = 1
'single quoted' = 2
"esc\u0041" = 3
dotted.part = 4
list = [
  "a", # comment
  ["nested"],
  {inline = 1},
]

[[JupyterHub.services]]
name = "a"
environment = { A = "1", B = { C = "2" } }

[[JupyterHub.services]]
name = "b"

[JupyterHub.services.env]
X = "y"

[ Spawner . "environment" ]
LANG = "C"
`
	want := map[string]Position{
		"JupyterHub":                             {2, 1},
		"JupyterHub.port":                        {3, 1},
		"JupyterHub.bind_url":                    {4, 3},
		"JupyterHub.banner":                      {5, 1},
		"JupyterHub.literal":                     {9, 1},
		"JupyterHub.quoted key":                  {11, 1},
		"JupyterHub.single quoted":               {12, 1},
		"JupyterHub.escA":                        {13, 1},
		"JupyterHub.dotted":                      {14, 1},
		"JupyterHub.dotted.part":                 {14, 1},
		"JupyterHub.list":                        {15, 1},
		"JupyterHub.list[0]":                     {16, 3},
		"JupyterHub.list[1]":                     {17, 3},
		"JupyterHub.list[1][0]":                  {17, 4},
		"JupyterHub.list[2]":                     {18, 3},
		"JupyterHub.list[2].inline":              {18, 4},
		"JupyterHub.services":                    {21, 1},
		"JupyterHub.services[0]":                 {21, 1},
		"JupyterHub.services[0].name":            {22, 1},
		"JupyterHub.services[0].environment":     {23, 1},
		"JupyterHub.services[0].environment.A":   {23, 17},
		"JupyterHub.services[0].environment.B":   {23, 26},
		"JupyterHub.services[0].environment.B.C": {23, 32},
		"JupyterHub.services[1]":                 {25, 1},
		"JupyterHub.services[1].name":            {26, 1},
		"JupyterHub.services[1].env":             {28, 1},
		"JupyterHub.services[1].env.X":           {29, 1},
		"Spawner.environment":                    {31, 1},
		"Spawner.environment.LANG":               {32, 1},
	}
	if _, err := toml.Decode(src, new(map[string]any)); err != nil {
		t.Fatalf("test document is not valid TOML: %v", err)
	}
	got := keyPositions(src)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keyPositions (-want +got):\n%s", diff)
	}
}

func TestKeyPositionsCRLF(t *testing.T) {
	got := keyPositions("[JupyterHub]\r\nport = 1\r\n\r\n[Spawner]\r\ncmd = \"x\"\r\n")
	want := map[string]Position{
		"JupyterHub": {1, 1}, "JupyterHub.port": {2, 1}, "Spawner": {4, 1}, "Spawner.cmd": {5, 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keyPositions (-want +got):\n%s", diff)
	}
}

// indexRE matches the array indices of a position path.
var indexRE = regexp.MustCompile(`\[\d+\]`)

// checkPositionsCover fails when a key that the toml package found has no
// position, ignoring the array indices that the package does not keep.
func checkPositionsCover(t *testing.T, src string) {
	t.Helper()
	md, err := toml.Decode(src, new(map[string]any))
	if err != nil {
		return
	}
	found := map[string]bool{}
	for path := range keyPositions(src) {
		found[indexRE.ReplaceAllString(path, "")] = true
	}
	for _, k := range md.Keys() {
		name := strings.Join(k, ".")
		if !found[name] {
			t.Fatalf("no position for key %q of %q", name, src)
		}
	}
}

func TestKeyPositionsCoverFixtures(t *testing.T) {
	for _, src := range positionSeeds {
		checkPositionsCover(t, src)
	}
}

var positionSeeds = []string{
	"",
	"a = 1",
	"[a]\nb = 1\n[a.c]\nd = 2\n",
	"[[a]]\nb = 1\n[[a]]\nb = 2\n[a.c]\nd = 3\n",
	"a = { b = 1, c = { d = [1, 2] } }",
	"a = [{ b = 1 }, { b = 2 }]",
	"\"a.b\" = 1\n'c d' = 2\n",
	"s = \"\"\"\n[x]\ny = 1\n\"\"\"\nz = 1\n",
	"s = '''\n[x]\n'''\nz = 1\n",
	"d = 1979-05-27 07:32:00Z\ne = 2\n",
	"[JupyterHub]\nservices = [\n  { name = \"a\" },\n  { name = \"b\" },\n]\n",
	"a.b.c = 1\na.d = 2\n",
	"x = \"\\\"\" # quote\ny = 1\n",
}

// FuzzKeyPositions checks that the scanner never panics and, on documents
// the toml package accepts, finds every key.
func FuzzKeyPositions(f *testing.F) {
	for _, s := range positionSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkPositionsCover(t, src)
		for path, p := range keyPositions(src) {
			if p.Line < 1 || p.Column < 1 {
				t.Fatalf("invalid position %v for %q", p, path)
			}
		}
	})
}
