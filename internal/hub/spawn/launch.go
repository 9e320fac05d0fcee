package spawn

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// LaunchCommand is the hidden jupygo subcommand that every server process
// starts as. The process waits in it until the hub has stored its state,
// and then replaces itself with the server's command, keeping its pid,
// start time, session and credentials. The main function of jupygo passes
// the arguments after it to RunLaunch. It is not meant to be run by hand.
const LaunchCommand = "spawn-launch"

// selfExe is the program that a spawner starts as LaunchCommand: the hub's
// own binary, the very file the hub runs even when a newer jupygo replaced
// it on disk, so that the launch arguments and the pipe protocol always
// match. The kernel opens this link without a path lookup, so a system
// account needs execute permission on the file but not on its folders.
const selfExe = "/proc/self/exe"

// launchFD is the descriptor on which the launched process waits for the
// release byte: the first of exec.Cmd.ExtraFiles.
const launchFD = 3

// releaseByte is the byte that lets a launched process run its command.
const releaseByte = 'R'

// Exit statuses of a launched process that did not become the server, as
// env(1) and nohup(1) use them.
const (
	launchFailedExit     = 125 // the launch was abandoned, or its arguments are invalid
	launchNotRunExit     = 126 // the command exists but could not be run
	launchNotFoundExit   = 127 // the command does not exist
	launchUmaskUnchanged = -1  // launchSpec.umask that keeps the inherited umask
)

// launchSpec is the command that a launched process runs once released.
type launchSpec struct {
	program string   // the file to execute
	argv    []string // its arguments, argv[0] first
	umask   int      // the umask to set first, or launchUmaskUnchanged
}

// launchArgs returns the arguments of LaunchCommand that run spec.
func launchArgs(spec launchSpec) []string {
	args := []string{"jupygo", LaunchCommand}
	if spec.umask != launchUmaskUnchanged {
		args = append(args, "-umask", fmt.Sprintf("%04o", spec.umask))
	}
	args = append(args, "--", spec.program)
	return append(args, spec.argv...)
}

// parseLaunchArgs parses the arguments after LaunchCommand:
// [-umask MASK] -- PROGRAM ARG0 [ARG...].
func parseLaunchArgs(args []string) (launchSpec, error) {
	fs := flag.NewFlagSet(LaunchCommand, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	umask := fs.String("umask", "", "file mode creation mask, in octal")
	if err := fs.Parse(args); err != nil {
		return launchSpec{}, err
	}
	spec := launchSpec{umask: launchUmaskUnchanged}
	if *umask != "" {
		mask, err := strconv.ParseUint(*umask, 8, 32)
		if err != nil || mask > 0o777 {
			return launchSpec{}, fmt.Errorf("invalid umask %q: use octal 0 to 0777", *umask)
		}
		spec.umask = int(mask)
	}
	rest := fs.Args()
	if len(rest) < 2 || rest[0] == "" {
		return launchSpec{}, errors.New("missing command: the arguments are " +
			"[-umask MASK] -- PROGRAM ARG0 [ARG...]")
	}
	spec.program, spec.argv = rest[0], rest[1:]
	return spec, nil
}

// RunLaunch runs LaunchCommand with args, the arguments after it, and
// returns the exit status when it does not become the server. The process
// blocks until the hub writes the release byte on descriptor 3, the read
// end of a pipe whose write end only the hub holds. The byte comes once the
// hub has stored the process's state, so that a later hub can find the
// server. When the pipe reaches end of file first, because the hub has
// died, the process exits without running the command: a server then never
// runs unless some hub can find it. Messages go to stderr, which is the
// server's output file.
func RunLaunch(args []string, stderr io.Writer) int {
	spec, err := parseLaunchArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "jupygo %s: %v\n", LaunchCommand, err)
		return launchFailedExit
	}
	if err := awaitRelease(launchFD); err != nil {
		fmt.Fprintf(stderr, "jupygo %s: %v\n", LaunchCommand, err)
		return launchFailedExit
	}
	if spec.umask != launchUmaskUnchanged {
		syscall.Umask(spec.umask)
	}
	// Exec keeps the pid, the start time in /proc/PID/stat, the session
	// and the credentials, so the state the hub stored describes the
	// server.
	err = syscall.Exec(spec.program, spec.argv, os.Environ())
	fmt.Fprintf(stderr, "jupygo %s: running the server command %s: %v\n",
		LaunchCommand, spec.program, err)
	if errors.Is(err, syscall.ENOENT) {
		return launchNotFoundExit
	}
	return launchNotRunExit
}

// errHubGone reports that the hub closed the release pipe without writing
// the release byte.
var errHubGone = errors.New("the hub ended before it stored the state of this server " +
	"process, so the server does not start; start it again from the hub")

// awaitRelease reads the release byte from descriptor fd and closes it, so
// that the server does not inherit it.
func awaitRelease(fd int) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return fmt.Errorf("descriptor %d is not the release pipe of a hub: this command "+
			"runs only when the hub starts a server", fd)
	}
	defer syscall.Close(fd)
	buf := make([]byte, 1)
	for {
		n, err := syscall.Read(fd, buf)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("reading the release pipe: %w", err)
		case n == 0:
			return errHubGone
		case buf[0] != releaseByte:
			return fmt.Errorf("invalid byte %q on the release pipe", buf[0])
		}
		return nil
	}
}

// launchCommand returns cmd rewritten to start as LaunchCommand, which runs
// cmd's program once released through the returned pipe end. cmd's
// environment, folder, output and process attributes stay as they are. The
// program is checked first, relative to cmd.Dir as exec.Cmd runs it, so
// that a missing command fails the start before any process runs. The
// caller closes the returned write end, which releases the process when
// the release byte was written to it and abandons the launch otherwise.
func launchCommand(cmd *exec.Cmd, umask int) (*os.File, error) {
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	program := cmd.Path
	check := program
	if !filepath.IsAbs(check) {
		check = filepath.Join(cmd.Dir, check)
	}
	if _, err := exec.LookPath(check); err != nil {
		return nil, fmt.Errorf("the server command: %w", err)
	}
	read, write, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating the release pipe: %w", err)
	}
	cmd.ExtraFiles = []*os.File{read}
	cmd.Path = selfExe
	cmd.Args = launchArgs(launchSpec{program: program, argv: cmd.Args, umask: umask})
	return write, nil
}

// sendRelease lets the launched process behind write run its command. An error
// means that the process has exited already, which the caller's wait for
// the server reports.
func sendRelease(write *os.File) error {
	defer write.Close()
	if _, err := write.Write([]byte{releaseByte}); err != nil {
		return fmt.Errorf("releasing the server process: %w", err)
	}
	return nil
}
