package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// APIKey lets an employer's HR system call the verification API without
// a user login. It is not a user: it may verify and nothing else. The
// registry keeps only the SHA-256 of the secret; the secret itself is
// shown once, when the key is made.
type APIKey struct {
	ID            string
	Name          string
	Hash          string `json:"-"` // hex SHA-256 of the secret; never encoded
	Hint          string // "sk_…" and the secret's last 4 characters
	RatePerMinute int
	CreatedBy     string
	CreatedAt     time.Time
	RevokedAt     *time.Time
}

// APIKeyPrefix starts every API key secret, so that a leaked key is easy
// to recognise (secret scanners) and to tell from a login token.
const APIKeyPrefix = "sk_"

// apiKeySecretBytes is the key's randomness: 256 bits, which is why a
// plain SHA-256 is enough to store it (there is nothing to guess).
const apiKeySecretBytes = 32

// MaxAPIKeyRate is the largest per-key rate an admin may set.
const MaxAPIKeyRate = 1_000_000

// APIKeyInput is what an admin sends to make a key.
type APIKeyInput struct {
	Name          string `json:"name"`
	RatePerMinute int    `json:"rate_per_minute"` // 0: the server's default
}

// HashAPIKey returns the stored form of a secret.
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey makes a key. Admin only. It returns the key and its secret,
// which is not stored and cannot be shown again. EINVALID for a missing
// or over-long name or a bad rate.
func (r *Registry) CreateAPIKey(ctx context.Context, actor *User, in APIKeyInput) (*APIKey, string, error) {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return nil, "", FieldError("name", "name the key after the employer or system that will use it")
	case n > 100:
		return nil, "", FieldError("name", "a key name may have at most 100 characters")
	}
	if strings.ContainsAny(name, "\x00\r\n\t") {
		return nil, "", FieldError("name", "a key name may not contain control characters")
	}
	if in.RatePerMinute < 0 || in.RatePerMinute > MaxAPIKeyRate {
		return nil, "", FieldError("rate_per_minute", "rate_per_minute must be 0 (the server's default) to %d", MaxAPIKeyRate)
	}
	raw := make([]byte, apiKeySecretBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", err
	}
	secret := APIKeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	idRaw := make([]byte, 8)
	if _, err := rand.Read(idRaw); err != nil {
		return nil, "", err
	}
	k := &APIKey{
		ID:            "ak_" + hex.EncodeToString(idRaw),
		Name:          name,
		Hash:          HashAPIKey(secret),
		Hint:          APIKeyPrefix + "…" + secret[len(secret)-4:],
		RatePerMinute: in.RatePerMinute,
		CreatedBy:     actor.Username,
		CreatedAt:     r.now().UTC(),
	}
	if err := r.store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	r.audit(ctx, "apikey.created", actor, "key", k.ID, "name", k.Name)
	return k, secret, nil
}

// APIKeys lists every key without secrets. Admin only.
func (r *Registry) APIKeys(ctx context.Context, actor *User) ([]*APIKey, error) {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return nil, err
	}
	return r.store.APIKeys(ctx)
}

// RevokeAPIKey revokes a key for good. Admin only. ENOTFOUND for an
// unknown key, ECONFLICT if it is already revoked.
func (r *Registry) RevokeAPIKey(ctx context.Context, actor *User, id string) (*APIKey, error) {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return nil, err
	}
	if len(id) > 64 {
		return nil, Errorf(ENOTFOUND, "no API key %.64s", id)
	}
	k, err := r.store.RevokeAPIKey(ctx, id, r.now().UTC())
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "apikey.revoked", actor, "key", k.ID, "name", k.Name)
	return k, nil
}

// AuthenticateAPIKey returns the live key whose secret is given.
// EUNAUTHORIZED for a malformed, unknown or revoked secret, with one
// message for all three, so that the answer does not tell a guesser
// which keys once existed.
func (r *Registry) AuthenticateAPIKey(ctx context.Context, secret string) (*APIKey, error) {
	refused := Errorf(EUNAUTHORIZED, "invalid or revoked API key")
	if !strings.HasPrefix(secret, APIKeyPrefix) || len(secret) > 128 {
		return nil, refused
	}
	k, err := r.store.APIKeyByHash(ctx, HashAPIKey(secret))
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return nil, refused
	case err != nil:
		return nil, err
	case k.RevokedAt != nil:
		return nil, refused
	}
	return k, nil
}
