package tlsconf

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// ReloadInterval is the minimum time between two checks of the
// certificate files for changes.
const ReloadInterval = 5 * time.Second

// CertFiles serves a certificate and key read from PEM files, such as
// certbot's fullchain.pem and privkey.pem, and reloads them when they
// change, so that a renewal needs no restart. On a handshake, at most
// every ReloadInterval, it compares the files' identity, size and
// modification time with those of the last load. A pair that fails to load
// is logged, and the previous one stays in use until the files change
// again. It is safe for concurrent use.
type CertFiles struct {
	certPath, keyPath string
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	checked time.Time
	// certInfo and keyInfo describe the files at the last load attempt,
	// successful or not, so a broken pair is not read again until one of
	// the files changes.
	certInfo, keyInfo os.FileInfo
	// lastErr is the message of the last failed check, logged once.
	lastErr string
}

// LoadCertFiles reads the certificate and key. Its errors name the file at
// fault: missing, unreadable, not PEM, or a key that is not the
// certificate's. A nil now means time.Now.
func LoadCertFiles(certPath, keyPath string, log *slog.Logger,
	now func() time.Time) (*CertFiles, error) {
	if now == nil {
		now = time.Now
	}
	c := &CertFiles{certPath: certPath, keyPath: keyPath, log: log, now: now}
	certInfo, keyInfo, err := c.stat()
	if err != nil {
		return nil, err
	}
	cert, err := c.load()
	if err != nil {
		return nil, err
	}
	c.cert, c.certInfo, c.keyInfo, c.checked = cert, certInfo, keyInfo, now()
	c.warnValidity(cert)
	return c, nil
}

// GetCertificate returns the current certificate, for
// tls.Config.GetCertificate, after reloading the files when they changed.
func (c *CertFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= ReloadInterval {
		c.checked = now
		c.reloadLocked()
	}
	return c.cert, nil
}

// Certificate returns the certificate in use, without a check for
// changes.
func (c *CertFiles) Certificate() *tls.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert
}

// reloadLocked loads the files when either changed since the last attempt.
func (c *CertFiles) reloadLocked() {
	certInfo, keyInfo, err := c.stat()
	if err != nil {
		c.failLocked(err)
		return
	}
	if sameFile(certInfo, c.certInfo) && sameFile(keyInfo, c.keyInfo) {
		return
	}
	c.certInfo, c.keyInfo = certInfo, keyInfo
	cert, err := c.load()
	if err != nil {
		c.failLocked(err)
		return
	}
	c.cert, c.lastErr = cert, ""
	c.log.Info("TLS certificate reloaded", "cert", c.certPath,
		"subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter)
	c.warnValidity(cert)
}

// failLocked logs a failed check, unless the previous check failed the
// same way.
func (c *CertFiles) failLocked(err error) {
	if msg := err.Error(); msg != c.lastErr {
		c.lastErr = msg
		c.log.Error("reloading the TLS certificate failed; the previous one stays in use",
			"err", err)
	}
}

func (c *CertFiles) stat() (certInfo, keyInfo os.FileInfo, err error) {
	if certInfo, err = os.Stat(c.certPath); err != nil {
		return nil, nil, fmt.Errorf("ssl_cert: %w", err)
	}
	if keyInfo, err = os.Stat(c.keyPath); err != nil {
		return nil, nil, fmt.Errorf("ssl_key: %w", err)
	}
	return certInfo, keyInfo, nil
}

// load reads and parses the pair. tls.X509KeyPair fills in Leaf.
func (c *CertFiles) load() (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(c.certPath)
	if err != nil {
		return nil, fmt.Errorf("reading ssl_cert: %w", err)
	}
	keyPEM, err := os.ReadFile(c.keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading ssl_key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ssl_cert %s and ssl_key %s: %w", c.certPath, c.keyPath, err)
	}
	return &cert, nil
}

// warnValidity logs a certificate that is not valid now, which browsers
// reject.
func (c *CertFiles) warnValidity(cert *tls.Certificate) {
	now := c.now()
	switch leaf := cert.Leaf; {
	case now.After(leaf.NotAfter):
		c.log.Warn("the TLS certificate has expired", "cert", c.certPath,
			"not_after", leaf.NotAfter)
	case now.Before(leaf.NotBefore):
		c.log.Warn("the TLS certificate is not valid yet", "cert", c.certPath,
			"not_before", leaf.NotBefore)
	}
}

// sameFile reports whether a and b describe the same file with the same
// size and modification time. A certbot renewal points the live/ symlink at
// a new file, and an edit in place changes the modification time.
func sameFile(a, b os.FileInfo) bool {
	return b != nil && os.SameFile(a, b) && a.Size() == b.Size() &&
		a.ModTime().Equal(b.ModTime())
}
