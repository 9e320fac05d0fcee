package tlsconf

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// RedirectHandler returns a handler for a plain-HTTP listener that sends
// every request to the same path and query over HTTPS on httpsPort, which
// is left out of the URL when it is 443. GET and HEAD get 301, which
// every client follows. Other methods get 308, which makes the client
// repeat the method and body.
//
// The Host header comes from the client, so targetHost picks the host of
// the redirect. It gets the request's host in lower case, without port and
// trailing dot, and returns that host, another one, or "" for a 400. It
// keeps the redirect from sending browsers to a site that an attacker
// named.
func RedirectHandler(httpsPort int, targetHost func(host string) string) http.Handler {
	port := ""
	if httpsPort != 443 {
		port = ":" + strconv.Itoa(httpsPort)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
			host = host[1 : len(host)-1] // an IPv6 address without port
		}
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		target := targetHost(host)
		if target == "" && host == "" {
			http.Error(w, "Use HTTPS: the request has no Host header", http.StatusBadRequest)
			return
		}
		if target == "" {
			http.Error(w, "Use HTTPS: this server has no certificate for the host "+
				strconv.Quote(host), http.StatusBadRequest)
			return
		}
		if ip := net.ParseIP(target); ip != nil && ip.To4() == nil {
			target = "[" + target + "]"
		}
		status := http.StatusPermanentRedirect
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			status = http.StatusMovedPermanently
		}
		http.Redirect(w, r, "https://"+target+port+r.URL.RequestURI(), status)
	})
}
