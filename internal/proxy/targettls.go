package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"time"
)

// dialTargetTLS returns a DialTLSContext for https targets that verifies
// their certificates against cfg.RootCAs and the target's host, or nil when
// cfg is nil or skips verification, so the transport's own TLS applies.
//
// It differs from crypto/tls in one way. Go ignores the extensions of an
// X.509 version 1 certificate, and with them its subjectAltName, so such a
// certificate never matches a host. OpenSSL, and so Node.js and
// configurable-http-proxy, read the extensions of every version. JupyterHub's
// internal TLS (certipy 0.1.3, Debian's python3-certipy) issues version 1
// certificates that name 127.0.0.1 and localhost in a subjectAltName, and
// the proxy has to accept the hub's.
func dialTargetTLS(dial dialFunc, cfg *tls.Config) dialFunc {
	if cfg == nil || cfg.InsecureSkipVerify {
		return nil
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := cfg.Clone()
		if c.ServerName == "" {
			c.ServerName = host
		}
		name := c.ServerName
		c.InsecureSkipVerify = true // verifyTarget below verifies instead
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyTarget(cfg, name, cs.PeerCertificates)
		}
		tc := tls.Client(conn, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

// verifyTarget verifies a target's certificate chain as crypto/tls does,
// except that the subjectAltName of a version 1 leaf certificate counts.
func verifyTarget(cfg *tls.Config, host string, certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return errors.New("tls: the target sent no certificate")
	}
	opts := x509.VerifyOptions{
		Roots:         cfg.RootCAs,
		DNSName:       host,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   time.Now(),
	}
	if cfg.Time != nil {
		opts.CurrentTime = cfg.Time()
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	leaf := certs[0]
	if leaf.Version < 3 {
		dns, ips, err := v1SubjectAltNames(leaf.RawTBSCertificate)
		if err != nil {
			return fmt.Errorf("tls: reading the target's version %d certificate: %w", leaf.Version, err)
		}
		withNames := *leaf
		withNames.DNSNames, withNames.IPAddresses = dns, ips
		leaf = &withNames
	}
	if _, err := leaf.Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// tbsCertificate is the TBSCertificate of RFC 5280, section 4.1, with the
// fields that v1SubjectAltNames does not read left raw.
type tbsCertificate struct {
	Version         int `asn1:"optional,explicit,default:0,tag:0"`
	SerialNumber    asn1.RawValue
	Signature       asn1.RawValue
	Issuer          asn1.RawValue
	Validity        asn1.RawValue
	Subject         asn1.RawValue
	PublicKey       asn1.RawValue
	IssuerUniqueID  asn1.BitString   `asn1:"optional,tag:1"`
	SubjectUniqueID asn1.BitString   `asn1:"optional,tag:2"`
	Extensions      []pkix.Extension `asn1:"optional,explicit,tag:3"`
}

var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// GeneralName tags of RFC 5280, section 4.2.1.6.
const (
	generalNameDNS = 2
	generalNameIP  = 7
)

// v1SubjectAltNames returns the DNS names and IP addresses of the
// subjectAltName extension in a DER TBSCertificate, whatever its version.
// It returns no names and no error when the extension is absent.
func v1SubjectAltNames(tbs []byte) (dns []string, ips []net.IP, err error) {
	var cert tbsCertificate
	rest, err := asn1.Unmarshal(tbs, &cert)
	if err != nil {
		return nil, nil, err
	}
	if len(rest) > 0 {
		return nil, nil, errors.New("trailing data after the TBSCertificate")
	}
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		var names []asn1.RawValue
		if rest, err := asn1.Unmarshal(ext.Value, &names); err != nil {
			return nil, nil, fmt.Errorf("subjectAltName: %w", err)
		} else if len(rest) > 0 {
			return nil, nil, errors.New("subjectAltName: trailing data")
		}
		for _, n := range names {
			if n.Class != asn1.ClassContextSpecific {
				continue
			}
			switch n.Tag {
			case generalNameDNS:
				dns = append(dns, string(n.Bytes))
			case generalNameIP:
				if len(n.Bytes) != net.IPv4len && len(n.Bytes) != net.IPv6len {
					return nil, nil, fmt.Errorf("subjectAltName: IP address of %d bytes", len(n.Bytes))
				}
				ips = append(ips, net.IP(n.Bytes))
			}
		}
	}
	return dns, ips, nil
}
