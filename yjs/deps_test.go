package yjs

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestImportsOnlyStandardLibrary keeps yjs and its subpackages free of
// dependencies outside the standard library, so that the package can be
// reused on its own. Test files may import more.
func TestImportsOnlyStandardLibrary(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "list", "-deps",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if !strings.HasPrefix(pkg, "github.com/jupygo/jupygo/yjs") {
			t.Errorf("yjs depends on %s", pkg)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e-7,"\u00e9\ud83d\ude00"],"10":null}`, `"x"`, `[]`,
		`-0`, `1e400`, `{"b":true,"b":false}`, `"\ud800"`, "\"\xed\xa4\xb5\xed\xb5\xb5\"", "\"\xed\xa4\xb5\\udd75\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseJSON(s)
		if err != nil {
			return
		}
		again, err := ParseJSON(StringifyJSON(v))
		if err != nil {
			t.Fatalf("parsing our own output %q: %v", StringifyJSON(v), err)
		}
		if StringifyJSON(again) != StringifyJSON(v) {
			t.Fatalf("stringify not stable: %q then %q", StringifyJSON(v), StringifyJSON(again))
		}
	})
}

func TestFormatNumber(t *testing.T) {
	tests := map[float64]string{
		0: "0", 1: "1", -1.5: "-1.5", 0.1: "0.1", 1e21: "1e+21", 1e20: "100000000000000000000",
		1.5e-7: "1.5e-7", 0.000001: "0.000001", 123456789.125: "123456789.125", 2147483648: "2147483648",
		5e-324: "5e-324", 1.7976931348623157e308: "1.7976931348623157e+308",
	}
	for f, want := range tests {
		if got := formatNumber(f); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", f, got, want)
		}
	}
}
