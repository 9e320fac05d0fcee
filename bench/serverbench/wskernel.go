package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// wsReadLimit is the largest WebSocket message the client accepts.
const wsReadLimit = 64 << 20

// wsFrame is one message read from the WebSocket, or the error that ended
// reading.
type wsFrame struct {
	msg Message
	err error
}

// wsKernel is a kernelConn over a server's kernel WebSocket
// (/api/kernels/ID/channels). Unless it is synchronous, a reader goroutine
// decodes incoming frames into a channel, so recv can give up on its
// context without closing the connection. close stops the reader and waits
// for it.
//
// A synchronous wsKernel reads in recv itself, as the ZeroMQ client does,
// so that a timed round trip has no hand-off between goroutines in the
// client on either side. The end of recv's context closes its connection.
type wsKernel struct {
	conn      *websocket.Conn
	protocol  string // subprotocolV1, or "" for the legacy framing
	sessionID string
	frames    chan wsFrame // nil when synchronous
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// dialKernel opens the kernel WebSocket of kernel id with a reader
// goroutine, offering the v1 subprotocol unless legacy is set. The
// server's choice is in protocol.
func dialKernel(ctx context.Context, c *apiClient, id string, legacy bool) (*wsKernel, error) {
	k, err := dialKernelSync(ctx, c, id, legacy)
	if err != nil {
		return nil, err
	}
	readCtx, cancel := context.WithCancel(context.Background())
	k.frames, k.cancel = make(chan wsFrame, 1024), cancel
	k.wg.Add(1)
	go k.readLoop(readCtx)
	return k, nil
}

// dialKernelSync opens the kernel WebSocket of kernel id, like dialKernel,
// as a synchronous wsKernel.
func dialKernelSync(ctx context.Context, c *apiClient, id string, legacy bool) (*wsKernel, error) {
	sessionID := uuid.NewString()
	wsURL := "ws" + strings.TrimPrefix(c.base, "http") + "/api/kernels/" + url.PathEscape(id) +
		"/channels?session_id=" + url.QueryEscape(sessionID)
	opts := &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"token " + c.token}},
	}
	if !legacy {
		opts.Subprotocols = []string{subprotocolV1}
	}
	conn, resp, err := websocket.Dial(ctx, wsURL, opts)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("opening kernel websocket: status %d: %w", resp.StatusCode, err)
		}
		return nil, fmt.Errorf("opening kernel websocket: %w", err)
	}
	conn.SetReadLimit(wsReadLimit)
	protocol := conn.Subprotocol()
	if protocol != "" && protocol != subprotocolV1 {
		conn.Close(websocket.StatusProtocolError, "unknown subprotocol")
		return nil, fmt.Errorf("opening kernel websocket: server selected unknown subprotocol %q", protocol)
	}

	return &wsKernel{conn: conn, protocol: protocol, sessionID: sessionID}, nil
}

// readLoop decodes frames into k.frames until reading fails or ctx ends,
// then closes k.frames.
func (k *wsKernel) readLoop(ctx context.Context) {
	defer k.wg.Done()
	defer close(k.frames)
	for {
		var f wsFrame
		f.msg, f.err = k.read(ctx)
		select {
		case k.frames <- f:
		case <-ctx.Done():
			return
		}
		if f.err != nil {
			return
		}
	}
}

// read reads and decodes the next frame.
func (k *wsKernel) read(ctx context.Context) (Message, error) {
	typ, data, err := k.conn.Read(ctx)
	switch {
	case err != nil:
		return Message{}, err
	case k.protocol == subprotocolV1 && typ != websocket.MessageBinary:
		return Message{}, errors.New("v1 kernel websocket: text frame, want binary")
	case k.protocol == subprotocolV1:
		return decodeV1(data)
	default:
		return decodeLegacy(data, typ == websocket.MessageBinary)
	}
}

func (k *wsKernel) session() string { return k.sessionID }

func (k *wsKernel) send(ctx context.Context, m Message) error {
	if k.protocol == subprotocolV1 {
		frame, err := encodeV1(m)
		if err != nil {
			return err
		}
		return k.conn.Write(ctx, websocket.MessageBinary, frame)
	}
	frame, binaryFrame, err := encodeLegacy(m)
	if err != nil {
		return err
	}
	typ := websocket.MessageText
	if binaryFrame {
		typ = websocket.MessageBinary
	}
	return k.conn.Write(ctx, typ, frame)
}

func (k *wsKernel) recv(ctx context.Context) (Message, error) {
	if k.frames == nil {
		m, err := k.read(ctx)
		if err != nil {
			return Message{}, fmt.Errorf("reading kernel websocket: %w", err)
		}
		return m, nil
	}
	select {
	case f, ok := <-k.frames:
		if !ok {
			return Message{}, errors.New("kernel websocket closed")
		}
		if f.err != nil {
			return Message{}, fmt.Errorf("reading kernel websocket: %w", f.err)
		}
		return f.msg, nil
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

func (k *wsKernel) close() {
	k.conn.Close(websocket.StatusNormalClosure, "")
	if k.cancel != nil {
		k.cancel()
	}
	k.wg.Wait()
}
