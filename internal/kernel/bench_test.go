package kernel

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	zmq "github.com/pebbe/zmq4"
)

// The two benchmarks run `1+1` sequentially on a real ipykernel, one through
// the WebSocket bridge and one with a ZeroMQ client of its own. The
// difference per operation is the cost of the bridge. Run them with
//
//	go test -run '^$' -bench ExecuteRoundTrip ./internal/kernel/

func BenchmarkExecuteRoundTripWS(b *testing.B) {
	skipWithoutIPyKernel(b)
	ts := newTestServer(b, Options{})
	id := ts.startKernel("python3").ID
	for _, f := range framings {
		b.Run(f.name, func(b *testing.B) {
			c := ts.dialSync(id, f.v1)
			c.execute(b, "1+1")
			b.ResetTimer()
			for range b.N {
				c.execute(b, "1+1")
			}
		})
	}
}

// dialSync opens a kernel WebSocket that the caller reads itself.
func (ts *testServer) dialSync(kernelID string, v1 bool) *syncWS {
	ts.t.Helper()
	url := "ws" + strings.TrimPrefix(ts.srv.URL, "http") +
		"/api/kernels/" + kernelID + "/channels?session_id=bench-ws"
	opts := &websocket.DialOptions{}
	if v1 {
		opts.Subprotocols = []string{protocolV1}
	}
	ws, _, err := websocket.Dial(context.Background(), url, opts)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { ws.CloseNow() })
	return &syncWS{ws: ws, framing: framingFor(ws.Subprotocol()), session: "bench-ws"}
}

// syncWS is a WebSocket client that reads in the caller's goroutine.
type syncWS struct {
	ws      *websocket.Conn
	framing framing
	session string
}

func (s *syncWS) execute(tb testing.TB, code string) {
	s.send(tb, newMessage(channelShell, "execute_request", s.session, nil, executeContent(code, false)),
		"execute_reply")
}

// roundTrip sends a request without content and waits for its reply and
// its status idle.
func (s *syncWS) roundTrip(tb testing.TB, request, reply string) {
	s.send(tb, newMessage(channelShell, request, s.session, nil, struct{}{}), reply)
}

func (s *syncWS) send(tb testing.TB, m *Message, reply string) {
	typ, data, err := s.framing.encode(m)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.ws.Write(ctx, typ, data); err != nil {
		tb.Fatal(err)
	}
	replied, idle := false, false
	for !replied || !idle {
		typ, data, err := s.ws.Read(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		got, err := decodeServerFrame(s.framing, typ, data)
		if err != nil {
			tb.Fatal(err)
		}
		if got.ParentID != m.MsgID {
			continue
		}
		switch {
		case got.MsgType == reply:
			replied = true
		case got.MsgType == "status" && executionState(got.Content) == "idle":
			idle = true
		}
	}
}

// zmqClient is a direct ZeroMQ client of a kernel: a DEALER on shell and a
// SUB on IOPub, used from one goroutine.
type zmqClient struct {
	shell, iopub *zmq.Socket
	poller       *zmq.Poller
	sign         *signer
	session      string
}

func dialZMQ(tb testing.TB, zctx *zmq.Context, info ConnectionInfo) *zmqClient {
	tb.Helper()
	c := &zmqClient{sign: newSigner(info.Key), session: "bench-zmq", poller: zmq.NewPoller()}
	var err error
	if c.shell, err = zctx.NewSocket(zmq.DEALER); err != nil {
		tb.Fatal(err)
	}
	if c.iopub, err = zctx.NewSocket(zmq.SUB); err != nil {
		tb.Fatal(err)
	}
	for _, s := range []*zmq.Socket{c.shell, c.iopub} {
		s.SetLinger(0)
	}
	c.iopub.SetSubscribe("")
	c.shell.Connect(info.endpoint(info.ShellPort))
	c.iopub.Connect(info.endpoint(info.IOPubPort))
	c.poller.Add(c.shell, zmq.POLLIN)
	c.poller.Add(c.iopub, zmq.POLLIN)
	tb.Cleanup(func() {
		c.shell.Close()
		c.iopub.Close()
	})
	return c
}

// execute runs code and waits for its reply and its status idle. It
// reports false when the status idle did not come, which happens while the
// SUB socket is still subscribing.
func (c *zmqClient) execute(tb testing.TB, code string) bool {
	return c.send(tb, newMessage(channelShell, "execute_request", c.session, nil,
		executeContent(code, false)), "execute_reply")
}

// roundTrip sends a request without content; see execute.
func (c *zmqClient) roundTrip(tb testing.TB, request, reply string) bool {
	return c.send(tb, newMessage(channelShell, request, c.session, nil, struct{}{}), reply)
}

func (c *zmqClient) send(tb testing.TB, m *Message, reply string) bool {
	if _, err := c.shell.SendMessage(wireFrames(m, c.sign)); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(testTimeout)
	replied, idle := false, false
	for !replied || !idle {
		wait := time.Until(deadline)
		if replied {
			wait = min(wait, time.Second)
		}
		polled, err := c.poller.Poll(wait)
		if err != nil {
			tb.Fatal(err)
		}
		if len(polled) == 0 {
			if replied {
				return false
			}
			tb.Fatal("no reply from the kernel")
		}
		for _, p := range polled {
			frames, err := p.Socket.RecvMessageBytes(0)
			if err != nil {
				tb.Fatal(err)
			}
			got, _, err := parseWire(frames, c.sign)
			if err != nil || got.ParentID != m.MsgID {
				continue
			}
			switch {
			case got.MsgType == reply:
				replied = true
			case got.MsgType == "status" && executionState(got.Content) == "idle":
				idle = true
			}
		}
	}
	return true
}

func BenchmarkExecuteRoundTripZMQ(b *testing.B) {
	skipWithoutIPyKernel(b)
	ts := newTestServer(b, Options{})
	c := ts.dialKernelZMQ(ts.startKernel("python3").ID)
	b.ResetTimer()
	for range b.N {
		c.execute(b, "1+1")
	}
}

// dialKernelZMQ connects a direct ZeroMQ client to a kernel of the manager,
// with its own context, and returns it once its IOPub subscription is live.
func (ts *testServer) dialKernelZMQ(id string) *zmqClient {
	tb := ts.t
	tb.Helper()
	k, _ := ts.m.kernel(id)
	data, err := os.ReadFile(k.connFile)
	if err != nil {
		tb.Fatal(err)
	}
	var info ConnectionInfo
	if err := json.Unmarshal(data, &info); err != nil {
		tb.Fatal(err)
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { zctx.Term() })
	c := dialZMQ(tb, zctx, info)
	for !c.execute(tb, "1+1") {
	}
	return c
}

// BenchmarkExecuteRoundTripPaired alternates `1+1` through the WebSocket
// bridge (v1 framing) on one kernel with `1+1` over ZeroMQ on another, so
// that both see the same load on a shared machine. Besides ns/op, the time
// of both, it reports the median of each and the difference of the medians,
// the bridge's share. The clients and the server share one process here, so
// bench/server.sh, which runs the server on its own, gives the figure that
// counts:
//
//	go test -run '^$' -bench ExecuteRoundTripPaired -benchtime 200x ./internal/kernel/
func BenchmarkExecuteRoundTripPaired(b *testing.B) {
	skipWithoutIPyKernel(b)
	ts := newTestServer(b, Options{})
	ws := ts.dialSync(ts.startKernel("python3").ID, true)
	ws.execute(b, "1+1")
	direct := ts.dialKernelZMQ(ts.startKernel("python3").ID)

	viaWS := make([]time.Duration, 0, b.N)
	viaZMQ := make([]time.Duration, 0, b.N)
	timeWS := func() {
		start := time.Now()
		ws.execute(b, "1+1")
		viaWS = append(viaWS, time.Since(start))
	}
	timeZMQ := func() {
		start := time.Now()
		direct.execute(b, "1+1")
		viaZMQ = append(viaZMQ, time.Since(start))
	}
	b.ResetTimer()
	for i := range b.N {
		// Each goes first in every other round.
		if i%2 == 0 {
			timeWS()
			timeZMQ()
		} else {
			timeZMQ()
			timeWS()
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(median(viaWS)), "ws-median-ms")
	b.ReportMetric(ms(median(viaZMQ)), "zmq-median-ms")
	b.ReportMetric(ms(median(viaWS)-median(viaZMQ)), "bridge-ms")
}

// median returns the median of ds, which it sorts.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkBridgeOverhead measures the bridge alone: kernel_info_request
// round trips against the fake kernel, which replies at once, through the
// WebSocket bridge and with a direct ZeroMQ client. ipykernel takes about
// 10 ms per request on its own, which hides the bridge in the benchmarks
// above.
func BenchmarkBridgeOverhead(b *testing.B) {
	zctx, err := zmq.NewContext()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { zctx.Term() })
	fk := startFakeKernel(b, zctx, func(*fakeKernel, [][]byte, *Message) {})
	ts := newTestServer(b, Options{SpecDirs: []string{}})
	id := ts.addFakeKernel(fk.info)

	for _, f := range framings {
		b.Run("ws-"+f.name, func(b *testing.B) {
			c := ts.dialSync(id, f.v1)
			c.roundTrip(b, "kernel_info_request", "kernel_info_reply")
			b.ResetTimer()
			for range b.N {
				c.roundTrip(b, "kernel_info_request", "kernel_info_reply")
			}
		})
	}
	b.Run("zmq", func(b *testing.B) {
		c := dialZMQ(b, zctx, fk.info)
		for !c.roundTrip(b, "kernel_info_request", "kernel_info_reply") {
		}
		b.ResetTimer()
		for range b.N {
			c.roundTrip(b, "kernel_info_request", "kernel_info_reply")
		}
	})
}

// addFakeKernel registers a kernel without a process whose channels connect
// to info, and returns its id.
func (ts *testServer) addFakeKernel(info ConnectionInfo) string {
	ts.t.Helper()
	k := &Kernel{
		id: "fake", spec: &Spec{Name: "fake"}, log: ts.m.log, state: stateStarting,
		quit: make(chan struct{}), exits: make(chan *process),
	}
	ch, err := newChannels(ts.m.zctx, k, ts.m.limits, ts.m.log)
	if err != nil {
		ts.t.Fatal(err)
	}
	k.ch = ch
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		ch.run()
	}()
	ready, err := ch.connect(info)
	if err != nil {
		ts.t.Fatal(err)
	}
	<-ready
	ts.m.mu.Lock()
	ts.m.kernels[k.id] = k
	ts.m.mu.Unlock()
	return k.id
}
