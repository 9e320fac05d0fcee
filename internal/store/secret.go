package store

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Token hashing follows JupyterHub's scheme: the first tokenPrefixLength
// characters are kept in clear to find candidate rows, and the whole token
// is stored as "sha512:ROUNDS:SALT:HEXDIGEST", the SHA-512 of the salt
// followed by ROUNDS copies of the token.
const (
	tokenPrefixLength = 4
	// generatedRounds is used for tokens made by GenerateToken, whose 128
	// random bits make a slow hash pointless.
	generatedRounds = 1
	// suppliedRounds is used for tokens and secrets that came from outside,
	// such as a configured service token, which may be guessable.
	suppliedRounds = 16384
	// maxRounds bounds the work that verifying a stored hash can cause.
	maxRounds = 1 << 20
	saltBytes = 8
)

// MinTokenLength is the shortest token that CreateToken accepts from its
// caller, as in JupyterHub.
const MinTokenLength = 8

// GenerateToken returns a new random token of 32 hexadecimal characters
// (128 bits).
func GenerateToken() string {
	b := make([]byte, 16)
	rand.Read(b) // never returns an error since Go 1.24
	return hex.EncodeToString(b)
}

// tokenPrefix returns the part of token kept in clear.
func tokenPrefix(token string) string {
	if len(token) < tokenPrefixLength {
		return token
	}
	return token[:tokenPrefixLength]
}

// hashSecret returns the stored form of a token or secret, with a new
// random salt.
func hashSecret(secret string, rounds int) string {
	salt := make([]byte, saltBytes)
	rand.Read(salt)
	saltHex := hex.EncodeToString(salt)
	return fmt.Sprintf("sha512:%d:%s:%s", rounds, saltHex, digest(saltHex, secret, rounds))
}

// digest returns the hex SHA-512 of salt followed by rounds copies of secret.
func digest(salt, secret string, rounds int) string {
	h := sha512.New()
	h.Write([]byte(salt))
	b := []byte(secret)
	for range rounds {
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkSecret reports whether secret matches stored, the output of
// hashSecret. The digests are compared in constant time. A malformed
// stored value matches nothing.
func checkSecret(secret, stored string) bool {
	parts := strings.Split(stored, ":")
	if len(parts) != 4 || parts[0] != "sha512" {
		return false
	}
	rounds, err := strconv.Atoi(parts[1])
	if err != nil || rounds < 1 || rounds > maxRounds {
		return false
	}
	want := parts[3]
	got := digest(parts[2], secret, rounds)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// hashCode returns the stored form of an OAuth authorization code: its
// SHA-256, unsalted so that the code can be looked up by its hash. Codes
// are random and short-lived, so a salt would add nothing.
func hashCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// HashPassword returns the bcrypt hash of password for User.PasswordHash.
// bcrypt reads at most 72 bytes, so a longer password is an error
// (bcrypt.ErrPasswordTooLong) instead of being cut silently.
func HashPassword(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	return string(hash), nil
}

// CheckPassword reports whether password matches hash, a bcrypt hash from
// HashPassword. An empty or malformed hash matches no password.
func CheckPassword(hash, password string) bool {
	if hash == "" {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
