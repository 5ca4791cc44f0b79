package verify

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// testKey returns a deterministic key, so that failures reproduce.
func testKey(seed byte, active bool) Key {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	priv := ed25519.NewKeyFromSeed(s)
	pub := priv.Public().(ed25519.PublicKey)
	return Key{ID: KeyID(pub), Public: pub, Private: priv, Active: active,
		CreatedAt: time.Date(2026, 1, int(seed)+1, 0, 0, 0, 0, time.UTC)}
}

var validClaims = registry.TokenClaims{
	Number:         "S000011000001253000042",
	OccupationCode: "6-18-01-01",
	Level:          3,
	IssuedOn:       "2025-06-30",
	HolderMasked:   "张*三",
}

func staticTokens(t testing.TB, keys ...Key) *Tokens {
	t.Helper()
	tk, err := NewStaticTokens(keys)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func mustSign(t testing.TB, tk *Tokens, c registry.TokenClaims, kid string) string {
	t.Helper()
	tok, _, err := tk.Sign(context.Background(), c, kid)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

// signRaw signs arbitrary header and payload bytes with priv, as an
// attacker holding (or a bug misusing) the key might.
func signRaw(priv ed25519.PrivateKey, header, payload string) string {
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	return in + "." + enc.EncodeToString(ed25519.Sign(priv, []byte(in)))
}

// tokenStatus returns the TokenError status of err, "" for nil and
// "internal" for any other error.
func tokenStatus(err error) string {
	if err == nil {
		return ""
	}
	var te *registry.TokenError
	if errors.As(err, &te) {
		return te.Status
	}
	return "internal"
}

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// keyStore is a KeySource over keys that a test changes, counting loads.
type keyStore struct {
	mu    sync.Mutex
	keys  []Key
	err   error
	loads int
}

func (s *keyStore) Load(ctx context.Context) ([]Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if s.err != nil {
		return nil, s.err
	}
	return append([]Key(nil), s.keys...), nil
}

func (s *keyStore) Set(keys ...Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *keyStore) Loads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads
}
