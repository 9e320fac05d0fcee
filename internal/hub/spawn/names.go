package spawn

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxServerNameLength is the longest server name JupyterHub 6 accepts for
// a new server. Two such names joined with "--" fit in a DNS label (63).
const maxServerNameLength = 30

// ValidateServerName reports whether name may name a new server, as
// JupyterHub 6 checks it (jupyterhub.slugs.is_valid_safe_slug): 1 to 30
// characters, lowercase ASCII letters, digits and single hyphens, starting
// with a letter and ending with a letter or digit. The empty name of the
// default server is not a server name and is rejected here.
func ValidateServerName(name string) error {
	if name == "" {
		return errors.New("invalid server name: it is empty")
	}
	if len(name) > maxServerNameLength {
		return fmt.Errorf("invalid server name %q: it has more than %d characters",
			name, maxServerNameLength)
	}
	if name[0] < 'a' || name[0] > 'z' {
		return fmt.Errorf("invalid server name %q: it must start with a lowercase letter a-z", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && i+1 < len(name) && name[i+1] != '-':
		case c == '-' && i+1 == len(name):
			return fmt.Errorf("invalid server name %q: it must end with a letter or digit", name)
		case c == '-':
			return fmt.Errorf("invalid server name %q: it contains two hyphens in a row", name)
		default:
			return fmt.Errorf("invalid server name %q: use only lowercase letters a-z, "+
				"digits and single hyphens", name)
		}
	}
	return nil
}

// maxDisplayNameLength is JupyterHub 6's limit on display names, in
// characters (code points).
const maxDisplayNameLength = 255

// ValidateDisplayName reports whether name may be a server's display name,
// as JupyterHub 6 checks it (jupyterhub.slugs.is_valid_display_name): 1 to
// 255 characters that are letters, marks, numbers, punctuation, symbols or
// single spaces, and no space at either end. Callers normalize name to
// Unicode NFC first, as JupyterHub does.
func ValidateDisplayName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("invalid display name %q: it is not UTF-8", name)
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > maxDisplayNameLength {
		return fmt.Errorf("invalid display name %q: it must have 1 to %d characters",
			name, maxDisplayNameLength)
	}
	if strings.HasPrefix(name, " ") || strings.HasSuffix(name, " ") ||
		strings.Contains(name, "  ") {
		return fmt.Errorf("invalid display name %q: spaces are allowed only "+
			"one at a time and between other characters", name)
	}
	for _, r := range name {
		if r != ' ' && !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S) {
			return fmt.Errorf("invalid display name %q: character %U is whitespace "+
				"or not printable", name, r)
		}
	}
	return nil
}

// maxUserNameBytes is the longest file name Linux allows (NAME_MAX), since
// the simple spawner names a folder after each user.
const maxUserNameBytes = 255

// ValidateUserName reports whether name may name a hub user whose servers
// the simple spawner starts. It applies JupyterHub's own rules
// (Authenticator.validate_username: not empty, no "/", no whitespace at
// either end). Because each user gets a home folder of that name, it also
// applies the rules of a folder name: no NUL byte, not "." or "..", and at
// most 255 bytes. Unlike JupyterHub, it also rejects the characters that
// CheckHiddenCharacters rejects.
// Authenticators lowercase names before this check; it does not.
// LocalProcess, which runs servers as system accounts, also applies the
// stricter rules of ValidateSystemUserName.
func ValidateUserName(name string) error {
	switch {
	case name == "":
		return errors.New("invalid user name: it is empty")
	case strings.Contains(name, "/"):
		return fmt.Errorf("invalid user name %q: it contains '/'", name)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("invalid user name %q: it starts or ends with whitespace", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("invalid user name %q: it contains a NUL byte", name)
	case name == "." || name == "..":
		return fmt.Errorf("invalid user name %q: it cannot name a folder", name)
	case len(name) > maxUserNameBytes:
		return fmt.Errorf("invalid user name %q: it is longer than %d bytes",
			name, maxUserNameBytes)
	}
	return CheckHiddenCharacters("user", name)
}

// CheckHiddenCharacters rejects a name of the given kind ("user",
// "group") with a character that shows as nothing or changes how the text
// around it shows. Such a name can look like another in a list, a log or
// a terminal. The characters are the controls, the format characters of
// Unicode category Cf (U+200B ZERO WIDTH SPACE, U+FEFF, the bidi
// formatting characters and others), and the separators U+2028 and
// U+2029.
func CheckHiddenCharacters(kind, name string) error {
	for _, r := range name {
		switch {
		case unicode.IsControl(r):
			return fmt.Errorf("invalid %s name %q: it contains the control character %U",
				kind, name, r)
		case isBidiFormatting(r):
			return fmt.Errorf("invalid %s name %q: it contains the bidirectional formatting "+
				"character %U, which can make text look reordered", kind, name, r)
		case unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return fmt.Errorf("invalid %s name %q: it contains the invisible character %U, "+
				"which can make it look like another name", kind, name, r)
		}
	}
	return nil
}

// isBidiFormatting reports whether r is one of the embedding, override and
// isolate characters of Unicode's bidirectional algorithm:
// U+202A to U+202E and U+2066 to U+2069.
func isBidiFormatting(r rune) bool {
	return ('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}
