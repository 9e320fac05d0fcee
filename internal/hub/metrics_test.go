package hub

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMetricsWriteHistogram(t *testing.T) {
	m := newMetrics(nil)
	now := time.Now()
	m.observe(spawnMetric, now.Add(-300*time.Millisecond), nil)
	m.observe(spawnMetric, now.Add(-3*time.Second), nil)
	m.observe(spawnMetric, now.Add(-200*time.Second), errors.New("timed out"))
	m.culled("idle")
	m.culled("idle")

	var b strings.Builder
	m.write(&b)
	got := b.String()
	for _, want := range []string{
		"# TYPE jupygo_culled_servers_total counter\njupygo_culled_servers_total{reason=\"idle\"} 2\n",
		"# TYPE jupyterhub_server_spawn_duration_seconds histogram\n",
		`jupyterhub_server_spawn_duration_seconds_bucket{status="failure",le="120"} 0` + "\n",
		`jupyterhub_server_spawn_duration_seconds_bucket{status="failure",le="+Inf"} 1` + "\n",
		`jupyterhub_server_spawn_duration_seconds_bucket{status="success",le="0.25"} 0` + "\n",
		`jupyterhub_server_spawn_duration_seconds_bucket{status="success",le="0.5"} 1` + "\n",
		`jupyterhub_server_spawn_duration_seconds_bucket{status="success",le="5"} 2` + "\n",
		`jupyterhub_server_spawn_duration_seconds_count{status="success"} 2` + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %q:\n%s", want, got)
		}
	}
	if n := m.culledCount("idle"); n != 2 {
		t.Errorf("culledCount(idle) = %d, want 2", n)
	}
}

func TestParseProcStat(t *testing.T) {
	// The command name holds a space and a parenthesis, as a name may.
	line := "4242 (jupy go) S) R 1 4242 4242 0 -1 4194560 500 0 0 0 " +
		"250 75 0 0 20 0 12 0 987654 1048576000 5120 18446744073709551615 1 1 0 0 0 0 0 0 0\n"
	got, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{utime: 250, stime: 75, starttime: 987654, vsize: 1048576000, rss: 5120}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(procStat{})); diff != "" {
		t.Errorf("parseProcStat (-want +got):\n%s", diff)
	}
	if _, err := parseProcStat([]byte("4242 (short) R 1 2")); err == nil {
		t.Error("parseProcStat of a short line: no error")
	}
}
