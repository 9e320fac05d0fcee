package lazy

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestGetBuildsOnce(t *testing.T) {
	var v Value[[]string]
	var builds atomic.Int32
	build := func() []string {
		builds.Add(1)
		return []string{"a", "b"}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := v.Get(build); len(got) != 2 || got[0] != "a" {
				t.Errorf("Get = %q, want [a b]", got)
			}
		})
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("build ran %d times, want 1", n)
	}
}

func TestGetAfterPanic(t *testing.T) {
	var v Value[int]
	func() {
		defer func() { _ = recover() }()
		v.Get(func() int { panic("build failed") })
	}()
	if got := v.Get(func() int { return 1 }); got != 0 {
		t.Errorf("Get after a panicking build = %d, want 0", got)
	}
}
