package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

func TestJWKSRoundTrip(t *testing.T) {
	a, b := testKey(1, true), testKey(2, false)
	out, err := JWKS([]Key{a, b})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("JWKS output is not JSON: %v\n%s", err, out)
	}
	want := map[string]string{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(a.Public), "kid": a.ID, "alg": "EdDSA", "use": "sig"}
	if len(doc.Keys) != 2 || len(doc.Keys[0]) != len(want) {
		t.Fatalf("JWKS = %s", out)
	}
	for k, v := range want {
		if doc.Keys[0][k] != v {
			t.Errorf("key 0 %s = %q, want %q", k, doc.Keys[0][k], v)
		}
	}
	// Neither the private key nor its seed may appear in any encoding.
	for _, secret := range [][]byte{a.Private, a.Private.Seed()} {
		for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.StdEncoding, base64.URLEncoding} {
			if bytes.Contains(out, []byte(enc.EncodeToString(secret))) {
				t.Fatal("JWKS leaks a private key")
			}
		}
	}
	if bytes.Contains(out, []byte(`"d"`)) {
		t.Error(`JWKS has a "d" member`)
	}

	keys, err := ParseJWKS(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("%d keys, want 2", len(keys))
	}
	for i, k := range []Key{a, b} {
		if keys[i].ID != k.ID || !bytes.Equal(keys[i].Public, k.Public) || keys[i].Private != nil || keys[i].Active {
			t.Errorf("key %d = %+v, want public %s, verify-only, inactive", i, keys[i], k.ID)
		}
	}
}

func TestJWKSRefusesBrokenKeys(t *testing.T) {
	if _, err := JWKS([]Key{{ID: "short", Public: testKey(1, false).Public[:16]}}); err == nil {
		t.Error("JWKS of a 16-byte public key succeeded")
	}
	if _, err := JWKS([]Key{{Public: testKey(1, false).Public}}); err == nil {
		t.Error("JWKS of a key without an ID succeeded")
	}
}

func TestParseJWKSRejects(t *testing.T) {
	x := base64.RawURLEncoding.EncodeToString(testKey(1, false).Public)
	okp := func(extra string) string {
		return `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"k1"` + extra + `}]}`
	}
	tests := []struct {
		name, in, wantMsg string
	}{
		{"RSA", `{"keys":[{"kty":"RSA","kid":"r1","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}]}`, "kty"},
		{"EC P-256", `{"keys":[{"kty":"EC","crv":"P-256","kid":"e1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`, "kty"},
		{"X25519", `{"keys":[{"kty":"OKP","crv":"X25519","kid":"k1","x":"` + x + `"}]}`, "crv"},
		{"Ed448", `{"keys":[{"kty":"OKP","crv":"Ed448","kid":"k1","x":"` + x + `"}]}`, "crv"},
		{"symmetric", `{"keys":[{"kty":"oct","kid":"s1","k":"c2VjcmV0"}]}`, "kty"},
		{"private key", okp(`,"d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"`), "private"},
		{"x 31 bytes", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"` + base64.RawURLEncoding.EncodeToString(make([]byte, 31)) + `"}]}`, "32 bytes"},
		{"x padded", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"` + x + `="}]}`, "32 bytes"},
		{"x standard base64", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"` + strings.NewReplacer("-", "+", "_", "/").Replace(base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("\xfb", 32)))) + `"}]}`, "32 bytes"},
		{"x missing", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1"}]}`, "32 bytes"},
		{"x a number", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":1}]}`, "not a JWK"},
		{"no kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}]}`, "kid"},
		{"duplicate kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"k1"},{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"k1"}]}`, "twice"},
		{"alg RS256", okp(`,"alg":"RS256"`), "alg"},
		{"use enc", okp(`,"use":"enc"`), "use"},
		{"no keys", `{"keys":[]}`, "no keys"},
		{"keys not an array", `{"keys":"k1"}`, "keys"},
		{"a bare key", `{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"k1"}`, "no keys"},
		{"garbage", `not json`, "JSON"},
		{"empty", ``, "JSON"},
	}
	if _, err := ParseJWKS([]byte(okp(""))); err != nil {
		t.Fatalf("the baseline key fails: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseJWKS([]byte(tt.in))
			if err == nil {
				t.Fatalf("accepted: %+v", keys)
			}
			if registry.ErrorCode(err) != registry.EINVALID || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q (code %s), want EINVALID mentioning %q", err, registry.ErrorCode(err), tt.wantMsg)
			}
		})
	}
}
