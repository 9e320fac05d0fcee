//go:build !linux

package spawn

import "os"

// watchFile reports that f cannot be watched, so its follower polls.
func watchFile(*os.File) (changed <-chan struct{}, stop func(), ok bool) {
	return nil, nil, false
}
