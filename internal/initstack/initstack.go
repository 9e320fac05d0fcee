// Package initstack grows the main goroutine's stack once, before the
// packages that need a deep stack run their initialization.
//
// Go initializes packages one at a time on the main goroutine, whose stack
// starts at a few KiB. github.com/gomarkdown/markdown compiles regular
// expressions as it initializes, and the compiler's recursion grows that
// stack six times, to 128 KiB. Each growth copies the stack and reads the
// runtime's tables of every function on it, so those tables are mapped into
// every jupygo process: about 0.45 MiB of an idle server (docs/design.md).
// Growing the stack in one step while it is shallow reads the tables of a
// few frames only.
//
// A package with no imports is initialized before every package that waits
// for another one, in the order of import paths (the Go specification's
// "Package initialization"). So this package runs before gomarkdown's parser,
// which waits for regexp. cmd/jupygo imports it for that alone.
package initstack

func init() { grow() }

// frameSize makes the stack grow from its start to 128 KiB in one step:
// the runtime doubles the stack until the frame fits.
const frameSize = 96 << 10

// grow has a frame of frameSize bytes, so calling it grows the stack.
//
//go:noinline
func grow() {
	var frame [frameSize]byte
	use(frame[:])
}

//go:noinline
func use([]byte) {}
