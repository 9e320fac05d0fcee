// Package pebbletest runs pebble, Let's Encrypt's ACME test server, on
// loopback for tests of ACME clients. The binary comes from the module's
// tool directive (go tool pebble), so the go command must be on PATH.
//
// Pebble runs with PEBBLE_VA_ALWAYS_VALID=1, so it marks every challenge
// valid without connecting to the client, and no DNS name needs to resolve.
// PEBBLE_VA_NOSLEEP=1 drops its random validation delays, and
// PEBBLE_WFE_NONCEREJECT=0 stops it from rejecting 5 % of valid nonces.
// These are pebble's documented settings for tests (its README, v2.10.3).
package pebbletest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jupygo/jupygo/internal/testutil/testcert"
)

// startAttempts bounds the starts on newly chosen ports, because another
// process may take a port between its choice and pebble's bind.
const startAttempts = 3

// Server is a running pebble.
type Server struct {
	// DirectoryURL is the ACME directory, https://127.0.0.1:PORT/dir.
	DirectoryURL string
	// ServerCAFile is a PEM file of the CA of pebble's own HTTPS, for
	// the ACME client's trusted roots.
	ServerCAFile string
	// managementURL serves the issuing roots under /roots/.
	managementURL string
	// client trusts pebble's HTTPS.
	client *http.Client
}

// Start runs pebble on two free loopback ports and waits until its
// directory responds. The test's cleanup stops it. Start skips the test
// when the go command is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	certFile, keyFile := ca.Issue(t, "127.0.0.1", "localhost").Write(t, dir)
	caFile := filepath.Join(dir, "pebble-server-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}
	t.Cleanup(transport.CloseIdleConnections)
	s := &Server{ServerCAFile: caFile, client: &http.Client{Transport: transport,
		Timeout: 10 * time.Second}}

	var err error
	for range startAttempts {
		if err = s.start(t, bin, dir, certFile, keyFile); err == nil {
			return s
		}
		t.Logf("starting pebble: %v", err)
	}
	t.Fatalf("pebble did not start after %d attempts: %v", startAttempts, err)
	return nil
}

// binary returns the path of the pebble binary that go tool builds.
func binary(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH, and pebble comes from go tool")
	}
	out, err := exec.Command("go", "tool", "-n", "pebble").Output()
	if err != nil {
		t.Fatalf("go tool -n pebble: %v\n%s", err, exitOutput(err))
	}
	return strings.TrimSpace(string(out))
}

func exitOutput(err error) []byte {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.Stderr
	}
	return nil
}

// start runs pebble once, on new ports.
func (s *Server) start(t testing.TB, bin, dir, certFile, keyFile string) error {
	addr, mgmt, err := freePorts()
	if err != nil {
		return err
	}
	config := map[string]any{"pebble": map[string]any{
		"listenAddress":           addr,
		"managementListenAddress": mgmt,
		"certificate":             certFile,
		"privateKey":              keyFile,
		// Unused, because validation always succeeds, but pebble reads them.
		"httpPort": 5002,
		"tlsPort":  5001,
	}}
	data, _ := json.Marshal(config)
	configFile := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(configFile, data, 0o644); err != nil {
		return err
	}
	cmd := exec.Command(bin, "-config", configFile)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_ALWAYS_VALID=1", "PEBBLE_VA_NOSLEEP=1",
		"PEBBLE_WFE_NONCEREJECT=0")
	endWithParent(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w", bin, err)
	}
	exited := make(chan struct{})
	var logMu sync.Mutex
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
		}
		cmd.Wait()
		close(exited)
	}()

	s.DirectoryURL = "https://" + addr + "/dir"
	s.managementURL = "https://" + mgmt
	if err := s.waitReady(exited); err != nil {
		cmd.Process.Kill()
		<-exited
		logMu.Lock()
		defer logMu.Unlock()
		return fmt.Errorf("%w; pebble's output:\n%s", err, log.String())
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			logMu.Lock()
			t.Logf("pebble's output:\n%s", log.String())
			logMu.Unlock()
		}
	})
	return nil
}

// freePorts returns two loopback addresses with ports that were free a
// moment ago.
func freePorts() (string, string, error) {
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", err
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs[0], addrs[1], nil
}

// waitReady polls the directory and the management interface until both
// respond, pebble exits, or 30 seconds pass.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.ping(s.DirectoryURL)
		if err == nil {
			err = s.ping(s.managementURL + "/roots/0")
		}
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("pebble exited")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pebble did not respond within 30 s: %w", err)
		}
	}
}

func (s *Server) ping(url string) error {
	resp, err := s.client.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// IssuerRoots returns the root that pebble signs certificates with, from
// its management interface. Pebble makes a new root at each start.
func (s *Server) IssuerRoots(t testing.TB) *x509.CertPool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.managementURL+"/roots/0", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("reading pebble's root: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("reading pebble's root: %s %v", resp.Status, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatalf("pebble's /roots/0 contains no PEM certificate: %q", data)
	}
	return pool
}
