package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxMessagesPerRequest bounds how many messages a request may receive
// before its reply and idle status arrive.
const maxMessagesPerRequest = 10000

// kernelConn is a client connection to one kernel, either through a
// server's kernel WebSocket or directly over ZeroMQ. It is used by one
// goroutine at a time.
type kernelConn interface {
	// session returns the client session id that requests carry.
	session() string
	// send sends m on m.Channel.
	send(ctx context.Context, m Message) error
	// recv returns the next message from any channel.
	recv(ctx context.Context) (Message, error)
	// close releases the connection and waits for its goroutines.
	close()
}

// errNoIdle is returned by request when the reply arrived but the status
// idle did not within the wait for it.
var errNoIdle = errors.New("no iopub status idle for the request")

// request sends a request of type msgType on the shell channel and waits
// for its reply and, when waitIdle is set, for the iopub status idle whose
// parent is the request. It returns the reply.
func request(ctx context.Context, c kernelConn, msgType string, content any, waitIdle bool) (Message, error) {
	req, err := newRequest("shell", c.session(), msgType, content)
	if err != nil {
		return Message{}, err
	}
	if err := c.send(ctx, req); err != nil {
		return Message{}, fmt.Errorf("sending %s: %w", msgType, err)
	}
	replyType := strings.TrimSuffix(msgType, "_request") + "_reply"
	var reply Message
	gotReply, gotIdle := false, !waitIdle
	for range maxMessagesPerRequest {
		m, err := c.recv(ctx)
		if err != nil {
			if gotReply && errors.Is(err, context.DeadlineExceeded) {
				return reply, errNoIdle
			}
			return Message{}, fmt.Errorf("waiting for %s: %w", replyType, err)
		}
		if m.Parent.MsgID != req.Header.MsgID {
			continue
		}
		switch {
		case m.Channel == "shell" && m.Header.MsgType == replyType:
			reply, gotReply = m, true
		case m.Channel == "iopub" && executionState(m) == "idle":
			gotIdle = true
		}
		if gotReply && gotIdle {
			return reply, nil
		}
	}
	return Message{}, fmt.Errorf("waiting for %s: no reply in %d messages", replyType, maxMessagesPerRequest)
}

// kernelInfo sends kernel_info_request and waits for the reply only.
func kernelInfo(ctx context.Context, c kernelConn) (Message, error) {
	return request(ctx, c, "kernel_info_request", map[string]any{}, false)
}

// waitIOPub sends kernel_info_request until both the reply and the iopub
// status idle of one of them arrive, at most 20 times with 1 s each. A new
// ZeroMQ SUB socket drops what the kernel publishes before the
// subscription reaches it, so this proves the iopub channel is live.
func waitIOPub(ctx context.Context, c kernelConn) error {
	var last error
	for range 20 {
		attemptCtx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := request(attemptCtx, c, "kernel_info_request", map[string]any{}, true)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for iopub: %w", ctx.Err())
		}
		last = err
	}
	return fmt.Errorf("waiting for iopub: %w", last)
}

// execute runs code with execute_request and waits for execute_reply and
// the status idle. It returns an error unless the reply status is "ok".
func execute(ctx context.Context, c kernelConn, code string) error {
	reply, err := request(ctx, c, "execute_request", executeContent(code), true)
	if err != nil {
		return err
	}
	if s := replyStatus(reply); s != "ok" {
		return fmt.Errorf("execute_reply status %q: %s", s, truncate(reply.Content, 300))
	}
	return nil
}
