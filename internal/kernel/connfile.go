package kernel

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// ConnectionInfo is the content of a kernel connection file: where the
// kernel's five sockets listen and the key that signs messages.
type ConnectionInfo struct {
	IP              string `json:"ip"`
	Transport       string `json:"transport"`
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
	KernelName      string `json:"kernel_name"`
}

// endpoint returns the ZeroMQ address of port.
func (c ConnectionInfo) endpoint(port int) string {
	return fmt.Sprintf("%s://%s:%d", c.Transport, c.IP, port)
}

// newConnectionInfo returns connection info for a kernel on loopback TCP with
// five free ports and a fresh random key.
func newConnectionInfo(kernelName string) (ConnectionInfo, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return ConnectionInfo{}, fmt.Errorf("making connection key: %w", err)
	}
	info := ConnectionInfo{
		IP:              "127.0.0.1",
		Transport:       "tcp",
		Key:             hex.EncodeToString(key),
		SignatureScheme: "hmac-sha256",
		KernelName:      kernelName,
	}
	return info, info.pickPorts()
}

// pickPorts replaces the ports of c with five distinct free loopback ports.
// Another process may take a port before the kernel binds it; the kernel then
// exits at start and the manager retries with new ports.
func (c *ConnectionInfo) pickPorts() error {
	var ports [5]int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("finding a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	c.ShellPort, c.IOPubPort, c.StdinPort, c.ControlPort, c.HBPort =
		ports[0], ports[1], ports[2], ports[3], ports[4]
	return nil
}

// writeConnectionFile writes info to path with mode 0600. It writes a
// temporary file in the same folder and renames it, so a kernel never reads a
// partial file.
func writeConnectionFile(path string, info ConnectionInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding connection file: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".kernel-*.json")
	if err != nil {
		return fmt.Errorf("writing connection file: %w", err)
	}
	tmp := f.Name()
	// CreateTemp uses mode 0600; Chmod keeps it so under any umask.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing connection file %s: %w", path, err)
	}
	return nil
}

// RuntimeDir returns the Jupyter runtime folder, where connection files live:
// JUPYTER_RUNTIME_DIR when set, else the runtime folder of the user data dir.
func RuntimeDir() (string, error) {
	if dir := os.Getenv("JUPYTER_RUNTIME_DIR"); dir != "" {
		return dir, nil
	}
	data, err := userDataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(data, "runtime"), nil
}
