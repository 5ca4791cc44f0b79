package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/verify"
)

// TestVerifyOffline walks an employer's offline check end to end: fetch
// the bundle with `skillreg trust-bundle`, stop the server (no network
// from then on), and check with `skillreg verify --offline`: a valid
// certificate passes (as a token and as a QR photo), a revoked one fails,
// a stale bundle warns with its own exit code, a tampered bundle and a
// bundle from an untrusted key are refused, and trust on first use pins
// the keys and shows their thumbprints.
func TestVerifyOffline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	s := startServer(t, dataDir, "SKILLREG_ADMIN_PASSWORD="+adminPassword)
	a := newAPI(t, s.base)
	bearer := setupIssuer(a)
	good, revoked := issue(a, bearer, "off-1", http.StatusCreated), issue(a, bearer, "off-2", http.StatusCreated)
	a.call(http.MethodPost, "/api/v1/certificates/"+revoked.Number+"/revoke", bearer, map[string]string{"reason": "作废"}, http.StatusOK, nil)
	// At 640 px: gozxing, the decoder the CLI uses, misreads a few percent
	// of generated codes at the default 320 px (zbar reads them).
	png := a.do(http.MethodGet, "/api/v1/certificates/"+good.Number+"/qr.png?size=640", bearer, nil, "")
	pngPath := filepath.Join(dir, "qr.png")
	trust := filepath.Join(dir, "trusted-jwks.json")
	bundle := filepath.Join(dir, "bundle.jwt")
	if err := os.WriteFile(pngPath, png.body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trust, a.do(http.MethodGet, "/.well-known/jwks.json", "", nil, "").body, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "trust-bundle", "--server", s.base, "-o", bundle, "--trust", trust); r.code != 0 || !strings.Contains(r.stdout, "status list of 131072 entries") {
		t.Fatalf("trust-bundle: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s.kill() // no network from here on

	offline := func(bundleFile, trustFile, input string, extra ...string) cliResult {
		t.Helper()
		args := append([]string{"verify", "--offline", "--bundle", bundleFile, "--trust", trustFile}, extra...)
		return runCLI(t, append(args, input)...)
	}
	for _, input := range []string{good.Token, good.VerifyURL, pngPath} {
		r := offline(bundle, trust, input)
		if r.code != 0 || !strings.Contains(r.stdout, "status: valid\n") || !strings.Contains(r.stdout, "bundle: issued") || strings.Contains(r.stdout, "STALE") {
			t.Errorf("valid certificate (%.30s): exit %d\n%s%s", input, r.code, r.stdout, r.stderr)
		}
	}
	if r := offline(bundle, trust, revoked.Token); r.code != 1 || !strings.Contains(r.stdout, "status: revoked") {
		t.Errorf("revoked certificate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := offline(bundle, trust, tamper(good.Token)); r.code != 1 || !strings.Contains(r.stdout, "status: forged") {
		t.Errorf("tampered token: exit %d\n%s", r.code, r.stdout)
	}

	raw, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	// Tampered bundle: a scope widened, the signature kept.
	parts := strings.Split(string(raw), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	widened := strings.Replace(string(payload), `"max_level":2`, `"max_level":1`, 1)
	if widened == string(payload) {
		t.Fatal("the bundle has no max_level 2 to tamper with")
	}
	tampered := filepath.Join(dir, "tampered.jwt")
	os.WriteFile(tampered, []byte(parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(widened))+"."+parts[2]), 0o600)
	if r := offline(tampered, trust, good.Token); r.code != 4 || !strings.Contains(r.stdout, "bundle refused") {
		t.Errorf("tampered bundle: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A trust file of another registry's key: the bundle is refused.
	other := filepath.Join(dir, "other-jwks.json")
	k, _ := verify.NewKey(time.Now())
	otherJWKS, _ := verify.JWKS([]verify.Key{k})
	os.WriteFile(other, otherJWKS, 0o600)
	if r := offline(bundle, other, good.Token); r.code != 4 || !strings.Contains(r.stdout, "not one of the trusted keys") {
		t.Errorf("untrusted signer: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// No trust at all is a usage error, not a pass.
	if r := runCLI(t, "verify", "--offline", "--bundle", bundle, good.Token); r.code != 2 || !strings.Contains(r.stderr, "--trust") {
		t.Errorf("without --trust: exit %d\n%s", r.code, r.stderr)
	}
	// Trust on first use: pins the bundle's keys and shows them.
	pinned := filepath.Join(dir, "tofu", "keys.json")
	if r := offline(bundle, pinned, good.Token); r.code != 2 {
		t.Errorf("missing trust file without --trust-on-first-use: exit %d", r.code)
	}
	r := offline(bundle, pinned, good.Token, "--trust-on-first-use")
	if r.code != 0 || !strings.Contains(r.stderr, "TRUST ON FIRST USE") || !strings.Contains(r.stderr, "thumbprint") {
		t.Errorf("trust on first use: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(pinned); err != nil {
		t.Errorf("trust on first use did not save the keys: %v", err)
	}

	// A stale bundle: the same registry's bundle, made two days ago with a
	// one-day time-to-live, signed with the registry's key.
	e, err := openEnv(context.Background(), dataFlags{dataDir: dataDir}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	keys, _ := verify.ParseJWKS(mustRead(t, trust))
	ob, err := verify.OpenTrustBundle(raw, keys)
	if err != nil {
		t.Fatal(err)
	}
	old := verify.NewTrustBundle(ob.Registry, time.Now().Add(-48*time.Hour), 24*time.Hour, ob.JWKS, ob.Issuers, ob.StatusList.CredentialSubject.EncodedList)
	staleJWS, err := verify.NewTokens(e.keys().Source()).SignTrustBundle(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "stale.jwt")
	os.WriteFile(stale, []byte(staleJWS), 0o600)
	if r := offline(stale, trust, good.Token); r.code != 3 || !strings.Contains(r.stdout, "STALE") || !strings.Contains(r.stdout, "WARNING") {
		t.Errorf("stale bundle: exit %d, want 3 with a STALE warning\n%s", r.code, r.stdout)
	}
	if r := offline(stale, trust, revoked.Token); r.code != 1 || !strings.Contains(r.stdout, "status: revoked") || !strings.Contains(r.stdout, "STALE") {
		t.Errorf("revoked against a stale bundle: exit %d\n%s", r.code, r.stdout)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
