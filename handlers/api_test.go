package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

const (
	adminPassword = "admin-password-1"
	userPassword  = "user-password-12"
	idNumber      = "11010519491231002X"
)

// harness is a real server over a real SQLite file, reached over real HTTP.
type harness struct {
	t      *testing.T
	url    string
	dbPath string
	store  *sqlite.Store
	keys   verify.KeyStore
	tokens *verify.Tokens
	clock  *clock
	logs   *syncBuffer
	bodies *syncBuffer // every response body, for the privacy check

	mu     sync.Mutex
	logins map[string]string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHarness starts the harness; opts may change the server's config
// (rate limits, trusted proxies, its clock).
func newHarness(t *testing.T, opts ...func(*handlers.Config)) *harness {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "skillreg.db")
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	master := bytes.Repeat([]byte{7}, registry.MasterKeySize)
	vault, err := registry.NewVault(master)
	if err != nil {
		t.Fatal(err)
	}
	ks := verify.KeyStore{Store: st, Vault: vault}
	if _, err := ks.Ensure(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: &clock{}, dbPath: dbPath, store: st, keys: ks, logs: &syncBuffer{}, bodies: &syncBuffer{}, logins: map[string]string{}}
	logger := slog.New(slog.NewJSONHandler(h.logs, nil))
	h.tokens = verify.NewTokens(ks.Source(), verify.WithClock(h.clock.Now))
	metrics := handlers.NewMetrics()
	reg := registry.New(registry.Config{Store: st, Tokens: h.tokens, Vault: vault, Logger: logger, Hooks: metrics.Hooks(), Clock: h.clock.Now})
	if _, err := reg.EnsureAdmin(ctx, adminPassword); err != nil {
		t.Fatal(err)
	}
	var srv *handlers.Server
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	cfg := handlers.Config{
		Registry: reg, JWKS: ks.JWKS, QRPNG: verify.QRPNG, PublicURL: ts.URL,
		LoginKey: vault.LoginKey(), Logger: logger, Metrics: metrics, Clock: h.clock.Now,
		SignJSON: h.tokens.SignJSON, SignCredential: h.tokens.SignJSONAs,
		// Employer access: the signed trust bundle.
		Employers: handlers.EmployerConfig{SignBundle: h.tokens.SignTrustBundle},
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv = handlers.New(cfg)
	h.url = ts.URL
	return h
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, r.body)
	}
	return m
}

// errorCode returns error.code and error.field of an error response.
func (r response) errorCode(t *testing.T) (string, string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("not an error body: %s", r.body)
	}
	field, _ := e["field"].(string)
	return e["code"].(string), field
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON).
func (h *harness) do(method, path, token string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case upload: // a multipart form (imports_test.go)
		rd, ctype = bytes.NewReader(b.body), b.contentType
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.send(req)
}

// send makes the request and keeps its body for the privacy checks.
func (h *harness) send(req *http.Request) response {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	h.bodies.Write(b)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (h *harness) expect(r response, status int) response {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (h *harness) login(username, password string) string {
	h.t.Helper()
	h.mu.Lock()
	tok, ok := h.logins[username]
	h.mu.Unlock()
	if ok {
		return tok
	}
	r := h.expect(h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": password}), 200)
	tok = r.json(h.t)["token"].(string)
	h.mu.Lock()
	h.logins[username] = tok
	h.mu.Unlock()
	return tok
}

func (h *harness) admin() string { return h.login("admin", adminPassword) }

// issuer registers an issuer and one user of it, and returns the user's token.
func (h *harness) issuer(id, province string, occupations []string, maxLevel int) string {
	h.t.Helper()
	body := map[string]any{
		"name": "测试评价机构 " + id, "kind": id[:1], "org_code": id[1:5], "province": province, "site": id[7:13],
		"scope": map[string]any{"occupations": occupations, "max_level": maxLevel},
	}
	if id[5:7] != province {
		h.t.Fatalf("issuer id %s does not match province %s", id, province)
	}
	r := h.expect(h.do("POST", "/api/v1/issuers", h.admin(), body), 201)
	if got := r.json(h.t)["id"]; got != id {
		h.t.Fatalf("issuer id = %v, want %s", got, id)
	}
	user := "user-" + strings.ToLower(id)
	h.expect(h.do("POST", "/api/v1/users", h.admin(), map[string]any{"username": user, "password": userPassword, "role": "issuer", "issuer_id": id}), 201)
	return h.login(user, userPassword)
}

func certBody(overrides map[string]any) map[string]any {
	b := map[string]any{
		"holder_name": "张小三", "id_number": idNumber, "occupation_code": "6-18-01-01",
		"level": 2, "channel": "social",
	}
	for k, v := range overrides {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	part := strings.SplitN(token, ".", 2)[0]
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWalkthrough is the README's five-minute walkthrough: login, create
// issuer and user, issue, fetch the QR, verify, revoke, verify again.
func TestWalkthrough(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18", "4-04-05"}, 2)

	r := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"external_ref": "class-7/12", "issued_on": "2026-06-30"})), 201)
	c := r.json(t)
	number := c["number"].(string)
	if number != "S000111000001262000001" {
		t.Fatalf("number = %s", number)
	}
	if c["status"] != "valid" || c["holder_id_masked"] != "110105********002X" || c["occupation_name"] != "车工" || c["level_name"] != "二级/技师" {
		t.Fatalf("certificate = %s", r.body)
	}
	token := c["token"].(string)
	if c["verify_url"] != h.url+"/v/"+token {
		t.Fatalf("verify_url = %v", c["verify_url"])
	}

	// The second certificate of the same prefix gets serial 2.
	r2 := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": "李四", "id_number": "440524198001010013", "issued_on": "2026-07-01"})), 201)
	if n := r2.json(t)["number"]; n != "S000111000001262000002" {
		t.Fatalf("second number = %v", n)
	}

	// QR round trip: PNG, decode, verify.
	qr := h.expect(h.do("GET", "/api/v1/certificates/"+number+"/qr.png", tok, nil), 200)
	if qr.header.Get("Content-Type") != "image/png" {
		t.Fatalf("content type %q", qr.header.Get("Content-Type"))
	}
	text, err := verify.DecodeQR(bytes.NewReader(qr.body))
	if err != nil {
		t.Fatal(err)
	}
	if text != c["verify_url"] {
		t.Fatalf("QR holds %q, want %q", text, c["verify_url"])
	}
	v := h.expect(h.do("GET", strings.TrimPrefix(text, h.url), "", nil, "Accept", "application/json"), 200).json(t)
	if v["status"] != "valid" {
		t.Fatalf("verify = %v", v)
	}
	cert := v["certificate"].(map[string]any)
	if cert["holder_name"] != "张*三" || cert["issuer_name"] != "测试评价机构 S000111000001" || cert["number"] != number || cert["issued_on"] != "2026-06-30" {
		t.Fatalf("public certificate = %v", cert)
	}
	big := h.expect(h.do("GET", "/api/v1/certificates/"+number+"/qr.png?size=640", tok, nil), 200)
	if len(big.body) <= len(qr.body) {
		t.Errorf("size=640 PNG (%d bytes) not larger than default (%d)", len(big.body), len(qr.body))
	}

	// The page answers in Chinese, first screen first.
	page := h.expect(h.do("GET", "/v/"+token, "", nil, "Accept", "text/html"), 200)
	for _, want := range []string{"有效", number, "张*三", "车工", "二级/技师", "2026-06-30"} {
		if !bytes.Contains(page.body, []byte(want)) {
			t.Errorf("verify page lacks %q", want)
		}
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}

	// Issuers read their own records.
	got := h.expect(h.do("GET", "/api/v1/certificates/"+number, tok, nil), 200).json(t)
	if got["token"] != token {
		t.Errorf("token changed between issue and read: deterministic signing broken")
	}
	list := h.expect(h.do("GET", "/api/v1/certificates?q=张", tok, nil), 200).json(t)
	if list["total"].(float64) != 1 || list["items"].([]any)[0].(map[string]any)["number"] != number {
		t.Fatalf("list q=张 = %s", list)
	}
	all := h.expect(h.do("GET", "/api/v1/certificates?page=1", tok, nil), 200).json(t)
	if all["total"].(float64) != 2 || all["items"].([]any)[0].(map[string]any)["number"] != "S000111000001262000002" {
		t.Fatalf("list newest first = %v", all)
	}

	// Revoke, then every way of verifying says revoked.
	rv := h.expect(h.do("POST", "/api/v1/certificates/"+number+"/revoke", tok, map[string]string{"reason": "考核成绩录入错误"}), 200).json(t)
	if rv["status"] != "revoked" {
		t.Fatalf("revoke = %v", rv)
	}
	v = h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"token": token}), 200).json(t)
	if v["status"] != "revoked" || v["certificate"].(map[string]any)["revoke_reason"] != "考核成绩录入错误" {
		t.Fatalf("verify after revoke = %v", v)
	}
	page = h.expect(h.do("GET", "/v/"+token, "", nil), 200)
	if !bytes.Contains(page.body, []byte("已撤销")) || !bytes.Contains(page.body, []byte("考核成绩录入错误")) {
		t.Errorf("page after revoke: %s", page.body)
	}
	code, _ := h.expect(h.do("POST", "/api/v1/certificates/"+number+"/revoke", tok, map[string]string{"reason": "again"}), 409).errorCode(t)
	if code != "conflict" {
		t.Errorf("second revoke code %q", code)
	}
	revoked := h.expect(h.do("GET", "/api/v1/certificates?status=revoked", tok, nil), 200).json(t)
	if revoked["total"].(float64) != 1 {
		t.Errorf("status=revoked total = %v", revoked["total"])
	}

	// Metrics count what happened.
	m := string(h.expect(h.do("GET", "/metrics", "", nil), 200).body)
	for _, want := range []string{"skillreg_certificates_issued_total 2", "skillreg_certificates_revoked_total 1", `skillreg_verifications_total{outcome="valid"} 2`, `skillreg_verifications_total{outcome="revoked"} 2`, `route="/api/v1/certificates"`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Audit events name actor and number, never the ID number.
	logs := h.logs.String()
	for _, want := range []string{`"event":"certificate.issued"`, `"event":"certificate.revoked"`, `"number":"` + number + `"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	checkNoIDNumber(t, "logs", logs)
	checkNoIDNumber(t, "responses", h.bodies.String())
}

func checkNoIDNumber(t *testing.T, where, s string) {
	t.Helper()
	for _, id := range []string{idNumber, idNumber[:17], "440524198001010013", "44052419800101001"} {
		if strings.Contains(s, id) {
			t.Errorf("%s contain the ID number %s", where, id)
		}
	}
}

// TestKeyRotation: a new key signs new certificates; certificates signed
// with the old key keep verifying; the JWKS lists both.
func TestKeyRotation(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	a := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(nil)), 201).json(t)
	kidA := jwtHeader(t, a["token"].(string))["kid"]
	if _, err := h.keys.Rotate(t.Context(), h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(6 * time.Second) // past the key cache's refresh interval
	b := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": "李四", "id_number": testID(1)})), 201).json(t)
	kidB := jwtHeader(t, b["token"].(string))["kid"]
	if kidA == kidB {
		t.Fatalf("after rotation the new certificate still uses kid %v", kidA)
	}
	kids := jwksKIDs(t, h)
	if len(kids) != 2 || kids[0] != kidA || kids[1] != kidB {
		t.Fatalf("JWKS kids %v, want [%v %v]", kids, kidA, kidB)
	}
	for _, c := range []map[string]any{a, b} {
		v := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"token": c["token"].(string)}), 200).json(t)
		if v["status"] != "valid" {
			t.Fatalf("certificate %v after rotation: %v", c["number"], v)
		}
	}
	// The old certificate's QR is unchanged: it was signed with, and is
	// re-rendered with, the key recorded at issue.
	again := h.expect(h.do("GET", "/api/v1/certificates/"+a["number"].(string), tok, nil), 200).json(t)
	if again["token"] != a["token"] {
		t.Fatal("rotation changed an existing certificate's token")
	}
}

// TestPublicEndpoints: reference data, health, OpenAPI.
func TestPublicEndpoints(t *testing.T) {
	h := newHarness(t)
	occ := h.expect(h.do("GET", "/api/v1/occupations?q=车工", "", nil), 200).json(t)
	first := occ["items"].([]any)[0].(map[string]any)
	if first["code"] != "6-18-01-01" || first["name"] != "车工" {
		t.Fatalf("occupations?q=车工 first = %v", first)
	}
	regions := h.expect(h.do("GET", "/api/v1/regions", "", nil), 200).json(t)["items"].([]any)
	if len(regions) != 31 || regions[0].(map[string]any)["code"] != "110000" {
		t.Fatalf("regions: %d, first %v", len(regions), regions[0])
	}
	h.expect(h.do("GET", "/healthz", "", nil), 200)
	h.expect(h.do("GET", "/readyz", "", nil), 200)
	spec := h.expect(h.do("GET", "/api/openapi.yaml", "", nil), 200)
	if !strings.HasPrefix(string(spec.body), "openapi: 3") {
		t.Fatalf("openapi: %.40s", spec.body)
	}
	h.expect(h.do("GET", "/", "", nil), 200)
	css := h.expect(h.do("GET", "/static/app.css", "", nil), 200)
	if !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("css content type %q", css.header.Get("Content-Type"))
	}
	h.expect(h.do("GET", "/static/../web.go", "", nil), 404)
	if err := h.store.Close(); err != nil {
		t.Fatal(err)
	}
	h.expect(h.do("GET", "/readyz", "", nil), 503)
}
