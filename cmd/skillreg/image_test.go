package main

// The container image's runtime needs, checked as far as a machine without
// a Docker engine allows: the binary is built with the Dockerfile's own go
// build line (TestMain), is static, and finds trusted TLS roots with no
// system certificate files, as in the image's scratch stage.

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dockerfileBuild reads the Dockerfile's `RUN ... go build ... -o
// /out/skillreg ./cmd/skillreg` line and returns its environment
// assignments and the flags between "go build" and "-o".
func dockerfileBuild(path string) (env, flags []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	m := regexp.MustCompile(`(?m)^RUN ((?:[A-Z_]+=\S+ )*)go build (.*?) -o /out/skillreg \./cmd/skillreg`).FindSubmatch(b)
	if m == nil {
		return nil, nil, fmt.Errorf("%s: no `RUN [VAR=value ...] go build FLAGS -o /out/skillreg ./cmd/skillreg` line", path)
	}
	env = strings.Fields(string(m[1]))
	flags, err = shellWords(string(m[2]))
	return env, flags, err
}

// shellWords splits s as a shell would for plain words and double-quoted
// strings (enough for a go build line; anything else is refused).
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case quoted:
			cur.WriteRune(r)
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune(`'\$`+"`", r):
			return nil, fmt.Errorf("go build flags %q: only plain words and double quotes are understood", s)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("go build flags %q: unbalanced quote", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// TestImageBinaryFindsTLSRoots: the binary built with the Dockerfile's
// flags is static, and with SSL_CERT_FILE and SSL_CERT_DIR pointing at
// empty places (as in the scratch image, which has no /etc/ssl) it still
// verifies a public root, so TLS to a managed MongoDB can succeed; a
// self-signed certificate is still refused.
func TestImageBinaryFindsTLSRoots(t *testing.T) {
	t.Parallel()
	f, err := elf.Open(binPath)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := f.ImportedLibraries()
	if f.Section(".interp") != nil || len(libs) > 0 {
		t.Errorf("the image's binary is not static: interpreter %v, libraries %v", f.Section(".interp") != nil, libs)
	}
	f.Close()

	empty := t.TempDir()
	noCerts := []string{"SSL_CERT_FILE=" + filepath.Join(empty, "none.pem"), "SSL_CERT_DIR=" + empty}
	r := runCLITimed(t, time.Minute, noCerts, "tls-roots", filepath.Join("testdata", "isrg-root-x1.pem"))
	if r.code != 0 || !strings.Contains(r.stdout, `"ISRG Root X1"`) {
		t.Fatalf("with no system certificates, tls-roots exited %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	self := filepath.Join(t.TempDir(), "self.pem")
	writeSelfSigned(t, self)
	if r := runCLITimed(t, time.Minute, noCerts, "tls-roots", self); r.code == 0 {
		t.Fatalf("a self-signed certificate verified: %s", r.stdout)
	}
}

func writeSelfSigned(t *testing.T, path string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not trusted"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
