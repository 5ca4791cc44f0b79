package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/skillreg/skillreg/registry"
)

// TestSignJSON: a document signed with SignJSON verifies with the active
// key under golang-jwt pinned to EdDSA, carries the extra header members,
// and is never accepted by Parse as a certificate token.
func TestSignJSON(t *testing.T) {
	ctx := context.Background()
	old, active := testKey(1, false), testKey(2, true)
	tk := staticTokens(t, old, active)
	doc := map[string]any{"type": []string{"VerifiableCredential"}, "credentialSubject": map[string]any{"name": "张*三"}}
	tok, kid, err := tk.SignJSON(ctx, map[string]any{"typ": "vc+jwt"}, doc)
	if err != nil {
		t.Fatal(err)
	}
	if kid != active.ID {
		t.Fatalf("signed with %s, want the active key %s", kid, active.ID)
	}
	var claims jwt.MapClaims
	parsed, err := jwt.ParseWithClaims(tok, &claims, func(tk *jwt.Token) (any, error) {
		if tk.Header["kid"] != active.ID {
			t.Errorf("kid %v", tk.Header["kid"])
		}
		return active.Public, nil
	}, jwt.WithValidMethods([]string{"EdDSA"}))
	if err != nil || !parsed.Valid {
		t.Fatalf("golang-jwt refuses the document: %v", err)
	}
	if parsed.Header["typ"] != "vc+jwt" || parsed.Header["alg"] != "EdDSA" {
		t.Fatalf("header %v", parsed.Header)
	}
	if claims["credentialSubject"].(map[string]any)["name"] != "张*三" {
		t.Fatalf("payload %v", claims)
	}
	// The old key's public half does not verify it.
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return old.Public, nil }, jwt.WithValidMethods([]string{"EdDSA"})); err == nil {
		t.Fatal("verified with the wrong key")
	}
	if _, _, err := tk.Parse(ctx, tok); tokenStatus(err) != registry.VerifyMalformed {
		t.Fatalf("Parse of a signed document: %v, want malformed", err)
	}
}

// TestSignJSONRefuses: reserved header members, non-object payloads, and a
// payload shaped like a certificate token.
func TestSignJSONRefuses(t *testing.T) {
	tk := staticTokens(t, testKey(1, true))
	certLike, err := toPayload(validClaims)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		header  map[string]any
		payload any
		field   string
	}{
		{"alg", map[string]any{"alg": "none"}, map[string]any{"a": 1}, "header"},
		{"kid", map[string]any{"kid": "other"}, map[string]any{"a": 1}, "header"},
		{"crit", map[string]any{"crit": []string{"b64"}}, map[string]any{"a": 1}, "header"},
		{"jwk", map[string]any{"jwk": map[string]any{}}, map[string]any{"a": 1}, "header"},
		{"array payload", nil, []int{1, 2}, "payload"},
		{"string payload", nil, "hello", "payload"},
		{"unencodable payload", nil, map[string]any{"f": func() {}}, "payload"},
		{"certificate-shaped payload", nil, certLike, "payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tk.SignJSON(context.Background(), tt.header, tt.payload)
			if registry.ErrorCode(err) != registry.EINVALID || registry.ErrorField(err) != tt.field {
				t.Fatalf("err = %v, want invalid on %s", err, tt.field)
			}
		})
	}
	// A verify-only key set cannot sign.
	pub := testKey(3, true)
	pub.Private = nil
	ro := staticTokens(t, pub)
	if _, _, err := ro.SignJSON(context.Background(), nil, map[string]any{"a": 1}); err == nil || registry.ErrorCode(err) != registry.EINTERNAL {
		t.Fatalf("verify-only keys signed: %v", err)
	}
}

// TestSignJSONHeaderIsJSON: the protected header is plain JSON with our
// alg and kid whatever the caller adds.
func TestSignJSONHeaderIsJSON(t *testing.T) {
	k := testKey(4, true)
	tok, _, err := staticTokens(t, k).SignJSON(context.Background(), map[string]any{"typ": "vc+jwt", "cty": "vc"}, map[string]any{"x": "y"})
	if err != nil {
		t.Fatal(err)
	}
	hb, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alg": "EdDSA", "kid": k.ID, "typ": "vc+jwt", "cty": "vc"}
	if len(h) != len(want) {
		t.Fatalf("header %v", h)
	}
	for name, v := range want {
		if h[name] != v {
			t.Fatalf("header %v, want %v", h, want)
		}
	}
}

// TestSignJSONAs: the kid is the key reference plus the key ID; Parse
// calls a genuine such document malformed (not a certificate) and one
// signed by another key under our DID URL forged; a reference that does
// not end in "#" is refused.
func TestSignJSONAs(t *testing.T) {
	ctx := context.Background()
	active := testKey(2, true)
	tk := staticTokens(t, active)
	doc := map[string]any{"type": []string{"VerifiableCredential"}}
	tok, kid, err := tk.SignJSONAs(ctx, "did:web:zs.example#", map[string]any{"typ": "vc+jwt"}, doc)
	if err != nil || kid != active.ID {
		t.Fatalf("kid %q, err %v", kid, err)
	}
	hb, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var hdr map[string]any
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr["kid"] != "did:web:zs.example#"+active.ID {
		t.Fatalf("header %s", hb)
	}
	_, _, err = tk.Parse(ctx, tok)
	if te, ok := err.(*registry.TokenError); !ok || te.Status != registry.VerifyMalformed {
		t.Fatalf("Parse of a genuine credential: %v, want malformed", err)
	}
	rogue := staticTokens(t, testKey(3, true))
	fake, _, err := rogue.SignJSONAs(ctx, "did:web:zs.example#", nil, doc)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(fake, ".")
	// The rogue's document, relabelled with our key's DID URL.
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","kid":"did:web:zs.example#` + active.ID + `"}`))
	_, _, err = tk.Parse(ctx, h+"."+parts[1]+"."+parts[2])
	if te, ok := err.(*registry.TokenError); !ok || te.Status != registry.VerifyForged {
		t.Fatalf("Parse of a forged credential: %v, want forged", err)
	}
	if _, _, err := tk.SignJSONAs(ctx, "did:web:zs.example", nil, doc); registry.ErrorCode(err) != registry.EINVALID {
		t.Fatalf("a key reference without #: %v", err)
	}
}
