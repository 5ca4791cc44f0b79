package verify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/skillreg/skillreg/registry"
)

func TestSignParseRoundTrip(t *testing.T) {
	k := testKey(1, true)
	tk := staticTokens(t, k, testKey(2, false))
	ctx := context.Background()
	for _, c := range []registry.TokenClaims{
		validClaims,
		{Number: "Y123444030201255999999", OccupationCode: "4-04-05-05", Level: 5, IssuedOn: "2025-01-01", HolderMasked: "阿依**"},
		{Number: "S000011000001241000001", OccupationCode: "2-02-38-99", Level: 1, IssuedOn: "2024-02-29", HolderMasked: "*"},
		{Number: "S000011000001242000001", OccupationCode: "6-18-01-01", Level: 2, IssuedOn: "2024-12-31", HolderMasked: `Jo"\`},
		{Number: "S000011000001242000002", OccupationCode: "6-18-01-01", Level: 2, IssuedOn: "2024-12-31", HolderMasked: "𠀀𠀀**"},
	} {
		tok, kid, err := tk.Sign(ctx, c, "")
		if err != nil {
			t.Fatalf("Sign(%+v): %v", c, err)
		}
		if kid != k.ID {
			t.Errorf("Sign used kid %q, want the active %q", kid, k.ID)
		}
		got, gotKID, err := tk.Parse(ctx, tok)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tok, err)
		}
		if *got != c || gotKID != k.ID {
			t.Errorf("Parse = %+v, %q; want %+v, %q", *got, gotKID, c, k.ID)
		}
	}
}

func TestTokenWireFormat(t *testing.T) {
	k := testKey(1, true)
	tok := mustSign(t, staticTokens(t, k), validClaims, "")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	pl, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if want := `{"alg":"EdDSA","kid":"` + k.ID + `"}`; string(hdr) != want {
		t.Errorf("header = %s, want %s", hdr, want)
	}
	if want := `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`; string(pl) != want {
		t.Errorf("payload = %s, want %s", pl, want)
	}
	t.Logf("token: %d bytes", len(tok))
}

func TestSignIsDeterministic(t *testing.T) {
	k := testKey(1, true)
	a := mustSign(t, staticTokens(t, k), validClaims, "")
	for i := 0; i < 5; i++ {
		// A fresh Tokens each time: nothing may depend on state or map order.
		if b := mustSign(t, staticTokens(t, testKey(2, false), k), validClaims, k.ID); b != a {
			t.Fatalf("token differs on signing again:\n%s\n%s", a, b)
		}
	}
	c := validClaims
	c.HolderMasked = "李*"
	if b := mustSign(t, staticTokens(t, k), c, ""); b == a {
		t.Error("different claims gave the same token")
	}
}

func TestSignErrors(t *testing.T) {
	ctx := context.Background()
	active := testKey(1, true)
	verifyOnly := Key{ID: "pubonly1", Public: testKey(2, false).Public}
	tk := staticTokens(t, active, verifyOnly)
	bad := func(f func(*registry.TokenClaims)) registry.TokenClaims { c := validClaims; f(&c); return c }
	tests := []struct {
		name   string
		tk     *Tokens
		claims registry.TokenClaims
		kid    string
		code   string
	}{
		{"legacy number", tk, bad(func(c *registry.TokenClaims) { c.Number = "1234567890312345" }), "", registry.EINVALID},
		{"level mismatch", tk, bad(func(c *registry.TokenClaims) { c.Level = 4 }), "", registry.EINVALID},
		{"level 0", tk, bad(func(c *registry.TokenClaims) { c.Level = 0 }), "", registry.EINVALID},
		{"short occupation", tk, bad(func(c *registry.TokenClaims) { c.OccupationCode = "6-18" }), "", registry.EINVALID},
		{"bad date", tk, bad(func(c *registry.TokenClaims) { c.IssuedOn = "2025-02-30" }), "", registry.EINVALID},
		{"date without dashes", tk, bad(func(c *registry.TokenClaims) { c.IssuedOn = "20250630" }), "", registry.EINVALID},
		{"empty holder", tk, bad(func(c *registry.TokenClaims) { c.HolderMasked = "" }), "", registry.EINVALID},
		{"5-rune holder", tk, bad(func(c *registry.TokenClaims) { c.HolderMasked = "欧阳娜娜*" }), "", registry.EINVALID},
		{"invalid UTF-8 holder", tk, bad(func(c *registry.TokenClaims) { c.HolderMasked = "\xff*" }), "", registry.EINVALID},
		{"unknown kid", tk, validClaims, "nosuchk1", registry.ENOTFOUND},
		{"verify-only key", tk, validClaims, verifyOnly.ID, registry.EINTERNAL},
		{"no active key", staticTokens(t, testKey(3, false)), validClaims, "", registry.EINTERNAL},
		{"long kid", staticTokens(t, Key{ID: "much-too-long-kid", Public: active.Public, Private: active.Private, Active: true}), validClaims, "", registry.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, _, err := tt.tk.Sign(ctx, tt.claims, tt.kid)
			if err == nil {
				t.Fatalf("Sign succeeded: %s", tok)
			}
			if got := registry.ErrorCode(err); got != tt.code {
				t.Errorf("error %v has code %q, want %q", err, got, tt.code)
			}
		})
	}
	if _, err := staticTokens(t, testKey(3, false)).ActiveKeyID(ctx); err == nil {
		t.Error("ActiveKeyID without an active key succeeded")
	}
}

func TestParseRejectsAttacks(t *testing.T) {
	ctx := context.Background()
	k := testKey(1, true)
	tk := staticTokens(t, k)
	good := mustSign(t, tk, validClaims, "")
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding
	goodHdr := `{"alg":"EdDSA","kid":"` + k.ID + `"}`
	goodPayload, _ := enc.DecodeString(parts[1])
	attacker := testKey(9, false)

	// HS256 "signed" with forms of our public key that an attacker knows,
	// the classic algorithm-confusion attack.
	hs256 := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, payload{N: validClaims.Number, O: validClaims.OccupationCode, L: 3, D: "20250630", H: "张*三"})
		tok.Header["kid"] = k.ID
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	der, _ := x509.MarshalPKIXPublicKey(k.Public)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwkKey, _ := JWKS([]Key{k})

	// A token carrying the attacker's own key in its header, signed with it.
	jwkHdr := func(kid string) string {
		j := fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","x":"%s","kid":"%s"}`, enc.EncodeToString(attacker.Public), kid)
		return `{"alg":"EdDSA","kid":"` + kid + `","jwk":` + j + `}`
	}
	// A login token as an API might issue it.
	login := func(method jwt.SigningMethod, key any) string {
		s, err := jwt.NewWithClaims(method, jwt.MapClaims{"sub": "admin", "role": "admin", "exp": 4102444800, "aud": "skillreg"}).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	withPayload := func(p string) string { return parts[0] + "." + enc.EncodeToString([]byte(p)) + "." + parts[2] }

	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"alg none, no signature", enc.EncodeToString([]byte(`{"alg":"none","kid":"`+k.ID+`"}`)) + "." + parts[1] + ".", registry.VerifyForged},
		{"alg none with our signature", enc.EncodeToString([]byte(`{"alg":"none","kid":"`+k.ID+`"}`)) + "." + parts[1] + "." + parts[2], registry.VerifyForged},
		{"alg None", signRaw(k.Private, `{"alg":"None","kid":"`+k.ID+`"}`, string(goodPayload)), registry.VerifyForged},
		{"alg Ed25519 signed by our key", signRaw(k.Private, `{"alg":"Ed25519","kid":"`+k.ID+`"}`, string(goodPayload)), registry.VerifyForged},
		{"no alg", signRaw(k.Private, `{"kid":"`+k.ID+`"}`, string(goodPayload)), registry.VerifyForged},
		{"HS256 keyed with raw public key", hs256(k.Public), registry.VerifyForged},
		{"HS256 keyed with PEM public key", hs256(pemKey), registry.VerifyForged},
		{"HS256 keyed with JWKS", hs256(jwkKey), registry.VerifyForged},
		{"HS256 keyed with base64 x", hs256([]byte(enc.EncodeToString(k.Public))), registry.VerifyForged},
		{"unknown kid, attacker's key", signRaw(attacker.Private, `{"alg":"EdDSA","kid":"`+attacker.ID+`"}`, string(goodPayload)), registry.VerifyForged},
		{"our kid, attacker's key", signRaw(attacker.Private, goodHdr, string(goodPayload)), registry.VerifyForged},
		{"no kid", signRaw(k.Private, `{"alg":"EdDSA"}`, string(goodPayload)), registry.VerifyForged},
		{"empty kid", signRaw(k.Private, `{"alg":"EdDSA","kid":""}`, string(goodPayload)), registry.VerifyForged},
		{"embedded jwk, attacker's kid", signRaw(attacker.Private, jwkHdr(attacker.ID), string(goodPayload)), registry.VerifyForged},
		{"embedded jwk, our kid", signRaw(attacker.Private, jwkHdr(k.ID), string(goodPayload)), registry.VerifyForged},
		{"x5c header, attacker's key", signRaw(attacker.Private, `{"alg":"EdDSA","kid":"`+k.ID+`","x5c":["MIIB"]}`, string(goodPayload)), registry.VerifyForged},
		{"tampered holder", withPayload(strings.Replace(string(goodPayload), "张*三", "李*四", 1)), registry.VerifyForged},
		{"tampered number", withPayload(strings.Replace(string(goodPayload), "000042", "000043", 1)), registry.VerifyForged},
		{"tampered occupation", withPayload(strings.Replace(string(goodPayload), "6-18-01-01", "6-18-01-02", 1)), registry.VerifyForged},
		{"tampered date", withPayload(strings.Replace(string(goodPayload), "20250630", "20250629", 1)), registry.VerifyForged},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flip(parts[2], 10), registry.VerifyForged},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(mustSign(t, tk, registry.TokenClaims{Number: "S000011000001253000043", OccupationCode: "6-18-01-01", Level: 3, IssuedOn: "2025-06-30", HolderMasked: "张*三"}, ""), ".")[2], registry.VerifyForged},
		{"signature cut to 63 bytes", good[:len(good)-2], registry.VerifyForged},
		{"empty signature", parts[0] + "." + parts[1] + ".", registry.VerifyForged},
		{"signature one char short", good[:len(good)-1], registry.VerifyMalformed},
		{"no signature part", parts[0] + "." + parts[1], registry.VerifyMalformed},
		{"header only", parts[0], registry.VerifyMalformed},
		{"truncated in payload", good[:len(parts[0])+20], registry.VerifyMalformed},
		{"four parts", good + "." + parts[2], registry.VerifyMalformed},
		{"empty", "", registry.VerifyMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], registry.VerifyMalformed},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good), registry.VerifyMalformed},
		{"over 4 KiB", good + strings.Repeat("A", MaxTokenBytes), registry.VerifyMalformed},
		{"over 4 KiB, validly signed", signRaw(k.Private, `{"alg":"EdDSA","kid":"`+k.ID+`","x":"`+strings.Repeat("a", 3000)+`"}`, string(goodPayload)), registry.VerifyMalformed},
		{"header not JSON", signRaw(k.Private, `alg=EdDSA`, string(goodPayload)), registry.VerifyMalformed},
		{"header an array", signRaw(k.Private, `["EdDSA"]`, string(goodPayload)), registry.VerifyMalformed},
		{"duplicate alg", signRaw(k.Private, `{"alg":"EdDSA","kid":"`+k.ID+`","alg":"none"}`, string(goodPayload)), registry.VerifyMalformed},
		{"duplicate alg, escaped", signRaw(k.Private, `{"alg":"EdDSA","kid":"`+k.ID+`","\u0061lg":"EdDSA"}`, string(goodPayload)), registry.VerifyMalformed},
		{"duplicate kid", signRaw(k.Private, `{"alg":"EdDSA","kid":"`+attacker.ID+`","kid":"`+k.ID+`"}`, string(goodPayload)), registry.VerifyMalformed},
		{"kid a number", signRaw(k.Private, `{"alg":"EdDSA","kid":7}`, string(goodPayload)), registry.VerifyMalformed},
		{"alg a number", signRaw(k.Private, `{"alg":1,"kid":"`+k.ID+`"}`, string(goodPayload)), registry.VerifyMalformed},
		{"crit header", signRaw(k.Private, `{"alg":"EdDSA","crit":["b64"],"b64":false,"kid":"`+k.ID+`"}`, string(goodPayload)), registry.VerifyMalformed},
		{"trailing data after header", signRaw(k.Private, goodHdr+`{}`, string(goodPayload)), registry.VerifyMalformed},
		{"login token HS256", login(jwt.SigningMethodHS256, []byte("server-secret")), registry.VerifyForged},
		{"login token HS256 keyed with public key", login(jwt.SigningMethodHS256, []byte(k.Public)), registry.VerifyForged},
		{"login claims signed by our key", signRaw(k.Private, goodHdr, `{"sub":"admin","role":"admin","exp":4102444800,"aud":"skillreg"}`), registry.VerifyMalformed},
	}
	// Claims that our own key signed but that are not a certificate token:
	// a bug elsewhere must not make them acceptable.
	for _, c := range []struct{ name, payload string }{
		{"duplicate claim", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三","h":"李*"}`},
		{"duplicate claim, escaped", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三","\u0068":"李*"}`},
		{"missing claim", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630"}`},
		{"extra claim", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三","exp":1}`},
		{"upper-case claim", `{"N":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`},
		{"level a string", `{"n":"S000011000001253000042","o":"6-18-01-01","l":"3","d":"20250630","h":"张*三"}`},
		{"level 3.0", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3.0,"d":"20250630","h":"张*三"}`},
		{"level 3e0", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3e0,"d":"20250630","h":"张*三"}`},
		{"level null", `{"n":"S000011000001253000042","o":"6-18-01-01","l":null,"d":"20250630","h":"张*三"}`},
		{"level 6", `{"n":"S000011000001256000042","o":"6-18-01-01","l":6,"d":"20250630","h":"张*三"}`},
		{"level 0", `{"n":"S000011000001250000042","o":"6-18-01-01","l":0,"d":"20250630","h":"张*三"}`},
		{"level differs from number", `{"n":"S000011000001253000042","o":"6-18-01-01","l":2,"d":"20250630","h":"张*三"}`},
		{"number a number", `{"n":123,"o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`},
		{"legacy 16-digit number", `{"n":"1234567890312345","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`},
		{"bad number", `{"n":"X000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`},
		{"bad occupation", `{"n":"S000011000001253000042","o":"6-18","l":3,"d":"20250630","h":"张*三"}`},
		{"date 30 February", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250230","h":"张*三"}`},
		{"date with dashes", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"2025-06-30","h":"张*三"}`},
		{"date a number", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":20250630,"h":"张*三"}`},
		{"holder 5 runes", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"欧阳娜娜*"}`},
		{"holder empty", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":""}`},
		{"holder invalid UTF-8", "{\"n\":\"S000011000001253000042\",\"o\":\"6-18-01-01\",\"l\":3,\"d\":\"20250630\",\"h\":\"\xff*\"}"},
		{"claims reordered", `{"o":"6-18-01-01","n":"S000011000001253000042","l":3,"d":"20250630","h":"张*三"}`},
		{"whitespace", `{"n": "S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`},
		{"escaped holder", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"\u5f20*三"}`},
		{"trailing data", `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"} {}`},
		{"not an object", `"S000011000001253000042"`},
		{"null", `null`},
	} {
		tests = append(tests, struct {
			name  string
			token string
			want  string
		}{"payload: " + c.name, signRaw(k.Private, goodHdr, c.payload), registry.VerifyMalformed})
	}

	if _, _, err := tk.Parse(ctx, good); err != nil {
		t.Fatalf("the untampered token fails: %v", err)
	}
	if _, _, err := tk.Parse(ctx, signRaw(k.Private, goodHdr, string(goodPayload))); err != nil {
		t.Fatalf("signRaw makes tokens that fail: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, kid, err := tk.Parse(ctx, tt.token)
			if err == nil {
				t.Fatalf("accepted: %+v signed by %q", *c, kid)
			}
			if got := tokenStatus(err); got != tt.want {
				t.Errorf("status %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseNeverFetchesHeaderKeys(t *testing.T) {
	ctx := context.Background()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer srv.Close()

	k := testKey(1, true)
	attacker := testKey(9, false)
	tk := staticTokens(t, k)
	pl := `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`
	for _, h := range []string{"jku", "x5u"} {
		// Signed by the attacker, with their key at the URL: forged.
		tok := signRaw(attacker.Private, fmt.Sprintf(`{"alg":"EdDSA","kid":%q,%q:%q}`, attacker.ID, h, srv.URL), pl)
		if _, _, err := tk.Parse(ctx, tok); tokenStatus(err) != registry.VerifyForged {
			t.Errorf("%s to the attacker's key: %v, want forged", h, err)
		}
		// Signed by our key: the header is ignored, not trusted or refused.
		tok = signRaw(k.Private, fmt.Sprintf(`{"alg":"EdDSA","kid":%q,%q:%q}`, k.ID, h, srv.URL), pl)
		if c, _, err := tk.Parse(ctx, tok); err != nil || *c != validClaims {
			t.Errorf("%s on a genuine token: %v, %v", h, c, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the key URL in a token header was fetched %d times", n)
	}
}

func TestParseKeyLoadFailureIsInternal(t *testing.T) {
	store := &keyStore{err: errors.New("database is locked")}
	tk := NewTokens(store.Load)
	tok := mustSign(t, staticTokens(t, testKey(1, true)), validClaims, "")
	_, _, err := tk.Parse(context.Background(), tok)
	if tokenStatus(err) != "internal" || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("Parse with a failing KeySource: %v, want the internal error", err)
	}
	if _, _, err := tk.Sign(context.Background(), validClaims, ""); err == nil {
		t.Error("Sign with a failing KeySource succeeded")
	}
	if _, err := tk.ActiveKeyID(context.Background()); err == nil {
		t.Error("ActiveKeyID with a failing KeySource succeeded")
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	a, b, c := testKey(1, true), testKey(2, true), testKey(3, true)
	aOff := a
	aOff.Active = false
	bOff := b
	bOff.Active = false

	store := &keyStore{keys: []Key{a}}
	tk := NewTokens(store.Load, WithClock(clock.Now))

	tokA, kid, err := tk.Sign(ctx, validClaims, "")
	if err != nil || kid != a.ID {
		t.Fatalf("Sign = %q, %v; want kid %s", kid, err, a.ID)
	}
	if store.Loads() != 1 {
		t.Fatalf("%d loads, want 1", store.Loads())
	}

	// Another process rotates to B and signs with it.
	store.Set(aOff, b)
	other := NewTokens(store.Load, WithClock(clock.Now))
	tokB := mustSign(t, other, validClaims, "")
	loads := store.Loads()

	// Within a second of the last load, an unknown kid does not reload.
	if _, _, err := tk.Parse(ctx, tokB); tokenStatus(err) != registry.VerifyForged {
		t.Errorf("B's token before a reload is allowed: %v, want forged", err)
	}
	if id, _ := tk.ActiveKeyID(ctx); id != a.ID {
		t.Errorf("active key %q before any reload, want the cached %q", id, a.ID)
	}
	if got := store.Loads(); got != loads {
		t.Errorf("%d loads within a second, want none", got-loads)
	}

	// A second later, the unknown kid makes it reload and see B.
	clock.Add(time.Second)
	if got, gotKID, err := tk.Parse(ctx, tokB); err != nil || *got != validClaims || gotKID != b.ID {
		t.Fatalf("B's token after a second: %v %q %v", got, gotKID, err)
	}
	if got := store.Loads(); got != loads+1 {
		t.Errorf("%d loads, want 1", got-loads)
	}
	// The old token still parses, new tokens use B, and re-signing with A
	// (as the registry does for an old certificate) gives the old token.
	if _, gotKID, err := tk.Parse(ctx, tokA); err != nil || gotKID != a.ID {
		t.Errorf("A's token after rotation: %q %v", gotKID, err)
	}
	if tok, kid, err := tk.Sign(ctx, validClaims, ""); err != nil || kid != b.ID || tok != tokB {
		t.Errorf("Sign after rotation used %q (%v), want %q", kid, err, b.ID)
	}
	if tok := mustSign(t, tk, validClaims, a.ID); tok != tokA {
		t.Error("re-signing with the retired key A gives a different token")
	}

	// Rotation to C is picked up by the periodic reload, not before.
	store.Set(aOff, bOff, c)
	clock.Add(4 * time.Second)
	if id, _ := tk.ActiveKeyID(ctx); id != b.ID {
		t.Errorf("4 s after the last load, active key %q, want the cached %q", id, b.ID)
	}
	clock.Add(time.Second)
	if id, _ := tk.ActiveKeyID(ctx); id != c.ID {
		t.Errorf("5 s after the last load, active key %q, want %q", id, c.ID)
	}
}

func TestUnknownKIDFloodIsRateLimited(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	k := testKey(1, true)
	store := &keyStore{keys: []Key{k}}
	tk := NewTokens(store.Load, WithClock(clock.Now))
	if _, err := tk.ActiveKeyID(ctx); err != nil {
		t.Fatal(err)
	}
	pl := `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`
	flood := func() {
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok := signRaw(k.Private, fmt.Sprintf(`{"alg":"EdDSA","kid":"bogus%03d"}`, i), pl)
				if _, _, err := tk.Parse(ctx, tok); tokenStatus(err) != registry.VerifyForged {
					t.Errorf("bogus kid: %v, want forged", err)
				}
			}()
		}
		wg.Wait()
	}
	for step, want := range []int{1, 1, 2, 2, 3} {
		flood()
		if got := store.Loads(); got != want {
			t.Errorf("step %d: %d loads, want %d", step, got, want)
		}
		clock.Add(600 * time.Millisecond)
	}
}

func TestPeriodicReloadOnParse(t *testing.T) {
	// A key removed from the store stops verifying after the next reload.
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	a, b := testKey(1, true), testKey(2, true)
	store := &keyStore{keys: []Key{a, b}}
	tk := NewTokens(store.Load, WithClock(clock.Now))
	tokA := mustSign(t, tk, validClaims, a.ID)
	store.Set(b)
	clock.Add(4999 * time.Millisecond)
	if _, _, err := tk.Parse(ctx, tokA); err != nil {
		t.Errorf("before the reload: %v", err)
	}
	clock.Add(time.Millisecond)
	if _, _, err := tk.Parse(ctx, tokA); tokenStatus(err) != registry.VerifyForged {
		t.Errorf("after the reload: %v, want forged", err)
	}
	if store.Loads() != 2 {
		t.Errorf("%d loads, want 2", store.Loads())
	}
}

func TestJWKSFromKeysVerifiesOffline(t *testing.T) {
	k := testKey(1, true)
	tok := mustSign(t, staticTokens(t, k, testKey(2, false)), validClaims, "")
	b, err := JWKS([]Key{k, testKey(2, false)})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	off := staticTokens(t, keys...)
	if c, kid, err := off.Parse(context.Background(), tok); err != nil || *c != validClaims || kid != k.ID {
		t.Errorf("offline Parse = %v %q %v", c, kid, err)
	}
	if _, _, err := off.Sign(context.Background(), validClaims, k.ID); err == nil {
		t.Error("keys from a JWKS can sign")
	}
}

// The tests above hand-write payloads; they must match what Sign makes.
func TestHandWrittenPayloadIsCanonical(t *testing.T) {
	p, err := toPayload(validClaims)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	if want := `{"n":"S000011000001253000042","o":"6-18-01-01","l":3,"d":"20250630","h":"张*三"}`; string(b) != want {
		t.Errorf("payload %s, want %s", b, want)
	}
}

// TestClaimsReadsSignedPayloadsWithoutReflection: every payload Sign
// writes whose strings need no escaping is read by scanPayload (the
// reflection-free path of Claims), with the claims Parse gives; one that
// needs escaping falls back to json.Unmarshal, with the same claims.
func TestClaimsReadsSignedPayloadsWithoutReflection(t *testing.T) {
	tk := staticTokens(t, testKey(1, true))
	ctx := context.Background()
	withIndex := validClaims
	withIndex.StatusIndex = 123456
	for _, c := range []struct {
		claims  registry.TokenClaims
		scanned bool
	}{
		{validClaims, true},
		{withIndex, true},
		{registry.TokenClaims{Number: "Y123444030201255999999", OccupationCode: "4-04-05-05", Level: 5, IssuedOn: "2025-01-01", HolderMasked: "阿依**"}, true},
		{registry.TokenClaims{Number: "S000011000001242000002", OccupationCode: "6-18-01-01", Level: 2, IssuedOn: "2024-12-31", HolderMasked: "𠀀𠀀**"}, true},
		{registry.TokenClaims{Number: "S000011000001242000001", OccupationCode: "6-18-01-01", Level: 2, IssuedOn: "2024-12-31", HolderMasked: `Jo"\`}, false},
	} {
		tok := mustSign(t, tk, c.claims, "")
		pl, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := scanPayload(pl); ok != c.scanned {
			t.Errorf("scanPayload(%s) ok = %v, want %v", pl, ok, c.scanned)
		}
		stated, err := tk.Claims(tok)
		if err != nil {
			t.Fatalf("Claims(%s): %v", tok, err)
		}
		parsed, _, err := tk.Parse(ctx, tok)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tok, err)
		}
		if *stated != *parsed || *parsed != c.claims {
			t.Errorf("Claims = %+v, Parse = %+v, signed %+v", *stated, *parsed, c.claims)
		}
	}
}

// TestParseRefusesLineBreaks: base64 decoding skips CR and LF, so a token
// with a line break added anywhere would otherwise parse as the token
// itself; it is malformed, so that one set of claims has one token.
func TestParseRefusesLineBreaks(t *testing.T) {
	tk := staticTokens(t, testKey(1, true))
	tok := mustSign(t, tk, validClaims, "")
	for _, i := range []int{1, strings.IndexByte(tok, '.') + 3, strings.LastIndexByte(tok, '.') + 5, len(tok) - 1} {
		for _, br := range []string{"\n", "\r", "\r\n"} {
			bent := tok[:i] + br + tok[i:]
			if _, _, err := tk.Parse(context.Background(), bent); tokenStatus(err) != registry.VerifyMalformed {
				t.Errorf("Parse of the token with %q at %d: %v, want malformed", br, i, err)
			}
		}
	}
}
