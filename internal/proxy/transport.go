package proxy

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults for the Options fields of the upstream transport.
const (
	DefaultDialTimeout         = 10 * time.Second
	DefaultIdleConnTimeout     = 30 * time.Second
	DefaultMaxIdleConnsPerHost = 128
)

// newTransport returns the transport to upstreams: HTTP/1.1 with keep-alive,
// no proxy from the environment, and bodies passed through unchanged.
func newTransport(o *Options) *http.Transport {
	dialer := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       o.TLSClientConfig,
		TLSHandshakeTimeout:   o.DialTimeout,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       o.IdleConnTimeout,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		DisableCompression:    true,
	}
}

// copyBufferSize is the size of the buffers that copy bodies.
const copyBufferSize = 32 << 10

// bufferPool implements httputil.BufferPool with a sync.Pool.
type bufferPool struct {
	pool sync.Pool
}

func (b *bufferPool) Get() []byte {
	if p, ok := b.pool.Get().(*[]byte); ok {
		return *p
	}
	return make([]byte, copyBufferSize)
}

func (b *bufferPool) Put(buf []byte) {
	if cap(buf) < copyBufferSize {
		return
	}
	buf = buf[:copyBufferSize]
	b.pool.Put(&buf)
}
