//go:build !linux

package proxy

// socketIO is empty: Read and Write are the connection's own.
type socketIO struct{}

func (*socketIO) init() {}

func (s *socket) Read(p []byte) (int, error)  { return s.conn.Read(p) }
func (s *socket) Write(p []byte) (int, error) { return s.conn.Write(p) }
