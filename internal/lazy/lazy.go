// Package lazy holds values that are built on first use.
//
// A package-level variable set by a function call, such as
// regexp.MustCompile or sync.OnceValue, gives its package initialization
// code, which runs at every start of every program that links the package.
// jupygo links the hub into the executable that runs `jupygo server`, and
// each package that runs such code makes the kernel map the 64 KiB of the
// executable around it. A Value's zero value is ready to use, so a
// package-level Value adds no initialization code.
package lazy

import "sync"

// Value is a value of type T that Get builds on its first call. The zero
// Value is ready to use. A Value must not be copied after the first Get.
type Value[T any] struct {
	once sync.Once
	v    T
}

// Get returns the value, calling build to make it on the first call. It is
// safe for concurrent use: callers wait until build returns. build must not
// call Get on the same Value, and if it panics, later calls return the zero
// T.
func (l *Value[T]) Get(build func() T) T {
	l.once.Do(func() { l.v = build() })
	return l.v
}
