package tlsconf

import (
	"net"
	"net/http"
	"strconv"
)

// RedirectHandler returns a handler for a plain-HTTP listener that sends
// every request to the same host, path and query over HTTPS on httpsPort,
// which is left out of the URL when it is 443. GET and HEAD get 301, which
// every client follows. Other methods get 308, which makes the client
// repeat the method and body.
func RedirectHandler(httpsPort int) http.Handler {
	port := ""
	if httpsPort != 443 {
		port = ":" + strconv.Itoa(httpsPort)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			http.Error(w, "Use HTTPS: the request has no Host header", http.StatusBadRequest)
			return
		}
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			host = "[" + host + "]"
		}
		status := http.StatusPermanentRedirect
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			status = http.StatusMovedPermanently
		}
		http.Redirect(w, r, "https://"+host+port+r.URL.RequestURI(), status)
	})
}
