package spawn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processState is the JSON state of a server that runs as a local process.
// The pid key is the one JupyterHub's LocalProcessSpawner stores.
type processState struct {
	// PID is the process ID of the server, which leads its own process
	// group, so it is the group ID too.
	PID int `json:"pid"`
	// StartTime is the process's start time in clock ticks after boot,
	// field 22 of /proc/PID/stat. With BootID it distinguishes the server
	// from a later process that got the same pid.
	StartTime uint64 `json:"start_time"`
	// BootID is /proc/sys/kernel/random/boot_id when the server started.
	BootID string `json:"boot_id,omitempty"`
	// URL is the server's address for the hub, without the prefix.
	URL string `json:"url"`
	// Prefix is the URL prefix the server serves under.
	Prefix string `json:"prefix"`
}

// parseState decodes the state Start returned. Empty state, as the hub
// stores for a server that never started, is valid and has pid 0.
func parseState(raw json.RawMessage) (processState, error) {
	var st processState
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return st, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&st); err != nil {
		return processState{}, fmt.Errorf("invalid spawner state %.200q: %w", raw, err)
	}
	if dec.More() {
		return processState{}, fmt.Errorf("invalid spawner state %.200q: "+
			"data after the JSON object", raw)
	}
	if st.PID < 0 || (st.PID > 0 && (st.StartTime == 0 || st.URL == "")) {
		return processState{}, fmt.Errorf("invalid spawner state %.200q: "+
			"it needs a positive pid with its start_time and url", raw)
	}
	return st, nil
}

// procStat holds the fields of /proc/PID/stat that identify a process.
type procStat struct {
	state     byte   // R, S, D, Z (zombie), X (dead), ...
	pgrp      int    // process group ID
	startTime uint64 // clock ticks after boot
}

// readProcStat reads /proc/PID/stat. It returns an error wrapping
// os.ErrNotExist when no process has that pid.
func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(data)
}

// parseProcStat parses the contents of /proc/PID/stat. The command name,
// field 2, is in parentheses and may itself contain spaces and
// parentheses, so the fields after it are counted from the last ')'.
func parseProcStat(data []byte) (procStat, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 || bytes.IndexByte(data, '(') < 0 {
		return procStat{}, fmt.Errorf("invalid /proc stat line %.80q: no command name", data)
	}
	// After the name: state (field 3), ppid (4), pgrp (5), ... starttime (22).
	fields := strings.Fields(string(data[end+1:]))
	const stateField, pgrpField, startField = 0, 2, 19
	if len(fields) <= startField || len(fields[stateField]) != 1 {
		return procStat{}, fmt.Errorf("invalid /proc stat line %.80q: too few fields", data)
	}
	pgrp, err := strconv.Atoi(fields[pgrpField])
	if err != nil {
		return procStat{}, fmt.Errorf("invalid /proc stat line %.80q: process group: %w", data, err)
	}
	start, err := strconv.ParseUint(fields[startField], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("invalid /proc stat line %.80q: start time: %w", data, err)
	}
	return procStat{state: fields[stateField][0], pgrp: pgrp, startTime: start}, nil
}

// bootID returns the kernel's boot ID, or "" when it cannot be read.
func bootID() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// errProcessGone reports that the process of a state no longer runs.
var errProcessGone = errors.New("process is gone")

// checkProcess returns nil when the process that st describes still runs
// and still leads its process group. It returns errProcessGone when the
// process has exited (a zombie counts as exited) or its pid now belongs to
// another process, and another error when the check itself fails.
func checkProcess(st processState, boot string) error {
	if st.PID <= 0 {
		return errProcessGone
	}
	if st.BootID != "" && boot != "" && st.BootID != boot {
		return errProcessGone // the machine restarted since
	}
	// kill(pid, 0) first: it fails with ESRCH for a pid that is free and
	// with EPERM for another account's process, neither of which is ours.
	if err := syscall.Kill(st.PID, 0); err != nil {
		if errors.Is(err, syscall.ESRCH) || errors.Is(err, syscall.EPERM) {
			return errProcessGone
		}
		return fmt.Errorf("checking process %d: %w", st.PID, err)
	}
	stat, err := readProcStat(st.PID)
	if errors.Is(err, os.ErrNotExist) {
		return errProcessGone
	}
	if err != nil {
		return fmt.Errorf("checking process %d: %w", st.PID, err)
	}
	if stat.startTime != st.StartTime || stat.pgrp != st.PID {
		return errProcessGone // the pid was reused
	}
	if stat.state == 'Z' || stat.state == 'X' {
		return errProcessGone
	}
	return nil
}

// signalGroup sends sig to the process group that st's process leads. It
// returns errProcessGone, without sending, unless checkProcess finds the
// process running, so a reused pid never receives the signal.
func signalGroup(st processState, boot string, sig syscall.Signal) error {
	if err := checkProcess(st, boot); err != nil {
		return err
	}
	if err := syscall.Kill(-st.PID, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return errProcessGone
		}
		return fmt.Errorf("sending %v to process group %d: %w", sig, st.PID, err)
	}
	return nil
}
