package handlers_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// clock is a test clock: real time plus an offset the test can advance.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func b64json(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func claimsFor(number string) registry.TokenClaims {
	return registry.TokenClaims{Number: number, OccupationCode: "6-18-01-01", Level: registry.Level(number[15] - '0'), IssuedOn: "2026-01-05", HolderMasked: "张*三"}
}

// mustPublicKey fetches the JWKS and returns the active key's raw bytes.
func mustPublicKey(t *testing.T, h *harness) []byte {
	t.Helper()
	r := h.expect(h.do("GET", "/.well-known/jwks.json", "", nil), 200)
	keys, err := verify.ParseJWKS(r.body)
	if err != nil || len(keys) == 0 {
		t.Fatalf("JWKS %s: %v", r.body, err)
	}
	return keys[len(keys)-1].Public
}

func jwksKIDs(t *testing.T, h *harness) []string {
	t.Helper()
	r := h.expect(h.do("GET", "/.well-known/jwks.json", "", nil), 200)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/jwk-set+json") {
		t.Errorf("JWKS content type %q", r.header.Get("Content-Type"))
	}
	var doc struct {
		Keys []struct {
			Kty, Crv, Kid, X, D string
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range doc.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.D != "" {
			t.Fatalf("bad JWK %+v", k)
		}
		kids = append(kids, k.Kid)
	}
	return kids
}
