package spawn

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestValidateServerName(t *testing.T) {
	tests := []nameCase{
		{"a", true},
		{"server1", true},
		{"server-abcdef12", true},
		{"my-lab-2", true},
		{strings.Repeat("x", 30), true},
		{strings.Repeat("x", 31), false},
		{"", false},
		{"1server", false},
		{"-server", false},
		{"server-", false},
		{"server--abc-def", false},
		{"Server", false},
		{"a$/b", false},
		{"$p~c|a! ch@rs", false},
		{"hash#?question", false},
		{"with space", false},
		{"under_score", false},
		{"dot.ted", false},
		{"é", false},
	}
	checkNames(t, "ValidateServerName", ValidateServerName, tests)
}

func TestValidateUserName(t *testing.T) {
	tests := []nameCase{
		{"alice", true},
		{"Alice", true},
		{"alice@example.com", true},
		{"a b", true},
		{"ünïcödé", true},
		{".hidden", true},
		{strings.Repeat("x", 255), true},
		{strings.Repeat("x", 256), false},
		{"", false},
		{"a/b", false},
		{"/", false},
		{".", false},
		{"..", false},
		{" alice", false},
		{"alice ", false},
		{"alice\n", false},
		{"al\x00ice", false},
		{"al\tice", false},
		{"al\nice", false},
		{"al\rice", false},
		{"al\x1bice", false},
		{"al\x7fice", false},
		{"al\u0085ice", false},
		{"al\u009bice", false},
		{"a\u202ab", false},
		{"a\u202bb", false},
		{"a\u202cb", false},
		{"a\u202db", false},
		{"alice\u202egpj.exe", false},
		{"a\u2066b", false},
		{"a\u2067b", false},
		{"a\u2068b", false},
		{"a\u2069b", false},
		{"a\u2029b", false}, // paragraph separator
		{"a\u200db", false}, // zero width joiner, invisible between letters
		{"a\u00adb", false}, // soft hyphen, shown only at a line break
		{"a\u00a0b", true},  // no-break space, which shows as a space
		{"a\u2065b", true},  // unassigned, between the two bidi ranges
		{"a\u202fb", true},  // narrow no-break space, after the first bidi range
	}
	checkNames(t, "ValidateUserName", ValidateUserName, tests)
}

func TestValidateUserNameNamesCharacter(t *testing.T) {
	tests := []struct{ name, want string }{
		{"al\tice", "control character U+0009"},
		{"al\u009bice", "control character U+009B"},
		{"alice\u202egpj.exe", "bidirectional formatting character U+202E"},
		{"a\u2069b", "bidirectional formatting character U+2069"},
	}
	for _, tt := range tests {
		err := ValidateUserName(tt.name)
		if err == nil {
			t.Errorf("ValidateUserName(%q) = nil, want an error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateUserName(%q) = %q, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestValidateDisplayName(t *testing.T) {
	tests := []nameCase{
		{"My name is Trevor", true},
		{"e_êẹèêéøßæṣ-", true},
		{"x", true},
		{"数据分析", true},
		{strings.Repeat("é", 255), true},
		{strings.Repeat("é", 256), false},
		{"", false},
		{" leading", false},
		{"trailing ", false},
		{"two  spaces", false},
		{"tab\there", false},
		{"new\nline", false},
		{"nbsp\u00a0here", false},
		{"bad\xffutf8", false},
	}
	checkNames(t, "ValidateDisplayName", ValidateDisplayName, tests)
}

type nameCase struct {
	name  string
	valid bool
}

// checkNames runs validate on each case.
func checkNames(t *testing.T, fn string, validate func(string) error, tests []nameCase) {
	t.Helper()
	for _, tt := range tests {
		err := validate(tt.name)
		if (err == nil) != tt.valid {
			t.Errorf("%s(%q) = %v, want valid %v", fn, tt.name, err, tt.valid)
		}
	}
}

// serverNamePattern restates ValidateServerName's rule as a regular
// expression, to check the hand-written loop against.
var serverNamePattern = regexp.MustCompile(`^[a-z](?:[a-z0-9]|-[a-z0-9])*$`)

func FuzzValidateServerName(f *testing.F) {
	for _, s := range []string{"server1", "a-b", "a--b", "-a", "a-", "", "A", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := ValidateServerName(name) == nil
		want := len(name) <= maxServerNameLength && serverNamePattern.MatchString(name)
		if got != want {
			t.Errorf("ValidateServerName(%q) valid = %v, the pattern says %v", name, got, want)
		}
	})
}

func FuzzValidateUserName(f *testing.F) {
	for _, s := range []string{"alice", "a/b", "..", " x", "x\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateUserName(name) != nil {
			return
		}
		// A valid name must stay one folder below the users folder.
		if filepath.Join("/users", name) != "/users/"+name {
			t.Errorf("valid user name %q does not name a folder of its own", name)
		}
	})
}

func FuzzValidateDisplayName(f *testing.F) {
	for _, s := range []string{"My lab", "  ", "\xff", "数据"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateDisplayName(name) == nil && strings.TrimSpace(name) != name {
			t.Errorf("valid display name %q has whitespace at an end", name)
		}
	})
}
