package main

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestImportRules checks the layering the design relies on: yjs is a
// reusable library on the standard library alone, and the single-user
// pieces never depend on the hub.
func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	const mod = "github.com/jupygo/jupygo/"
	rules := []struct {
		pkg       string
		forbidden func(dep string) bool
		why       string
	}{
		{"yjs/...", func(dep string) bool {
			first, _, _ := strings.Cut(dep, "/")
			return strings.Contains(first, ".") && !strings.HasPrefix(dep, mod+"yjs")
		}, "yjs imports only the standard library"},
		{"internal/kernel/...", func(dep string) bool {
			return strings.HasPrefix(dep, mod+"internal/hub")
		}, "kernel never imports the hub"},
		{"internal/contents/...", func(dep string) bool {
			return strings.HasPrefix(dep, mod+"internal/server") || strings.HasPrefix(dep, mod+"internal/hub")
		}, "contents never imports the server or the hub"},
		{"internal/contents/...", func(dep string) bool {
			return strings.HasPrefix(dep, mod+"internal/collab")
		}, "contents never imports collab, which observes it"},
		{"internal/collab/...", func(dep string) bool {
			return strings.HasPrefix(dep, mod+"internal/server") || strings.HasPrefix(dep, mod+"internal/hub")
		}, "collab never imports the server or the hub"},
		{"internal/terminal/...", func(dep string) bool {
			return strings.HasPrefix(dep, mod+"internal/server") || strings.HasPrefix(dep, mod+"internal/hub")
		}, "terminal never imports the server or the hub"},
		{"internal/ydoc/...", func(dep string) bool {
			return strings.HasPrefix(dep, mod+"internal/server") || strings.HasPrefix(dep, mod+"internal/hub") ||
				strings.HasPrefix(dep, mod+"internal/collab")
		}, "ydoc never imports the server, the hub or the collaboration rooms"},
	}
	for _, rule := range rules {
		t.Run(rule.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-test=false", "../../"+rule.pkg).CombinedOutput()
			if err != nil {
				if strings.Contains(string(out), "matched no packages") {
					t.Skipf("no packages at %s", rule.pkg)
				}
				t.Fatalf("go list %s: %v\n%s", rule.pkg, err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				if rule.forbidden(dep) {
					t.Errorf("%s depends on %s, but %s", rule.pkg, dep, rule.why)
				}
			}
		})
	}
}

// TestBinaryLoadsLibzmqLazily checks that the binary does not link libzmq:
// the kernel package loads it when the first kernel starts, so the hub and
// a server without kernels do not map it and the libraries it needs.
func TestBinaryLoadsLibzmqLazily(t *testing.T) {
	bin := buildJupygo(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Skipf("not an ELF binary: %v", err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range libs {
		if strings.Contains(lib, "zmq") {
			t.Errorf("jupygo links %s; want libzmq loaded with dlopen", lib)
		}
	}
}

// buildJupygo builds jupygo into a temporary folder with the build tags
// given and returns its path.
func buildJupygo(t *testing.T, tags ...string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "jupygo")
	out, err := exec.Command("go", "build", "-tags", strings.Join(tags, ","), "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestNoHubBuild checks the build with the nohub tag: it vets, links none
// of the hub's packages and store drivers, runs servers, and says that it
// has no hub.
func TestNoHubBuild(t *testing.T) {
	bin := buildJupygo(t, "nohub")
	if out, err := exec.Command("go", "vet", "-tags", "nohub", ".").CombinedOutput(); err != nil {
		t.Errorf("go vet -tags nohub: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "list", "-deps", "-tags", "nohub", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	// SQLite stays: the collaboration rooms keep their histories in it.
	for _, pkg := range []string{"github.com/jupygo/jupygo/internal/hub", "github.com/jupygo/jupygo/internal/store",
		"github.com/jackc/pgx/v5"} {
		if slices.Contains(deps, pkg) {
			t.Errorf("the nohub build links %s", pkg)
		}
	}
	out, _ = exec.Command(bin, "hub").CombinedOutput()
	if !strings.Contains(string(out), "built without the hub") {
		t.Errorf("jupygo hub in the nohub build printed %q, want an error that it has no hub", out)
	}
	if out, err := exec.Command(bin, "server", "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "--root-dir") {
		t.Errorf("jupygo server --help in the nohub build: %v\n%s", err, out)
	}
}

// TestNoMethodLookupByName checks that nothing in jupygo calls a method
// by a name known only at run time, as text/template and html/template do
// when they execute. The linker then has to keep every exported method of
// every type that is converted to an interface, which made the executable
// 2 MB larger and each idle process map 1.4 MiB more (docs/design.md).
func TestNoMethodLookupByName(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "jupygo")
	out, err := exec.Command("go", "build", "-ldflags=-dumpdep", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%s", err, out)
	}
	var callers []string
	for line := range strings.Lines(string(out)) {
		// -dumpdep prints "from -> to" and marks such a caller <ReflectMethod>.
		from, _, _ := strings.Cut(line, " -> ")
		if name, ok := strings.CutSuffix(strings.TrimSpace(from), " <ReflectMethod>"); ok &&
			!slices.Contains(callers, name) {
			callers = append(callers, name)
		}
	}
	if len(callers) > 0 {
		t.Errorf("these functions call methods by name, so the linker keeps every exported method: %s",
			strings.Join(callers, ", "))
	}
}

// TestLazyPackagesRunNoInit checks that the packages docs/design.md keeps
// free of initialization have no init function. Each one costs every jupygo
// process the 64 KiB block of code around it, although only the hub, an
// export or a first request uses the values it builds.
func TestLazyPackagesRunNoInit(t *testing.T) {
	// The compiler names a package's init functions init, init.N and
	// map.init.N, and closures in package-level values init.funcN.
	initFunc := regexp.MustCompile(`^(init|init\.[0-9]+|map\.init\.[0-9]+)$`)
	bin := buildJupygo(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Skipf("not an ELF binary: %v", err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/jupygo/jupygo/"
	lazy := []string{"internal/hub", "internal/store", "internal/server", "internal/nbconvert",
		"internal/markup", "internal/webpage", "internal/lazy", "yjs"}
	for _, s := range syms {
		pkg, fn, ok := strings.Cut(strings.TrimPrefix(s.Name, mod), ".")
		if !ok || !strings.HasPrefix(s.Name, mod) || !initFunc.MatchString(fn) {
			continue
		}
		for _, p := range lazy {
			if (pkg == p || strings.HasPrefix(pkg, p+"/")) && s.Size > 1 {
				t.Errorf("%s has an init function (%s, %d bytes); build its values on first use with internal/lazy",
					mod+pkg, s.Name, s.Size)
			}
		}
	}
}

// TestStackGrowsBeforeMarkdownInit checks that internal/initstack, which
// grows the main goroutine's stack in one step, initializes before
// gomarkdown's parser, whose regular expressions need a deep stack. The Go
// runtime prints the order with GODEBUG=inittrace=1.
func TestStackGrowsBeforeMarkdownInit(t *testing.T) {
	bin := buildJupygo(t)
	cmd := exec.Command(bin, "version")
	cmd.Env = append(cmd.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jupygo version: %v\n%s", err, out)
	}
	order := map[string]int{}
	for i, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			order[f[1]] = i + 1
		}
	}
	stack := order["github.com/jupygo/jupygo/internal/initstack"]
	parser := order["github.com/gomarkdown/markdown/parser"]
	if stack == 0 || parser == 0 {
		t.Fatalf("inittrace lacks initstack (line %d) or gomarkdown's parser (line %d):\n%s", stack, parser, out)
	}
	if stack > parser {
		t.Errorf("initstack initializes at line %d, after gomarkdown's parser at line %d", stack, parser)
	}
}
