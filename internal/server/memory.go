package server

import (
	"io"
	"runtime/debug"
	"sync/atomic"
)

// largeTransfer is the size of a request body or response from which the
// server returns its free memory to the system once the request is done.
// Saving or reading a notebook of 100 MB takes several times its size while
// the request runs. Go's runtime would keep that memory until its next
// collection, which an idle server runs only every two minutes, and then
// return it page by page.
const largeTransfer = 64 << 20

// memoryReleaser returns free memory to the system after large requests, in
// the background and one release at a time.
type memoryReleaser struct {
	running atomic.Bool
	// release is debug.FreeOSMemory, replaced in tests.
	release func()
}

// afterRequest releases memory when a request moved at least largeTransfer
// bytes. The request's buffers are garbage by then.
func (m *memoryReleaser) afterRequest(transferred int64) {
	if transferred < largeTransfer || !m.running.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer m.running.Store(false)
		if m.release != nil {
			m.release()
			return
		}
		// Buffers that sync.Pools kept survive one collection, as the pools'
		// victims, and go with the second.
		debug.FreeOSMemory()
		debug.FreeOSMemory()
	}()
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	read int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	return n, err
}
