package verify

import (
	"context"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// TestParseCache: a cached token answers the same claims; a token one
// character away is checked in full; failures are not cached; the cache
// is bounded; and a token whose key left the key set is forged again.
func TestParseCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k1, k2 := testKey(1, true), testKey(2, false)
	keys := []Key{k1, k2}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tk := NewTokens(func(context.Context) ([]Key, error) { return keys, nil },
		WithClock(func() time.Time { return now }), WithParseCache(2))
	tok := mustSign(t, tk, withIndex(9), k2.ID)
	for i := 0; i < 2; i++ {
		c, kid, err := tk.Parse(ctx, tok)
		if err != nil || *c != withIndex(9) || kid != k2.ID {
			t.Fatalf("parse %d: %+v %s %v", i, c, kid, err)
		}
	}
	if _, ok := tk.cache.get(tok); !ok {
		t.Fatal("a good token was not cached")
	}
	bad := tamperSig(tok)
	if _, _, err := tk.Parse(ctx, bad); !isStatus(err, registry.VerifyForged) {
		t.Fatalf("tampered token: %v", err)
	}
	if _, ok := tk.cache.get(bad); ok {
		t.Fatal("a forged token was cached")
	}
	for i := 10; i < 20; i++ {
		if _, _, err := tk.Parse(ctx, mustSign(t, tk, withIndex(i), "")); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(tk.cache.m); n > 2 {
		t.Fatalf("the cache holds %d entries, more than its bound 2", n)
	}
	// Retire k2 from the key set (not something the registry does, but
	// the cache must not outlive a key): after the reload, forged.
	tk.cache.put(tok, parsed{claims: withIndex(9), kid: k2.ID})
	keys = []Key{k1}
	now = now.Add(refreshInterval + time.Second)
	if _, _, err := tk.Parse(ctx, tok); !isStatus(err, registry.VerifyForged) {
		t.Fatalf("token of a removed key: %v, want forged", err)
	}
}

func isStatus(err error, status string) bool {
	te, ok := err.(*registry.TokenError)
	return ok && te.Status == status
}

// tamperSig changes one character of the signature, keeping it base64url.
func tamperSig(tok string) string {
	b := []byte(tok)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
