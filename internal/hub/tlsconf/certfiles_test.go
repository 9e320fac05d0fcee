package tlsconf

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/testutil/testcert"
)

// logBuffer collects log output for checks, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// count returns the number of times s occurs in the log.
func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func newLog() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// clock is a fake time source that tests move forward.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLoadCertFilesErrors(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := ca.Issue(t, "hub.example.org").Write(t, dir)
	otherDir := filepath.Join(dir, "other")
	must(t, os.Mkdir(otherDir, 0o700))
	_, otherKey := ca.Issue(t, "hub.example.org").Write(t, otherDir)
	notPEM := filepath.Join(dir, "not.pem")
	must(t, os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600))
	missing := filepath.Join(dir, "missing.pem")

	for _, tc := range []struct {
		name, cert, key string
		want            []string
	}{
		{"missing cert", missing, keyFile, []string{"ssl_cert", missing, "no such file"}},
		{"missing key", certFile, missing, []string{"ssl_key", missing, "no such file"}},
		{"cert is a folder", dir, keyFile, []string{"reading ssl_cert", "is a directory"}},
		{"key is a folder", certFile, dir, []string{"reading ssl_key", "is a directory"}},
		{"cert not PEM", notPEM, keyFile, []string{"ssl_cert " + notPEM, "PEM"}},
		{"key not PEM", certFile, notPEM, []string{"ssl_key " + notPEM, "PEM"}},
		{"mismatched key", certFile, otherKey, []string{"ssl_key " + otherKey,
			"private key does not match public key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, _ := newLog()
			_, err := LoadCertFiles(tc.cert, tc.key, log, nil)
			if err == nil {
				t.Fatal("LoadCertFiles succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// serial returns the serial number of the certificate that c serves.
func serial(t *testing.T, c *CertFiles) string {
	t.Helper()
	cert, err := c.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return cert.Leaf.SerialNumber.String()
}

func TestCertFilesReload(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	first := ca.Issue(t, "hub.example.org")
	certFile, keyFile := first.Write(t, dir)
	log, logs := newLog()
	clk := &clock{now: time.Now()}
	c, err := LoadCertFiles(certFile, keyFile, log, clk.Now)
	must(t, err)
	if got, want := serial(t, c), first.Cert.SerialNumber.String(); got != want {
		t.Fatalf("serial = %s, want the first certificate's %s", got, want)
	}

	// A renewal is seen at the first handshake after ReloadInterval.
	second := ca.Issue(t, "hub.example.org")
	second.Write(t, dir)
	clk.advance(ReloadInterval - time.Second)
	if got := serial(t, c); got != first.Cert.SerialNumber.String() {
		t.Errorf("the certificate changed %v after the last check, before ReloadInterval",
			ReloadInterval-time.Second)
	}
	clk.advance(time.Second)
	if got, want := serial(t, c), second.Cert.SerialNumber.String(); got != want {
		t.Errorf("serial after the renewal = %s, want %s", got, want)
	}
	if n := logs.count("TLS certificate reloaded"); n != 1 {
		t.Errorf("%d reload messages, want 1", n)
	}

	// A renewal that wrote the certificate but not yet its key keeps the
	// previous pair, and is logged once however many checks see it.
	third := ca.Issue(t, "hub.example.org")
	must(t, os.WriteFile(certFile, third.CertPEM, 0o644))
	for range 3 {
		clk.advance(ReloadInterval)
		if got := serial(t, c); got != second.Cert.SerialNumber.String() {
			t.Errorf("serial with a mismatched key = %s, want the previous %s", got,
				second.Cert.SerialNumber)
		}
	}
	if n := logs.count("reloading the TLS certificate failed"); n != 1 {
		t.Errorf("%d failure messages for one broken pair, want 1", n)
	}
	if n := logs.count("private key does not match"); n != 1 {
		t.Errorf("the failure message lacks the cause: %d matches", n)
	}

	// Once the key is written too, the new pair loads.
	must(t, os.WriteFile(keyFile, third.KeyPEM, 0o600))
	clk.advance(ReloadInterval)
	if got, want := serial(t, c), third.Cert.SerialNumber.String(); got != want {
		t.Errorf("serial after the key arrived = %s, want %s", got, want)
	}

	// A file that disappears keeps the pair in use too.
	must(t, os.Remove(keyFile))
	clk.advance(ReloadInterval)
	if got := serial(t, c); got != third.Cert.SerialNumber.String() {
		t.Errorf("serial with the key missing = %s, want %s", got, third.Cert.SerialNumber)
	}
	if n := logs.count("no such file"); n != 1 {
		t.Errorf("%d messages about the missing key, want 1", n)
	}
}

// TestCertFilesSymlinkRenewal renews the way certbot does: live/ holds
// symlinks, and a renewal writes new files in archive/ and points the
// symlinks at them.
func TestCertFilesSymlinkRenewal(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	archive1, archive2 := filepath.Join(dir, "archive1"), filepath.Join(dir, "archive2")
	live := filepath.Join(dir, "live")
	for _, d := range []string{archive1, archive2, live} {
		must(t, os.Mkdir(d, 0o700))
	}
	first := ca.Issue(t, "hub.example.org")
	cert1, key1 := first.Write(t, archive1)
	second := ca.Issue(t, "hub.example.org")
	cert2, key2 := second.Write(t, archive2)
	certFile, keyFile := filepath.Join(live, "fullchain.pem"), filepath.Join(live, "privkey.pem")
	must(t, os.Symlink(cert1, certFile))
	must(t, os.Symlink(key1, keyFile))

	log, _ := newLog()
	clk := &clock{now: time.Now()}
	c, err := LoadCertFiles(certFile, keyFile, log, clk.Now)
	must(t, err)
	for _, link := range []struct{ target, name string }{{cert2, certFile}, {key2, keyFile}} {
		tmp := link.name + ".new"
		must(t, os.Symlink(link.target, tmp))
		must(t, os.Rename(tmp, link.name))
	}
	clk.advance(ReloadInterval)
	if got, want := serial(t, c), second.Cert.SerialNumber.String(); got != want {
		t.Errorf("serial after the symlinks moved = %s, want %s", got, want)
	}
}

func TestCertFilesExpiredWarning(t *testing.T) {
	ca := testcert.NewCA(t)
	now := time.Now()
	pair := ca.IssueValid(t, now.Add(-48*time.Hour), now.Add(-time.Hour), "hub.example.org")
	certFile, keyFile := pair.Write(t, t.TempDir())
	log, logs := newLog()
	if _, err := LoadCertFiles(certFile, keyFile, log, nil); err != nil {
		t.Fatalf("an expired certificate stopped the start: %v", err)
	}
	if logs.count("the TLS certificate has expired") != 1 {
		t.Error("no warning about the expired certificate")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
