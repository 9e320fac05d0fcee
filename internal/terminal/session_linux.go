package terminal

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// Supported reports whether terminals run on this system. They need
// Linux's waitid(2) and /proc to end a terminal's whole session safely.
const Supported = true

// sysProcAttr starts the shell as the leader of a new session, with the
// PTY (its standard input) as the session's controlling terminal. Linux
// kills it when the server dies.
//
// NOTE: Linux sends Pdeathsig when the OS thread that forked the child
// ends, not the process. Go ends a thread only when a goroutine exits while
// locked to it with runtime.LockOSThread, which no caller of start does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Pdeathsig: syscall.SIGKILL}
}

// waitExited blocks until the child pid has exited, without reaping it.
func waitExited(pid int) {
	const pPID = 1     // P_PID of waitid(2)
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			return
		}
	}
}

// sessionProcesses returns the pids of the processes in session sid,
// other than zombies, read from /proc.
func sessionProcesses(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone since the listing
		}
		if s, ok := statSession(stat); ok && s == sid && !statZombie(stat) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// statSession returns the session id field of a /proc/PID/stat line. The
// command name in parentheses can hold spaces and parentheses, so the
// fields are counted from the last ")".
func statSession(stat []byte) (int, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	// After the name: state, ppid, pgrp, session.
	fields := bytes.Fields(stat[i+1:])
	if len(fields) < 4 {
		return 0, false
	}
	sid, err := strconv.Atoi(string(fields[3]))
	return sid, err == nil
}

// statZombie reports whether a /proc/PID/stat line is a zombie's, a
// process that has ended and waits for its parent to reap it.
func statZombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && bytes.HasPrefix(bytes.TrimSpace(stat[i+1:]), []byte("Z"))
}
