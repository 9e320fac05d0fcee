// Package testcert makes certificate authorities and the certificates they
// sign, for tests of TLS servers and clients. Keys are ECDSA P-256, and
// nothing it makes should leave a test.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a certificate authority.
type CA struct {
	Cert *x509.Certificate
	// PEM is Cert in PEM form.
	PEM []byte
	key *ecdsa.PrivateKey
}

// Pair is a certificate and its private key, both in PEM form.
type Pair struct {
	CertPEM []byte
	KeyPEM  []byte
	Cert    *x509.Certificate
}

// NewCA returns a new CA, valid from an hour ago for a day.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "jupygo test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("creating the test CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, PEM: encode("CERTIFICATE", der), key: key}
}

// Pool returns a pool that holds the CA alone.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// Issue returns a server certificate for the names, each a DNS name or an
// IP address, valid from an hour ago for a day.
func (ca *CA) Issue(t testing.TB, names ...string) Pair {
	t.Helper()
	now := time.Now()
	return ca.IssueValid(t, now.Add(-time.Hour), now.Add(24*time.Hour), names...)
}

// IssueValid returns a server certificate for the names, valid from
// notBefore to notAfter.
func (ca *CA) IssueValid(t testing.TB, notBefore, notAfter time.Time, names ...string) Pair {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if len(names) > 0 {
		tmpl.Subject.CommonName = names[0]
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("issuing a test certificate for %v: %v", names, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return Pair{CertPEM: encode("CERTIFICATE", der), KeyPEM: encode("PRIVATE KEY", keyDER),
		Cert: cert}
}

// IssueV1 returns a server certificate for the names as Issue does, but of
// X.509 version 1, with the subjectAltName extension still inside, as
// certipy 0.1.3 (JupyterHub's internal TLS) issues them. Go ignores the
// extensions of such a certificate; OpenSSL reads them.
func (ca *CA) IssueV1(t testing.TB, names ...string) Pair {
	t.Helper()
	p := ca.Issue(t, names...)

	// A TBSCertificate starts with its version, [0] EXPLICIT, which is
	// left out for version 1.
	var tbs, version asn1.RawValue
	if _, err := asn1.Unmarshal(p.Cert.RawTBSCertificate, &tbs); err != nil {
		t.Fatal(err)
	}
	rest, err := asn1.Unmarshal(tbs.Bytes, &version)
	if err != nil || version.Class != asn1.ClassContextSpecific || version.Tag != 0 {
		t.Fatalf("reading the version of a test certificate: %v", err)
	}
	tbsV1, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: rest})
	if err != nil {
		t.Fatal(err)
	}

	digest := sha256.Sum256(tbsV1)
	sig, err := ecdsa.SignASN1(rand.Reader, ca.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		TBS       asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}{
		asn1.RawValue{FullBytes: tbsV1},
		pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}},
		asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.CertPEM = encode("CERTIFICATE", der)
	return p
}

// Write writes the certificate and key to cert.pem and key.pem in dir,
// the key with mode 0600, and returns their paths.
func (p Pair) Write(t testing.TB, dir string) (certPath, keyPath string) {
	t.Helper()
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, p.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, p.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func encode(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}
