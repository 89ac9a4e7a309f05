// Command pki writes the certificates and keys a local control plane needs into one folder: a CA,
// the API server's serving certificate for 127.0.0.1, client certificates for the admin and the
// controller manager (both system:masters: a test cluster's garbage collector may delete
// anything), and the service-account signing key pair. ECDSA P-256, valid for a day: the harness
// makes a fresh set for every cluster.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

type pair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey() *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fail(err)
	}
	return key
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		fail(err)
	}
	return n
}

func issue(template *x509.Certificate, parent *pair) *pair {
	key := newKey()
	template.SerialNumber = serial()
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(24 * time.Hour)
	signer, parentCert := key, template
	if parent != nil {
		signer, parentCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parentCert, &key.PublicKey, signer)
	if err != nil {
		fail(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		fail(err)
	}
	return &pair{cert: cert, key: key}
}

func client(ca *pair, commonName string, groups ...string) *pair {
	return issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: groups},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca)
}

func writePEM(path, kind string, der []byte) {
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		fail(err)
	}
}

func writePair(dir, name string, p *pair) {
	writePEM(filepath.Join(dir, name+".crt"), "CERTIFICATE", p.cert.Raw)
	der, err := x509.MarshalECPrivateKey(p.key)
	if err != nil {
		fail(err)
	}
	writePEM(filepath.Join(dir, name+".key"), "EC PRIVATE KEY", der)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pki:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pki <dir>")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fail(err)
	}
	ca := issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "obol-edge-test-ca"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil)
	writePair(dir, "ca", ca)
	writePair(dir, "apiserver", issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
	}, ca))
	writePair(dir, "admin", client(ca, "obol-admin", "system:masters"))
	writePair(dir, "controller-manager", client(ca, "system:kube-controller-manager", "system:masters"))
	sa := newKey()
	der, err := x509.MarshalECPrivateKey(sa)
	if err != nil {
		fail(err)
	}
	writePEM(filepath.Join(dir, "sa.key"), "EC PRIVATE KEY", der)
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		fail(err)
	}
	writePEM(filepath.Join(dir, "sa.pub"), "PUBLIC KEY", pub)
}
