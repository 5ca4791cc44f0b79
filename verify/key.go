package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// KIDLen is the length of the key IDs that NewKey makes. Key IDs travel in
// every token, so they are kept short; 48 bits of thumbprint tell apart the
// handful of keys a registry ever has.
const KIDLen = 8

// Key is an Ed25519 key that signs or checks certificate tokens.
type Key struct {
	ID        string
	Public    ed25519.PublicKey
	Private   ed25519.PrivateKey // nil for verify-only keys (e.g. from a JWKS)
	Active    bool               // signs new certificates; a registry has one active key
	CreatedAt time.Time
}

// NewKey makes a fresh signing key from crypto/rand. Its ID is derived from
// the public key (KeyID), so that two processes naming the same key agree.
// The key is not active: the caller activates it when it stores it.
func NewKey(now time.Time) (Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("verify: generating key: %w", err)
	}
	return Key{ID: KeyID(pub), Public: pub, Private: priv, CreatedAt: now}, nil
}

// KeyID returns the first KIDLen characters of the base64url RFC 7638 JWK
// thumbprint of pub.
func KeyID(pub ed25519.PublicKey) string {
	// RFC 7638 §3.2: the required members in lexicographic order, no
	// whitespace. x is base64url, which needs no JSON escaping.
	doc := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(doc))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:KIDLen]
}

// check reports what is wrong with k, if anything. Loading a key set with a
// broken key fails as a whole: a half-loaded key set would make some
// genuine certificates look forged.
func (k Key) check() error {
	if k.ID == "" {
		return fmt.Errorf("verify: a key has no ID")
	}
	if len(k.Public) != ed25519.PublicKeySize {
		return fmt.Errorf("verify: key %q: public key has %d bytes, want %d", k.ID, len(k.Public), ed25519.PublicKeySize)
	}
	if k.Private != nil {
		if len(k.Private) != ed25519.PrivateKeySize {
			return fmt.Errorf("verify: key %q: private key has %d bytes, want %d", k.ID, len(k.Private), ed25519.PrivateKeySize)
		}
		if pub, _ := k.Private.Public().(ed25519.PublicKey); !bytes.Equal(pub, k.Public) {
			return fmt.Errorf("verify: key %q: private key does not match public key", k.ID)
		}
	}
	return nil
}

// validSigningKID reports whether kid may appear in a token we sign: at
// most KIDLen base64url characters, so that the QR budget holds and the
// header needs no JSON escaping.
func validSigningKID(kid string) bool {
	if kid == "" || len(kid) > KIDLen {
		return false
	}
	for i := 0; i < len(kid); i++ {
		c := kid[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// keySet is an immutable snapshot of the keys, indexed for lookup.
type keySet struct {
	byID   map[string]Key
	active *Key // newest active key, nil if none
}

func newKeySet(keys []Key) (*keySet, error) {
	s := &keySet{byID: make(map[string]Key, len(keys))}
	for _, k := range keys {
		if err := k.check(); err != nil {
			return nil, err
		}
		if _, dup := s.byID[k.ID]; dup {
			return nil, fmt.Errorf("verify: two keys have the ID %q", k.ID)
		}
		s.byID[k.ID] = k
		if k.Active {
			// A rotation in another process may briefly leave two keys
			// active; the newest is the one it meant to switch to.
			if s.active == nil || k.CreatedAt.After(s.active.CreatedAt) ||
				k.CreatedAt.Equal(s.active.CreatedAt) && k.ID > s.active.ID {
				k := k
				s.active = &k
			}
		}
	}
	return s, nil
}
