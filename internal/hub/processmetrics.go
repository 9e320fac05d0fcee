package hub

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// userHZ is the unit of the CPU times in /proc/PID/stat, USER_HZ, which is
// 100 on every architecture Linux supports today.
const userHZ = 100

// writeProcessMetrics writes the process and Go runtime metrics that
// Prometheus's client libraries export under the same names. The process_
// metrics come from /proc and are left out where it is missing.
func writeProcessMetrics(w io.Writer) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	writeGauge(w, "go_goroutines", float64(runtime.NumGoroutine()))
	writeGauge(w, "go_memstats_alloc_bytes", float64(ms.HeapAlloc))
	writeGauge(w, "go_memstats_heap_inuse_bytes", float64(ms.HeapInuse))
	writeGauge(w, "go_memstats_stack_inuse_bytes", float64(ms.StackInuse))
	writeGauge(w, "go_memstats_sys_bytes", float64(ms.Sys))
	writeGauge(w, "go_memstats_last_gc_time_seconds", float64(ms.LastGC)/1e9)
	writeType(w, "go_gc_cycles_total", "counter")
	io.WriteString(w, "go_gc_cycles_total "+strconv.FormatUint(uint64(ms.NumGC), 10)+"\n")

	if stat, err := readProcStat(); err == nil {
		writeType(w, "process_cpu_seconds_total", "counter")
		io.WriteString(w, "process_cpu_seconds_total "+
			formatFloat(float64(stat.utime+stat.stime)/userHZ)+"\n")
		writeGauge(w, "process_resident_memory_bytes", float64(stat.rss*int64(os.Getpagesize())))
		writeGauge(w, "process_virtual_memory_bytes", float64(stat.vsize))
		if boot, err := bootTime(); err == nil {
			writeGauge(w, "process_start_time_seconds", float64(boot)+float64(stat.starttime)/userHZ)
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		writeGauge(w, "process_open_fds", float64(len(fds)))
	}
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err == nil {
		writeGauge(w, "process_max_fds", float64(limit.Cur))
	}
}

// procStat holds the fields of /proc/self/stat that writeProcessMetrics
// uses.
type procStat struct {
	utime, stime, starttime uint64 // in 1/userHZ seconds
	vsize                   uint64 // bytes
	rss                     int64  // pages
}

// readProcStat reads /proc/self/stat (proc(5)).
func readProcStat() (procStat, error) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(data)
}

// parseProcStat parses the content of /proc/PID/stat. The command name in
// parentheses may hold spaces and parentheses, so the fields are counted
// from the last ")".
func parseProcStat(data []byte) (procStat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, syscall.EINVAL
	}
	// fields[0] is field 3 of proc(5), the state.
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 22 {
		return procStat{}, syscall.EINVAL
	}
	var st procStat
	var errs [5]error
	st.utime, errs[0] = strconv.ParseUint(fields[14-3], 10, 64)
	st.stime, errs[1] = strconv.ParseUint(fields[15-3], 10, 64)
	st.starttime, errs[2] = strconv.ParseUint(fields[22-3], 10, 64)
	st.vsize, errs[3] = strconv.ParseUint(fields[23-3], 10, 64)
	st.rss, errs[4] = strconv.ParseInt(fields[24-3], 10, 64)
	for _, err := range errs {
		if err != nil {
			return procStat{}, err
		}
	}
	return st, nil
}

// bootTime returns the system's boot time in seconds since the Unix epoch,
// the btime line of /proc/stat.
func bootTime() (int64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
		}
	}
	return 0, syscall.ENOENT
}
