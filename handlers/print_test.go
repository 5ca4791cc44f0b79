package handlers_test

import (
	"bytes"
	"encoding/base64"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/verify"
)

// qrImg finds a QR image; html/template writes '+' as &#43; in
// attributes, which browsers decode.
var qrImg = regexp.MustCompile(`<img src="data:image/png;base64,([A-Za-z0-9+/=&#;]+)"`)

// TestPrintPage: the A4 page shows the number, the name, the masked ID,
// occupation, level, organisation and date in Chinese, and the QR code as
// a data: image that decodes to the certificate's verify URL; nothing is
// inline, so the CSP holds.
func TestPrintPage(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	c := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"issued_on": "2026-01-05"})), 201).json(t)
	number := c["number"].(string)

	page := h.expect(h.do("GET", "/certificates/"+number+"/print", tok, nil), 200)
	body := string(page.body)
	for _, want := range []string{"职业技能等级证书", number, "张小三", "110105********002X", "车工", "二级/技师", "测试评价机构 S000111000001", "2026年1月5日", "/static/print.css"} {
		if !strings.Contains(body, want) {
			t.Errorf("print page lacks %q", want)
		}
	}
	if strings.Contains(body, idNumber) || strings.Contains(body, idNumber[:17]) {
		t.Error("print page shows the full ID number")
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "<style") || regexp.MustCompile(`<script(?:[^>]*)>[^<]`).MatchString(body) {
		t.Error("print page has inline style or script")
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if page.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", page.header.Get("Cache-Control"))
	}
	m := qrImg.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no data:image/png QR <img>")
	}
	png, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	text, err := verify.DecodeQR(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	if text != c["verify_url"] {
		t.Fatalf("QR holds %q, want %q", text, c["verify_url"])
	}

	css := string(h.expect(h.do("GET", "/static/print.css", "", nil), 200).body)
	for _, want := range []string{"size: A4", "width: 28mm", "page-break-after: always", "@media print"} {
		if !strings.Contains(css, want) {
			t.Errorf("print.css lacks %q", want)
		}
	}
	h.expect(h.do("GET", "/static/print.js", "", nil), 200)
}

// TestPrintClass: several certificates print one per page; a revoked one,
// an unknown one and another organisation's are refused.
func TestPrintClass(t *testing.T) {
	h := newHarness(t)
	a := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	b := h.issuer("S000244000001", "44", []string{"6-18"}, 2)
	var numbers []string
	for i, name := range []string{"张三", "李四", "王五"} {
		c := h.expect(h.do("POST", "/api/v1/certificates", a, certBody(map[string]any{"holder_name": name, "id_number": testID(i)})), 201).json(t)
		numbers = append(numbers, c["number"].(string))
	}
	page := string(h.expect(h.do("GET", "/certificates/print?numbers="+strings.Join(numbers, ",")+",,"+numbers[0], a, nil), 200).body)
	if n := strings.Count(page, `<article class="certificate"`); n != 3 {
		t.Fatalf("%d certificates on the page, want 3", n)
	}
	if n := len(qrImg.FindAllString(page, -1)); n != 3 {
		t.Fatalf("%d QR codes", n)
	}
	other := h.expect(h.do("POST", "/api/v1/certificates", b, certBody(nil)), 201).json(t)["number"].(string)
	h.expect(h.do("POST", "/api/v1/certificates/"+numbers[2]+"/revoke", a, map[string]string{"reason": "录入错误"}), 200)
	tests := []struct {
		name, path string
		status     int
	}{
		{"revoked", "/certificates/" + numbers[2] + "/print", 409},
		{"revoked in a class", "/certificates/print?numbers=" + numbers[0] + "," + numbers[2], 409},
		{"another organisation's", "/certificates/print?numbers=" + numbers[0] + "," + other, 404},
		{"unknown", "/certificates/S000111000001262999999/print", 404},
		{"no numbers", "/certificates/print?numbers=,", 400},
		{"commas in the path", "/certificates/" + numbers[0] + "," + numbers[1] + "/print", 400},
	}
	for _, tt := range tests {
		r := h.do("GET", tt.path, a, nil)
		if r.status != tt.status || !strings.Contains(string(r.body), "<!doctype html>") {
			t.Errorf("%s: %d, want %d as a page: %.200s", tt.name, r.status, tt.status, r.body)
		}
		if strings.Contains(string(r.body), "张三") {
			t.Errorf("%s: the refusal shows a holder", tt.name)
		}
	}
	// An API client gets JSON errors.
	if code, _ := h.expect(h.do("GET", "/certificates/"+numbers[2]+"/print", a, nil, "Accept", "application/json"), 409).errorCode(t); code != "conflict" {
		t.Errorf("JSON refusal code %s", code)
	}
}

// TestPrintTicket: a browser prints with a short-lived ticket bound to the
// numbers it names; it is not a login token and does not outlive 10
// minutes.
func TestPrintTicket(t *testing.T) {
	h := newHarness(t)
	a := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	var numbers []string
	for i := range 2 {
		c := h.expect(h.do("POST", "/api/v1/certificates", a, certBody(map[string]any{"id_number": testID(i)})), 201).json(t)
		numbers = append(numbers, c["number"].(string))
	}
	one := h.expect(h.do("POST", "/api/v1/print-tickets", a, map[string]any{"numbers": numbers[:1]}), 201).json(t)
	if !strings.HasPrefix(one["url"].(string), "/certificates/"+numbers[0]+"/print?ticket=") {
		t.Fatalf("ticket url %v", one["url"])
	}
	page := h.expect(h.do("GET", one["url"].(string), "", nil), 200)
	if !bytes.Contains(page.body, []byte(numbers[0])) {
		t.Fatal("ticket page lacks the certificate")
	}
	class := h.expect(h.do("POST", "/api/v1/print-tickets", a, map[string]any{"numbers": numbers}), 201).json(t)
	u, _ := url.Parse(class["url"].(string))
	if u.Path != "/certificates/print" || u.Query().Get("numbers") != strings.Join(numbers, ",") {
		t.Fatalf("class url %v", u)
	}
	h.expect(h.do("GET", class["url"].(string), "", nil), 200)

	ticket := one["ticket"].(string)
	tests := []struct {
		name, path, bearer string
		status             int
	}{
		{"no ticket", "/certificates/" + numbers[0] + "/print", "", 401},
		{"ticket for other numbers", "/certificates/" + numbers[1] + "/print?ticket=" + ticket, "", 401},
		{"ticket for a subset", "/certificates/print?numbers=" + strings.Join(numbers, ",") + "&ticket=" + ticket, "", 401},
		{"forged ticket", "/certificates/" + numbers[0] + "/print?ticket=" + ticket[:len(ticket)-2] + "AA", "", 401},
		{"login token as ticket", "/certificates/" + numbers[0] + "/print?ticket=" + a, "", 401},
		{"ticket as login token", "/api/v1/certificates/" + numbers[0], ticket, 401},
	}
	for _, tt := range tests {
		if r := h.do("GET", tt.path, tt.bearer, nil); r.status != tt.status {
			t.Errorf("%s: %d, want %d: %.200s", tt.name, r.status, tt.status, r.body)
		}
	}
	bad := h.do("POST", "/api/v1/print-tickets", a, map[string]any{"numbers": []string{numbers[0], "S000111000001262999999"}})
	if bad.status != 404 {
		t.Errorf("ticket for an unknown number: %d", bad.status)
	}
	h.clock.Advance(11 * time.Minute)
	h.expect(h.do("GET", one["url"].(string), "", nil), 401)
}
