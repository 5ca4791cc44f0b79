package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	// Mozilla's trusted roots, compiled in and used when the machine has
	// none: the container image's final stage is scratch, without
	// /etc/ssl/certs, and TLS to MongoDB (mongodb+srv://, tls=true) must
	// still verify the server.
	_ "golang.org/x/crypto/x509roots/fallback"
)

// cmdTLSRoots runs the hidden `skillreg tls-roots CERT.pem`: it verifies
// the certificate (a leaf followed by its intermediates, or a root) against
// the roots this binary trusts, as a TLS connection would, so that a
// deployment can check that its image finds roots without a system store.
func cmdTLSRoots(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: skillreg tls-roots CERT.pem")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var chain []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return fmt.Errorf("%s holds no PEM certificate", args[0])
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	// Roots nil: the system roots, or the compiled-in ones when the
	// system has none, exactly what crypto/tls uses.
	got, err := chain[0].Verify(x509.VerifyOptions{Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("%q does not verify against this binary's trusted roots: %w", chain[0].Subject.CommonName, err)
	}
	root := got[0][len(got[0])-1]
	fmt.Fprintf(stdout, "ok: %q chains to the trusted root %q\n", chain[0].Subject.CommonName, root.Subject.CommonName)
	return nil
}
