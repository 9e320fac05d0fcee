package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// maxSecretFileBytes bounds what ReadSecretFile reads, because secrets are
// tokens and keys of a few hundred bytes.
const maxSecretFileBytes = 64 << 10

// ReadSecretFile returns the contents of the file at path without leading
// and trailing white space. It rejects anything but a regular file, a file
// that group or others may access (any of the mode bits 0077), a file
// owned by another account than the process's effective uid or root, a
// file larger than 64 KiB and an empty file. The owner of a file can read
// it and change its mode, so a secret of another account is known to that
// account. Mode and owner are checked on the opened file, so a rename
// between the check and the read cannot swap it.
func ReadSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%s has mode %04o, so group or others may access it: "+
			"run chmod 600 %s", path, perm, path)
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		if euid := os.Geteuid(); st.Uid != 0 && int(st.Uid) != euid {
			return "", fmt.Errorf("%s belongs to uid %d, not to root or to uid %d that the hub "+
				"runs as, so that account can read it: run chown %d %s", path, st.Uid, euid,
				euid, path)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxSecretFileBytes {
		return "", fmt.Errorf("%s is larger than %d bytes", path, maxSecretFileBytes)
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return "", errors.New(path + " is empty")
	}
	return text, nil
}

// splitKeys splits a list of secrets written in one string, separated by
// ";" as JUPYTERHUB_CRYPT_KEY does, or by newlines as in a file.
func splitKeys(s string) []string {
	var keys []string
	for _, line := range strings.Split(s, "\n") {
		for _, k := range strings.Split(line, ";") {
			if k = strings.TrimSpace(k); k != "" {
				keys = append(keys, k)
			}
		}
	}
	return keys
}
