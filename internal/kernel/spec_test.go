package kernel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeSpec writes dir/kernels/name/kernel.json with content.
func writeSpec(t *testing.T, dataDir, name, content string) string {
	t.Helper()
	dir := filepath.Join(dataDir, "kernels", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kernel.json"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func specJSONText(display string) string {
	return `{"argv": ["/bin/true", "{connection_file}"], "display_name": "` + display + `", "language": "x"}`
}

func TestSpecDiscovery(t *testing.T) {
	first, second, user := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("JUPYTER_PATH", first+string(os.PathListSeparator)+second)
	t.Setenv("JUPYTER_DATA_DIR", user)

	writeSpec(t, first, "Shadowed", specJSONText("first"))
	writeSpec(t, second, "shadowed", specJSONText("second"))
	writeSpec(t, second, "only-second", specJSONText("second only"))
	writeSpec(t, user, "user-kernel", specJSONText("user"))
	writeSpec(t, user, "python3", specJSONText("user python"))
	writeSpec(t, first, "broken", `{"argv": `)
	writeSpec(t, first, "no-argv", `{"display_name": "x"}`)
	writeSpec(t, first, "bad-mode", `{"argv": ["x"], "interrupt_mode": "shout"}`)
	writeSpec(t, first, "message-mode", `{"argv": ["x"], "interrupt_mode": "message"}`)
	if err := os.MkdirAll(filepath.Join(first, "kernels", "empty-dir"), 0o755); err != nil {
		t.Fatal(err)
	}

	m, err := NewManager(Options{RuntimeDir: t.TempDir(), Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(t.Context()) })
	specs := m.Specs()

	tests := []struct {
		name        string
		wantDisplay string // "" means the spec must be absent
		wantMode    string
	}{
		{"shadowed", "first", "signal"},
		{"only-second", "second only", "signal"},
		{"user-kernel", "user", "signal"},
		{"python3", "user python", "signal"},
		{"message-mode", "", "message"},
		{"broken", "", ""},
		{"no-argv", "", ""},
		{"bad-mode", "", ""},
		{"empty-dir", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := specs[tt.name]
			if tt.wantMode == "" {
				if ok {
					t.Fatalf("spec %s found, want it skipped", tt.name)
				}
				return
			}
			if !ok {
				t.Fatalf("spec %s not found", tt.name)
			}
			if s.DisplayName != tt.wantDisplay || s.InterruptMode != tt.wantMode {
				t.Errorf("display %q, mode %q; want %q, %q", s.DisplayName, s.InterruptMode, tt.wantDisplay, tt.wantMode)
			}
		})
	}
	if _, err := m.Spec("SHADOWED"); err != nil {
		t.Errorf("Spec matches names without case: %v", err)
	}
	if got := m.DefaultKernelName(); got != "python3" {
		t.Errorf("default = %q, want python3", got)
	}
}

func TestDataDirsOrder(t *testing.T) {
	t.Setenv("JUPYTER_PATH", "/a"+string(os.PathListSeparator)+string(os.PathListSeparator)+"/b/")
	t.Setenv("JUPYTER_DATA_DIR", "/user")
	want := []string{"/a", "/b", "/user", "/usr/local/share/jupyter", "/usr/share/jupyter"}
	if diff := cmp.Diff(want, DataDirs()); diff != "" {
		t.Errorf("DataDirs (-want +got):\n%s", diff)
	}
	t.Setenv("JUPYTER_DATA_DIR", "")
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if got := DataDirs()[2]; got != "/xdg/jupyter" {
		t.Errorf("user data dir from XDG_DATA_HOME = %q, want /xdg/jupyter", got)
	}
}

func TestNativeSpecFallback(t *testing.T) {
	skipWithoutIPyKernel(t)
	m, err := NewManager(Options{RuntimeDir: t.TempDir(), SpecDirs: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(t.Context()) })
	s, err := m.Spec("python3")
	if err != nil {
		t.Fatalf("no python3 spec without installed specs: %v", err)
	}
	want := []string{defaultPython, "-m", "ipykernel_launcher", "-f", "{connection_file}"}
	if diff := cmp.Diff(want, s.Argv); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
	if _, ok := s.resources("/")["logo-64x64"]; !ok {
		t.Errorf("resources %v lack ipykernel's logo-64x64", s.resources("/"))
	}

	without, err := NewManager(Options{RuntimeDir: t.TempDir(), SpecDirs: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { without.Close(t.Context()) })
	without.python = filepath.Join(t.TempDir(), "no-python")
	if specs := without.Specs(); len(specs) != 0 {
		t.Errorf("specs without ipykernel = %v, want none", specs)
	}
}

func TestSubstituteEnv(t *testing.T) {
	vars := map[string]string{"HOME": "/home/a", "X_1": "x"}
	tests := []struct{ in, want string }{
		{"${HOME}/bin", "/home/a/bin"},
		{"$HOME/bin", "/home/a/bin"},
		{"$X_1$X_1", "xx"},
		{"${MISSING}:$MISSING", "${MISSING}:$MISSING"},
		{"$$HOME", "$HOME"},
		{"cost: $5", "cost: $5"},
		{"${", "${"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := substituteEnv(tt.in, vars); got != tt.want {
				t.Errorf("substituteEnv(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSpecProcessEnvAndArgv(t *testing.T) {
	s := &Spec{
		Name: "k", ResourceDir: "/specs/k",
		Argv: []string{"run", "-f", "{connection_file}", "--res={resource_dir}", "{other}"},
		Env:  map[string]string{"PATH": "/opt/bin:${PATH}", "NEW": "1"},
	}
	env := s.processEnv([]string{"PATH=/usr/bin", "KEEP=yes"}, map[string]string{"JPY_PARENT_PID": "7"})
	want := []string{"JPY_PARENT_PID=7", "KEEP=yes", "NEW=1", "PATH=/opt/bin:/usr/bin"}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	wantArgv := []string{"run", "-f", "/rt/kernel-1.json", "--res=/specs/k", "{other}"}
	if diff := cmp.Diff(wantArgv, s.argv("/rt/kernel-1.json")); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
}
