package verify

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

var bundleIssuers = []BundleIssuer{{ID: "S000011000001", Name: "北京鉴定中心", Province: "11",
	Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 2}}}

// makeBundle signs a bundle made at issued with ttl, with revoked bits set.
func makeBundle(t *testing.T, k Key, issued time.Time, ttl time.Duration, revoked ...int) string {
	t.Helper()
	tk := staticTokens(t, k)
	jwks, err := JWKS([]Key{k})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := registry.EncodeStatusList(registry.StatusListMinSize, revoked)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := tk.SignTrustBundle(context.Background(), NewTrustBundle("https://zs.example", issued, ttl, jwks, bundleIssuers, enc))
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

func withIndex(idx int) registry.TokenClaims {
	c := validClaims
	c.StatusIndex = idx
	return c
}

// TestOfflineCheck: valid, revoked, out of scope, unknown issuer, no
// status index, forged, and staleness, all from the bundle alone.
func TestOfflineCheck(t *testing.T) {
	t.Parallel()
	k := testKey(1, true)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ob, err := OpenTrustBundle([]byte(makeBundle(t, k, now.Add(-time.Hour), 24*time.Hour, 77)), []Key{k})
	if err != nil {
		t.Fatal(err)
	}
	tk := staticTokens(t, k)
	outOfScope := withIndex(5)
	outOfScope.OccupationCode = "4-04-05-05"
	otherIssuer := withIndex(6)
	otherIssuer.Number = "S000044000001253000042"
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"valid", mustSign(t, tk, withIndex(5), ""), registry.VerifyValid},
		{"revoked", mustSign(t, tk, withIndex(77), ""), registry.VerifyRevoked},
		{"out of scope", mustSign(t, tk, outOfScope, ""), OfflineOutOfScope},
		{"unknown issuer", mustSign(t, tk, otherIssuer, ""), OfflineUnknownIssuer},
		{"no status index", mustSign(t, tk, validClaims, ""), OfflineNoStatus},
		{"beyond the list", mustSign(t, tk, withIndex(registry.StatusListMinSize+3), ""), OfflineNoStatus},
		{"forged", mustSign(t, staticTokens(t, testKey(2, true)), withIndex(5), ""), registry.VerifyForged},
		{"malformed", "abc", registry.VerifyMalformed},
	}
	for _, tt := range tests {
		res := ob.Check(context.Background(), tt.token, now)
		if res.Status != tt.want || res.Stale {
			t.Errorf("%s: %s (stale %v, %s), want %s", tt.name, res.Status, res.Stale, res.Reason, tt.want)
		}
	}
	res := ob.Check(context.Background(), tests[0].token, now.Add(24*time.Hour))
	if res.Status != registry.VerifyValid || !res.Stale || res.Age != 25*time.Hour {
		t.Errorf("a day later: %+v, want valid and stale, 25h old", res)
	}
}

// TestOpenTrustBundleRefuses: a bundle is refused unless a trusted key
// signed it unaltered; its own keys do not count.
func TestOpenTrustBundleRefuses(t *testing.T) {
	t.Parallel()
	k, other := testKey(1, true), testKey(2, true)
	now := time.Now()
	good := makeBundle(t, k, now, time.Hour)
	if _, err := OpenTrustBundle([]byte(good), []Key{k}); err != nil {
		t.Fatalf("good bundle: %v", err)
	}
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	altered := strings.Replace(string(payload), `"max_level":2`, `"max_level":1`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(altered)) + "." + parts[2]
	selfSigned := makeBundle(t, other, now, time.Hour) // signed by a key it lists itself
	for name, b := range map[string]string{
		"tampered":            tampered,
		"signed by other key": selfSigned,
		"not a JWS":           "abc",
		"bad signature":       parts[0] + "." + parts[1] + "." + parts[2][:10] + strings.Repeat("A", len(parts[2])-10),
	} {
		_, err := OpenTrustBundle([]byte(b), []Key{k})
		if registry.ErrorCode(err) != registry.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	// A certificate token is not a bundle, even with the right key.
	if _, err := OpenTrustBundle([]byte(mustSign(t, staticTokens(t, k), withIndex(5), "")), []Key{k}); err == nil {
		t.Error("a certificate token opened as a bundle")
	}
}

// FuzzOpenTrustBundle: bundles come from files and the network; no input
// panics, and only the real one opens.
func FuzzOpenTrustBundle(f *testing.F) {
	k := testKey(1, true)
	tk, err := NewStaticTokens([]Key{k})
	if err != nil {
		f.Fatal(err)
	}
	jwks, _ := JWKS([]Key{k})
	enc, _ := registry.EncodeStatusList(registry.StatusListMinSize, []int{3})
	good, err := tk.SignTrustBundle(context.Background(), NewTrustBundle("https://x", time.Unix(0, 0), time.Hour, jwks, bundleIssuers, enc))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(good))
	f.Add([]byte("a.b.c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ob, err := OpenTrustBundle(b, []Key{k})
		if err == nil && strings.TrimSpace(string(b)) != good {
			t.Fatalf("an altered bundle opened: %q", b)
		}
		if err == nil {
			if r, ok := ob.Revoked(3); !ok || !r {
				t.Fatal("bit 3 lost")
			}
		}
	})
}

// TestTrustBundleNumericDates: a bundle carries iat and exp equal to
// issued_at and expires_at; a signed bundle whose iat or exp disagree is
// refused, and one made before they existed (neither) still opens.
func TestTrustBundleNumericDates(t *testing.T) {
	k := testKey(1, true)
	tk, err := NewStaticTokens([]Key{k})
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := JWKS([]Key{k})
	enc, _ := registry.EncodeStatusList(registry.StatusListMinSize, nil)
	issued := time.Date(2026, 6, 30, 8, 0, 0, 0, time.UTC)
	b := NewTrustBundle("https://zs.example", issued, 24*time.Hour, jwks, bundleIssuers, enc)
	if b.IAT != issued.Unix() || b.EXP != issued.Add(24*time.Hour).Unix() {
		t.Fatalf("iat %d exp %d", b.IAT, b.EXP)
	}
	open := func(b *TrustBundle) error {
		jws, err := tk.SignTrustBundle(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		_, err = OpenTrustBundle([]byte(jws), []Key{k})
		return err
	}
	if err := open(b); err != nil {
		t.Fatal(err)
	}
	longer := *b
	longer.EXP += 3600
	if err := open(&longer); err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Fatalf("exp past expires_at: %v", err)
	}
	before := *b
	before.IAT, before.EXP = 0, 0
	if err := open(&before); err != nil {
		t.Fatalf("a bundle without iat and exp: %v", err)
	}
}
