package main

import "testing"

const wrkOutput = `Running 10s test @ http://127.0.0.1:40000/user/route0/ping
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    2.50ms  40.00ms   80.00%
    Req/Sec     8.00k     1.00k   10.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    2.00ms
     90%    5.00ms
     99%    1.20s
  159000 requests in 10.00s, 20.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  15900.50
Transfer/sec:      2.00MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk([]byte(wrkOutput))
	if err != nil {
		t.Fatal(err)
	}
	if r.RequestsPerSec != 15900.5 {
		t.Errorf("requests/s = %v, want 15900.5", r.RequestsPerSec)
	}
	if r.P50ms != 0.812 {
		t.Errorf("p50 = %v ms, want 0.812", r.P50ms)
	}
	if r.P99ms != 1200 {
		t.Errorf("p99 = %v ms, want 1200", r.P99ms)
	}
	if r.Errors != 9 {
		t.Errorf("errors = %d, want 9", r.Errors)
	}
}

func TestParseWrkMissingLines(t *testing.T) {
	for _, out := range []string{"", "Requests/sec: 10\n", "     50%  1ms\n     99%  2ms\n"} {
		if _, err := parseWrk([]byte(out)); err == nil {
			t.Errorf("parseWrk(%q) succeeded, want an error", out)
		}
	}
}

func FuzzParseWrk(f *testing.F) {
	f.Add([]byte(wrkOutput))
	f.Fuzz(func(t *testing.T, out []byte) {
		r, err := parseWrk(out)
		if err == nil && (r.RequestsPerSec < 0 || r.P99ms < 0 || r.Errors < 0) {
			t.Errorf("parseWrk returned negative figures %+v", r)
		}
	})
}

func TestIsProxy(t *testing.T) {
	tests := []struct {
		cmd  string
		want bool
	}{
		{"node /usr/bin/configurable-http-proxy --ip 127.0.0.1 --port 8000", true},
		{"/tmp/hubbench.x/jupygo proxy --ip 127.0.0.1 --port 8000", true},
		{"/tmp/hubbench.x/jupygo server", false},
		{"/tmp/hubbench.x/jupygo hub -f hub.toml", false},
		{"/usr/bin/python3 -m jupyterhub -f jupyterhub_config.py", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isProxy(tt.cmd); got != tt.want {
			t.Errorf("isProxy(%q) = %v, want %v", tt.cmd, got, tt.want)
		}
	}
}
