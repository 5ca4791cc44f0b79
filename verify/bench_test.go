package verify

import (
	"context"
	"crypto/ed25519"
	"testing"
)

// BenchmarkEd25519Verify is the baseline for the verification figures in
// BENCHMARKS.md: one bare Ed25519 signature check of a token's signing
// input, which every verification must pay for.
func BenchmarkEd25519Verify(b *testing.B) {
	k := testKey(1, true)
	tok := mustSign(b, staticTokens(b, k), validClaims, "")
	i := len(tok) - 87 // the signature is the last 86 characters, after a dot
	msg := []byte(tok[:i])
	sig := ed25519.Sign(k.Private, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(k.Public, msg, sig) {
			b.Fatal("bad signature")
		}
	}
}

// BenchmarkTokensParse is a full token check: form, header, signature
// (one Ed25519 verify) and the strict claims.
func BenchmarkTokensParse(b *testing.B) {
	tk := staticTokens(b, testKey(1, true))
	tok := mustSign(b, tk, validClaims, "")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tk.Parse(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
