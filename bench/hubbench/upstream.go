package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
)

// runUpstream is the trivial user server of the proxy phase: it listens
// where JUPYTERHUB_SERVICE_URL says, answers every request with 200 and
// "ok", and writes its address to $HUBBENCH_ADDR_DIR/$JUPYTERHUB_USER so the
// benchmark can also reach it directly.
func runUpstream() error {
	u, err := url.Parse(os.Getenv("JUPYTERHUB_SERVICE_URL"))
	if err != nil || u.Host == "" {
		return fmt.Errorf("JUPYTERHUB_SERVICE_URL %q is not a URL with a host", os.Getenv("JUPYTERHUB_SERVICE_URL"))
	}
	l, err := net.Listen("tcp", u.Host)
	if err != nil {
		return err
	}
	if dir, user := os.Getenv("HUBBENCH_ADDR_DIR"), os.Getenv("JUPYTERHUB_USER"); dir != "" && user != "" {
		addr := "http://" + l.Addr().String()
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(user)), []byte(addr), 0o600); err != nil {
			return fmt.Errorf("writing address: %w", err)
		}
	}
	body := []byte("ok\n")
	return http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
}
