package verify

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"testing"
	"time"
)

func TestKeyIDMatchesRFC8037Thumbprint(t *testing.T) {
	// RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key is
	// kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k.
	x, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := KeyID(ed25519.PublicKey(x)), "kPrK_qmx"; got != want {
		t.Errorf("KeyID = %q, want %q", got, want)
	}
}

func TestNewKey(t *testing.T) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	a, err := NewKey(now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKey(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.ID) != KIDLen || a.ID != KeyID(a.Public) || !validSigningKID(a.ID) {
		t.Errorf("ID = %q, want the %d-char thumbprint prefix %q", a.ID, KIDLen, KeyID(a.Public))
	}
	if !bytes.Equal(a.Private.Public().(ed25519.PublicKey), a.Public) {
		t.Error("private key does not match public key")
	}
	if a.ID == b.ID || bytes.Equal(a.Public, b.Public) {
		t.Error("two new keys are the same")
	}
	if !a.CreatedAt.Equal(now) || a.Active {
		t.Errorf("CreatedAt %v Active %v, want %v and inactive", a.CreatedAt, a.Active, now)
	}
	if err := a.check(); err != nil {
		t.Error(err)
	}
}

func TestKeySetRefusesBrokenKeys(t *testing.T) {
	good := testKey(1, true)
	other := testKey(2, false)
	tests := []struct {
		name string
		keys []Key
	}{
		{"no ID", []Key{{Public: good.Public}}},
		{"short public key", []Key{{ID: "x", Public: good.Public[:31]}}},
		{"short private key", []Key{{ID: "x", Public: good.Public, Private: good.Private[:32]}}},
		{"mismatched private key", []Key{{ID: "x", Public: good.Public, Private: other.Private}}},
		{"duplicate ID", []Key{good, {ID: good.ID, Public: other.Public}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := newKeySet(tt.keys); err == nil {
				t.Error("accepted")
			}
			if _, err := NewStaticTokens(tt.keys); err == nil {
				t.Error("NewStaticTokens accepted")
			}
		})
	}
}

func TestKeySetPicksNewestActiveKey(t *testing.T) {
	old, mid, newest := testKey(1, true), testKey(2, false), testKey(3, true)
	s, err := newKeySet([]Key{newest, old, mid})
	if err != nil {
		t.Fatal(err)
	}
	if s.active == nil || s.active.ID != newest.ID {
		t.Errorf("active = %v, want %s", s.active, newest.ID)
	}
}
