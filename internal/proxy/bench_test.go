package proxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchTable returns a table with the root route and n user routes.
func benchTable(b *testing.B, n int) *Table {
	b.Helper()
	table := NewTable(TableOptions{})
	mustAdd(b, table, "/", "http://127.0.0.1:8081", nil)
	for i := range n {
		mustAdd(b, table, fmt.Sprintf("/user/u%d", i), fmt.Sprintf("http://127.0.0.1:%d", 20000+i%40000),
			map[string]any{"user": fmt.Sprintf("u%d", i), "server_name": ""})
	}
	return table
}

func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{1, 1000, 10000} {
		table := benchTable(b, n)
		path := fmt.Sprintf("/user/u%d/api/kernels/0b5f5c38-7a1c-4ad4-9f43-b1f7a2f9f5d1/channels", n/2)
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if table.match("", path) == nil {
					b.Fatal("no route")
				}
			}
		})
		b.Run(fmt.Sprintf("routes=%d/parallel", n), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if table.match("", path) == nil {
						b.Error("no route")
						return
					}
				}
			})
		})
	}
}

func BenchmarkAdd(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			table := benchTable(b, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				spec := fmt.Sprintf("/user/u%d", i%n)
				mustAdd(b, table, spec, "http://127.0.0.1:9000", nil)
				i++
			}
		})
	}
}

// BenchmarkProxy compares small GETs sent straight to an upstream with the
// same GETs through the proxy as a plain handler and through Serve's fast
// path, with 1,000 routes in the table. The client and the servers share
// the CPUs, so ns/op counts all of them, and B/op and allocs/op count the
// client's and the upstream's allocations too.
func BenchmarkProxy(b *testing.B) {
	payload := []byte(`{"id": "0b5f5c38", "name": "python3", "execution_state": "idle"}`)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(payload)
	}))
	defer upstream.Close()

	table := benchTable(b, 1000)
	mustAdd(b, table, "/user/bench", upstream.URL, nil)
	p := New(table, Options{})
	defer p.Close()
	handler := httptest.NewServer(p)
	defer handler.Close()
	fast := serveFastPath(b, p)

	targets := []struct{ name, url string }{
		{"direct", upstream.URL + "/user/bench/api/kernels"},
		{"handler", handler.URL + "/user/bench/api/kernels"},
		{"fast path", fast + "/user/bench/api/kernels"},
	}
	for _, tt := range targets {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(25) // 25 concurrent clients per GOMAXPROCS
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Get(tt.url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
		})
		client.CloseIdleConnections()
	}
}

// serveFastPath serves p through Serve on loopback until the benchmark
// ends, and returns its URL.
func serveFastPath(b *testing.B, p *Proxy) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go p.Serve(srv, ln, ServeOptions{})
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
