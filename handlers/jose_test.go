package handlers_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// joseResult is what testdata/jose/verify.mjs says about one token.
type joseResult struct {
	OK      bool           `json:"ok"`
	Error   string         `json:"error"`
	Payload map[string]any `json:"payload"`
	Header  map[string]any `json:"header"`
}

type joseToken struct {
	Token string `json:"token"`
	Typ   string `json:"typ,omitempty"`
}

// nodeForJOSE returns node's path, skipping the test when there is no
// node or one too old for jose 6 (Ed25519 in WebCrypto needs node 20).
func nodeForJOSE(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: skipping the independent JOSE (npm jose) interop test")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Skipf("node --version: %v: skipping the JOSE interop test", err)
	}
	major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".", 2)[0])
	if major < 20 {
		t.Skipf("node %s is older than 20, which jose 6 needs: skipping the JOSE interop test", strings.TrimSpace(string(out)))
	}
	return node
}

// runJOSE verifies tokens with the vendored npm jose under node against
// jwks, as a wallet or an HR system in JavaScript would.
func runJOSE(t *testing.T, node string, jwks []byte, tokens []joseToken) []joseResult {
	t.Helper()
	in, err := json.Marshal(map[string]any{"jwks": json.RawMessage(jwks), "tokens": tokens})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "testdata/jose/verify.mjs")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var res []joseResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(tokens) {
		t.Fatalf("node said %s (%v)", out, err)
	}
	return res
}

// TestJOSEInterop: an independent JOSE implementation (npm jose 6.2.17,
// vendored under testdata/node_modules) verifies a real certificate token
// with jwtVerify and createLocalJWKSet against /.well-known/jwks.json, and
// the certificate's VC-JWT against the keys of /.well-known/did.json, and
// rejects every tampered token.
func TestJOSEInterop(t *testing.T) {
	node := nodeForJOSE(t)
	h := newHarness(t)
	c := issueOne(h)
	jwks := h.expect(h.do("GET", "/.well-known/jwks.json", "", nil), 200).body
	vc := string(h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 200).body)

	enc := base64.RawURLEncoding
	parts := strings.Split(c.token, ".")
	hdr, _ := enc.DecodeString(parts[0])
	var header map[string]any
	if err := json.Unmarshal(hdr, &header); err != nil {
		t.Fatal(err)
	}
	// A key that is not ours, signing under our kid.
	_, rogue, _ := ed25519.GenerateKey(rand.Reader)
	forge := func(payload string) string {
		in := parts[0] + "." + enc.EncodeToString([]byte(payload))
		return in + "." + enc.EncodeToString(ed25519.Sign(rogue, []byte(in)))
	}
	payload, _ := enc.DecodeString(parts[1])
	flipped := []byte(parts[2])
	if flipped[5] == 'A' { // still base64url, another signature
		flipped[5] = 'B'
	} else {
		flipped[5] = 'A'
	}
	otherHolder := strings.Replace(string(payload), `"h":"张*三"`, `"h":"李*四"`, 1)
	if otherHolder == string(payload) {
		t.Fatalf("payload %s has no h claim to change", payload)
	}

	tokens := []joseToken{
		{Token: c.token},
		{Token: c.token}, // replaced below by the VC, checked with the DID document's keys
		{Token: parts[0] + "." + parts[1] + "." + string(flipped)},
		{Token: parts[0] + "." + enc.EncodeToString([]byte(otherHolder)) + "." + parts[2]},
		{Token: forge(string(payload))},
		{Token: enc.EncodeToString([]byte(`{"alg":"none","kid":"`+header["kid"].(string)+`"}`)) + "." + parts[1] + "."},
		{Token: c.token, Typ: "vc+jwt"}, // a certificate token is not a credential
	}
	res := runJOSE(t, node, jwks, tokens)
	// The VC-JWT names its key by DID URL: the key set is the DID
	// document's verification methods, whose JWKs carry that id as kid.
	var did struct {
		VerificationMethod []struct {
			PublicKeyJwk json.RawMessage `json:"publicKeyJwk"`
		} `json:"verificationMethod"`
	}
	if err := json.Unmarshal(h.expect(h.do("GET", "/.well-known/did.json", "", nil), 200).body, &did); err != nil {
		t.Fatal(err)
	}
	var didJWKS struct {
		Keys []json.RawMessage `json:"keys"`
	}
	for _, vm := range did.VerificationMethod {
		didJWKS.Keys = append(didJWKS.Keys, vm.PublicKeyJwk)
	}
	didSet, _ := json.Marshal(didJWKS)
	res[1] = runJOSE(t, node, didSet, []joseToken{{Token: vc, Typ: "vc+jwt"}})[0]

	if !res[0].OK || res[0].Payload["n"] != c.number || res[0].Payload["h"] != "张*三" || res[0].Header["alg"] != "EdDSA" || res[0].Header["kid"] != header["kid"] {
		t.Fatalf("jose refuses or misreads a real certificate token: %+v", res[0])
	}
	if !res[1].OK || res[1].Header["typ"] != "vc+jwt" {
		t.Fatalf("jose refuses the VC-JWT: %+v", res[1])
	}
	if sub, _ := res[1].Payload["credentialSubject"].(map[string]any); sub["number"] != c.number {
		t.Fatalf("VC payload %v", res[1].Payload)
	}
	for i, name := range []string{"", "", "flipped signature bit", "changed holder claim", "signed by another key under our kid", "alg none", "certificate token as vc+jwt"} {
		if i < 2 {
			continue
		}
		if res[i].OK {
			t.Errorf("jose accepted the tampered token (%s): %+v", name, res[i])
		} else {
			t.Logf("%s: jose says %s", name, res[i].Error)
		}
	}
}
