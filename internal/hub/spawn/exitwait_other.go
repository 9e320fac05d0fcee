//go:build !linux

package spawn

// awaitExit returns false: without pidfds the reaper waits in Wait.
func awaitExit(int) bool { return false }
