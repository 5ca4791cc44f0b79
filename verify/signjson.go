package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/skillreg/skillreg/registry"
)

// reservedHeader are the header members SignJSON sets itself or refuses:
// alg and kid name our key, crit would oblige verifiers to understand an
// extension, and the key-carrying members would invite verifiers to take
// the key from the token rather than from our JWKS.
var reservedHeader = []string{"alg", "kid", "crit", "jwk", "jku", "x5u", "x5c"}

// SignJSON signs payload, which must marshal to a JSON object, as a
// compact JWS with the active key (EdDSA), and returns it and the kid it
// used. header adds members to the protected header, such as
// "typ":"vc+jwt" for a W3C Verifiable Credential; alg and kid are always
// ours, and a header trying to set them, crit, or a member that carries a
// key is refused (EINVALID), as is a payload that Parse would read as a
// certificate token: one key signs both, and a document must never be
// mistaken for a certificate. A missing active key or a store failure is
// an internal error.
func (t *Tokens) SignJSON(ctx context.Context, header map[string]any, payload any) (string, string, error) {
	return t.SignJSONAs(ctx, "", header, payload)
}

// SignJSONAs is SignJSON with the header's kid written as keyRef followed
// by the key's ID, e.g. a DID URL "did:web:example.org#Ab3dE5gH" that a
// verifier resolves through the DID document; the returned kid is the
// key's own ID. keyRef must be empty or end in "#", so that the kid still
// names exactly one of our keys.
func (t *Tokens) SignJSONAs(ctx context.Context, keyRef string, header map[string]any, payload any) (string, string, error) {
	if keyRef != "" && !strings.HasSuffix(keyRef, "#") {
		return "", "", registry.FieldError("keyRef", "a key reference must end in #")
	}
	for _, name := range reservedHeader {
		if _, ok := header[name]; ok {
			return "", "", registry.FieldError("header", "the header member %q is set by the signer or not allowed", name)
		}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", "", registry.FieldError("payload", "cannot encode the payload as JSON: %v", err)
	}
	if _, err := decodeObject(body); err != nil {
		return "", "", registry.FieldError("payload", "the payload must be a JSON object")
	}
	if _, err := decodePayload(body); err == nil {
		return "", "", registry.FieldError("payload", "the payload would read as a certificate token")
	}
	set, err := t.keys(ctx, "")
	if err != nil {
		return "", "", err
	}
	k, err := set.signer("")
	if err != nil {
		return "", "", err
	}
	h := make(map[string]any, len(header)+2)
	for name, v := range header {
		h[name] = v
	}
	h["alg"] = jwt.SigningMethodEdDSA.Alg()
	h["kid"] = keyRef + k.ID
	hb, err := json.Marshal(h)
	if err != nil {
		return "", "", registry.FieldError("header", "cannot encode the header as JSON: %v", err)
	}
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(body)
	sig, err := jwt.SigningMethodEdDSA.Sign(input, k.Private)
	if err != nil {
		return "", "", fmt.Errorf("verify: signing: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), k.ID, nil
}
