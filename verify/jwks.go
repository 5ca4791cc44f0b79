package verify

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/skillreg/skillreg/registry"
)

// publicJWK is the RFC 8037 form of an Ed25519 public key. It has no field
// for the private part, so JWKS cannot leak one however it is called.
type publicJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS returns the public parts of keys as an RFC 7517 JWK set, for
// publishing so that anyone can check tokens offline. Include retired keys:
// certificates signed with them stay valid.
func JWKS(keys []Key) ([]byte, error) {
	set := struct {
		Keys []publicJWK `json:"keys"`
	}{Keys: make([]publicJWK, 0, len(keys))}
	for _, k := range keys {
		if err := k.check(); err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, publicJWK{
			Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Public),
			Kid: k.ID, Alg: "EdDSA", Use: "sig",
		})
	}
	return json.MarshalIndent(set, "", "  ")
}

// ParseJWKS reads a JWK set and returns its keys, verify-only and inactive.
// It accepts only Ed25519 public keys (kty OKP, crv Ed25519, a 32-byte x,
// a kid, alg EdDSA and use sig if given) and refuses the whole set, with an
// EINVALID *registry.Error, if any key is something else: a set that is
// partly unusable is a mistake to fix, not to work around. A set holding a
// private key ("d") is refused too, since it should never have been
// published.
func ParseJWKS(b []byte) ([]Key, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, registry.Errorf(registry.EINVALID, "jwks: not a JSON object with a \"keys\" array: %v", err)
	}
	if len(set.Keys) == 0 {
		return nil, registry.Errorf(registry.EINVALID, "jwks: no keys")
	}
	keys := make([]Key, 0, len(set.Keys))
	seen := make(map[string]bool, len(set.Keys))
	for i, raw := range set.Keys {
		var j struct {
			publicJWK
			D *string `json:"d"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, registry.Errorf(registry.EINVALID, "jwks: key %d: not a JWK object: %v", i, err)
		}
		where := fmt.Sprintf("jwks: key %d (kid %q)", i, truncate(j.Kid, 32))
		switch {
		case j.Kty != "OKP":
			return nil, registry.Errorf(registry.EINVALID, "%s: kty %q is not supported; certificate tokens are signed with Ed25519 (kty OKP)", where, truncate(j.Kty, 16))
		case j.Crv != "Ed25519":
			return nil, registry.Errorf(registry.EINVALID, "%s: crv %q is not supported; only Ed25519", where, truncate(j.Crv, 16))
		case j.Alg != "" && j.Alg != "EdDSA":
			return nil, registry.Errorf(registry.EINVALID, "%s: alg %q is not EdDSA", where, truncate(j.Alg, 16))
		case j.Use != "" && j.Use != "sig":
			return nil, registry.Errorf(registry.EINVALID, "%s: use %q is not sig", where, truncate(j.Use, 16))
		case j.D != nil:
			return nil, registry.Errorf(registry.EINVALID, "%s: holds a private key (\"d\"); publish public keys only", where)
		case j.Kid == "":
			return nil, registry.Errorf(registry.EINVALID, "%s: has no kid, which tokens need to name their key", where)
		case seen[j.Kid]:
			return nil, registry.Errorf(registry.EINVALID, "%s: kid appears twice", where)
		}
		x, err := base64.RawURLEncoding.Strict().DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, registry.Errorf(registry.EINVALID, "%s: x is not %d bytes of unpadded base64url", where, ed25519.PublicKeySize)
		}
		seen[j.Kid] = true
		keys = append(keys, Key{ID: j.Kid, Public: ed25519.PublicKey(x)})
	}
	return keys, nil
}
