package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

func TestExtractToken(t *testing.T) {
	const tok = "eyJhbGciOiJFZERTQSIsImtpZCI6ImtQcksifQ.eyJuIjoiUyJ9.c2ln-_"
	tests := []struct{ in, want string }{
		{tok, tok},
		{"  " + tok + "\n", tok},
		{"http://127.0.0.1:8080/v/" + tok, tok},
		{"https://zscx.hrss.example.gov.cn/v/" + tok + "/", tok},
		{"https://zscx.hrss.example.gov.cn/v/" + tok + "?from=wechat", tok},
		{"https://zscx.hrss.example.gov.cn/v/" + tok + "#top", tok},
		{"https://zscx.hrss.example.gov.cn/v/" + tok + "/?a=/v/x#/v/y", tok},
		{"https://example.org/prefix/v/v/" + tok, tok},
		{"\thttps://example.org/v/" + tok + " \r\n", tok},
		{tok[:20] + "\r\n" + tok[20:40] + "\n" + tok[40:], tok}, // wrapped when pasted
		{"example.org/v/" + tok, tok},
		{"/v/" + tok, tok},
		{"", ""},
		{"   ", ""},
		{"https://example.org/v/", ""},
		{"https://example.org/", "https://example.org"},
	}
	for _, tt := range tests {
		if got := ExtractToken(tt.in); got != tt.want {
			t.Errorf("ExtractToken(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVerifyURL(t *testing.T) {
	for _, pub := range []string{"https://a.example", "https://a.example/", "https://a.example//"} {
		if got := VerifyURL(pub, "T.O.K"); got != "https://a.example/v/T.O.K" {
			t.Errorf("VerifyURL(%q) = %q", pub, got)
		}
	}
	// A URL made by VerifyURL parses back.
	tk := staticTokens(t, testKey(1, true))
	tok := mustSign(t, tk, validClaims, "")
	if c, _, err := tk.Parse(context.Background(), ExtractToken(VerifyURL("https://a.example/sub", tok))); err != nil || *c != validClaims {
		t.Errorf("round trip through a verify URL: %v %v", c, err)
	}
}

// TestQRBudget measures the QR version of the longest verify URLs and
// checks that they fit MaxQRVersion at level M.
func TestQRBudget(t *testing.T) {
	worst := worstCaseToken()
	if len(worst) != MaxTokenLen() {
		t.Fatalf("worst-case token %d bytes, MaxTokenLen %d", len(worst), MaxTokenLen())
	}
	// A token with a real 4-character masked Chinese name must be no longer.
	c := worstCaseClaims
	c.HolderMasked = "阿依**"
	realistic := mustSign(t, staticTokens(t, testKey(1, true)), c, "")
	if len(realistic) > len(worst) {
		t.Fatalf("token with 阿依** (%d bytes) is longer than the worst case (%d)", len(realistic), len(worst))
	}
	t.Logf("longest token %d bytes (masked name %q); with 阿依** %d bytes", len(worst), worstCaseClaims.HolderMasked, len(realistic))

	for _, pub := range []string{"http://127.0.0.1:8080", "https://zscx.hrss.example.gov.cn"} {
		if err := CheckPublicURL(pub); err != nil {
			t.Errorf("CheckPublicURL(%q): %v", pub, err)
		}
		for _, tok := range []string{worst, realistic} {
			content := VerifyURL(pub, tok)
			v, err := QRVersion(content)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-34s content %d bytes -> QR version %d at level M", pub, len(content), v)
			if v > MaxQRVersion {
				t.Errorf("%s: version %d > %d", pub, v, MaxQRVersion)
			}
		}
		if n := MaxVerifyURLLen(pub); n != len(VerifyURL(pub, worst)) {
			t.Errorf("MaxVerifyURLLen(%q) = %d, want %d", pub, n, len(VerifyURL(pub, worst)))
		}
	}
}

func TestCheckPublicURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"https://zscx.hrss.example.gov.cn", true},
		{"https://zscx.hrss.example.gov.cn/", true},
		{"https://example.gov.cn/skills/verify", true},
		{"https://" + strings.Repeat("very-long-subdomain.", 10) + "example.gov.cn", false},
		{"https://example.gov.cn/" + strings.Repeat("p", 100), false},
		{"ftp://example.gov.cn", false},
		{"example.gov.cn", false},
		{"https://", false},
		{"", false},
		{"https://example.gov.cn/?a=1", false},
		{"https://example.gov.cn/?", false},
		{"https://example.gov.cn/#x", false},
		{"https://user:pw@example.gov.cn", false},
		{"http://[::1", false},
	}
	for _, tt := range tests {
		err := CheckPublicURL(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPublicURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
		if err != nil && (registry.ErrorCode(err) != registry.EINVALID || !strings.Contains(err.Error(), "public_url")) {
			t.Errorf("CheckPublicURL(%q) error %v is not an EINVALID public_url error", tt.url, err)
		}
	}
}

// TestCheckPublicURLBoundary walks the public URL length across the limit:
// every URL CheckPublicURL accepts must give printable QR codes, and it
// must accept every URL that does.
func TestCheckPublicURLBoundary(t *testing.T) {
	worst := worstCaseToken()
	longestOK := 0
	for n := 0; n < 120; n++ {
		pub := "https://a.example/" + strings.Repeat("p", n)
		v, err := QRVersion(VerifyURL(pub, worst))
		fits := err == nil && v <= MaxQRVersion
		if ok := CheckPublicURL(pub) == nil; ok != fits {
			t.Errorf("%d-byte public URL: CheckPublicURL ok %v, but its worst verify URL needs version %d", len(pub), ok, v)
		}
		if fits {
			longestOK = len(pub)
			if _, err := QRPNG(VerifyURL(pub, worst), 256); err != nil {
				t.Errorf("%d-byte public URL: QRPNG: %v", len(pub), err)
			}
		}
	}
	if longestOK == 0 || longestOK >= len("https://a.example/")+119 {
		t.Fatalf("the walk did not cross the limit (longest accepted %d)", longestOK)
	}
	t.Logf("longest public URL accepted: %d bytes", longestOK)
}
