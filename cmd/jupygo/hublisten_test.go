//go:build !nohub

package main

import (
	"errors"
	"log/slog"
	"net"
	"testing"

	"github.com/jupygo/jupygo/internal/hub/config"
	"github.com/jupygo/jupygo/internal/hub/tlsconf"
)

// addrListener is a net.Listener that only reports an address, so that
// URLs for addresses on all interfaces are tested without opening them.
type addrListener struct {
	net.Listener
	addr net.Addr
}

func (l addrListener) Addr() net.Addr { return l.addr }

func TestPublicURLAllInterfaces(t *testing.T) {
	cfg := config.Default()
	cfg.JupyterHub.BaseURL = "/jupyter/"
	setup, err := tlsconf.New(cfg, "test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if setup.Mode() != tlsconf.ModeOff {
		t.Fatalf("TLS mode %q, want off", setup.Mode())
	}
	tests := []struct {
		name      string
		ip        net.IP
		hostname  func() (string, error)
		wantURL   string
		wantLocal string
	}{
		{"ipv4 wildcard", net.IPv4zero, func() (string, error) { return "lab1", nil },
			"http://lab1:8000/jupyter/", "http://127.0.0.1:8000/jupyter/"},
		{"ipv6 wildcard", net.IPv6unspecified, func() (string, error) { return "lab1", nil },
			"http://lab1:8000/jupyter/", "http://127.0.0.1:8000/jupyter/"},
		{"unknown host name", net.IPv6unspecified,
			func() (string, error) { return "", errors.New("no name") },
			"http://127.0.0.1:8000/jupyter/", "http://127.0.0.1:8000/jupyter/"},
		{"loopback", net.IPv4(127, 0, 0, 1), func() (string, error) { return "lab1", nil },
			"http://127.0.0.1:8000/jupyter/", ""},
		{"ipv6 loopback", net.IPv6loopback, func() (string, error) { return "lab1", nil },
			"http://[::1]:8000/jupyter/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := hostname
			hostname = tt.hostname
			t.Cleanup(func() { hostname = saved })
			l := &hubListeners{cfg: cfg, tls: setup,
				public: addrListener{addr: &net.TCPAddr{IP: tt.ip, Port: 8000}}}
			if got := l.publicURL(); got != tt.wantURL {
				t.Errorf("publicURL() = %q, want %q", got, tt.wantURL)
			}
			if got := l.localURL(); got != tt.wantLocal {
				t.Errorf("localURL() = %q, want %q", got, tt.wantLocal)
			}
		})
	}
}
