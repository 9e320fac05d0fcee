package spawn

import (
	"encoding/binary"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// fileWatcher is one inotify instance shared by the followers of every
// server's output file, so that a quiet server costs the hub no reads.
type fileWatcher struct {
	once sync.Once
	fd   int
	file *os.File // fd, read through the Go poller
	err  error

	mu      sync.Mutex
	waiters map[int32][]chan struct{} // by watch descriptor; guarded by mu
	failed  bool                      // reading events failed; guarded by mu
}

var outputWatcher fileWatcher

func (w *fileWatcher) start() error {
	w.once.Do(func() {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
		if err != nil {
			w.err = err
			return
		}
		w.fd = fd
		w.file = os.NewFile(uintptr(fd), "inotify")
		w.waiters = make(map[int32][]chan struct{})
		go w.run()
	})
	return w.err
}

// run reads events until reading fails, and wakes the waiters of each
// changed file. A queue overflow or a failure wakes every waiter, and
// after a failure no new watches are made.
func (w *fileWatcher) run() {
	buf := make([]byte, 16<<10)
	for {
		n, err := w.file.Read(buf)
		w.mu.Lock()
		if err != nil {
			w.failed = true
			w.wakeAllLocked()
			w.mu.Unlock()
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			wd := int32(binary.NativeEndian.Uint32(buf[off:]))
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			off += unix.SizeofInotifyEvent + nameLen
			if mask&unix.IN_Q_OVERFLOW != 0 {
				w.wakeAllLocked()
				continue
			}
			for _, c := range w.waiters[wd] {
				wake(c)
			}
		}
		w.mu.Unlock()
	}
}

func (w *fileWatcher) wakeAllLocked() {
	for _, chans := range w.waiters {
		for _, c := range chans {
			wake(c)
		}
	}
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// watchFile returns a channel that receives a value after f is written
// to, and a function that ends the watch. ok is false when f cannot be
// watched, and then the caller polls.
func watchFile(f *os.File) (changed <-chan struct{}, stop func(), ok bool) {
	w := &outputWatcher
	if w.start() != nil {
		return nil, nil, false
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return nil, nil, false
	}
	// The watch is made through /proc/self/fd, so it is on the very file
	// that f reads, even if the path now names another.
	var wd int
	var addErr error
	if err := raw.Control(func(fd uintptr) {
		wd, addErr = unix.InotifyAddWatch(w.fd, "/proc/self/fd/"+strconv.Itoa(int(fd)), unix.IN_MODIFY)
	}); err != nil || addErr != nil {
		return nil, nil, false
	}
	c := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed {
		unix.InotifyRmWatch(w.fd, uint32(wd))
		return nil, nil, false
	}
	// inotify returns the same descriptor for a file watched twice.
	w.waiters[int32(wd)] = append(w.waiters[int32(wd)], c)
	return c, func() { w.unwatch(int32(wd), c) }, true
}

func (w *fileWatcher) unwatch(wd int32, c chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	chans := w.waiters[wd]
	for i, x := range chans {
		if x == c {
			chans = append(chans[:i], chans[i+1:]...)
			break
		}
	}
	if len(chans) > 0 {
		w.waiters[wd] = chans
		return
	}
	delete(w.waiters, wd)
	unix.InotifyRmWatch(w.fd, uint32(wd))
}
