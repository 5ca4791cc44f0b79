package handlers_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/ratelimit"
)

// frozenClock stands still until the test moves it, so that rate-limit
// tests do not depend on how fast the machine sends requests.
type frozenClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFrozenClock() *frozenClock { return &frozenClock{t: time.Now()} }

func (c *frozenClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *frozenClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// withLimits sets the server's limits and gives it the frozen clock.
func withLimits(l ratelimit.Limits, clk *frozenClock) func(*handlers.Config) {
	return func(c *handlers.Config) {
		c.Limits = l
		c.Clock = clk.Now
	}
}

// raw sends a body with its own content type (forms, multipart).
func (h *harness) raw(method, path, contentType string, body []byte, headers ...string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.send(req)
}

// issued is one certificate issued through the API.
type issued struct {
	number, token, issuerToken string
}

// issueOne registers issuer S000111000001 and issues 张小三's certificate.
func issueOne(h *harness) issued {
	h.t.Helper()
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	c := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"issued_on": "2026-06-30"})), 201).json(h.t)
	return issued{number: c["number"].(string), token: c["token"].(string), issuerToken: tok}
}

// TestLookupAPI: POST /api/v1/verify with number and name answers like a
// token verification on a match; a wrong name, an unknown number and a
// malformed number give the same bytes; id_number answers id_matches only.
func TestLookupAPI(t *testing.T) {
	h := newHarness(t)
	c := issueOne(h)
	byToken := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"token": c.token}), 200)

	match := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"number": c.number, "name": "张小三"}), 200)
	if !bytes.Equal(match.body, byToken.body) {
		t.Fatalf("lookup answer\n %s\ndiffers from the token answer\n %s", match.body, byToken.body)
	}
	if match.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", match.header.Get("Cache-Control"))
	}
	var notFound []byte
	for _, body := range []map[string]string{
		{"number": c.number, "name": "张小四"},
		{"number": "S000111000001262000077", "name": "张小三"},
		{"number": "S000999000001262000001", "name": "张小三"},
		{"number": "not-a-number", "name": "张小三"},
		{"number": c.number, "name": "张*三"},
		{"number": c.number, "name": "李四", "id_number": idNumber},
	} {
		r := h.expect(h.do("POST", "/api/v1/verify", "", body), 200)
		if string(r.body) != `{"status":"not_found"}`+"\n" {
			t.Fatalf("%v: %s", body, r.body)
		}
		if notFound != nil && !bytes.Equal(notFound, r.body) {
			t.Fatalf("not_found answers differ")
		}
		notFound = r.body
	}

	for _, tt := range []struct {
		id   string
		want bool
	}{{idNumber, true}, {strings.ToLower(idNumber), true}, {"440524198001010013", false}} {
		v := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"number": c.number, "name": "张小三", "id_number": tt.id}), 200).json(t)
		if v["status"] != "valid" || v["id_matches"] != tt.want {
			t.Fatalf("id %s: %v", tt.id, v)
		}
	}

	for _, tt := range []struct {
		body  map[string]string
		field string
	}{
		{map[string]string{"number": c.number, "name": "张小三", "id_number": "110105194912310021"}, "id_number"},
		{map[string]string{"number": "S000111000001262000077", "name": "张小三", "id_number": "110105194912310021"}, "id_number"},
		{map[string]string{"number": c.number}, "name"},
		{map[string]string{"name": "张小三"}, "number"},
		{map[string]string{"token": c.token, "number": c.number, "name": "张小三"}, "token"},
		{map[string]string{}, "token"},
	} {
		code, field := h.expect(h.do("POST", "/api/v1/verify", "", tt.body), 400).errorCode(t)
		if code != "invalid" || field != tt.field {
			t.Errorf("%v: %s on %q, want invalid on %s", tt.body, code, field, tt.field)
		}
	}
	checkNoIDNumber(t, "responses", h.bodies.String())
}

var inlineScript = regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`)

// TestLookupForm: the home page's form posts number and name to /lookup
// and gets the verify page; everything is plain HTML, no inline script.
func TestLookupForm(t *testing.T) {
	h := newHarness(t)
	c := issueOne(h)
	home := h.expect(h.do("GET", "/", "", nil), 200)
	for _, want := range []string{`action="/lookup"`, `method="post"`, `name="number"`, `name="name"`, `href="/scan"`} {
		if !bytes.Contains(home.body, []byte(want)) {
			t.Errorf("home page lacks %s", want)
		}
	}
	form := func(number, name string) response {
		return h.raw("POST", "/lookup", "application/x-www-form-urlencoded", []byte(url.Values{"number": {number}, "name": {name}}.Encode()))
	}
	ok := h.expect(form(c.number, "张小三"), 200)
	for _, want := range []string{"有效", c.number, "张*三", "车工"} {
		if !bytes.Contains(ok.body, []byte(want)) {
			t.Errorf("lookup page lacks %q", want)
		}
	}
	for _, tt := range [][2]string{{c.number, "张小四"}, {"S000111000001262000077", "张小三"}} {
		p := h.expect(form(tt[0], tt[1]), 200)
		if !bytes.Contains(p.body, []byte("未查到")) || bytes.Contains(p.body, []byte("张*三")) {
			t.Errorf("%v: not-found page: %s", tt, p.body)
		}
	}
	bad := h.expect(form("", ""), 400)
	if !strings.HasPrefix(bad.header.Get("Content-Type"), "text/html") || !bytes.Contains(bad.body, []byte("请填写证书编号和持证人姓名")) {
		t.Errorf("empty form: %s", bad.body)
	}
	for _, page := range []response{home, ok, bad, h.expect(h.do("GET", "/scan", "", nil), 200)} {
		if inlineScript.Match(page.body) || bytes.Contains(page.body, []byte("style=")) || bytes.Contains(page.body, []byte("<style")) {
			t.Errorf("a page has inline script or style: %s", page.body)
		}
	}
}

// TestRateLimitLookup: the 61st lookup in a minute from one client is 429
// with Retry-After and code rate_limited; another client, and token
// verification from the same client, are unaffected; the limit refills.
func TestRateLimitLookup(t *testing.T) {
	clk := newFrozenClock()
	var trusted ratelimit.Prefixes
	if err := trusted.Set("127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withLimits(ratelimit.Limits{
		Lookup: ratelimit.Rate{N: 60, Per: time.Minute}, Verify: ratelimit.Rate{N: 600, Per: time.Minute}, Trusted: trusted,
	}, clk))
	c := issueOne(h)
	lookup := func(ip string) response {
		return h.do("POST", "/api/v1/verify", "", map[string]string{"number": c.number, "name": "王五"}, "X-Forwarded-For", ip)
	}
	for i := 1; i <= 60; i++ {
		h.expect(lookup("203.0.113.7"), 200)
	}
	r := h.expect(lookup("203.0.113.7"), 429)
	if code, _ := r.errorCode(t); code != "rate_limited" {
		t.Fatalf("code %q", code)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	h.expect(lookup("203.0.113.8"), 200)
	h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"token": c.token}, "X-Forwarded-For", "203.0.113.7"), 200)
	// The form shares the limit, and says so in a page.
	page := h.raw("POST", "/lookup", "application/x-www-form-urlencoded", []byte("number="+c.number+"&name=x"), "X-Forwarded-For", "203.0.113.7")
	if page.status != 429 || !bytes.Contains(page.body, []byte("请求过于频繁")) || page.header.Get("Retry-After") == "" {
		t.Fatalf("form when limited: %d %s", page.status, page.body)
	}
	clk.Advance(time.Duration(secs) * time.Second)
	h.expect(lookup("203.0.113.7"), 200)
	h.expect(lookup("203.0.113.7"), 429)

	m := string(h.expect(h.do("GET", "/metrics", "", nil), 200).body)
	if !strings.Contains(m, `skillreg_rate_limited_total{limit="lookup"} 3`) {
		t.Errorf("metrics lack the lookup refusals:\n%s", grepLines(m, "rate_limited"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTrustedProxies: X-Forwarded-For counts only when the peer is a
// trusted proxy, and then only its nearest untrusted address, so that a
// client cannot dodge its limit by writing the header itself.
func TestTrustedProxies(t *testing.T) {
	verifyAs := func(h *harness, token, xff string) int {
		return h.do("GET", "/v/"+token, "", nil, "Accept", "application/json", "X-Forwarded-For", xff).status
	}
	limits := func(trusted string) ratelimit.Limits {
		var p ratelimit.Prefixes
		if err := p.Set(trusted); err != nil {
			t.Fatal(err)
		}
		return ratelimit.Limits{Verify: ratelimit.Rate{N: 3, Per: time.Minute}, Trusted: p}
	}

	t.Run("untrusted peer", func(t *testing.T) {
		h := newHarness(t, withLimits(limits(""), newFrozenClock()))
		c := issueOne(h)
		for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
			if got := verifyAs(h, c.token, ip); got != 200 {
				t.Fatalf("request %d: %d", i, got)
			}
		}
		if got := verifyAs(h, c.token, "198.51.100.4"); got != 429 {
			t.Fatalf("a fresh X-Forwarded-For from an untrusted peer got %d, want 429 (the header must be ignored)", got)
		}
	})
	t.Run("trusted peer", func(t *testing.T) {
		h := newHarness(t, withLimits(limits("127.0.0.0/8, 10.0.0.0/8"), newFrozenClock()))
		c := issueOne(h)
		for range 3 {
			if got := verifyAs(h, c.token, "198.51.100.1"); got != 200 {
				t.Fatalf("status %d", got)
			}
		}
		if got := verifyAs(h, c.token, "198.51.100.1"); got != 429 {
			t.Fatalf("4th from one client: %d", got)
		}
		if got := verifyAs(h, c.token, "198.51.100.2"); got != 200 {
			t.Fatalf("another client behind the proxy: %d", got)
		}
		// A client that prepends its own addresses is still itself: the
		// nearest untrusted hop is what the proxy saw.
		if got := verifyAs(h, c.token, "192.0.2.99, 198.51.100.1"); got != 429 {
			t.Fatalf("spoofed prefix escaped the limit: %d", got)
		}
		// Through two trusted proxies, the client is found.
		if got := verifyAs(h, c.token, "198.51.100.1, 10.1.2.3"); got != 429 {
			t.Fatalf("through a second trusted hop: %d", got)
		}
		// IPv6 clients are limited per /64.
		for range 3 {
			verifyAs(h, c.token, "2001:db8:1:2::1")
		}
		if got := verifyAs(h, c.token, "2001:db8:1:2::ffff"); got != 429 {
			t.Fatalf("another address of the same /64: %d", got)
		}
		if got := verifyAs(h, c.token, "2001:db8:1:3::1"); got != 200 {
			t.Fatalf("another /64: %d", got)
		}
	})
}

// TestLoginThrottle: failures are counted per username (existing or not)
// and per client; a throttled attempt is 429 with Retry-After whatever
// the password and whether or not the user exists, and passes again
// once the window has refilled.
func TestLoginThrottle(t *testing.T) {
	clk := newFrozenClock()
	var trusted ratelimit.Prefixes
	_ = trusted.Set("127.0.0.1")
	h := newHarness(t, withLimits(ratelimit.Limits{
		LoginUser: ratelimit.Rate{N: 3, Per: 15 * time.Minute},
		LoginIP:   ratelimit.Rate{N: 5, Per: 15 * time.Minute},
		Trusted:   trusted,
	}, clk))
	login := func(user, pw, ip string) response {
		return h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": pw}, "X-Forwarded-For", ip)
	}
	// Successes do not count.
	for range 5 {
		h.expect(login("admin", adminPassword, "203.0.113.1"), 200)
	}
	for user, ip := range map[string]string{"admin": "203.0.113.1", "ghost": "203.0.113.4"} {
		for i := range 3 {
			h.expect(login(user, "wrong-password-"+strconv.Itoa(i), ip), 401)
		}
	}
	a := h.expect(login("admin", adminPassword, "203.0.113.2"), 429)
	g := h.expect(login("ghost", "whatever-pass", "203.0.113.3"), 429)
	if !bytes.Equal(a.body, g.body) || a.header.Get("Retry-After") != g.header.Get("Retry-After") {
		t.Fatalf("throttled answers tell users apart:\n%s %s\n%s %s", a.header.Get("Retry-After"), a.body, g.header.Get("Retry-After"), g.body)
	}
	if secs, _ := strconv.Atoi(a.header.Get("Retry-After")); secs < 60 || secs > 15*60 {
		t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
	}
	// Client 203.0.113.1 has 3 failures; two more use up its 5, and then
	// every username is refused from it, even one never tried.
	h.expect(login("x-one", "wrong-password", "203.0.113.1"), 401)
	h.expect(login("x-two", "wrong-password", "203.0.113.1"), 401)
	h.expect(login("someone-else", "wrong-password", "203.0.113.1"), 429)
	// Another user from another client is untouched.
	h.expect(login("someone-else", "wrong-password", "203.0.113.9"), 401)

	clk.Advance(15 * time.Minute)
	h.expect(login("admin", adminPassword, "203.0.113.1"), 200)
	m := string(h.expect(h.do("GET", "/metrics", "", nil), 200).body)
	for _, want := range []string{`skillreg_rate_limited_total{limit="login_user"} 2`, `skillreg_rate_limited_total{limit="login_ip"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(m, "rate_limited"))
		}
	}
}

// multipartPhoto is a multipart body with one file field "photo".
func multipartPhoto(t *testing.T, name string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("photo", name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

func blankPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.Set(100, 100, color.Black)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestScanPageAndUpload: /scan is a page with the camera script and an
// upload form; an uploaded QR photo lands on the verdict; a photo
// without a code, a non-image and an oversized file get a Chinese page.
func TestScanPageAndUpload(t *testing.T) {
	h := newHarness(t)
	c := issueOne(h)
	page := h.expect(h.do("GET", "/scan", "", nil), 200)
	for _, want := range []string{`enctype="multipart/form-data"`, `action="/scan/upload"`, `name="photo"`, `<script src="/static/scan.js" defer></script>`, "扫码查验"} {
		if !bytes.Contains(page.body, []byte(want)) {
			t.Errorf("scan page lacks %s", want)
		}
	}
	js := h.expect(h.do("GET", "/static/scan.js", "", nil), 200)
	if ct := js.header.Get("Content-Type"); !strings.Contains(ct, "javascript") || !bytes.Contains(js.body, []byte("BarcodeDetector")) {
		t.Errorf("scan.js: %q", ct)
	}
	jsqr := h.expect(h.do("GET", "/static/vendor/jsQR.js", "", nil), 200)
	if !bytes.Contains(jsqr.body, []byte(`root["jsQR"] = factory()`)) {
		t.Error("vendored jsQR.js is not the UMD build")
	}
	h.expect(h.do("GET", "/static/vendor/jsQR.LICENSE.txt", "", nil), 200)

	qr := h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/qr.png?size=640", c.issuerToken, nil), 200).body
	body, ct := multipartPhoto(t, "qr.png", qr)
	res := h.expect(h.raw("POST", "/scan/upload", ct, body), 200)
	for _, want := range []string{"有效", c.number, "张*三"} {
		if !bytes.Contains(res.body, []byte(want)) {
			t.Errorf("upload verdict lacks %q", want)
		}
	}
	j := h.expect(h.raw("POST", "/scan/upload", ct, body, "Accept", "application/json"), 200).json(t)
	if j["status"] != "valid" {
		t.Errorf("upload as JSON: %v", j)
	}

	for _, tt := range []struct {
		name   string
		data   []byte
		status int
		want   string
	}{
		{"no QR code", blankPNG(t), 400, "未能在图片中识别出二维码"},
		{"not an image", []byte("GIF89a not really"), 400, "未能在图片中识别出二维码"},
		{"too large", bytes.Repeat([]byte{0}, handlers.MaxPhotoBytes+200<<10), 400, "图片超过 10 MB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartPhoto(t, "photo.png", tt.data)
			r := h.raw("POST", "/scan/upload", ct, body)
			if r.status != tt.status || !bytes.Contains(r.body, []byte(tt.want)) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, want %d with %q: %.300s", r.status, tt.status, tt.want, r.body)
			}
		})
	}
	noFile := h.raw("POST", "/scan/upload", "application/x-www-form-urlencoded", []byte("x=1"))
	if noFile.status != 400 || !bytes.Contains(noFile.body, []byte("请选择一张证书二维码的照片")) {
		t.Fatalf("no file: %d %s", noFile.status, noFile.body)
	}
}

// TestCertificateVC: the credential is a VC-JWT (typ vc+jwt, EdDSA, a
// kid of the DID document) that golang-jwt pinned to EdDSA verifies with
// the key found there (verifyByDID); it carries the public data and never the ID number; a
// revoked certificate gets none.
func TestCertificateVC(t *testing.T) {
	h := newHarness(t)
	c := issueOne(h)
	r := h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 200)
	if ct := r.header.Get("Content-Type"); ct != "application/vc+jwt" {
		t.Fatalf("content type %q", ct)
	}
	vc := verifyByDID(t, h, string(r.body))
	typ, _ := vc["type"].([]any)
	if len(typ) != 2 || typ[0] != "VerifiableCredential" || typ[1] != "SkillCertificate" {
		t.Fatalf("credential type: %v", vc["type"])
	}
	if vc["validFrom"] != "2026-06-30T00:00:00+08:00" || vc["id"] != h.url+"/v/"+c.token {
		t.Fatalf("validFrom %v, id %v", vc["validFrom"], vc["id"])
	}
	sub := vc["credentialSubject"].(map[string]any)
	if sub["name"] != "张*三" || sub["number"] != c.number || sub["occupation"].(map[string]any)["code"] != "6-18-01-01" || sub["level"].(map[string]any)["level"] != float64(2) {
		t.Fatalf("credentialSubject %v", sub)
	}
	payload, _ := jwt.NewParser().DecodeSegment(strings.Split(string(r.body), ".")[1])
	for _, secret := range []string{idNumber, idNumber[:17], "张小三", "110105********002X"} {
		if bytes.Contains(payload, []byte(secret)) {
			t.Fatalf("the credential carries %q", secret)
		}
	}
	// A certificate token parser never takes the credential for a certificate.
	v := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"token": string(r.body)}), 200).json(t)
	if v["status"] != "malformed" {
		t.Fatalf("the credential verified as a certificate token: %v", v)
	}

	h.expect(h.do("POST", "/api/v1/certificates/"+c.number+"/revoke", c.issuerToken, map[string]string{"reason": "错误"}), 200)
	code, _ := h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/vc", c.issuerToken, nil), 409).errorCode(t)
	if code != "conflict" {
		t.Fatalf("revoked: code %q", code)
	}
}
