package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
	"github.com/skillreg/skillreg/registry"
)

func FuzzParse(f *testing.F) {
	k := testKey(1, true)
	tk := staticTokens(f, k)
	good := mustSign(f, tk, validClaims, "")
	parts := strings.Split(good, ".")
	hdr := `{"alg":"EdDSA","kid":"` + k.ID + `"}`
	pl := `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "admin", "role": "admin"}).SignedString([]byte(k.Public))
	for _, s := range []string{
		good,
		mustSign(f, tk, worstCaseClaims, ""),
		signRaw(k.Private, `{"alg":"EdDSA","kid":"`+k.ID+`","jku":"https://evil.example/jwks"}`, pl),
		signRaw(k.Private, hdr, `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三","h":"x"}`),
		signRaw(k.Private, hdr, `{"n":"S000011000001253000042","o":"6-18-01-01","l":3.0,"d":"20250630","h":"张*三"}`),
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1],
		parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:],
		"eyJhbGciOiJub25lIn0." + parts[1] + ".",
		hs,
		"",
		"...",
		"a.b.c",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string) {
		c, kid, err := tk.Parse(ctx, s)
		if err != nil {
			if st := tokenStatus(err); st != registry.VerifyMalformed && st != registry.VerifyForged {
				t.Fatalf("Parse(%q): status %q (%v) with static keys", s, st, err)
			}
			return
		}
		if kid != k.ID {
			t.Fatalf("accepted with kid %q", kid)
		}
		// Accepted claims are exactly what Sign makes and parses again.
		re, _, err := tk.Sign(ctx, *c, kid)
		if err != nil {
			t.Fatalf("accepted claims %+v do not sign: %v", *c, err)
		}
		c2, _, err := tk.Parse(ctx, re)
		if err != nil || *c2 != *c {
			t.Fatalf("re-signed claims parse to %+v, %v; want %+v", c2, err, *c)
		}
		if strings.HasPrefix(s, parts[0]+".") && re != s {
			t.Fatalf("accepted a second token for the same claims and header:\n%s\n%s", s, re)
		}
	})
}

func FuzzExtractToken(f *testing.F) {
	tok := mustSign(f, staticTokens(f, testKey(1, true)), validClaims, "")
	for _, s := range []string{
		tok, " " + tok + "\n", "http://127.0.0.1:8080/v/" + tok, "https://a.example/v/" + tok + "/?x=1#y",
		"/v/", "/v/v/v/", "a/v/ /", "#?/", "\u3000/v/x\u3000", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ExtractToken(s)
		if again := ExtractToken(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
		if strings.ContainsAny(got, "#?") || strings.Contains(got, VerifyPath) ||
			strings.HasSuffix(got, "/") || strings.TrimSpace(got) != got {
			t.Fatalf("ExtractToken(%q) = %q", s, got)
		}
		// Any public URL (without query or fragment) with the token appended
		// gives the token back.
		if !strings.ContainsAny(s, "#?") {
			if got := ExtractToken(VerifyURL(s, tok)); got != tok {
				t.Fatalf("ExtractToken(VerifyURL(%q, tok)) = %q", s, got)
			}
		}
		if strings.IndexFunc(s, func(r rune) bool { return r == '/' || r == '#' || r == '?' || unicode.IsSpace(r) }) < 0 && got != s {
			t.Fatalf("a bare token-like %q came out as %q", s, got)
		}
	})
}

func FuzzParseJWKS(f *testing.F) {
	good, _ := JWKS([]Key{testKey(1, true), testKey(2, false)})
	for _, s := range []string{
		string(good),
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"r"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k","d":"x"}]}`,
		`{"keys":[]}`, `{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := ParseJWKS(b)
		if err != nil {
			if registry.ErrorCode(err) != registry.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		for _, k := range keys {
			if len(k.Public) != 32 || k.Private != nil || k.Active || k.ID == "" {
				t.Fatalf("accepted key %+v", k)
			}
		}
		// What was accepted survives a round trip unchanged.
		out, err := JWKS(keys)
		if err != nil {
			t.Fatalf("JWKS of accepted keys: %v", err)
		}
		again, err := ParseJWKS(out)
		if err != nil || len(again) != len(keys) {
			t.Fatalf("round trip: %d keys, %v", len(again), err)
		}
		for i := range keys {
			if again[i].ID != keys[i].ID || !bytes.Equal(again[i].Public, keys[i].Public) {
				t.Fatalf("round trip changed key %d", i)
			}
		}
		if _, err := NewStaticTokens(keys); err != nil {
			t.Fatalf("accepted keys make no Tokens: %v", err)
		}
	})
}

// FuzzDecodeQR: any bytes give a QR text or an EINVALID/ETOOLARGE error,
// never a panic.
func FuzzDecodeQR(f *testing.F) {
	png, err := QRPNG("http://127.0.0.1:8080/v/abc", 64)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(png)
	f.Add([]byte{})
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add(png[:len(png)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := DecodeQR(bytes.NewReader(b))
		if err != nil {
			if c := registry.ErrorCode(err); c != registry.EINVALID && c != registry.ETOOLARGE && c != registry.EINTERNAL {
				t.Fatalf("code %q", c)
			}
		}
	})
}

// FuzzScanPayload: wherever the reflection-free payload reader answers,
// json.Unmarshal accepts the same bytes and gives the same claims.
func FuzzScanPayload(f *testing.F) {
	for _, s := range []string{
		`{"n":"S00011100000120250000001","o":"6-18-01-01","l":2,"d":"20250630","h":"张*三"}`,
		`{"n":"S00011100000120250000001","o":"6-18-01-01","l":2,"d":"20250630","h":"张*三","s":77}`,
		`{"n":"a","o":"b","l":0,"d":"c","h":"d","s":0}`,
		`{"n":"a","o":"b","l":012,"d":"c","h":"d"}`,
		`{"n":"a\u0041","o":"b","l":1,"d":"c","h":"d"}`,
		`{"N":"a","o":"b","l":1,"d":"c","h":"d"}`,
		`{"n":"a","o":"b","l":1,"d":"c","h":"d"} `,
		`{"n":"a","o":"b","l":-1,"d":"c","h":"d"}`,
		"{\"n\":\"\xff\",\"o\":\"b\",\"l\":1,\"d\":\"c\",\"h\":\"d\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := scanPayload(b)
		if !ok {
			return
		}
		var want payload
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("scanPayload accepted %q, which json.Unmarshal refuses: %v", b, err)
		}
		if got != want {
			t.Fatalf("scanPayload(%q) = %+v, json.Unmarshal gives %+v", b, got, want)
		}
	})
}
