package kernel

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#if ZMQ_VERSION < ZMQ_MAKE_VERSION(4, 3, 0)
#error "the kernel channels need libzmq 4.3 or later"
#endif

// libzmq is loaded with dlopen when the first kernel starts, not linked,
// so that a server without kernels and the hub never map it and the
// libraries it needs (libstdc++, libsodium, libgssapi_krb5 and others).
// Every zmq_ call below goes through these pointers, which the macros
// stand in for. kernel_load_zmq sets them all before any is called.
#define KERNEL_ZMQ_FUNCS(X) \
	X(zmq_version) X(zmq_strerror) X(zmq_errno) X(zmq_ctx_new) X(zmq_ctx_term) \
	X(zmq_socket) X(zmq_close) X(zmq_setsockopt) X(zmq_getsockopt) X(zmq_connect) \
	X(zmq_socket_monitor) X(zmq_send) X(zmq_msg_init) X(zmq_msg_recv) X(zmq_msg_close) \
	X(zmq_msg_data) X(zmq_msg_size) X(zmq_msg_more)

#define KERNEL_ZMQ_POINTER(name) static __typeof__(name) *kernel_p_##name;
KERNEL_ZMQ_FUNCS(KERNEL_ZMQ_POINTER)

#define zmq_version (*kernel_p_zmq_version)
#define zmq_strerror (*kernel_p_zmq_strerror)
#define zmq_errno (*kernel_p_zmq_errno)
#define zmq_ctx_new (*kernel_p_zmq_ctx_new)
#define zmq_ctx_term (*kernel_p_zmq_ctx_term)
#define zmq_socket (*kernel_p_zmq_socket)
#define zmq_close (*kernel_p_zmq_close)
#define zmq_setsockopt (*kernel_p_zmq_setsockopt)
#define zmq_getsockopt (*kernel_p_zmq_getsockopt)
#define zmq_connect (*kernel_p_zmq_connect)
#define zmq_socket_monitor (*kernel_p_zmq_socket_monitor)
#define zmq_send (*kernel_p_zmq_send)
#define zmq_msg_init (*kernel_p_zmq_msg_init)
#define zmq_msg_recv (*kernel_p_zmq_msg_recv)
#define zmq_msg_close (*kernel_p_zmq_msg_close)
#define zmq_msg_data (*kernel_p_zmq_msg_data)
#define zmq_msg_size (*kernel_p_zmq_msg_size)
#define zmq_msg_more (*kernel_p_zmq_msg_more)

#ifdef __APPLE__
#define KERNEL_ZMQ_LIBRARY "libzmq.5.dylib"
#else
#define KERNEL_ZMQ_LIBRARY "libzmq.so.5"
#endif

static char kernel_load_error[512];

// kernel_load_zmq opens libzmq and looks up every function the binding
// calls. It returns NULL, or a message saying what failed. It is called
// once, before any other function here.
static const char *kernel_load_zmq(void) {
	void *lib = dlopen(KERNEL_ZMQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(kernel_load_error, sizeof kernel_load_error, "%s", dlerror());
		return kernel_load_error;
	}
#define KERNEL_ZMQ_LOOKUP(name) \
	kernel_p_##name = (__typeof__(kernel_p_##name))dlsym(lib, #name); \
	if (kernel_p_##name == NULL) { \
		snprintf(kernel_load_error, sizeof kernel_load_error, \
			"%s has no function %s", KERNEL_ZMQ_LIBRARY, #name); \
		return kernel_load_error; \
	}
	KERNEL_ZMQ_FUNCS(KERNEL_ZMQ_LOOKUP)
	int major, minor, patch;
	zmq_version(&major, &minor, &patch);
	if (ZMQ_MAKE_VERSION(major, minor, patch) < ZMQ_MAKE_VERSION(4, 3, 0)) {
		snprintf(kernel_load_error, sizeof kernel_load_error,
			"%s is version %d.%d.%d, and the kernel channels need 4.3 or later",
			KERNEL_ZMQ_LIBRARY, major, minor, patch);
		return kernel_load_error;
	}
	return NULL;
}

static const char *kernel_strerror(int errnum) {
	return zmq_strerror(errnum);
}

static void *kernel_ctx_new(int *err) {
	void *ctx = zmq_ctx_new();
	*err = ctx == NULL ? zmq_errno() : 0;
	return ctx;
}

static void *kernel_socket(void *ctx, int type, int *err) {
	void *socket = zmq_socket(ctx, type);
	*err = socket == NULL ? zmq_errno() : 0;
	return socket;
}

typedef struct {
	const void *data;
	size_t size;
	int more;
} kernel_frame;

// kernel_recv closes the open messages of the previous call. Then it
// receives frames from socket into msgs and frames without waiting. It stops
// when the socket has none left, when max frames are held, or when a message
// ends past max_bytes. It returns the number of frames received and stores
// in *err the errno of the receive that stopped it, or 0 for a limit.
static int kernel_recv(void *socket, zmq_msg_t *msgs, kernel_frame *frames,
		int open, int max, size_t max_bytes, int *err) {
	for (int i = 0; i < open; i++) {
		zmq_msg_close(&msgs[i]);
	}
	int n = 0;
	size_t bytes = 0;
	*err = 0;
	while (n < max) {
		zmq_msg_t *m = &msgs[n];
		zmq_msg_init(m);
		int rc;
		do {
			rc = zmq_msg_recv(m, socket, ZMQ_DONTWAIT);
		} while (rc < 0 && zmq_errno() == EINTR);
		if (rc < 0) {
			*err = zmq_errno();
			zmq_msg_close(m);
			break;
		}
		frames[n].data = zmq_msg_data(m);
		frames[n].size = zmq_msg_size(m);
		frames[n].more = zmq_msg_more(m);
		bytes += frames[n].size;
		n++;
		if (!frames[n - 1].more && bytes >= max_bytes) {
			break;
		}
	}
	return n;
}

static void kernel_close_msgs(zmq_msg_t *msgs, int n) {
	for (int i = 0; i < n; i++) {
		zmq_msg_close(&msgs[i]);
	}
}

// kernel_send sends the n frames stored one after another in data, whose
// sizes are in sizes, as one message without waiting. It returns 0 or the
// errno of the failed send. libzmq queues a message whole or not at all, so
// only the first frame can fail with EAGAIN.
static int kernel_send(void *socket, const char *data, const size_t *sizes, int n) {
	for (int i = 0; i < n; i++) {
		int flags = ZMQ_DONTWAIT;
		if (i < n - 1) {
			flags |= ZMQ_SNDMORE;
		}
		int rc;
		do {
			rc = zmq_send(socket, data, sizes[i], flags);
		} while (rc < 0 && zmq_errno() == EINTR);
		if (rc < 0) {
			return zmq_errno();
		}
		data += sizes[i];
	}
	return 0;
}

static int kernel_ctx_term(void *ctx) {
	int rc;
	do {
		rc = zmq_ctx_term(ctx);
	} while (rc < 0 && zmq_errno() == EINTR);
	return rc < 0 ? zmq_errno() : 0;
}

static int kernel_setsockopt_int(void *socket, int option, int value) {
	return zmq_setsockopt(socket, option, &value, sizeof value) < 0 ? zmq_errno() : 0;
}

static int kernel_setsockopt_bytes(void *socket, int option, const void *value, size_t size) {
	return zmq_setsockopt(socket, option, value, size) < 0 ? zmq_errno() : 0;
}

static int kernel_fd(void *socket, int *fd) {
	size_t size = sizeof *fd;
	return zmq_getsockopt(socket, ZMQ_FD, fd, &size) < 0 ? zmq_errno() : 0;
}

static int kernel_connect(void *socket, const char *endpoint) {
	return zmq_connect(socket, endpoint) < 0 ? zmq_errno() : 0;
}

static int kernel_monitor(void *socket, const char *endpoint, int events) {
	return zmq_socket_monitor(socket, endpoint, events) < 0 ? zmq_errno() : 0;
}

static int kernel_close(void *socket) {
	return zmq_close(socket) < 0 ? zmq_errno() : 0;
}
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"unsafe"
)

// The channels call libzmq through this small binding rather than through
// github.com/pebbe/zmq4, which makes about six cgo calls per frame and so
// some 40 per Jupyter message. Every cgo call can wake the Go scheduler's
// sysmon thread. Here one call receives every message a socket has queued,
// and one call sends a whole message.

// Socket types, options and events of libzmq.
const (
	zmqPair   = C.ZMQ_PAIR
	zmqDealer = C.ZMQ_DEALER
	zmqSub    = C.ZMQ_SUB

	zmqLinger       = C.ZMQ_LINGER
	zmqReconnectIvl = C.ZMQ_RECONNECT_IVL
	zmqRoutingID    = C.ZMQ_ROUTING_ID
	zmqSubscribe    = C.ZMQ_SUBSCRIBE

	zmqEventHandshakeSucceeded = C.ZMQ_EVENT_HANDSHAKE_SUCCEEDED
)

// Limits of one receive call.
const (
	// recvFrames is the number of frames one call can hold. A message with
	// more frames continues in the next call.
	recvFrames = 128
	// recvBytes ends a call at the first message boundary past it.
	recvBytes = 1 << 20
	// recvKeepBytes is the size up to which the frames of a call stay open
	// until the next call, which closes them, saving a cgo call.
	recvKeepBytes = 64 << 10
)

// zmqErrno is an errno returned by libzmq, which has numbers of its own
// beyond the system's, such as ETERM.
type zmqErrno C.int

func (e zmqErrno) Error() string {
	if loadZMQ() != nil {
		return syscall.Errno(e).Error()
	}
	return C.GoString(C.kernel_strerror(C.int(e)))
}

// errAgain is the errno of a receive or send that would block.
var errAgain error = zmqErrno(C.EAGAIN)

func zmqError(errno C.int) error {
	if errno == 0 {
		return nil
	}
	return zmqErrno(errno)
}

// loadZMQ loads libzmq on its first call and returns the error of that
// load on every call.
var loadZMQ = sync.OnceValue(func() error {
	if msg := C.kernel_load_zmq(); msg != nil {
		return fmt.Errorf("loading libzmq, which kernels need: %s (on Debian and Ubuntu, "+
			"install the package libzmq5)", C.GoString(msg))
	}
	return nil
})

// zmqContext is a libzmq context: its I/O thread serves every socket made
// from it. The context, and libzmq itself, are created with the first
// socket.
type zmqContext struct {
	mu         sync.Mutex
	ptr        unsafe.Pointer
	terminated bool
}

func newZMQContext() (*zmqContext, error) {
	return &zmqContext{}, nil
}

// start loads libzmq and creates the context, unless an earlier call did.
func (c *zmqContext) start() (unsafe.Pointer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminated {
		return nil, zmqErrno(C.ETERM)
	}
	if c.ptr != nil {
		return c.ptr, nil
	}
	if err := loadZMQ(); err != nil {
		return nil, err
	}
	var errno C.int
	ptr := C.kernel_ctx_new(&errno)
	if ptr == nil {
		return nil, fmt.Errorf("creating the ZeroMQ context: %w", zmqErrno(errno))
	}
	c.ptr = ptr
	return ptr, nil
}

// term closes the context. It blocks until every socket made from it is
// closed.
func (c *zmqContext) term() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.terminated = true
	if c.ptr == nil {
		return nil
	}
	return zmqError(C.kernel_ctx_term(c.ptr))
}

// zmqSocket is one libzmq socket. Like the libzmq socket, it is not safe
// for concurrent use.
type zmqSocket struct {
	ptr    unsafe.Pointer
	msgs   *C.zmq_msg_t    // recvFrames messages, in C memory
	frames *C.kernel_frame // recvFrames frame descriptions, in C memory
	open   int             // messages left open by the last receive
	// partial holds the frames of a message whose last frame has not been
	// received yet.
	partial [][]byte
	sendBuf []byte
	sizes   []C.size_t
}

func (c *zmqContext) socket(typ int) (*zmqSocket, error) {
	ctx, err := c.start()
	if err != nil {
		return nil, err
	}
	var errno C.int
	ptr := C.kernel_socket(ctx, C.int(typ), &errno)
	if ptr == nil {
		return nil, fmt.Errorf("creating a ZeroMQ socket: %w", zmqErrno(errno))
	}
	s := &zmqSocket{ptr: ptr}
	s.msgs = (*C.zmq_msg_t)(C.calloc(recvFrames, C.size_t(unsafe.Sizeof(C.zmq_msg_t{}))))
	s.frames = (*C.kernel_frame)(C.calloc(recvFrames, C.size_t(unsafe.Sizeof(C.kernel_frame{}))))
	if s.msgs == nil || s.frames == nil {
		s.close()
		return nil, errors.New("allocating the receive buffers of a ZeroMQ socket failed")
	}
	return s, nil
}

// close closes the socket and frees its buffers.
func (s *zmqSocket) close() error {
	if s.ptr == nil {
		return nil
	}
	C.kernel_close_msgs(s.msgs, C.int(s.open))
	err := zmqError(C.kernel_close(s.ptr))
	C.free(unsafe.Pointer(s.msgs))
	C.free(unsafe.Pointer(s.frames))
	*s = zmqSocket{}
	return err
}

func (s *zmqSocket) setInt(option, value int) error {
	return zmqError(C.kernel_setsockopt_int(s.ptr, C.int(option), C.int(value)))
}

func (s *zmqSocket) setBytes(option int, value []byte) error {
	var p unsafe.Pointer
	if len(value) > 0 {
		p = unsafe.Pointer(&value[0])
	}
	return zmqError(C.kernel_setsockopt_bytes(s.ptr, C.int(option), p, C.size_t(len(value))))
}

// fd returns the socket's ZMQ_FD, which signals when libzmq has commands
// for the socket, such as the arrival of messages.
func (s *zmqSocket) fd() (int, error) {
	var fd C.int
	if err := zmqError(C.kernel_fd(s.ptr, &fd)); err != nil {
		return 0, err
	}
	return int(fd), nil
}

func (s *zmqSocket) connect(endpoint string) error {
	cs := C.CString(endpoint)
	defer C.free(unsafe.Pointer(cs))
	if err := zmqError(C.kernel_connect(s.ptr, cs)); err != nil {
		return fmt.Errorf("connecting to %s: %w", endpoint, err)
	}
	return nil
}

// monitor publishes the given events of the socket on a PAIR socket bound
// to the inproc endpoint. An empty endpoint stops the monitor.
func (s *zmqSocket) monitor(endpoint string, events int) error {
	var cs *C.char
	if endpoint != "" {
		cs = C.CString(endpoint)
		defer C.free(unsafe.Pointer(cs))
	}
	return zmqError(C.kernel_monitor(s.ptr, cs, C.int(events)))
}

// receive reads the messages the socket has queued, up to the limits of one
// call, and returns their frames. The frames of each message share one
// allocation. The returned error is errAgain once the socket has no message
// left, and nil when a limit ended the call first.
func (s *zmqSocket) receive() ([][][]byte, error) {
	var errno C.int
	n := int(C.kernel_recv(s.ptr, s.msgs, s.frames, C.int(s.open), recvFrames, recvBytes, &errno))
	s.open = n
	frames := unsafe.Slice(s.frames, recvFrames)[:n]
	var msgs [][][]byte
	bytes := 0
	start := 0
	for i, f := range frames {
		bytes += int(f.size)
		if f.more != 0 {
			continue
		}
		msgs = append(msgs, s.copyMessage(frames[start:i+1]))
		start = i + 1
	}
	for _, f := range frames[start:] {
		s.partial = append(s.partial, copyFrame(f))
	}
	if bytes > recvKeepBytes {
		C.kernel_close_msgs(s.msgs, C.int(s.open))
		s.open = 0
	}
	return msgs, zmqError(errno)
}

// copyMessage returns the frames of a message: those held in s.partial,
// then copies of frames, which end it.
func (s *zmqSocket) copyMessage(frames []C.kernel_frame) [][]byte {
	size := 0
	for _, f := range frames {
		size += int(f.size)
	}
	buf := make([]byte, size)
	msg := append(s.partial, make([][]byte, 0, len(frames))...)
	s.partial = nil
	for _, f := range frames {
		n := copy(buf, frameBytes(f))
		msg = append(msg, buf[:n:n])
		buf = buf[n:]
	}
	return msg
}

func copyFrame(f C.kernel_frame) []byte {
	return append([]byte(nil), frameBytes(f)...)
}

// frameBytes returns the data of f, in libzmq's memory.
func frameBytes(f C.kernel_frame) []byte {
	if f.size == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(f.data), int(f.size))
}

// send sends frames as one message without waiting. It returns errAgain
// when the socket cannot take the message now, for example a DEALER
// without a connected peer.
func (s *zmqSocket) send(frames [][]byte) error {
	s.sendBuf = s.sendBuf[:0]
	s.sizes = s.sizes[:0]
	for _, f := range frames {
		s.sendBuf = append(s.sendBuf, f...)
		s.sizes = append(s.sizes, C.size_t(len(f)))
	}
	if len(s.sizes) == 0 {
		return errors.New("sending a message without frames")
	}
	var data *C.char
	if len(s.sendBuf) > 0 {
		data = (*C.char)(unsafe.Pointer(&s.sendBuf[0]))
	}
	err := zmqError(C.kernel_send(s.ptr, data, &s.sizes[0], C.int(len(s.sizes))))
	if cap(s.sendBuf) > recvKeepBytes {
		// A large message's copy is not kept for the next one.
		s.sendBuf = nil
	}
	return err
}

// monitorEvent returns the event number of a message from a socket
// monitor: a frame with a 16-bit event number and a 32-bit value in host
// byte order, then a frame with the endpoint.
func monitorEvent(frames [][]byte) (int, error) {
	if len(frames) != 2 || len(frames[0]) != 6 {
		return 0, fmt.Errorf("socket monitor message of %d frames is not an event", len(frames))
	}
	return int(binary.NativeEndian.Uint16(frames[0])), nil
}
