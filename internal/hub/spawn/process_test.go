package spawn

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    procStat
		wantErr bool
	}{
		{
			name: "plain",
			line: "1234 (jupygo) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 98765 1000 10\n",
			want: procStat{state: 'S', pgrp: 1234, startTime: 98765},
		},
		{
			name: "name with spaces and parentheses",
			line: "77 (a) b (c) Z 1 80 80 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0",
			want: procStat{state: 'Z', pgrp: 80, startTime: 42},
		},
		{name: "empty", line: "", wantErr: true},
		{name: "no name", line: "1 S 1 1 1", wantErr: true},
		{name: "too short", line: "1 (x) S 1 1 1 0", wantErr: true},
		{name: "bad start", line: "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5", wantErr: true},
		{name: "bad group", line: "1 (x) S 1 g 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tt.line))
			if tt.wantErr {
				if err == nil {
					t.Errorf("parseProcStat = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("parseProcStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadProcStatSelf(t *testing.T) {
	stat, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if stat.startTime == 0 || stat.state == 'Z' {
		t.Errorf("own stat = %+v", stat)
	}
	if _, err := readProcStat(1 << 30); !os.IsNotExist(err) {
		t.Errorf("stat of a pid that cannot exist: err = %v, want not-exist", err)
	}
}

func TestParseState(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    processState
		wantErr bool
	}{
		{name: "empty", raw: ""},
		{name: "null", raw: "null"},
		{name: "no pid", raw: "{}"},
		{
			name: "full",
			raw:  `{"pid": 12, "start_time": 345, "boot_id": "b", "url": "http://127.0.0.1:5", "prefix": "/user/a/"}`,
			want: processState{PID: 12, StartTime: 345, BootID: "b", URL: "http://127.0.0.1:5", Prefix: "/user/a/"},
		},
		{name: "pid without start time", raw: `{"pid": 12, "url": "http://127.0.0.1:5"}`, wantErr: true},
		{name: "pid without url", raw: `{"pid": 12, "start_time": 345}`, wantErr: true},
		{name: "negative pid", raw: `{"pid": -1, "start_time": 3}`, wantErr: true},
		{name: "pid as string", raw: `{"pid": "12"}`, wantErr: true},
		{name: "trailing data", raw: `{"pid": 0} {}`, wantErr: true},
		{name: "not JSON", raw: `pid=12`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseState(json.RawMessage(tt.raw))
			if tt.wantErr {
				if err == nil {
					t.Errorf("parseState = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(processState{})); diff != "" {
				t.Errorf("parseState (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("1234 (jupygo) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 8 0 98765 1000 10\n"))
	f.Add([]byte("7 ()) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1"))
	f.Add([]byte(")("))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseProcStat(data)
	})
}

func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"pid": 12, "start_time": 345, "url": "http://127.0.0.1:5", "prefix": "/"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"pid": 1e99}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseState(data)
		if err == nil && (st.PID < 0 || (st.PID > 0 && (st.StartTime == 0 || st.URL == ""))) {
			t.Errorf("parseState(%q) accepted %+v", data, st)
		}
	})
}
