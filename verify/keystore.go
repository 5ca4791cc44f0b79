package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// KeyStore keeps certificate-signing keys in the registry's store, with
// the private halves sealed by the registry's vault, so that every process
// of one registry signs and verifies with the same keys. It needs only the
// store's signing keys, not the rest of registry.Store.
type KeyStore struct {
	Store registry.SigningKeyStore
	Vault *registry.Vault
	// Audit, if set, records each new key in the audit log
	// (registry.Registry.Record with the caller's actor).
	Audit func(ctx context.Context, event string, attrs ...any)
}

// Source returns a KeySource that loads every key with its private half.
func (ks KeyStore) Source() KeySource {
	return func(ctx context.Context) ([]Key, error) {
		stored, err := ks.Store.SigningKeys(ctx)
		if err != nil {
			return nil, err
		}
		keys := make([]Key, 0, len(stored))
		for _, sk := range stored {
			priv, err := ks.Vault.Open(sk.Sealed)
			if err != nil {
				return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
			}
			keys = append(keys, Key{ID: sk.ID, Public: sk.Public, Private: priv, Active: sk.Active, CreatedAt: sk.CreatedAt})
		}
		return keys, nil
	}
}

// PublicKeys loads the public halves only, for a JWKS.
func (ks KeyStore) PublicKeys(ctx context.Context) ([]Key, error) {
	stored, err := ks.Store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(stored))
	for _, sk := range stored {
		keys = append(keys, Key{ID: sk.ID, Public: sk.Public, Active: sk.Active, CreatedAt: sk.CreatedAt})
	}
	return keys, nil
}

// JWKS returns the public keys as an RFC 7517 key set.
func (ks KeyStore) JWKS(ctx context.Context) ([]byte, error) {
	keys, err := ks.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	return JWKS(keys)
}

// Rotate makes a new Ed25519 key, seals it and stores it as the active key.
// Older keys stay, so certificates they signed keep verifying.
func (ks KeyStore) Rotate(ctx context.Context, now time.Time) (*registry.SigningKey, error) {
	k, err := NewKey(now)
	if err != nil {
		return nil, err
	}
	sealed, err := ks.Vault.Seal(k.Private)
	if err != nil {
		return nil, err
	}
	sk := &registry.SigningKey{ID: k.ID, Algorithm: "EdDSA", Public: k.Public, Sealed: sealed, Active: true, CreatedAt: k.CreatedAt}
	if err := ks.Store.CreateSigningKey(ctx, sk); err != nil {
		return nil, err
	}
	if ks.Audit != nil {
		ks.Audit(ctx, "key.rotated", "kid", sk.ID, "algorithm", sk.Algorithm)
	}
	return sk, nil
}

// Ensure makes the first key when the store has no active key, and reports
// whether it made one.
func (ks KeyStore) Ensure(ctx context.Context, now time.Time) (bool, error) {
	keys, err := ks.Store.SigningKeys(ctx)
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if k.Active {
			return false, nil
		}
	}
	_, err = ks.Rotate(ctx, now)
	return err == nil, err
}
