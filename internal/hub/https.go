package hub

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// setHSTS sets Strict-Transport-Security on a response to a request that
// came over HTTPS, with hsts_max_age, so that browsers use HTTPS for the
// host from then on. Browsers ignore the header on plain http, and a
// max-age of 0 sends none.
func (h *Hub) setHSTS(w http.ResponseWriter, r *http.Request) {
	age := h.cfg.JupyterHub.HSTSMaxAge
	if r.TLS == nil || age <= 0 {
		return
	}
	seconds := strconv.FormatInt(int64(age/time.Second), 10)
	w.Header().Set("Strict-Transport-Security", "max-age="+seconds)
}

// ConnectAddr returns the host:port at which local clients reach a
// listener's address: one on all interfaces is reached through loopback.
func ConnectAddr(addr net.Addr) string { return connectAddr(addr) }
