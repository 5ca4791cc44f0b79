package handlers_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The interop tests run independent implementations from npm against the
// live test server: jose (key discovery through did:web), the Digital
// Bazaar Bitstring Status List library, jsonld, and the Redocly OpenAPI
// linter. .ci/run installs them under testdata/interop/node_modules (not
// committed; `npm install --prefix handlers/testdata/interop` does the
// same by hand); without node or the packages these tests skip.

const interopDir = "testdata/interop"

// interopNode returns node's path, skipping the test when node (20 or
// newer) or one of the npm packages is missing.
func interopNode(t *testing.T, pkgs ...string) string {
	t.Helper()
	node := nodeForJOSE(t)
	for _, p := range pkgs {
		// node resolves a package in interop/node_modules, then in the
		// vendored testdata/node_modules (jose).
		_, err := os.Stat(filepath.Join(interopDir, "node_modules", p, "package.json"))
		if _, vendored := os.Stat(filepath.Join("testdata", "node_modules", p, "package.json")); err != nil && vendored != nil {
			t.Skipf("npm package %s is not installed in handlers/%s (.ci/run installs it; by hand: npm install --prefix handlers/%s): skipping this interop test", p, interopDir, interopDir)
		}
	}
	return node
}

// runInterop runs one of the interop scripts with in as JSON on stdin and
// decodes what it writes into out.
func runInterop(t *testing.T, node, script string, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script)
	cmd.Dir = interopDir
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(got, out); err != nil {
		t.Fatalf("node %s said %s: %v", script, got, err)
	}
}

type interopResult struct {
	OK      bool           `json:"ok"`
	Error   string         `json:"error"`
	Payload map[string]any `json:"payload"`
	Header  map[string]any `json:"header"`
	DID     string         `json:"did"`
	Status  bool           `json:"status"`
	Index   string         `json:"index"`
	List    string         `json:"list"`
}

// TestVCInteropDID: npm jose verifies certificate VC-JWTs with the key it
// finds by resolving the header kid's did:web to /.well-known/did.json,
// before and after a key rotation (the retired key stays resolvable), and
// refuses a tampered credential.
func TestVCInteropDID(t *testing.T) {
	node := interopNode(t, "jose")
	h := newHarness(t)
	c := issueOne(h)
	old := string(h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 200).body)
	if _, err := h.keys.Rotate(t.Context(), h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(6 * time.Second) // past the key cache's refresh interval
	fresh := string(h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 200).body)
	parts := strings.Split(fresh, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"level":2`), []byte(`"level":1`), 1)) + "." + parts[2]

	var res []interopResult
	runInterop(t, node, "did-vc.mjs", map[string]any{"tokens": []string{old, fresh, tampered}}, &res)
	did := didOf(t, h)
	for i, r := range res[:2] {
		sub, _ := r.Payload["credentialSubject"].(map[string]any)
		if !r.OK || r.DID != did || sub["number"] != c.number || !strings.HasPrefix(r.Header["kid"].(string), did+"#") {
			t.Fatalf("credential %d: jose through did.json says %+v", i, r)
		}
	}
	if res[0].Header["kid"] == res[1].Header["kid"] {
		t.Fatal("both credentials name the same key: the rotation did not happen")
	}
	if res[2].OK {
		t.Fatalf("jose accepted a tampered credential: %+v", res[2])
	}
	t.Logf("tampered credential: jose says %s", res[2].Error)
}

// TestStatusListInterop: npm @digitalbazaar/vc-bitstring-status-list
// checks the credentialStatus of real VCs: it loads the status list
// credential from the URL inside each VC (jose verifies it through the
// DID document) and finds the revoked certificate's bit set and the valid
// one's clear.
func TestStatusListInterop(t *testing.T) {
	node := interopNode(t, "jose", "@digitalbazaar/vc-bitstring-status-list")
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	var numbers, vcs []string
	for i, name := range []string{"张三", "李四"} {
		n := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": name, "id_number": testID(i)})), 201).json(t)["number"].(string)
		numbers = append(numbers, n)
		vcs = append(vcs, string(h.expect(h.do("GET", "/api/v1/certificates/"+n+"/vc", tok, nil), 200).body))
	}
	h.expect(h.do("POST", "/api/v1/certificates/"+numbers[0]+"/revoke", tok, map[string]string{"reason": "作废"}), 200)

	var res []interopResult
	runInterop(t, node, "status.mjs", map[string]any{"tokens": vcs}, &res)
	for i, r := range res {
		if !r.OK || r.List != h.url+"/api/v1/status-lists/revocation" {
			t.Fatalf("credential %d: the status list library says %+v", i, r)
		}
	}
	if !res[0].Status {
		t.Errorf("revoked certificate %s: bit %s clear", numbers[0], res[0].Index)
	}
	if res[1].Status {
		t.Errorf("valid certificate %s: bit %s set", numbers[1], res[1].Index)
	}
}

// TestJSONLDInterop: npm jsonld expands a certificate VC and the status
// list credential in safe mode (a dropped term or a relative IRI fails),
// with a document loader that serves only local copies of the VC 2.0
// context and of skillreg's; every subject property comes out under an
// absolute IRI, and the type SkillCertificate too.
func TestJSONLDInterop(t *testing.T) {
	node := interopNode(t, "jsonld", "@digitalbazaar/credentials-context")
	h := newHarness(t)
	c := issueOne(h)
	jwtPayload := func(jws string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	vc := jwtPayload(string(h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 200).body))
	sl := jwtPayload(string(h.expect(h.do("GET", "/api/v1/status-lists/revocation", "", nil), 200).body))
	contextFile, err := filepath.Abs("../web/contexts/skillreg-v1.jsonld")
	if err != nil {
		t.Fatal(err)
	}
	var res []struct {
		OK       bool             `json:"ok"`
		Error    string           `json:"error"`
		Expanded []map[string]any `json:"expanded"`
	}
	runInterop(t, node, "expand.mjs", map[string]any{
		"context_url": h.url + "/ns/skillreg/v1", "context_file": contextFile, "documents": []any{vc, sl},
	}, &res)
	for i, r := range res {
		if !r.OK || len(r.Expanded) != 1 {
			t.Fatalf("document %d: jsonld safe-mode expansion: %+v", i, r)
		}
	}
	doc := res[0].Expanded[0]
	if types, _ := json.Marshal(doc["@type"]); !strings.Contains(string(types), `"urn:skillreg:vocab:v1#SkillCertificate"`) {
		t.Errorf("expanded @type %s", types)
	}
	subs, _ := doc["https://www.w3.org/2018/credentials#credentialSubject"].([]any)
	if len(subs) != 1 {
		t.Fatalf("expanded credentialSubject %v", doc)
	}
	expanded := subs[0].(map[string]any)
	var got []string
	for k := range expanded {
		if !regexp.MustCompile(`^[a-z]+:`).MatchString(k) {
			t.Errorf("subject property %s is not an absolute IRI", k)
		}
		got = append(got, k)
	}
	sort.Strings(got)
	subject := vc["credentialSubject"].(map[string]any)
	if len(got) != len(subject) {
		t.Fatalf("the subject has %d properties, the expansion %d: %v", len(subject), len(got), got)
	}
	for k := range subject {
		want := "urn:skillreg:vocab:v1#" + k
		if k == "name" {
			want = "https://schema.org/name"
		}
		if _, ok := expanded[want]; !ok {
			t.Errorf("subject property %s is not expanded to %s: %v", k, want, got)
		}
	}
	if _, ok := doc["https://www.w3.org/2018/credentials#credentialStatus"]; !ok {
		t.Error("credentialStatus dropped")
	}
}

// TestTrustBundleExpiryInterop: npm jose's jwtVerify, which knows nothing
// of skillreg's bundle format, accepts a fresh trust bundle and refuses
// one past its time-to-live, through the bundle's exp claim.
func TestTrustBundleExpiryInterop(t *testing.T) {
	node := nodeForJOSE(t)
	h := newHarness(t)
	jwks := h.expect(h.do("GET", "/.well-known/jwks.json", "", nil), 200).body
	h.clock.Advance(-25 * time.Hour) // a bundle made 25 h ago with the default 24 h lifetime
	expired := string(h.expect(h.do("GET", "/api/v1/trust-bundle", "", nil), 200).body)
	h.clock.Advance(25 * time.Hour)
	fresh := string(h.expect(h.do("GET", "/api/v1/trust-bundle", "", nil), 200).body)
	res := runJOSE(t, node, jwks, []joseToken{
		{Token: fresh, Typ: "skillreg-trust-bundle+jwt"},
		{Token: expired, Typ: "skillreg-trust-bundle+jwt"},
	})
	if !res[0].OK {
		t.Fatalf("jose refuses a fresh trust bundle: %+v", res[0])
	}
	if res[1].OK || res[1].Error != "ERR_JWT_EXPIRED" {
		t.Fatalf("jose on an expired trust bundle: %+v, want ERR_JWT_EXPIRED", res[1])
	}
}

// TestOpenAPILint: the Redocly CLI linter (npm @redocly/cli, its
// recommended rules) reports no error in web/openapi.yaml.
func TestOpenAPILint(t *testing.T) {
	node := interopNode(t, "@redocly/cli")
	doc, err := filepath.Abs("../web/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "node_modules/@redocly/cli/bin/cli.js", "lint", "--format=summary", doc)
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	t.Logf("redocly lint:\n%s", out)
	if err != nil {
		t.Fatalf("redocly lint failed (%v): web/openapi.yaml has errors", err)
	}
}
