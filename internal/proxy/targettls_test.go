package proxy

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jupygo/jupygo/internal/testutil/testcert"
)

func startTLSUpstream(t *testing.T, pair testcert.Pair) *httptest.Server {
	t.Helper()
	cert, err := tls.X509KeyPair(pair.CertPEM, pair.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hub")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestProxyVersion1TargetCertificate(t *testing.T) {
	forEachFront(t, testProxyVersion1TargetCertificate)
}

func testProxyVersion1TargetCertificate(t *testing.T, f front) {
	ca := testcert.NewCA(t)
	tests := []struct {
		name   string
		names  []string
		status int
	}{
		{"names the target", []string{"localhost", "127.0.0.1"}, 200},
		{"names another host", []string{"other.example"}, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upstream := startTLSUpstream(t, ca.IssueV1(t, tt.names...))
			table := NewTable(TableOptions{})
			mustAdd(t, table, "/", upstream.URL, nil)
			_, srv := startProxy(t, f, table, Options{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}})
			res, err := http.Get(srv.URL + "/hub/api")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Errorf("GET through the proxy = %d, want %d", res.StatusCode, tt.status)
			}
		})
	}
}

func TestErrorTargetVersion1Certificate(t *testing.T) {
	ca := testcert.NewCA(t)
	upstream := startTLSUpstream(t, ca.IssueV1(t, "127.0.0.1"))
	h, err := ErrorTarget(upstream.URL+"/hub/error", &tls.Config{RootCAs: ca.Pool()}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", "/user/alice/", nil), 503, nil)
	if rec.Code != 503 || rec.Body.String() != "hub" {
		t.Errorf("error page = %d %q, want 503 and the page from the https error target",
			rec.Code, rec.Body.String())
	}
}

func TestV1SubjectAltNames(t *testing.T) {
	cert := testcert.NewCA(t).IssueV1(t, "localhost", "127.0.0.1", "hub.example", "::1")
	if cert.Cert.Version != 1 || len(cert.Cert.DNSNames)+len(cert.Cert.IPAddresses) != 0 {
		t.Fatalf("IssueV1 made version %d with names Go reads, want version 1 whose names Go ignores",
			cert.Cert.Version)
	}
	dns, ips, err := v1SubjectAltNames(cert.Cert.RawTBSCertificate)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"localhost", "hub.example"}, dns); diff != "" {
		t.Errorf("DNS names (-want +got):\n%s", diff)
	}
	want := []string{"127.0.0.1", "::1"}
	var got []string
	for _, ip := range ips {
		got = append(got, ip.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IP addresses (-want +got):\n%s", diff)
	}

	if _, _, err := v1SubjectAltNames(cert.Cert.RawTBSCertificate[:20]); err == nil {
		t.Error("a truncated TBSCertificate was read without an error")
	}
}

func FuzzV1SubjectAltNames(f *testing.F) {
	ca := testcert.NewCA(f)
	f.Add(ca.Cert.RawTBSCertificate)
	f.Add(ca.IssueV1(f, "localhost", "::1").Cert.RawTBSCertificate)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, tbs []byte) {
		dns, ips, err := v1SubjectAltNames(tbs)
		if err != nil && (dns != nil || ips != nil) {
			t.Errorf("names %v %v returned with the error %v", dns, ips, err)
		}
		for _, ip := range ips {
			if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
				t.Errorf("IP address of %d bytes", len(ip))
			}
		}
	})
}
