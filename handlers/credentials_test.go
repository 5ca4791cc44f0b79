package handlers_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
	"github.com/skillreg/skillreg/web"
)

// didOf is the did:web the harness's server should name itself.
func didOf(t *testing.T, h *harness) string {
	t.Helper()
	u, err := url.Parse(h.url)
	if err != nil {
		t.Fatal(err)
	}
	return "did:web:" + strings.ReplaceAll(u.Host, ":", "%3A")
}

// didKeys fetches /.well-known/did.json and returns its keys by
// verification method id, checking the document's shape on the way.
func didKeys(t *testing.T, h *harness) map[string]ed25519.PublicKey {
	t.Helper()
	r := h.expect(h.do("GET", "/.well-known/did.json", "", nil), 200)
	if ct := r.header.Get("Content-Type"); ct != "application/did+json" {
		t.Errorf("DID document content type %q", ct)
	}
	var doc struct {
		Context            []string `json:"@context"`
		ID                 string   `json:"id"`
		VerificationMethod []struct {
			ID, Type, Controller string
			PublicKeyJwk         map[string]string
		}
		AssertionMethod []string
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	did := didOf(t, h)
	if doc.ID != did || len(doc.Context) == 0 || doc.Context[0] != "https://www.w3.org/ns/did/v1" {
		t.Fatalf("DID document id %q @context %v, want id %q", doc.ID, doc.Context, did)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, vm := range doc.VerificationMethod {
		j := vm.PublicKeyJwk
		if !strings.HasPrefix(vm.ID, did+"#") || vm.Controller != did || j["kty"] != "OKP" || j["crv"] != "Ed25519" || j["d"] != "" {
			t.Fatalf("verification method %+v", vm)
		}
		x, err := base64.RawURLEncoding.DecodeString(j["x"])
		if err != nil || len(x) != ed25519.PublicKeySize {
			t.Fatalf("verification method %s: x %q", vm.ID, j["x"])
		}
		keys[vm.ID] = x
	}
	for _, id := range doc.AssertionMethod {
		if keys[id] == nil {
			t.Fatalf("assertion method %s is no verification method", id)
		}
	}
	if len(doc.AssertionMethod) != len(keys) {
		t.Fatalf("assertion methods %v, verification methods %d", doc.AssertionMethod, len(keys))
	}
	return keys
}

// verifyByDID checks a VC-JWT as a did:web verifier would (the key named
// by the header's kid in the DID document, EdDSA only, typ vc+jwt, iss the
// DID) and returns its payload.
func verifyByDID(t *testing.T, h *harness, token string) jwt.MapClaims {
	t.Helper()
	keys := didKeys(t, h)
	var claims jwt.MapClaims
	tok, err := jwt.ParseWithClaims(token, &claims, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		if k := keys[kid]; k != nil {
			return k, nil
		}
		t.Fatalf("kid %q names no verification method of the DID document", kid)
		return nil, nil
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(didOf(t, h)), jwt.WithTimeFunc(h.clock.Now))
	if err != nil || !tok.Valid {
		t.Fatalf("the VC-JWT does not verify through the DID document: %v", err)
	}
	if tok.Header["typ"] != "vc+jwt" {
		t.Fatalf("header %v", tok.Header)
	}
	return claims
}

// TestDIDDocument: /.well-known/did.json holds exactly the JWKS keys as
// verification methods; the certificate's VC-JWT names its key by DID URL
// and has the DID as issuer and iss; after a key rotation the retired key
// stays resolvable, so the older credential still verifies.
func TestDIDDocument(t *testing.T) {
	h := newHarness(t)
	c := issueOne(h)
	did := didOf(t, h)
	old := string(h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 200).body)
	kid := jwtHeader(t, old)["kid"].(string)
	jwksKid := jwksKIDs(t, h)[0]
	if kid != did+"#"+jwksKid {
		t.Fatalf("VC-JWT kid %q, want %q", kid, did+"#"+jwksKid)
	}
	vc := verifyByDID(t, h, old)
	if iss, _ := vc["issuer"].(map[string]any); vc["iss"] != did || iss["id"] != did {
		t.Fatalf("iss %v issuer %v, want %s", vc["iss"], vc["issuer"], did)
	}
	if org := vc["credentialSubject"].(map[string]any)["issuingOrganization"].(map[string]any); org["code"] != "S000111000001" || org["name"] == "" {
		t.Fatalf("the issuing organisation left the subject: %v", org)
	}

	if _, err := h.keys.Rotate(t.Context(), h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(6 * time.Second) // past the key cache's refresh interval
	fresh := string(h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 200).body)
	if k := jwtHeader(t, fresh)["kid"]; k == kid {
		t.Fatalf("after rotation the credential is still signed by %v", k)
	}
	if keys := didKeys(t, h); len(keys) != 2 {
		t.Fatalf("DID document keys %v, want the retired and the active one", keys)
	}
	verifyByDID(t, h, old)
	verifyByDID(t, h, fresh)
	// A public URL with a path makes did:web look for /path/did.json,
	// which a proxy maps to /did.json: the same document.
	if a, b := h.expect(h.do("GET", "/.well-known/did.json", "", nil), 200).body, h.expect(h.do("GET", "/did.json", "", nil), 200).body; !bytes.Equal(a, b) {
		t.Error("/did.json differs from /.well-known/did.json")
	}
	// The JWKS and the QR token keep their short kids.
	if k := jwtHeader(t, c.token)["kid"]; k != jwksKid {
		t.Fatalf("certificate token kid %v", k)
	}
}

// TestVCCredentialStatus: the VC lists VC 2.0's and skillreg's contexts
// and carries a BitstringStatusListEntry whose index is the certificate's
// status index, as a string, and whose list URL is stable and absolute.
func TestVCCredentialStatus(t *testing.T) {
	h := newHarness(t)
	c := issueOne(h)
	vc := verifyByDID(t, h, string(h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 200).body))
	ctx, _ := vc["@context"].([]any)
	if len(ctx) != 2 || ctx[0] != "https://www.w3.org/ns/credentials/v2" || ctx[1] != h.url+"/ns/skillreg/v1" {
		t.Fatalf("@context %v", vc["@context"])
	}
	idx := float64(statusIndexOf(t, h, c.token))
	st, _ := vc["credentialStatus"].(map[string]any)
	want := map[string]any{
		"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
		"statusListIndex":      strconv.Itoa(int(idx)),
		"statusListCredential": h.url + "/api/v1/status-lists/revocation",
		"id":                   h.url + "/api/v1/status-lists/revocation#" + strconv.Itoa(int(idx)),
	}
	for k, w := range want {
		if st[k] != w {
			t.Errorf("credentialStatus.%s = %#v, want %#v", k, st[k], w)
		}
	}
}

// statusIndexOf returns a certificate's status index as the verify
// answer shows it.
func statusIndexOf(t *testing.T, h *harness, token string) int {
	t.Helper()
	v := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"token": token}), 200).json(t)
	idx, ok := v["certificate"].(map[string]any)["status_index"].(float64)
	if !ok || idx <= 0 {
		t.Fatalf("verify answer has no status_index: %v", v["status"])
	}
	return int(idx)
}

// statusList fetches the revocation list credential, checks it through the
// DID document, and returns its payload and the response.
func statusList(t *testing.T, h *harness, headers ...string) (jwt.MapClaims, response) {
	t.Helper()
	r := h.expect(h.do("GET", "/api/v1/status-lists/revocation", "", nil, headers...), 200)
	if ct := r.header.Get("Content-Type"); ct != "application/vc+jwt" {
		t.Fatalf("status list content type %q", ct)
	}
	return verifyByDID(t, h, string(r.body)), r
}

// TestStatusListCredential: the list is a BitstringStatusListCredential
// VC-JWT with validFrom/validUntil and iat/exp, cacheable with an ETag,
// with the trust bundle's bits; a revocation sets the bit and renews it.
func TestStatusListCredential(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	var numbers []string
	index := map[string]int{}
	for i, name := range []string{"张三", "李四", "王五"} {
		c := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": name, "id_number": testID(i)})), 201).json(t)
		n := c["number"].(string)
		numbers = append(numbers, n)
		index[n] = statusIndexOf(t, h, c["token"].(string))
	}
	h.expect(h.do("POST", "/api/v1/certificates/"+numbers[1]+"/revoke", tok, map[string]string{"reason": "作废"}), 200)

	sl, r := statusList(t, h)
	types, _ := json.Marshal(sl["type"])
	subj := sl["credentialSubject"].(map[string]any)
	if sl["id"] != h.url+"/api/v1/status-lists/revocation" || string(types) != `["VerifiableCredential","BitstringStatusListCredential"]` ||
		subj["type"] != "BitstringStatusList" || subj["statusPurpose"] != "revocation" {
		t.Fatalf("status list credential %v", sl)
	}
	if iss := sl["issuer"]; iss != didOf(t, h) {
		t.Fatalf("issuer %v", iss)
	}
	from, err1 := time.Parse(time.RFC3339, sl["validFrom"].(string))
	until, err2 := time.Parse(time.RFC3339, sl["validUntil"].(string))
	if err1 != nil || err2 != nil || until.Sub(from) != handlers.StatusListLifetime || until.Sub(from) > time.Hour {
		t.Fatalf("validFrom %v validUntil %v", sl["validFrom"], sl["validUntil"])
	}
	if sl["iat"] != float64(from.Unix()) || sl["exp"] != float64(until.Unix()) {
		t.Fatalf("iat %v exp %v, want %d %d", sl["iat"], sl["exp"], from.Unix(), until.Unix())
	}
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=5" {
		t.Errorf("Cache-Control %q", cc)
	}
	bits := decodeBitstring(t, subj["encodedList"].(string))
	for i, n := range numbers {
		if bits[index[n]] != (i == 1) {
			t.Errorf("bit %d of %s = %v", index[n], n, bits[index[n]])
		}
	}
	bundle, _ := fetchBundle(t, h)
	if enc := bundle["status_list"].(map[string]any)["credentialSubject"].(map[string]any)["encodedList"]; enc != subj["encodedList"] {
		t.Fatal("the status list credential and the trust bundle disagree on the bits")
	}

	etag := r.header.Get("ETag")
	if got := h.do("GET", "/api/v1/status-lists/revocation", "", nil, "If-None-Match", etag); got.status != 304 {
		t.Errorf("If-None-Match with the ETag: %d, want 304", got.status)
	}
	h.clock.Advance(2 * time.Second)
	h.expect(h.do("POST", "/api/v1/certificates/"+numbers[2]+"/revoke", tok, map[string]string{"reason": "作废"}), 200)
	sl2, r2 := statusList(t, h, "If-None-Match", etag)
	if r2.header.Get("ETag") == etag || sl2["validFrom"] == sl["validFrom"] {
		t.Error("a revocation did not renew the status list credential")
	}
	bits = decodeBitstring(t, sl2["credentialSubject"].(map[string]any)["encodedList"].(string))
	if !bits[index[numbers[1]]] || !bits[index[numbers[2]]] || bits[index[numbers[0]]] {
		t.Error("after the second revocation the bits are wrong")
	}
	// With no change it is renewed before it runs out.
	h.clock.Advance(handlers.StatusListLifetime * 3 / 4)
	sl3, _ := statusList(t, h)
	if sl3["validFrom"] == sl2["validFrom"] {
		t.Error("the status list credential was not renewed before it expired")
	}
}

// newPeer starts a second server on the harness's database, as a second
// instance of a multi-server deployment.
func newPeer(t *testing.T, h *harness) *harness {
	t.Helper()
	vault, err := registry.NewVault(bytes.Repeat([]byte{7}, registry.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	p := &harness{t: t, clock: h.clock, store: h.store, keys: h.keys, logs: &syncBuffer{}, bodies: &syncBuffer{}, logins: map[string]string{}}
	logger := slog.New(slog.NewJSONHandler(p.logs, nil))
	p.tokens = verify.NewTokens(h.keys.Source(), verify.WithClock(h.clock.Now))
	reg := registry.New(registry.Config{Store: h.store, Tokens: p.tokens, Vault: vault, Logger: logger, Clock: h.clock.Now})
	srv := handlers.New(handlers.Config{
		Registry: reg, JWKS: h.keys.JWKS, QRPNG: verify.QRPNG, PublicURL: h.url,
		LoginKey: vault.LoginKey(), Logger: logger, Clock: h.clock.Now,
		SignJSON: p.tokens.SignJSON, SignCredential: p.tokens.SignJSONAs,
		Employers: handlers.EmployerConfig{SignBundle: p.tokens.SignTrustBundle},
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	p.url = ts.URL
	return p
}

// TestStatusListAcrossServers: a revocation through one server shows in the
// status list of another server of the same registry within 5 seconds.
func TestStatusListAcrossServers(t *testing.T) {
	h := newHarness(t)
	peer := newPeer(t, h)
	c := issueOne(h)
	idx := statusIndexOf(t, h, c.token)
	list := func() []bool {
		r := peer.expect(peer.do("GET", "/api/v1/status-lists/revocation", "", nil), 200)
		parts := strings.Split(string(r.body), ".")
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var sl struct {
			CredentialSubject struct{ EncodedList string }
		}
		if err := json.Unmarshal(b, &sl); err != nil {
			t.Fatal(err)
		}
		return decodeBitstring(t, sl.CredentialSubject.EncodedList)
	}
	if list()[idx] {
		t.Fatal("bit set before the revocation")
	}
	h.expect(h.do("POST", "/api/v1/certificates/"+c.number+"/revoke", c.issuerToken, map[string]string{"reason": "作废"}), 200)
	h.clock.Advance(5 * time.Second)
	if !list()[idx] {
		t.Fatal("5 s after a revocation through another server, the status list does not show it")
	}
}

// TestJSONLDContext: skillreg's context is served from the binary at its
// versioned URL, immutable and cacheable, with protected terms and an
// absolute IRI for the credential type and every subject property.
func TestJSONLDContext(t *testing.T) {
	h := newHarness(t)
	r := h.expect(h.do("GET", "/ns/skillreg/v1", "", nil), 200)
	if ct := r.header.Get("Content-Type"); ct != "application/ld+json" {
		t.Errorf("content type %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q", cc)
	}
	if !bytes.Equal(r.body, web.Context()) {
		t.Fatal("the served context is not the embedded one")
	}
	var doc struct {
		Context map[string]any `json:"@context"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Context["@protected"] != true {
		t.Error("terms are not @protected")
	}
	for _, term := range []string{"SkillCertificate", "occupation", "level", "number", "code", "issuingOrganization", "issuedOn", "evaluationChannel", "evaluationChannelCode"} {
		def := doc.Context[term]
		id, _ := def.(string)
		if m, ok := def.(map[string]any); ok {
			id, _ = m["@id"].(string)
		}
		if u, err := url.Parse(id); err != nil || !u.IsAbs() {
			t.Errorf("term %s: %v is not an absolute IRI", term, def)
		}
	}
}

// TestTrustBundleNumericDates: the trust bundle carries iat and exp as JWT
// NumericDates equal to issued_at and expires_at.
func TestTrustBundleNumericDates(t *testing.T) {
	h := newHarness(t)
	b, _ := fetchBundle(t, h)
	issued, _ := time.Parse(time.RFC3339, b["issued_at"].(string))
	expires, _ := time.Parse(time.RFC3339, b["expires_at"].(string))
	if b["iat"] != float64(issued.Unix()) || b["exp"] != float64(expires.Unix()) || expires.Sub(issued) != handlers.DefaultBundleTTL {
		t.Fatalf("iat %v exp %v issued_at %v expires_at %v", b["iat"], b["exp"], b["issued_at"], b["expires_at"])
	}
}

// TestStatusListGrows: when the list doubles (an index past the first
// 131,072 bits is in use), the URL in credentials issued earlier still
// answers, with the longer list, and still carries their bits.
func TestStatusListGrows(t *testing.T) {
	h := newHarness(t)
	c := issueOne(h)
	vc := verifyByDID(t, h, string(h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 200).body))
	st := vc["credentialStatus"].(map[string]any)
	listURL := st["statusListCredential"].(string)
	idx, _ := strconv.Atoi(st["statusListIndex"].(string))
	bitsOf := func() []bool {
		t.Helper()
		sl, _ := statusList(t, h)
		if sl["id"] != listURL {
			t.Fatalf("the list is now %v, the credential points at %s", sl["id"], listURL)
		}
		return decodeBitstring(t, sl["credentialSubject"].(map[string]any)["encodedList"].(string))
	}
	if n := len(bitsOf()); n != registry.StatusListMinSize {
		t.Fatalf("list of %d bits before growing", n)
	}

	// A certificate stored with an index in the second half, as the
	// allocator hands out once the first list is full.
	far := &registry.Certificate{
		IssuerID: "S000111000001", HolderName: "王五", HolderIDMasked: "110105********002X", HolderIDHash: "far",
		OccupationCode: "6-18-01-01", Level: 2, Channel: "social", IssuedOn: "2026-06-30", Status: registry.StatusValid,
		KeyID: jwksKIDs(t, h)[0], CreatedAt: h.clock.Now(), StatusIndex: registry.StatusListMinSize + 4242,
	}
	if _, err := h.store.CreateCertificate(t.Context(), "S000111000001262", far); err != nil {
		t.Fatal(err)
	}
	h.expect(h.do("POST", "/api/v1/certificates/"+c.number+"/revoke", c.issuerToken, map[string]string{"reason": "作废"}), 200)
	bits := bitsOf()
	if len(bits) != 2*registry.StatusListMinSize {
		t.Fatalf("list of %d bits after an index past %d is in use", len(bits), registry.StatusListMinSize)
	}
	if !bits[idx] || bits[far.StatusIndex] {
		t.Fatalf("after growing: bit %d (revoked) %v, bit %d (valid) %v", idx, bits[idx], far.StatusIndex, bits[far.StatusIndex])
	}
}
