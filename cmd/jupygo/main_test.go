package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVersionFlagPrintsVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}, {"server", "--version"}} {
		arg := strings.Join(args, " ")
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 0 {
			t.Errorf("jupygo %s exited %d: %s", arg, code, errs.String())
		}
		if !strings.Contains(out.String(), currentVersion()) {
			t.Errorf("jupygo %s printed %q, want the version %q", arg, out.String(), currentVersion())
		}
	}
}

func TestServerHelpShowsFlagsAndDefaults(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"server", "--help"}, &out, &errs); code != 0 {
		t.Fatalf("jupygo server --help exited %d", code)
	}
	help := out.String() + errs.String()
	for _, want := range []string{
		"--ip", "127.0.0.1", "--port", "8888", "--root-dir", "--notebook-dir", "--base-url",
		"--token", "JUPYTER_TOKEN", "--no-browser", "--allow-hidden",
		"--allow-symlinks-outside-root", "--delete-to-trash", "--always-delete-dir",
		"--expose-app-in-browser", "--log-level", "info",
		"--cull-idle-timeout int", "--cull-interval int", "(default 300)", "--cull-connected",
		"--cull-busy", "--collaborative", "--collab-save-delay float", "--collab-cleanup-delay",
		"--collab-poll-interval", "--collab-max-message-mb int", "(default 64)", "--collab-max-rooms",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("jupygo server --help does not show %q:\n%s", want, help)
		}
	}
}

func TestHubHelpShowsOneDashConfigFlag(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"hub", "--help"}, &out, &errs); code != 0 {
		t.Fatalf("jupygo hub --help exited %d", code)
	}
	help := out.String() + errs.String()
	if !strings.Contains(help, "\n  -f string\n") {
		t.Errorf("jupygo hub --help does not show -f:\n%s", help)
	}
	if strings.Contains(help, "--f ") {
		t.Errorf("jupygo hub --help shows --f:\n%s", help)
	}
	if !strings.Contains(help, "\n  --data-dir string\n") {
		t.Errorf("jupygo hub --help does not show --data-dir:\n%s", help)
	}
}

func TestUnknownCommandFails(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"serve"}, &out, &errs); code != 2 {
		t.Errorf("jupygo serve exited %d, want 2", code)
	}
	if !strings.Contains(errs.String(), `unknown command "serve"`) {
		t.Errorf("jupygo serve printed %q, want it to name the command", errs.String())
	}
}

func TestServerRejectsInvalidCullFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative timeout", []string{"--cull-idle-timeout", "-1"}, "invalid --cull-idle-timeout -1"},
		{"zero interval", []string{"--cull-interval", "0"}, "invalid --cull-interval 0"},
		{"not a number", []string{"--cull-idle-timeout", "soon"}, "invalid value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			if code := run(append([]string{"server"}, tc.args...), &out, &errs); code != 2 {
				t.Errorf("exit code = %d, want 2", code)
			}
			if !strings.Contains(errs.String(), tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", errs.String(), tc.want)
			}
		})
	}
}

func TestCommandArgsUnderProxyName(t *testing.T) {
	for _, tc := range []struct {
		argv, want []string
	}{
		{[]string{"jupygo", "server", "--port", "1"}, []string{"server", "--port", "1"}},
		{[]string{"/usr/local/bin/configurable-http-proxy", "--port", "1"}, []string{"proxy", "--port", "1"}},
		{[]string{"configurable-http-proxy"}, []string{"proxy"}},
		{[]string{"/opt/configurable-http-proxy/jupygo", "proxy"}, []string{"proxy"}},
		{nil, nil},
	} {
		if diff := cmp.Diff(tc.want, commandArgs(tc.argv)); diff != "" {
			t.Errorf("commandArgs(%q) (-want +got):\n%s", tc.argv, diff)
		}
	}
}

// helpCommands returns the command lines of every subcommand that has
// flags, so that help and flag errors are checked for each.
func helpCommands() [][]string {
	var lines [][]string
	for _, c := range commands() {
		lines = append(lines, []string{c.name})
		if c.name == "hub" {
			lines = append(lines, []string{"hub", "set-password"})
		}
	}
	return lines
}

func TestSubcommandHelpGoesToStdout(t *testing.T) {
	for _, line := range helpCommands() {
		for _, helpFlag := range []string{"--help", "-h", "-help"} {
			args := append(append([]string{}, line...), helpFlag)
			var out, errs bytes.Buffer
			if code := run(args, &out, &errs); code != 0 {
				t.Errorf("jupygo %s exited %d, want 0", strings.Join(args, " "), code)
			}
			want := "Usage: jupygo " + strings.Join(line, " ")
			if !strings.HasPrefix(out.String(), want) {
				t.Errorf("jupygo %s wrote %q to stdout, want the usage starting %q",
					strings.Join(args, " "), out.String(), want)
			}
			if errs.Len() != 0 {
				t.Errorf("jupygo %s wrote %q to stderr, want nothing", strings.Join(args, " "), errs.String())
			}
		}
	}
}

func TestSubcommandFlagErrorGoesToStderr(t *testing.T) {
	for _, line := range helpCommands() {
		args := append(append([]string{}, line...), "--no-such-flag")
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 {
			t.Errorf("jupygo %s exited %d, want 2", strings.Join(args, " "), code)
		}
		if out.Len() != 0 {
			t.Errorf("jupygo %s wrote %q to stdout, want nothing", strings.Join(args, " "), out.String())
		}
		for _, want := range []string{
			"flag provided but not defined: -no-such-flag",
			"Usage: jupygo " + strings.Join(line, " "),
		} {
			if !strings.Contains(errs.String(), want) {
				t.Errorf("jupygo %s wrote %q to stderr, want it to contain %q",
					strings.Join(args, " "), errs.String(), want)
			}
		}
	}
}

func TestVersionRejectsArguments(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"version", "extra"}, &out, &errs); code != 2 {
		t.Errorf("jupygo version extra exited %d, want 2", code)
	}
	if out.Len() != 0 {
		t.Errorf("jupygo version extra wrote %q to stdout, want nothing", out.String())
	}
	if want := `unexpected argument "extra"`; !strings.Contains(errs.String(), want) {
		t.Errorf("jupygo version extra wrote %q to stderr, want it to contain %q", errs.String(), want)
	}
}
