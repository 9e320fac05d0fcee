package contents

import (
	"io/fs"
	"sync"
	"time"
)

// plainFiles remembers the notebooks on disk whose number literals all
// survive a round trip through a browser's JSON parser unchanged. A save of
// such a file needs no KeepNumberLiterals pass, which would read and parse
// the old file again. Entries are keyed by path and checked against size and
// modification time, so a file changed by anyone else is read again.
type plainFiles struct {
	mu    sync.Mutex
	files map[string]fileStamp
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// maxPlainFiles bounds the memory of plainFiles; past it the map is reset.
const maxPlainFiles = 4096

// record notes whether the file p, as fi describes it, holds only plain
// number literals.
func (c *plainFiles) record(p string, fi fs.FileInfo, plain bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !plain {
		delete(c.files, p)
		return
	}
	if c.files == nil || len(c.files) >= maxPlainFiles {
		c.files = make(map[string]fileStamp)
	}
	c.files[p] = fileStamp{size: fi.Size(), mod: fi.ModTime()}
}

// plain reports whether the file p, as fi describes it now, is known to hold
// only literals that browsers keep.
func (c *plainFiles) plain(p string, fi fs.FileInfo) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.files[p]
	return ok && s.size == fi.Size() && s.mod.Equal(fi.ModTime())
}

// plainInteger reports whether the number literal s is an integer that a
// JavaScript JSON round trip writes back unchanged: at most 15 digits, no
// leading zero, no fraction or exponent. Every other literal, such as 1.0,
// 1e5 or an integer beyond 2^53, may come back written differently.
func plainInteger(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 15 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
