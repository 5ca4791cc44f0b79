package verify

import (
	"context"
	"crypto/ed25519"
	"net/url"
	"strings"
	"sync"
	"unicode"

	"github.com/skillreg/skillreg/registry"
)

// VerifyPath is the path prefix, under the public URL, of the page that
// verifies a token: <public URL>/v/<token>.
const VerifyPath = "/v/"

// VerifyURL returns the URL a certificate's QR code carries.
func VerifyURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + VerifyPath + token
}

// ExtractToken returns the token in what a user pasted or a scanner read:
// a bare token, or a verify URL <anything>/v/<token> with or without a
// trailing slash, query or fragment. Surrounding space is dropped, and so
// are line breaks inside, where a pasted token was wrapped (Parse refuses
// a token with line breaks). It does not check the token; Parse does.
func ExtractToken(input string) string {
	s := strings.TrimSpace(input)
	if strings.ContainsAny(s, "\r\n") {
		s = lineBreaks.Replace(s)
	}
	// Tokens never contain '#', '?' or '/', so cutting at them is safe
	// even for a bare token.
	s, _, _ = strings.Cut(s, "#")
	s, _, _ = strings.Cut(s, "?")
	if i := strings.LastIndex(s, VerifyPath); i >= 0 {
		s = s[i+len(VerifyPath):]
	}
	s = strings.TrimRightFunc(s, func(r rune) bool { return r == '/' || unicode.IsSpace(r) })
	return strings.TrimLeftFunc(s, unicode.IsSpace)
}

var lineBreaks = strings.NewReplacer("\r", "", "\n", "")

// worstCaseClaims are the claims with the longest token: a 22-character
// number, a full X-XX-XX-XX occupation code, and a masked name of
// MaxHolderRunes characters that JSON escapes to 6 bytes each ("<" becomes
// \u003c), and the largest status index. A real masked Chinese name such
// as 阿依** (8 bytes) is shorter.
var worstCaseClaims = registry.TokenClaims{
	Number:         "S000011000001261000001",
	OccupationCode: "6-18-01-01",
	Level:          1,
	IssuedOn:       "2026-12-31",
	HolderMasked:   "<<<<",
	StatusIndex:    registry.MaxStatusListSize - 1,
}

// MaxTokenLen returns the length of the longest token Sign can make (its
// kids have at most KIDLen characters). Every base64url part has a length
// fixed by its byte length, so the worst-case claims give the worst-case
// token.
func MaxTokenLen() int { return maxTokenLen() }

var maxTokenLen = sync.OnceValue(func() int { return len(worstCaseToken()) })

func worstCaseToken() string {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	k := Key{ID: strings.Repeat("A", KIDLen), Public: priv.Public().(ed25519.PublicKey), Private: priv, Active: true}
	t, err := NewStaticTokens([]Key{k})
	if err != nil {
		panic(err)
	}
	tok, _, err := t.Sign(context.Background(), worstCaseClaims, "")
	if err != nil {
		panic(err)
	}
	return tok
}

// MaxVerifyURLLen returns the length in bytes of the longest verify URL
// (VerifyURL) under publicURL.
func MaxVerifyURLLen(publicURL string) int {
	return len(strings.TrimRight(publicURL, "/")) + len(VerifyPath) + MaxTokenLen()
}

// CheckPublicURL checks that publicURL is an absolute http(s) URL with no
// query or fragment, and that the QR code of the longest verify URL under
// it needs at most version MaxQRVersion at level M, so that the server can
// refuse a bad --public-url at start-up rather than print unreadable codes.
// The error is an EINVALID *registry.Error on field "public_url".
func CheckPublicURL(publicURL string) error {
	u, err := url.Parse(publicURL)
	switch {
	case err != nil:
		return registry.FieldError("public_url", "%q is not a URL: %v", publicURL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return registry.FieldError("public_url", "%q must start with http:// or https://", publicURL)
	case u.Host == "":
		return registry.FieldError("public_url", "%q has no host", publicURL)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return registry.FieldError("public_url", "%q may not have user info, a query or a fragment, since /v/<token> is appended", publicURL)
	}
	n := MaxVerifyURLLen(publicURL)
	// go-qrcode never encodes worse than one byte-mode segment, so n
	// bytes in byte mode bound every verify URL of length n.
	v, err := QRVersion(strings.Repeat("a", n))
	if err != nil || v > MaxQRVersion {
		return registry.FieldError("public_url", "%q is too long: its verify URLs reach %d bytes, more than QR version %d at level M holds; use a shorter URL (the verify URL is the public URL plus %d bytes)",
			publicURL, n, MaxQRVersion, n-len(strings.TrimRight(publicURL, "/")))
	}
	return nil
}
