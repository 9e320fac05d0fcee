package store

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestGenerateToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := GenerateToken()
		if len(tok) != 32 || strings.Trim(tok, "0123456789abcdef") != "" {
			t.Fatalf("GenerateToken() = %q, want 32 lowercase hexadecimal characters", tok)
		}
		if seen[tok] {
			t.Fatalf("GenerateToken() repeated %q", tok)
		}
		seen[tok] = true
	}
}

func TestHashSecret(t *testing.T) {
	for _, rounds := range []int{generatedRounds, suppliedRounds} {
		stored := hashSecret("token-value", rounds)
		parts := strings.Split(stored, ":")
		if len(parts) != 4 || parts[0] != "sha512" || len(parts[2]) != 2*saltBytes || len(parts[3]) != 128 {
			t.Errorf("hashSecret(rounds %d) = %q, want sha512:ROUNDS:SALT:DIGEST", rounds, stored)
		}
		if strings.Contains(stored, "token-value") {
			t.Errorf("stored form %q contains the secret", stored)
		}
		if !checkSecret("token-value", stored) {
			t.Errorf("checkSecret rejects the secret it hashed with %d rounds", rounds)
		}
		if checkSecret("token-valuf", stored) || checkSecret("", stored) {
			t.Errorf("checkSecret accepts a wrong secret for %q", stored)
		}
	}
	if hashSecret("x", 1) == hashSecret("x", 1) {
		t.Errorf("two hashes of one secret are equal, want different salts")
	}
}

func TestCheckSecretMalformed(t *testing.T) {
	good := hashSecret("secret", 1)
	parts := strings.Split(good, ":")
	tests := []string{
		"",
		"secret",
		"sha256:1:" + parts[2] + ":" + parts[3],
		"sha512:0:" + parts[2] + ":" + parts[3],
		"sha512:-1:" + parts[2] + ":" + parts[3],
		"sha512:99999999999:" + parts[2] + ":" + parts[3],
		"sha512:x:" + parts[2] + ":" + parts[3],
		"sha512:1:" + parts[2],
		"sha512:1:" + parts[2] + ":" + parts[3] + ":extra",
		"sha512:1:" + parts[2] + ":" + parts[3][:64],
	}
	for _, stored := range tests {
		if checkSecret("secret", stored) {
			t.Errorf("checkSecret accepts the malformed stored value %q", stored)
		}
	}
}

func TestHashCode(t *testing.T) {
	if hashCode("a") != hashCode("a") || hashCode("a") == hashCode("b") {
		t.Errorf("hashCode is not a function of the code")
	}
	if len(hashCode("a")) != 64 {
		t.Errorf("hashCode(a) = %q, want 64 hexadecimal characters", hashCode("a"))
	}
}

func TestPassword(t *testing.T) {
	hash, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		hash, password string
		want           bool
	}{
		{hash, "correct horse", true},
		{hash, "correct horsf", false},
		{hash, "", false},
		{"", "", false},
		{"not-a-hash", "correct horse", false},
	}
	for _, c := range checks {
		if got := CheckPassword(c.hash, c.password); got != c.want {
			t.Errorf("CheckPassword(%q, %q) = %v, want %v", c.hash, c.password, got, c.want)
		}
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); !errors.Is(err, bcrypt.ErrPasswordTooLong) {
		t.Errorf("HashPassword(73 bytes): got %v, want bcrypt.ErrPasswordTooLong", err)
	}
}
