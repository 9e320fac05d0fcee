package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// serverScript is the user server command of the proxy phase. It writes
// the server's URL into $HUBBENCH_ADDR_DIR, where the trivial upstream
// finds it and listens on its port, then sleeps. So a thousand user
// servers cost a thousand sleep processes and one listening process.
const serverScript = `d=$HUBBENCH_ADDR_DIR; u=$JUPYTERHUB_USER
printf %s "$JUPYTERHUB_SERVICE_URL" >"$d/.$u" && mv "$d/.$u" "$d/$u" && exec sleep infinity`

// runUpstream is the trivial upstream of the proxy phase. Every 5 ms it
// looks for new files in dir, each holding a user server's URL, and listens
// on the port of every new one. It responds to every request with 200 and
// "ok".
//
// It reads dir only while the folder's modification time changes or is
// less than a second old, because that time may not move for two changes
// within one clock tick. Reading a thousand entries every 5 ms took 13 %
// of a core, which only the run with many routes would have paid.
func runUpstream(dir string) error {
	body := []byte("ok\n")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	served := map[string]bool{}
	errs := make(chan error, 1)
	var lastChange time.Time
	for {
		info, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if changed := info.ModTime(); !changed.Equal(lastChange) || time.Since(changed) <= time.Second {
			lastChange = changed
			if err := listenNew(dir, served, handler, errs); err != nil {
				return err
			}
		}
		select {
		case err := <-errs:
			return err
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// listenNew serves handler on the port of every server file in dir that
// is not in served yet. A server that stops sends its error to errs.
func listenNew(dir string, served map[string]bool, handler http.Handler, errs chan<- error) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || served[name] {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		u, err := url.Parse(string(data))
		if err != nil || u.Host == "" {
			return fmt.Errorf("server URL %q of %s is not a URL with a host", data, name)
		}
		l, err := net.Listen("tcp", u.Host)
		if err != nil {
			return fmt.Errorf("listening for %s: %w", name, err)
		}
		served[name] = true
		go func() {
			select {
			case errs <- http.Serve(l, handler):
			default:
			}
		}()
	}
	return nil
}
