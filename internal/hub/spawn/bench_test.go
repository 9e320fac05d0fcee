package spawn

import (
	"testing"
	"time"
)

// BenchmarkStartStop measures a full Start and Stop of a server: the test
// binary as a minimal HTTP server, and jupygo server with a fake hub.
func BenchmarkStartStop(b *testing.B) {
	b.Run("helper", func(b *testing.B) {
		s := &SimpleLocalProcess{UsersDir: b.TempDir()}
		r := helperRequest(b, "alice", helperServe)
		benchmarkStartStop(b, s, r)
	})
	b.Run("jupygo", func(b *testing.B) {
		s := &SimpleLocalProcess{UsersDir: b.TempDir()}
		r := jupygoRequest(newFakeHub(b).URL)
		benchmarkStartStop(b, s, r)
	})
}

// benchmarkStartStop starts and stops r's server in a loop and reports the
// mean time of Start alone as start-ms/op.
func benchmarkStartStop(b *testing.B, s Spawner, r Request) {
	var starting time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		started, err := s.Start(b.Context(), r, nil)
		if err != nil {
			b.Fatal(err)
		}
		starting += time.Since(t0)
		n++
		if err := s.Stop(b.Context(), started.State); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(starting.Seconds()*1000/float64(n), "start-ms/op")
}

// BenchmarkLocalProcessStartStop measures a Start and Stop of a server
// that runs as a system account, with the test binary as a minimal HTTP
// server. It needs root.
func BenchmarkLocalProcessStartStop(b *testing.B) {
	requireRoot(b)
	a := createTestAccount(b)
	l := &LocalProcess{}
	benchmarkStartStop(b, l, accountRequest(b, a.name, helperServe))
}
