package config

import (
	"net"
	"net/mail"
	"net/url"
	"strings"
)

// checkTLS checks the keys of the public listener's HTTPS: a certificate
// from files or from ACME, never both, and the listeners and headers that
// only make sense with HTTPS. It lower-cases the ACME domains.
func checkTLS(c *Config, b *builder) {
	h := &c.JupyterHub
	if (h.SSLCert == "") != (h.SSLKey == "") {
		id, missing := "JupyterHub.ssl_cert", "ssl_key"
		if h.SSLKey != "" {
			id, missing = "JupyterHub.ssl_key", "ssl_cert"
		}
		b.errorf(b.setPos(id), id, "%s is missing: set both ssl_cert and ssl_key, or neither",
			missing)
	}
	checkACME(h, b)
	checkPort(b, "JupyterHub.http_redirect_port", h.HTTPRedirectPort)
	if id := "JupyterHub.http_redirect_port"; h.HTTPRedirectPort != 0 {
		switch {
		case !h.HTTPS():
			b.errorf(b.setPos(id), id, "needs HTTPS: set ssl_cert and ssl_key, or "+
				"acme_domains, or remove http_redirect_port")
		case h.HTTPRedirectPort == h.Port:
			b.errorf(b.setPos(id), id, "%d is also the port of the HTTPS listener: "+
				"use another port, usually 80", h.HTTPRedirectPort)
		}
	}
}

// checkACME checks acme_domains and the keys that go with it.
func checkACME(h *JupyterHub, b *builder) {
	if len(h.ACMEDomains) == 0 {
		for _, name := range []string{"acme_email", "acme_directory_url", "acme_ca_roots"} {
			if id := "JupyterHub." + name; b.isSet(id) {
				b.warnf(b.setPos(id), id, "ignored: acme_domains is empty")
			}
		}
		return
	}
	id := "JupyterHub.acme_domains"
	if h.SSLCert != "" {
		b.errorf(b.setPos(id), id, "set either acme_domains or ssl_cert and ssl_key, not both")
	}
	for i, d := range h.ACMEDomains {
		d = strings.TrimSuffix(strings.ToLower(d), ".")
		if !validACMEDomain(d) {
			b.errorf(b.setPos(id), b.labelIndex(id, i), "invalid domain %q: use a DNS name with "+
				"at least two labels, such as \"hub.example.org\", with no port or wildcard "+
				"and international names in their xn-- form", h.ACMEDomains[i])
		}
		h.ACMEDomains[i] = d
	}
	if h.ACMEEmail != "" && !validACMEEmail(h.ACMEEmail) {
		id := "JupyterHub.acme_email"
		b.errorf(b.setPos(id), id, "invalid email address %q: use a plain address such as "+
			"\"admin@example.org\", with no name or angle brackets, or leave acme_email out",
			h.ACMEEmail)
	}
	if u, err := url.Parse(h.ACMEDirectoryURL); err != nil || u.Scheme != "https" || u.Host == "" {
		id := "JupyterHub.acme_directory_url"
		b.errorf(b.setPos(id), id, "invalid URL %q: use the https URL of an ACME directory, "+
			"such as %q", h.ACMEDirectoryURL, DefaultACMEDirectoryURL)
	}
}

// validACMEEmail reports whether addr is a bare email address whose
// domain has at least two labels, which ACME CAs require of a contact:
// Let's Encrypt rejects the account otherwise, and the hub would then
// never get a certificate.
func validACMEEmail(addr string) bool {
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Name != "" || parsed.Address != addr {
		return false
	}
	_, domain, _ := strings.Cut(addr, "@")
	return validACMEDomain(strings.ToLower(domain))
}

// validACMEDomain reports whether d is a lower-case DNS name that an ACME
// CA can validate with the tls-alpn-01 or http-01 challenge: letters,
// digits and hyphens in at least two labels, and no IP address. The
// golang.org/x/crypto autocert package rejects names of a single label.
func validACMEDomain(d string) bool {
	if len(d) > 253 || net.ParseIP(d) != nil {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}
