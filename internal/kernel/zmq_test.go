package kernel

import (
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	zmq "github.com/pebbe/zmq4"
)

// fakeKernel is a kernel written in Go on loopback ZeroMQ sockets. It
// replies to kernel_info_request with a reply and a status, and hands every
// other shell request to onShell. One goroutine owns its sockets.
type fakeKernel struct {
	t       testing.TB
	info    ConnectionInfo
	sign    *signer
	shell   *zmq.Socket
	stdin   *zmq.Socket
	iopub   *zmq.Socket
	control *zmq.Socket
	onShell func(fk *fakeKernel, ids [][]byte, m *Message)
	stop    chan struct{}
	done    chan struct{}
}

func startFakeKernel(t testing.TB, zctx *zmq.Context, onShell func(*fakeKernel, [][]byte, *Message)) *fakeKernel {
	t.Helper()
	fk := &fakeKernel{t: t, onShell: onShell, stop: make(chan struct{}), done: make(chan struct{})}
	fk.info = ConnectionInfo{IP: "127.0.0.1", Transport: "tcp", Key: testKey, SignatureScheme: "hmac-sha256"}
	fk.sign = newSigner(testKey)
	bind := func(typ zmq.Type) (*zmq.Socket, int) {
		s, err := zctx.NewSocket(typ)
		if err != nil {
			t.Fatal(err)
		}
		s.SetLinger(0)
		if typ == zmq.PUB {
			// No high-water mark, so that the fake kernel never drops a
			// flood of IOPub messages.
			s.SetSndhwm(0)
		}
		if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
			t.Fatal(err)
		}
		ep, _ := s.GetLastEndpoint()
		port, _ := strconv.Atoi(ep[strings.LastIndexByte(ep, ':')+1:])
		return s, port
	}
	fk.shell, fk.info.ShellPort = bind(zmq.ROUTER)
	fk.control, fk.info.ControlPort = bind(zmq.ROUTER)
	fk.stdin, fk.info.StdinPort = bind(zmq.ROUTER)
	fk.iopub, fk.info.IOPubPort = bind(zmq.PUB)
	go fk.run()
	t.Cleanup(func() {
		close(fk.stop)
		<-fk.done
	})
	return fk
}

func (fk *fakeKernel) run() {
	defer close(fk.done)
	defer func() {
		for _, s := range []*zmq.Socket{fk.shell, fk.control, fk.stdin, fk.iopub} {
			s.Close()
		}
	}()
	poller := zmq.NewPoller()
	poller.Add(fk.shell, zmq.POLLIN)
	for {
		select {
		case <-fk.stop:
			return
		default:
		}
		polled, _ := poller.Poll(20 * time.Millisecond)
		if len(polled) == 0 {
			continue
		}
		frames, err := fk.shell.RecvMessageBytes(0)
		if err != nil {
			continue
		}
		i := 0
		for i < len(frames) && string(frames[i]) != string(delimiter) {
			i++
		}
		m, _, err := parseWire(frames, fk.sign)
		if err != nil {
			fk.t.Errorf("fake kernel got an invalid message: %v", err)
			continue
		}
		ids := frames[:i]
		if m.MsgType == "kernel_info_request" {
			fk.reply(fk.shell, ids, m, "kernel_info_reply", `{"status":"ok"}`)
			fk.publish(m, "status", `{"execution_state":"idle"}`, false)
			continue
		}
		fk.onShell(fk, ids, m)
	}
}

// message builds a message of the fake kernel with parent as parent.
func (fk *fakeKernel) message(parent *Message, msgType, content string) *Message {
	m := newMessage("", msgType, "fake-kernel", parent.Header, nil)
	m.Content = []byte(content)
	return m
}

func (fk *fakeKernel) reply(s *zmq.Socket, ids [][]byte, parent *Message, msgType, content string) {
	m := fk.message(parent, msgType, content)
	s.SendMessage(ids, wireFrames(m, fk.sign))
}

// publish sends an IOPub message; badSignature sends it with a wrong one.
func (fk *fakeKernel) publish(parent *Message, msgType, content string, badSignature bool) {
	frames := wireFrames(fk.message(parent, msgType, content), fk.sign)
	if badSignature {
		frames[1] = []byte(strings.Repeat("0", 64))
	}
	fk.iopub.SendMessage("kernel.fake."+msgType, frames)
}

// fakeObserver records what the channels report.
type fakeObserver struct {
	mu          sync.Mutex
	states      []string
	connections int
	readies     int
}

func (o *fakeObserver) statusChanged(state, parentType string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.states = append(o.states, parentType+":"+state)
}
func (o *fakeObserver) activity(time.Time) {}
func (o *fakeObserver) connectionsChanged(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.connections = n
}
func (o *fakeObserver) ready() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.readies++
}

// receiveMatching takes messages from a client's queue until n of them
// match, and returns those as "channel msg_type content", sorted: the order
// across the kernel's sockets is not defined.
func receiveMatching(t *testing.T, cl *client, att *attachment, n int, match func(*Message) bool) []string {
	t.Helper()
	var got []string
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	for {
		for _, m := range cl.take(att) {
			if match(m) {
				got = append(got, m.Channel+" "+m.MsgType+" "+string(m.Content))
			}
		}
		if len(got) >= n {
			sort.Strings(got)
			return got
		}
		select {
		case <-att.wake:
		case <-timer.C:
			t.Fatalf("got %d matching messages, want %d: %q", len(got), n, got)
		}
	}
}

// TestChannelsRouting runs the channels against the fake kernel. Requests
// sent before the channels are ready are held. Replies and stdin go to the
// client that sent the request, IOPub goes to all, and a message with a bad
// signature is dropped.
func TestChannelsRouting(t *testing.T) {
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zctx.Term() }) // runs last, once every socket is closed
	fk := startFakeKernel(t, zctx, func(fk *fakeKernel, ids [][]byte, m *Message) {
		switch m.MsgType {
		case "execute_request":
			fk.reply(fk.stdin, ids, m, "input_request", `{"prompt":"?"}`)
			fk.publish(m, "stream", `{"name":"stdout","text":"forged"}`, true)
			fk.publish(m, "stream", `{"name":"stdout","text":"real"}`, false)
			fk.reply(fk.shell, ids, m, "execute_reply", `{"status":"ok"}`)
		case "history_request":
			// A reply whose parent the channels never saw, from session B.
			orphan := &Message{Header: []byte(`{"msg_id":"unknown","msg_type":"x","session":"B"}`)}
			fk.reply(fk.shell, ids, orphan, "history_reply", `{"status":"ok"}`)
		}
	})

	obs := &fakeObserver{}
	ch := startChannels(t, obs)

	clA, attA, err := ch.attach("A", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	clB, attB, _ := ch.attach("B", true, nil)
	request := newMessage(channelShell, "execute_request", "A", nil, map[string]any{"code": "x"})
	ch.send(clA, request)

	ready, err := ch.connect(fk.info)
	if err != nil {
		t.Fatal(err)
	}
	<-ready

	gotA := receiveMatching(t, clA, attA, 3, func(m *Message) bool { return m.ParentID == request.MsgID })
	wantA := []string{
		`iopub stream {"name":"stdout","text":"real"}`,
		`shell execute_reply {"status":"ok"}`,
		`stdin input_request {"prompt":"?"}`,
	}
	if diff := cmp.Diff(wantA, gotA); diff != "" {
		t.Errorf("client A (-want +got):\n%s", diff)
	}

	// B receives the real stream but none of A's replies, then the reply
	// whose parent only names B's session.
	ch.send(clB, newMessage(channelShell, "history_request", "B", nil, struct{}{}))
	gotB := receiveMatching(t, clB, attB, 2, func(m *Message) bool { return m.MsgType != "status" })
	wantB := []string{
		`iopub stream {"name":"stdout","text":"real"}`,
		`shell history_reply {"status":"ok"}`,
	}
	if diff := cmp.Diff(wantB, gotB); diff != "" {
		t.Errorf("client B (-want +got):\n%s", diff)
	}

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.readies != 1 || obs.connections != 2 {
		t.Errorf("observer: %d readies, %d connections; want 1, 2", obs.readies, obs.connections)
	}
}

// TestClientQueueLimits fills a client that does not read.
func TestClientQueueLimits(t *testing.T) {
	cl := &client{session: "s", serverSession: "server"}
	att := newAttachment(nil)
	cl.attach(att)
	small := iopubMessage("stream", 10)
	for range softQueueMessages + 10 {
		if !cl.push(small, true) {
			t.Fatal("droppable messages closed the client")
		}
	}
	if len(cl.queue) != softQueueMessages || cl.dropped != 10 {
		t.Fatalf("queue %d, dropped %d; want %d, 10", len(cl.queue), cl.dropped, softQueueMessages)
	}
	cl.take(att)
	cl.push(small, true)
	if len(cl.queue) != 2 || !strings.Contains(string(cl.queue[0].Content), "10 output messages were not sent") {
		t.Fatalf("after catching up: queue %d, first %s; want a notice, then the message", len(cl.queue), cl.queue[0].Content)
	}

	for cl.push(small, false) {
		if len(cl.queue) > hardQueueMessages {
			t.Fatal("queue grew past the hard limit")
		}
	}
	select {
	case <-att.closed:
	default:
		t.Fatal("WebSocket not closed after the hard limit")
	}
	if !cl.removed() {
		t.Error("client not removed after the hard limit")
	}

	offline := &client{session: "o", buffered: true}
	for i := 0; ; i++ {
		if !offline.push(small, false) {
			if i != offlineQueueMessages {
				t.Errorf("offline client overflowed after %d messages, want %d", i, offlineQueueMessages)
			}
			break
		}
	}
}

// TestOfflineClientsBounded detaches more buffered clients than a kernel
// keeps: the ones offline the longest are removed.
func TestOfflineClientsBounded(t *testing.T) {
	obs := &fakeObserver{}
	ch := startChannels(t, obs)

	var clients []*client
	for i := range maxOfflineClients + 3 {
		cl, att, err := ch.attach("session-"+strconv.Itoa(i), true, nil)
		if err != nil {
			t.Fatal(err)
		}
		ch.detach(cl, att)
		clients = append(clients, cl)
	}
	unbuffered, att, _ := ch.attach("no-session", false, nil)
	ch.detach(unbuffered, att)

	var kept []string
	ch.call(func() {
		for session := range ch.clients {
			kept = append(kept, session)
		}
	})
	sort.Strings(kept)
	var want []string
	for _, cl := range clients[3:] {
		want = append(want, cl.session)
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, kept); diff != "" {
		t.Errorf("clients kept (-want +got):\n%s", diff)
	}
	for _, cl := range clients[:3] {
		if !cl.removed() {
			t.Errorf("client %s offline the longest was not removed", cl.session)
		}
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.connections != 0 {
		t.Errorf("connections = %d, want 0", obs.connections)
	}
}

// TestChannelsWaitForStdin starts a kernel whose stdin socket listens only
// after it has replied. A request held until then gets its input_request,
// which the kernel's ROUTER drops while no stdin peer is connected. A kernel
// that never listens on stdin gets the request after stdinWait.
func TestChannelsWaitForStdin(t *testing.T) {
	for _, late := range []bool{true, false} {
		name := "late stdin"
		if !late {
			name = "no stdin"
		}
		t.Run(name, func(t *testing.T) { testChannelsWaitForStdin(t, late) })
	}
}

func testChannelsWaitForStdin(t *testing.T, bindStdin bool) {
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zctx.Term() })
	// The stdin socket bound late is handed to the fake kernel's goroutine,
	// and closed after that goroutine has stopped.
	handoff := make(chan *zmq.Socket, 1)
	var stdin *zmq.Socket
	t.Cleanup(func() {
		if stdin != nil {
			stdin.Close()
		}
	})
	fk := startFakeKernel(t, zctx, func(fk *fakeKernel, ids [][]byte, m *Message) {
		if m.MsgType != "execute_request" {
			return
		}
		select {
		case stdin = <-handoff:
		default:
		}
		if stdin != nil {
			fk.reply(stdin, ids, m, "input_request", `{"prompt":"?"}`)
		}
		fk.reply(fk.shell, ids, m, "execute_reply", `{"status":"ok"}`)
	})
	info := fk.info
	info.StdinPort = freePort(t)

	ch := startChannels(t, &fakeObserver{})
	ch.call(func() {
		ch.stdinWait = 200 * time.Millisecond
		if bindStdin {
			ch.stdinWait = testTimeout
		}
	})
	cl, att, err := ch.attach("A", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	request := newMessage(channelShell, "execute_request", "A", nil, map[string]any{"code": "input()"})
	ch.send(cl, request)
	ready, err := ch.connect(info)
	if err != nil {
		t.Fatal(err)
	}

	// Wait until the kernel has replied on shell and IOPub. The request
	// must still be held.
	var becameReady bool
	awaitChannels(t, ch, func() bool {
		if ch.ready {
			becameReady = true
			return true
		}
		return ch.nudge.replied && ch.nudge.iopub
	})
	if becameReady && bindStdin {
		t.Fatal("channels ready before the stdin socket connected")
	}

	want := []string{`shell execute_reply {"status":"ok"}`}
	if bindStdin {
		s, err := zctx.NewSocket(zmq.ROUTER)
		if err != nil {
			t.Fatal(err)
		}
		s.SetLinger(0)
		if err := s.Bind(info.endpoint(info.StdinPort)); err != nil {
			s.Close()
			t.Fatalf("binding the stdin port: %v", err)
		}
		handoff <- s
		want = append(want, `stdin input_request {"prompt":"?"}`)
	}
	<-ready
	got := receiveMatching(t, cl, att, len(want), func(m *Message) bool {
		return m.ParentID == request.MsgID && m.Channel != channelIOPub
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages of the request (-want +got):\n%s", diff)
	}
}

// startChannels runs channels on a ZeroMQ context of their own until the
// test ends.
func startChannels(t *testing.T, obs observer) *channels {
	t.Helper()
	zctx, err := newZMQContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zctx.term() }) // runs after the channels are closed
	ch, err := newChannels(zctx, obs, rateLimits{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ch.run()
	}()
	t.Cleanup(func() {
		ch.close()
		<-done
	})
	return ch
}

// awaitChannels calls cond with the channels' lock held until it returns
// true.
func awaitChannels(t *testing.T, ch *channels, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		var ok bool
		if !ch.call(func() { ok = cond() }) {
			t.Fatal("channels closed")
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("condition on the channels not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// freePort returns a loopback TCP port that was free when it returned.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestChannelsReconnectKeepsFiles connects the channels to one kernel after
// another, as restarts do: each connect closes the sockets of the one
// before and removes them from the poll set, leaking no descriptor.
func TestChannelsReconnectKeepsFiles(t *testing.T) {
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zctx.Term() })

	// The kernels are started first, so that their own descriptors are open
	// before the count. A new DEALER with the identity of a closed one is
	// not accepted by a ROUTER that still has the old connection, so every
	// connect gets a kernel of its own, as a restarted kernel is.
	const reconnects = 20
	var kernels []*fakeKernel
	for range reconnects + 1 {
		kernels = append(kernels, startFakeKernel(t, zctx, func(*fakeKernel, [][]byte, *Message) {}))
	}

	ch := startChannels(t, &fakeObserver{})
	connect := func(fk *fakeKernel) {
		ready, err := ch.connect(fk.info)
		if err != nil {
			t.Fatal(err)
		}
		<-ready
	}
	connect(kernels[0])

	before := openFiles(t)
	for _, fk := range kernels[1:] {
		connect(fk)
	}

	// libzmq closes the descriptors of a socket and of its connections in
	// its own threads, a moment after zmq_close returns.
	deadline := time.Now().Add(testTimeout)
	for {
		after := openFiles(t)
		if after <= before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("open files: %d after %d reconnects, %d before", after, reconnects, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openFiles returns the number of open file descriptors of the process.
func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("counting open files: %v", err)
	}
	return len(entries)
}
