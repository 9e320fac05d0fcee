package kernel

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run when a goroutine of the package outlives the
// tests: every test closes its manager, which must wait for all of them.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines still running after the tests:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines returns the stacks of goroutines running the package's
// long-lived functions. A goroutine that has just called wg.Done may still
// be returning, so the check is repeated for up to a second.
func leakedGoroutines() string {
	owned := []string{
		"kernel.(*channels).run", "kernel.(*Kernel).supervise", "kernel.(*Kernel).watch",
		"kernel.(*bridge).", "kernel.(*Manager).serveChannels", "kernel.(*fakeKernel).run",
		"kernel.(*Manager).startCuller",
	}
	var leaked []string
	for range 100 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		leaked = leaked[:0]
		for _, g := range strings.Split(string(buf), "\n\n") {
			for _, fn := range owned {
				if strings.Contains(g, fn) {
					leaked = append(leaked, g)
					break
				}
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		time.Sleep(10 * time.Millisecond)
	}
	return strings.Join(leaked, "\n\n")
}
