package registry_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// countingTokens is the real token codec, counting the signature checks.
type countingTokens struct {
	*verify.Tokens
	parses atomic.Int64
}

func (c *countingTokens) Parse(ctx context.Context, token string) (*registry.TokenClaims, string, error) {
	c.parses.Add(1)
	return c.Tokens.Parse(ctx, token)
}

// newMACFixture is newFixture with a codec that counts signature checks.
func newMACFixture(t *testing.T) (*fixture, *countingTokens, verify.KeyStore) {
	t.Helper()
	f := newFixture(t)
	ks := verify.KeyStore{Store: f.store, Vault: f.vault}
	ct := &countingTokens{Tokens: verify.NewTokens(ks.Source(), verify.WithClock(func() time.Time { return f.now }))}
	f.reg = registry.New(registry.Config{Store: f.store, Tokens: ct, Vault: f.vault, Clock: func() time.Time { return f.now }})
	return f, ct, ks
}

// alterClaim returns tok with one claim of its payload set to value, the
// header and signature kept.
func alterClaim(t *testing.T, tok, claim string, value any) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	obj[claim] = value
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// TestTokenMACShortPath: the token issued for a certificate verifies
// without a signature check, through the MAC stored at issue, and keeps
// its answers (valid, then revoked); every token that differs from it,
// and every record whose MAC was not made with the master key, gets the
// signature path's answer, never a valid it would not have had.
func TestTokenMACShortPath(t *testing.T) {
	t.Parallel()
	f, ct, ks := newMACFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	c, _, err := f.reg.Issue(ctx, u, issueInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.reg.Token(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.store.Certificate(ctx, c.Number)
	if err != nil || !bytes.Equal(stored.TokenMAC, f.vault.TokenMAC(tok)) {
		t.Fatalf("stored MAC %x, %v; want the MAC of the issued token", stored.TokenMAC, err)
	}

	verifyAs := func(what, token, want string, wantParses int64) {
		t.Helper()
		before := ct.parses.Load()
		res, err := f.reg.Verify(ctx, token)
		if err != nil || res.Status != want {
			t.Errorf("%s: Verify = %+v, %v; want %s", what, res, err, want)
		}
		if got := ct.parses.Load() - before; got != wantParses {
			t.Errorf("%s: %d signature checks, want %d", what, got, wantParses)
		}
	}
	verifyAs("the issued token", tok, registry.VerifyValid, 0)

	// Other encodings of the same token: padding, the unused low bits of
	// the signature's last character, a trailing dot.
	parts := strings.Split(tok, ".")
	last := parts[2][len(parts[2])-1]
	flipped := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last) ^ 1
	variants := map[string]string{
		"padded payload":   parts[0] + "." + parts[1] + "=." + parts[2],
		"padded signature": tok + "==",
		"signature bits":   tok[:len(tok)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[flipped]),
		"trailing dot":     tok + ".",
		"leading space":    " " + tok,
	}
	// Each claim altered, the signature kept.
	for claim, v := range map[string]any{"n": c.Number[:len(c.Number)-1] + "9", "o": "6-18-01-02", "l": 2, "d": "2026-02-28", "h": "李*三", "s": c.StatusIndex + 1} {
		variants["claim "+claim+" altered"] = alterClaim(t, tok, claim, v)
	}
	for what, v := range variants {
		if v == tok {
			t.Fatalf("%s: not a different token", what)
		}
		want, err := f.reg.Verify(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		if want.Status == registry.VerifyValid || want.Status == registry.VerifyRevoked {
			t.Errorf("%s: %s", what, want.Status)
		}
		// The short path took no part: the answer is the signature's.
		if _, _, perr := ct.Tokens.Parse(ctx, v); perr == nil {
			t.Errorf("%s: the variant's signature checks out", what)
		}
	}

	// Claims altered and signed with our own key (as if the record had
	// been changed after printing): the MAC differs, the signature path
	// finds claims that are not the record's.
	other := c.Claims()
	other.HolderMasked = "李*三"
	resigned, _, err := ct.Sign(ctx, other, c.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	verifyAs("claims re-signed", resigned, registry.VerifyForged, 1)

	// Someone with write access to the database plants a forged token's
	// MAC, made with another master key: the forged token stays forged,
	// and the genuine one still verifies (by signature).
	forged := variants["claim l altered"]
	otherVault, err := registry.NewVault(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetTokenMACs(ctx, map[string][]byte{c.Number: otherVault.TokenMAC(forged)}); err != nil {
		t.Fatal(err)
	}
	verifyAs("forged token with a planted MAC", forged, registry.VerifyForged, 1)
	verifyAs("issued token, planted MAC", tok, registry.VerifyValid, 1)

	// A record without a MAC (stored before token MACs): the signature
	// path answers, and stores the MAC for the next time.
	if err := f.store.SetTokenMACs(ctx, map[string][]byte{c.Number: nil}); err != nil {
		t.Fatal(err)
	}
	verifyAs("issued token, no MAC stored", tok, registry.VerifyValid, 1)
	verifyAs("issued token, MAC stored again", tok, registry.VerifyValid, 0)

	// A token printed before the status index (claim s absent) and one
	// printed before a key rotation keep their answers.
	noIndex := c.Claims()
	noIndex.StatusIndex = 0
	oldTok, _, err := ct.Sign(ctx, noIndex, c.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	verifyAs("token printed before the status index", oldTok, registry.VerifyValid, 1)
	if _, err := ks.Rotate(ctx, f.now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour) // past the codec's key reload interval
	verifyAs("token printed before a key rotation", tok, registry.VerifyValid, 0)
	c2, _, err := f.reg.Issue(ctx, u, issueInput(func(in *registry.IssueInput) { in.Level = 4 }))
	if err != nil {
		t.Fatal(err)
	}
	if c2.KeyID == c.KeyID {
		t.Fatalf("the rotated key did not sign the new certificate")
	}
	tok2, err := f.reg.Token(ctx, c2)
	if err != nil {
		t.Fatal(err)
	}
	verifyAs("token of the new key", tok2, registry.VerifyValid, 0)

	// Revocation is read from the record on the short path too.
	if _, err := f.reg.Revoke(ctx, u, c.Number, "录入错误"); err != nil {
		t.Fatal(err)
	}
	verifyAs("revoked", tok, registry.VerifyRevoked, 0)
}
