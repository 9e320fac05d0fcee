// Package tlsconf sets up HTTPS for the hub's public listener from the
// [JupyterHub] keys: a certificate from PEM files that it reloads when they
// change (ssl_cert, ssl_key), or certificates that it obtains and renews
// from an ACME CA such as Let's Encrypt (acme_domains). It also makes the
// handler of the plain-HTTP listener that answers ACME http-01 challenges
// and redirects everything else to HTTPS (http_redirect_port).
package tlsconf

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/jupygo/jupygo/internal/hub/config"
	"golang.org/x/crypto/acme"
)

// Mode is the source of the public listener's certificate.
type Mode string

// The modes.
const (
	// ModeOff serves plain http.
	ModeOff Mode = "off"
	// ModeFiles serves the certificate of ssl_cert and ssl_key.
	ModeFiles Mode = "files"
	// ModeACME serves certificates obtained from an ACME CA.
	ModeACME Mode = "acme"
)

// Setup is the HTTPS setup of the hub's public listener.
type Setup struct {
	mode  Mode
	files *CertFiles
	acme  *ACME
	// domains are the names in the certificate: acme_domains, or the
	// DNS names of ssl_cert.
	domains []string
}

// New builds the setup that cfg describes, loading ssl_cert and ssl_key or
// preparing the ACME cache in the acme folder of data_dir. version goes
// into the User-Agent sent to the CA.
func New(cfg *config.Config, version string, log *slog.Logger) (*Setup, error) {
	h := &cfg.JupyterHub
	switch {
	case h.SSLCert != "":
		files, err := LoadCertFiles(h.SSLCert, h.SSLKey, log, nil)
		if err != nil {
			return nil, err
		}
		return &Setup{mode: ModeFiles, files: files,
			domains: files.Certificate().Leaf.DNSNames}, nil
	case len(h.ACMEDomains) > 0:
		a, err := NewACME(ACMEOptions{
			Domains:      h.ACMEDomains,
			Email:        h.ACMEEmail,
			DirectoryURL: h.ACMEDirectoryURL,
			CARootsFile:  h.ACMECARoots,
			CacheDir:     cfg.Path("acme"),
			UserAgent:    "jupygo/" + version,
			Logger:       log,
		})
		if err != nil {
			return nil, err
		}
		return &Setup{mode: ModeACME, acme: a, domains: h.ACMEDomains}, nil
	}
	return &Setup{mode: ModeOff}, nil
}

// Mode returns where the certificate comes from.
func (s *Setup) Mode() Mode { return s.mode }

// Domains returns the DNS names of the certificate, nil in ModeOff and
// for a certificate file that names only IP addresses.
func (s *Setup) Domains() []string { return s.domains }

// TLSConfig returns the configuration of the public listener, nil in
// ModeOff. It offers HTTP/2 and HTTP/1.1, and in ModeACME the tls-alpn-01
// protocol too. TLS 1.2 is the minimum.
func (s *Setup) TLSConfig() *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	switch s.mode {
	case ModeFiles:
		c.GetCertificate = s.files.GetCertificate
	case ModeACME:
		c.GetCertificate = s.acme.GetCertificate
		c.NextProtos = append(c.NextProtos, acme.ALPNProto)
	default:
		return nil
	}
	return c
}

// HTTPHandler returns the handler of the plain-HTTP listener: in ModeACME
// it serves http-01 challenges, and every other request is redirected to
// HTTPS on httpsPort, to the host that redirectHost picks.
func (s *Setup) HTTPHandler(httpsPort int) http.Handler {
	redirect := RedirectHandler(httpsPort, s.redirectHost)
	if s.mode == ModeACME {
		return s.acme.HTTPHandler(redirect)
	}
	return redirect
}

// redirectHost returns the host that a plain-HTTP request for host is
// redirected to. In ModeACME that is host when acme_domains lists it, else
// the first of acme_domains. With certificate files it is host when host
// is an IP address or a name that the current certificate is valid for,
// else the certificate's first DNS name that is not a wildcard, else "".
func (s *Setup) redirectHost(host string) string {
	if s.mode == ModeACME {
		for _, d := range s.domains {
			if strings.EqualFold(d, host) {
				return host
			}
		}
		return strings.ToLower(s.domains[0])
	}
	if s.files == nil {
		return ""
	}
	leaf := s.files.Certificate().Leaf
	if host != "" && (net.ParseIP(host) != nil || leaf.VerifyHostname(host) == nil) {
		return host
	}
	for _, name := range leaf.DNSNames {
		if !strings.HasPrefix(name, "*.") {
			return strings.ToLower(name)
		}
	}
	return ""
}

// Obtain requests the ACME certificates that are missing and logs the
// outcome; see ACME.Obtain. It does nothing in other modes.
func (s *Setup) Obtain() {
	if s.acme != nil {
		s.acme.Obtain()
	}
}

// LogAttrs returns the attributes that describe the setup in the hub's
// start log: the mode, and the files or the domains and CA.
func (s *Setup) LogAttrs(cfg *config.Config) []any {
	attrs := []any{"tls", string(s.mode)}
	h := &cfg.JupyterHub
	switch s.mode {
	case ModeFiles:
		leaf := s.files.Certificate().Leaf
		attrs = append(attrs, "cert", h.SSLCert, "key", h.SSLKey, "domains", s.domains,
			"not_after", leaf.NotAfter)
	case ModeACME:
		attrs = append(attrs, "domains", s.domains, "directory", h.ACMEDirectoryURL)
	}
	return attrs
}
