package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	zmq "github.com/pebbe/zmq4"
)

// bareReconnect is the ZeroMQ reconnect interval of the direct client. The
// libzmq default of 100 ms would add up to 100 ms to a kernel start, while
// the client retries against a kernel that has not bound its ports yet.
const bareReconnect = 10 * time.Millisecond

// kernelspec is the part of a kernel.json the benchmark uses.
type kernelspec struct {
	Argv []string          `json:"argv"`
	Env  map[string]string `json:"env"`
}

// loadKernelspec reads dir/kernel.json.
func loadKernelspec(dir string) (kernelspec, error) {
	var spec kernelspec
	data, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		return spec, fmt.Errorf("reading kernelspec: %w", err)
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return spec, fmt.Errorf("reading kernelspec %s: %w", dir, err)
	}
	if len(spec.Argv) == 0 {
		return spec, fmt.Errorf("reading kernelspec %s: empty argv", dir)
	}
	return spec, nil
}

// connectionInfo is the content of a kernel connection file.
type connectionInfo struct {
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	IP              string `json:"ip"`
	Key             string `json:"key"`
	Transport       string `json:"transport"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name"`
}

func (c connectionInfo) endpoint(port int) string {
	return fmt.Sprintf("%s://%s:%d", c.Transport, c.IP, port)
}

// bareKernel is a kernel process that the benchmark started itself from a
// kernelspec and a connection file, with no server in between.
type bareKernel struct {
	proc *benchkit.Process
	info connectionInfo
}

// startBareKernel writes a connection file (mode 0600, loopback ports free
// at the time, a random key) into the sandbox runtime folder and starts
// the kernel of spec with it, in the sandbox root folder.
func startBareKernel(spec kernelspec, sb *sandbox, pidfile string) (*bareKernel, error) {
	ports, err := benchkit.FreePorts(5)
	if err != nil {
		return nil, err
	}
	info := connectionInfo{
		ShellPort: ports[0], IOPubPort: ports[1], StdinPort: ports[2], ControlPort: ports[3],
		HBPort: ports[4], IP: "127.0.0.1", Key: uuid.NewString(), Transport: "tcp",
		SignatureScheme: "hmac-sha256", KernelName: "bench",
	}
	data, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encoding connection file: %w", err)
	}
	path := filepath.Join(sb.Runtime, "kernel-bench.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("writing connection file: %w", err)
	}

	argv := make([]string, len(spec.Argv))
	for i, a := range spec.Argv {
		argv[i] = strings.ReplaceAll(a, "{connection_file}", path)
	}
	env := sb.env()
	for k, v := range spec.Env {
		env = append(env, k+"="+v)
	}
	proc, err := benchkit.Start(argv, sb.Root, env, filepath.Join(sb.Dir, "kernel.log"), pidfile)
	if err != nil {
		return nil, fmt.Errorf("starting bare kernel: %w", err)
	}
	return &bareKernel{proc: proc, info: info}, nil
}

// zmqKernel is a kernelConn straight to a kernel's shell and iopub
// sockets: a DEALER and a SUB subscribed to every topic.
type zmqKernel struct {
	zctx      *zmq.Context
	shell     *zmq.Socket
	iopub     *zmq.Socket
	poller    *zmq.Poller
	signer    signer
	sessionID string
	pending   []Message
}

// dialZMQ connects to the kernel described by info. Connecting succeeds
// before the kernel listens; ZeroMQ retries every bareReconnect and queues
// what is sent meanwhile.
func dialZMQ(info connectionInfo) (*zmqKernel, error) {
	if info.SignatureScheme != "hmac-sha256" {
		return nil, fmt.Errorf("connecting to kernel: signature scheme %q not supported", info.SignatureScheme)
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("connecting to kernel: %w", err)
	}
	k := &zmqKernel{zctx: zctx, signer: signer{key: []byte(info.Key)}, sessionID: uuid.NewString()}
	if k.shell, err = k.socket(zmq.DEALER, info.endpoint(info.ShellPort)); err != nil {
		k.close()
		return nil, err
	}
	if k.iopub, err = k.socket(zmq.SUB, info.endpoint(info.IOPubPort)); err != nil {
		k.close()
		return nil, err
	}
	if err := k.iopub.SetSubscribe(""); err != nil {
		k.close()
		return nil, fmt.Errorf("subscribing to iopub: %w", err)
	}
	k.poller = zmq.NewPoller()
	k.poller.Add(k.shell, zmq.POLLIN)
	k.poller.Add(k.iopub, zmq.POLLIN)
	return k, nil
}

func (k *zmqKernel) socket(t zmq.Type, endpoint string) (*zmq.Socket, error) {
	s, err := k.zctx.NewSocket(t)
	if err != nil {
		return nil, fmt.Errorf("creating socket for %s: %w", endpoint, err)
	}
	setup := []func() error{
		func() error { return s.SetLinger(0) },
		func() error { return s.SetReconnectIvl(bareReconnect) },
		func() error { return s.SetIdentity(k.sessionID) },
		func() error { return s.Connect(endpoint) },
	}
	for _, step := range setup {
		if err := step(); err != nil {
			s.Close()
			return nil, fmt.Errorf("connecting to %s: %w", endpoint, err)
		}
	}
	return s, nil
}

func (k *zmqKernel) session() string { return k.sessionID }

func (k *zmqKernel) send(ctx context.Context, m Message) error {
	if m.Channel != "shell" {
		return fmt.Errorf("sending on %s: only shell is connected", m.Channel)
	}
	frames, err := encodeZMQ(m, k.signer)
	if err != nil {
		return err
	}
	if _, err := k.shell.SendMessage(frames); err != nil {
		return fmt.Errorf("sending on shell: %w", err)
	}
	return nil
}

// recv returns the next message from shell or iopub. It polls in steps of
// at most 100 ms so that it notices the end of ctx.
func (k *zmqKernel) recv(ctx context.Context) (Message, error) {
	for len(k.pending) == 0 {
		if err := ctx.Err(); err != nil {
			return Message{}, err
		}
		wait := 100 * time.Millisecond
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			wait = max(time.Until(deadline), 0)
		}
		polled, err := k.poller.Poll(wait)
		if err != nil {
			return Message{}, fmt.Errorf("polling kernel sockets: %w", err)
		}
		for _, p := range polled {
			if err := k.receiveFrom(p.Socket); err != nil {
				return Message{}, err
			}
		}
	}
	m := k.pending[0]
	k.pending = k.pending[1:]
	return m, nil
}

func (k *zmqKernel) receiveFrom(s *zmq.Socket) error {
	channel := "shell"
	if s == k.iopub {
		channel = "iopub"
	}
	frames, err := s.RecvMessageBytes(zmq.DONTWAIT)
	if zmq.AsErrno(err) == zmq.Errno(syscall.EAGAIN) {
		return nil // nothing to read after all
	}
	if err != nil {
		return fmt.Errorf("receiving on %s: %w", channel, err)
	}
	m, err := decodeZMQ(frames, channel, k.signer)
	if err != nil {
		return fmt.Errorf("receiving on %s: %w", channel, err)
	}
	k.pending = append(k.pending, m)
	return nil
}

func (k *zmqKernel) close() {
	for _, s := range []*zmq.Socket{k.shell, k.iopub} {
		if s != nil {
			s.Close()
		}
	}
	k.zctx.Term()
}
