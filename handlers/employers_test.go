package handlers_test

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/ratelimit"
	"github.com/skillreg/skillreg/registry"
)

// apiKey makes an API key as the admin and returns its secret.
func (h *harness) apiKey(name string) string {
	h.t.Helper()
	r := h.expect(h.do("POST", "/api/v1/api-keys", h.admin(), map[string]string{"name": name}), 201).json(h.t)
	return r["key"].(string)
}

// withKey sends a request with an API key and no login.
func (h *harness) withKey(key, method, path string, body any, headers ...string) response {
	h.t.Helper()
	return h.do(method, path, "", body, append([]string{"X-API-Key", key}, headers...)...)
}

// issueCerts issues n certificates of one issuer (holders 王0, 王1, ...)
// and returns their numbers and tokens.
func issueCerts(t *testing.T, h *harness, issuerTok string, n int) (numbers, tokens []string) {
	t.Helper()
	for i := 0; i < n; i++ {
		c := h.expect(h.do("POST", "/api/v1/certificates", issuerTok, certBody(map[string]any{"holder_name": registry.DemoName(i), "id_number": testID(7000 + i)})), 201).json(t)
		numbers = append(numbers, c["number"].(string))
		tokens = append(tokens, c["token"].(string))
	}
	return numbers, tokens
}

// TestAPIKeyLifecycle: a key is shown once, listed without its secret,
// works on the verification routes only, and stops working when revoked.
func TestAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	iss := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	_, tokens := issueCerts(t, h, iss, 1)

	created := h.expect(h.do("POST", "/api/v1/api-keys", h.admin(), map[string]string{"name": "某公司人力资源系统"}), 201).json(t)
	secret, id := created["key"].(string), created["id"].(string)
	if !strings.HasPrefix(secret, "sk_") || len(secret) != len("sk_")+43 {
		t.Fatalf("key %q: want sk_ and 43 base64url characters (32 random bytes)", secret)
	}
	if created["hint"] != "sk_…"+secret[len(secret)-4:] {
		t.Errorf("hint %v does not end in the key's last 4 characters", created["hint"])
	}
	list := h.expect(h.do("GET", "/api/v1/api-keys", h.admin(), nil), 200)
	if strings.Contains(string(list.body), secret) || strings.Contains(string(list.body), secret[3:20]) {
		t.Fatalf("the listing shows the secret: %s", list.body)
	}
	items := list.json(t)["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != id || items[0].(map[string]any)["name"] != "某公司人力资源系统" {
		t.Fatalf("listing %s", list.body)
	}
	if _, ok := items[0].(map[string]any)["created_at"]; !ok {
		t.Errorf("the listing lacks created_at: %s", list.body)
	}

	// Verification routes work with the key.
	v := h.expect(h.withKey(secret, "GET", "/v/"+tokens[0], nil, "Accept", "application/json"), 200).json(t)
	if v["status"] != "valid" {
		t.Errorf("GET /v/ with a key: %v", v)
	}
	h.expect(h.withKey(secret, "POST", "/api/v1/verify", map[string]string{"token": tokens[0]}), 200)
	h.expect(h.withKey(secret, "POST", "/api/v1/verify/batch", map[string]any{"items": []map[string]string{{"token": tokens[0]}}}), 200)
	cur := h.expect(h.withKey(secret, "GET", "/api/v1/api-keys/current", nil), 200).json(t)
	if cur["id"] != id {
		t.Errorf("current key = %v", cur)
	}
	// Everything else is 403: a key is not a user.
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/certificates"}, {"POST", "/api/v1/certificates"}, {"GET", "/api/v1/api-keys"},
		{"POST", "/api/v1/api-keys"}, {"GET", "/healthz"}, {"GET", "/"}, {"DELETE", "/api/v1/api-keys/" + id},
	} {
		if got := h.withKey(secret, r.method, r.path, map[string]string{}); got.status != 403 {
			t.Errorf("%s %s with a key: %d, want 403", r.method, r.path, got.status)
		}
	}
	// A key with a login token as well is refused; an unknown key is 401.
	if got := h.do("POST", "/api/v1/verify", h.admin(), map[string]string{"token": tokens[0]}, "X-API-Key", secret); got.status != 400 {
		t.Errorf("key and login together: %d, want 400", got.status)
	}
	if got := h.withKey("sk_"+strings.Repeat("A", 43), "POST", "/api/v1/verify", map[string]string{"token": tokens[0]}); got.status != 401 {
		t.Errorf("unknown key: %d, want 401", got.status)
	}

	// Revoked: 401 everywhere, and revoking twice is a conflict.
	rev := h.expect(h.do("DELETE", "/api/v1/api-keys/"+id, h.admin(), nil), 200).json(t)
	if rev["revoked_at"] == nil {
		t.Errorf("revocation answer %v has no revoked_at", rev)
	}
	h.expect(h.do("DELETE", "/api/v1/api-keys/"+id, h.admin(), nil), 409)
	h.expect(h.do("DELETE", "/api/v1/api-keys/ak_nope", h.admin(), nil), 404)
	for _, path := range []string{"/api/v1/verify", "/api/v1/verify/batch"} {
		if got := h.withKey(secret, "POST", path, map[string]any{"token": tokens[0]}); got.status != 401 {
			t.Errorf("revoked key on %s: %d, want 401", path, got.status)
		}
	}
	if got := h.withKey(secret, "GET", "/v/"+tokens[0], nil); got.status != 401 {
		t.Errorf("revoked key on GET /v/: %d, want 401", got.status)
	}
	if strings.Contains(h.logs.String(), secret) || strings.Contains(h.logs.String(), secret[3:]) {
		t.Error("the logs contain an API key")
	}
	if !strings.Contains(h.logs.String(), "apikey.created") || !strings.Contains(h.logs.String(), "apikey.revoked") {
		t.Error("no audit events for the key's creation and revocation")
	}
}

// TestAPIKeyRateLimit: a key has its own bucket (token 1, number+name
// LookupCost), 429 with Retry-After when empty, counted in the metrics; a
// key's own rate overrides the server's default; batches draw per item.
func TestAPIKeyRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *handlers.Config) {
		c.Employers.APIKeyRate = ratelimit.Rate{N: 20, Per: time.Minute}
	})
	iss := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	numbers, tokens := issueCerts(t, h, iss, 1)
	k1, k2 := h.apiKey("one"), h.apiKey("two")

	for i := 0; i < 10; i++ {
		h.expect(h.withKey(k1, "GET", "/v/"+tokens[0], nil, "Accept", "application/json"), 200)
	}
	// A lookup costs 10: the bucket is then empty.
	h.expect(h.withKey(k1, "POST", "/api/v1/verify", map[string]string{"number": numbers[0], "name": registry.DemoName(0)}), 200)
	got := h.withKey(k1, "POST", "/api/v1/verify", map[string]string{"token": tokens[0]})
	if got.status != 429 {
		t.Fatalf("21st unit: %d, want 429", got.status)
	}
	if ra, err := strconv.Atoi(got.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q, want 1-60 s", got.header.Get("Retry-After"))
	}
	// The other key, and anonymous clients, are not affected.
	h.expect(h.withKey(k2, "POST", "/api/v1/verify", map[string]string{"token": tokens[0]}), 200)
	h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"token": tokens[0]}), 200)
	// A batch larger than the bucket can ever hold is a 400 saying so; one
	// that fits but finds the bucket short is a 429.
	big := map[string]any{"items": []map[string]string{{"number": numbers[0], "name": registry.DemoName(0)}, {"number": numbers[0], "name": registry.DemoName(0)}, {"token": tokens[0]}}}
	if got := h.withKey(k2, "POST", "/api/v1/verify/batch", big); got.status != 400 || !strings.Contains(string(got.body), "split it") {
		t.Errorf("a batch costing 21 on a 20 bucket: %d %s", got.status, got.body)
	}
	small := map[string]any{"items": []map[string]string{{"number": numbers[0], "name": registry.DemoName(0)}, {"token": tokens[0]}}}
	h.expect(h.withKey(k2, "POST", "/api/v1/verify/batch", small), 200) // 11 of the 19 left
	if got := h.withKey(k2, "POST", "/api/v1/verify/batch", small); got.status != 429 || got.header.Get("Retry-After") == "" {
		t.Errorf("a batch costing 11 with 8 left: %d, Retry-After %q", got.status, got.header.Get("Retry-After"))
	}
	// A key's own rate.
	own := h.expect(h.do("POST", "/api/v1/api-keys", h.admin(), map[string]any{"name": "slow", "rate_per_minute": 2}), 201).json(t)["key"].(string)
	h.expect(h.withKey(own, "POST", "/api/v1/verify", map[string]string{"token": tokens[0]}), 200)
	h.expect(h.withKey(own, "POST", "/api/v1/verify", map[string]string{"token": tokens[0]}), 200)
	h.expect(h.withKey(own, "POST", "/api/v1/verify", map[string]string{"token": tokens[0]}), 429)

	m := string(h.expect(h.do("GET", "/metrics", "", nil), 200).body)
	for _, want := range []string{`skillreg_rate_limited_total{limit="api_key"} 3`, `skillreg_api_key_items_total{key="`, `kind="lookup"}`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestBatchVerify: one result per item, in input order, for tokens and
// number+name pairs mixed, in JSON and CSV, with the single answers'
// shape and no ID numbers; the limits and bad input are 400s that name
// the item or the row and column.
func TestBatchVerify(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	iss := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	numbers, tokens := issueCerts(t, h, iss, 3)
	h.expect(h.do("POST", "/api/v1/certificates/"+numbers[2]+"/revoke", iss, map[string]string{"reason": "作废"}), 200)
	key := h.apiKey("batch")

	items := []map[string]string{
		{"token": tokens[0]},
		{"number": numbers[1], "name": registry.DemoName(1)},
		{"token": tokens[2]},
		{"number": numbers[0], "name": "李四"},
		{"token": "not-a-token"},
		{"number": "S000111000001262999999", "name": registry.DemoName(0)},
		{"number": numbers[2], "name": " " + registry.DemoName(2) + " "},
	}
	want := []string{"valid", "valid", "revoked", "not_found", "malformed", "not_found", "revoked"}
	check := func(what string, r response) {
		t.Helper()
		body := h.expect(r, 200).json(t)
		got := body["items"].([]any)
		if len(got) != len(want) || body["count"] != float64(len(want)) {
			t.Fatalf("%s: %d results, want %d: %s", what, len(got), len(want), r.body)
		}
		for i, g := range got {
			m := g.(map[string]any)
			if m["status"] != want[i] {
				t.Errorf("%s: item %d status %v, want %s", what, i, m["status"], want[i])
			}
			if c, ok := m["certificate"].(map[string]any); ok {
				if want[i] == "not_found" || want[i] == "malformed" {
					t.Errorf("%s: item %d (%s) carries a certificate", what, i, want[i])
				}
				if c["status_index"] == nil {
					t.Errorf("%s: item %d has no status_index", what, i)
				}
			}
		}
		if strings.Contains(string(r.body), "holder_id") || strings.Contains(string(r.body), idNumber[6:14]) || strings.Contains(string(r.body), registry.DemoName(1)) {
			t.Errorf("%s: the answer carries personal data: %s", what, r.body)
		}
		if got[0].(map[string]any)["certificate"].(map[string]any)["number"] != numbers[0] {
			t.Errorf("%s: item 0 is not the first certificate: order lost", what)
		}
	}
	check("JSON with a key", h.withKey(key, "POST", "/api/v1/verify/batch", map[string]any{"items": items}))
	check("JSON logged in", h.do("POST", "/api/v1/verify/batch", h.admin(), map[string]any{"items": items}))

	var csv strings.Builder
	csv.WriteString("\ufeffNumber, Name ,token\r\n")
	for _, it := range items {
		fmt.Fprintf(&csv, "%s,%s,%s\r\n", it["number"], it["name"], it["token"])
	}
	check("CSV", h.withKey(key, "POST", "/api/v1/verify/batch", csv.String(), "Content-Type", "text/csv; charset=utf-8"))

	// Anonymous: 401.
	h.expect(h.do("POST", "/api/v1/verify/batch", "", map[string]any{"items": items}), 401)

	// Limits and bad input.
	many := make([]map[string]string, 1001)
	for i := range many {
		many[i] = map[string]string{"token": tokens[0]}
	}
	bad := []struct {
		name, ctype, body, field, msg string
	}{
		{"1001 items", "application/json", mustJSON(t, map[string]any{"items": many}), "", "at most 1000 items; this one has 1001"},
		{"no items", "application/json", `{"items":[]}`, "items", "no items"},
		{"both token and number", "application/json", `{"items":[{"token":"a"},{"token":"b","number":"S1","name":"x"}]}`, "items[1].token", "items[1]"},
		{"number without name", "application/json", `{"items":[{"token":"a"},{"token":"b"},{"number":"S1"}]}`, "items[2].name", "items[2]"},
		{"unknown member", "application/json", `{"items":[{"nmae":"x"}]}`, "items[0]", "nmae"},
		{"id numbers refused", "application/json", `{"items":[{"number":"S1","name":"x","id_number":"` + idNumber + `"}]}`, "items[0]", "id_number"},
		{"not JSON", "application/json", `{"items":`, "items", "JSON"},
		{"CSV without name column", "text/csv", "number\nS1\n", "header", "number and name go together"},
		{"CSV unknown column", "text/csv", "token,身份证\na,b\n", "header", "column 2"},
		{"CSV row missing a name", "text/csv", "number,name\nS1,张三\nS2,\n", "row 3, column name", "row 3"},
		{"CSV bad quoting", "text/csv", "token\n\"abc\n", "", "row 2"},
		{"CSV 1001 rows", "text/csv", "token\n" + strings.Repeat("t\n", 1001), "", "row 1002 is item 1001"},
		{"other content type", "text/plain", "token\nabc\n", "content_type", "text/csv"},
	}
	for _, b := range bad {
		r := h.withKey(key, "POST", "/api/v1/verify/batch", b.body, "Content-Type", b.ctype)
		if r.status != 400 {
			t.Errorf("%s: status %d, want 400: %s", b.name, r.status, r.body)
			continue
		}
		_, field := r.errorCode(t)
		if b.field != "" && field != b.field {
			t.Errorf("%s: field %q, want %q", b.name, field, b.field)
		}
		if !strings.Contains(string(r.body), b.msg) {
			t.Errorf("%s: message lacks %q: %s", b.name, b.msg, r.body)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeBitstring is the test's own decoder of a W3C Bitstring Status
// List encodedList, written from the spec and sharing no code with the
// registry: multibase "u" + base64url, GZIP, bit 0 the left-most
// (most significant) bit of the first byte.
func decodeBitstring(t *testing.T, encoded string) []bool {
	t.Helper()
	if encoded == "" || encoded[0] != 'u' {
		t.Fatalf("encodedList %.20q lacks the multibase prefix u", encoded)
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded[1:])
	if err != nil {
		t.Fatalf("encodedList is not base64url: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("encodedList is not GZIP: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	bits := make([]bool, 0, len(b)*8)
	for _, by := range b {
		for j := 7; j >= 0; j-- {
			bits = append(bits, by>>uint(j)&1 == 1)
		}
	}
	return bits
}

// fetchBundle gets the trust bundle, checks its signature with the
// published JWKS (by hand, not with the verify package) and returns its
// payload and the response.
func fetchBundle(t *testing.T, h *harness, headers ...string) (map[string]any, response) {
	t.Helper()
	r := h.expect(h.do("GET", "/api/v1/trust-bundle", "", nil, headers...), 200)
	parts := strings.Split(string(r.body), ".")
	if len(parts) != 3 {
		t.Fatalf("the bundle is not a compact JWS: %.100s", r.body)
	}
	var hdr map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr["alg"] != "EdDSA" || hdr["kid"] == nil || hdr["typ"] != "skillreg-trust-bundle+jwt" {
		t.Fatalf("bundle header %s", hb)
	}
	var jwks struct {
		Keys []struct{ Kid, X string }
	}
	if err := json.Unmarshal(h.expect(h.do("GET", "/.well-known/jwks.json", "", nil), 200).body, &jwks); err != nil {
		t.Fatal(err)
	}
	var pub ed25519.PublicKey
	for _, k := range jwks.Keys {
		if k.Kid == hdr["kid"] {
			pub, _ = base64.RawURLEncoding.DecodeString(k.X)
		}
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if pub == nil || !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatalf("the bundle's signature does not verify with key %v of the JWKS", hdr["kid"])
	}
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var payload map[string]any
	if err := json.Unmarshal(pb, &payload); err != nil {
		t.Fatal(err)
	}
	return payload, r
}

// TestTrustBundle: the bundle is signed with the registry's key, lists
// keys and issuers with scopes and no personal data, and its status list
// has exactly the revoked certificates' bits set, read by the test's own
// decoder; it is cacheable (ETag, 304) and changes at once on a
// revocation; the public verify JSON names each certificate's index.
func TestTrustBundle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	iss := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	numbers, tokens := issueCerts(t, h, iss, 4)
	h.expect(h.do("POST", "/api/v1/certificates/"+numbers[1]+"/revoke", iss, map[string]string{"reason": "作废"}), 200)

	index := map[string]int{}
	for i, tok := range tokens {
		v := h.expect(h.do("GET", "/v/"+tok, "", nil, "Accept", "application/json"), 200).json(t)
		idx, ok := v["certificate"].(map[string]any)["status_index"].(float64)
		if !ok || idx < 1 || idx >= 131072 {
			t.Fatalf("GET /v/ JSON of %s: status_index %v", numbers[i], v["certificate"])
		}
		index[numbers[i]] = int(idx)
		api := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"number": numbers[i], "name": registry.DemoName(i)}), 200).json(t)
		if api["certificate"].(map[string]any)["status_index"] != v["certificate"].(map[string]any)["status_index"] {
			t.Errorf("POST /api/v1/verify names another status index than GET /v/")
		}
	}

	payload, r := fetchBundle(t, h)
	if r.header.Get("ETag") == "" || !strings.Contains(r.header.Get("Cache-Control"), "max-age=") {
		t.Errorf("bundle headers: ETag %q Cache-Control %q", r.header.Get("ETag"), r.header.Get("Cache-Control"))
	}
	if strings.Contains(string(r.body), "王") {
		t.Error("the bundle has holder names")
	}
	issued, _ := time.Parse(time.RFC3339, payload["issued_at"].(string))
	expires, _ := time.Parse(time.RFC3339, payload["expires_at"].(string))
	if payload["ttl_seconds"] != float64(24*3600) || expires.Sub(issued) != 24*time.Hour {
		t.Errorf("ttl %v, issued %v, expires %v", payload["ttl_seconds"], issued, expires)
	}
	if keys := payload["jwks"].(map[string]any)["keys"].([]any); len(keys) != 1 {
		t.Errorf("bundle jwks: %v", keys)
	}
	issuers := payload["issuers"].([]any)
	if len(issuers) != 1 || issuers[0].(map[string]any)["id"] != "S000111000001" || issuers[0].(map[string]any)["scope"].(map[string]any)["max_level"] != float64(2) {
		t.Errorf("bundle issuers: %v", issuers)
	}
	sl := payload["status_list"].(map[string]any)
	types := fmt.Sprint(sl["type"])
	subj := sl["credentialSubject"].(map[string]any)
	if !strings.Contains(types, "BitstringStatusListCredential") || subj["statusPurpose"] != "revocation" || subj["type"] != "BitstringStatusList" {
		t.Fatalf("status list: %v", sl)
	}
	bits := decodeBitstring(t, subj["encodedList"].(string))
	if len(bits) < 131072 {
		t.Fatalf("status list of %d bits, want at least 131072", len(bits))
	}
	checkBits := func(revoked ...string) {
		t.Helper()
		set := 0
		for _, b := range bits {
			if b {
				set++
			}
		}
		if set != len(revoked) {
			t.Errorf("%d bits set, want %d", set, len(revoked))
		}
		for _, n := range numbers {
			want := false
			for _, r := range revoked {
				want = want || r == n
			}
			if bits[index[n]] != want {
				t.Errorf("bit %d of %s = %v, want %v", index[n], n, bits[index[n]], want)
			}
		}
	}
	checkBits(numbers[1])

	// Cacheable: the same ETag answers 304.
	etag := r.header.Get("ETag")
	if got := h.do("GET", "/api/v1/trust-bundle", "", nil, "If-None-Match", etag); got.status != 304 {
		t.Errorf("If-None-Match with the ETag: %d, want 304", got.status)
	}
	// A revocation changes the bundle at once.
	h.expect(h.do("POST", "/api/v1/certificates/"+numbers[3]+"/revoke", iss, map[string]string{"reason": "作废"}), 200)
	payload, r = fetchBundle(t, h, "If-None-Match", etag)
	if r.header.Get("ETag") == etag {
		t.Error("the ETag did not change after a revocation")
	}
	bits = decodeBitstring(t, payload["status_list"].(map[string]any)["credentialSubject"].(map[string]any)["encodedList"].(string))
	checkBits(numbers[1], numbers[3])
}
