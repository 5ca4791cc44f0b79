package verify

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/skillreg/skillreg/registry"
)

// maxCheckpointLen bounds a checkpoint JWS before any parsing.
const maxCheckpointLen = 4096

// VerifyCheckpoint checks a signed audit checkpoint (registry.Checkpointer)
// against keys and returns what it signs. The algorithm is pinned to
// EdDSA, the kid must name one of keys (key-carrying headers are never
// looked at), the typ must be the checkpoint's, and the payload must be
// exactly a registry.CheckpointPayload with the checkpoint typ.
func VerifyCheckpoint(keys []Key, jws string) (registry.CheckpointPayload, error) {
	var p registry.CheckpointPayload
	if len(jws) > maxCheckpointLen {
		return p, errors.New("checkpoint longer than 4 KiB")
	}
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return p, errors.New("not a compact JWS")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return p, errors.New("header is not base64url")
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		return p, errors.New("header is not JSON")
	}
	if h.Alg != "EdDSA" {
		return p, fmt.Errorf("algorithm %q is not EdDSA", h.Alg)
	}
	if h.Typ != registry.CheckpointType+"+jws" {
		return p, fmt.Errorf("typ %q is not a checkpoint's", h.Typ)
	}
	var pub ed25519.PublicKey
	for _, k := range keys {
		if k.ID == h.Kid && len(k.Public) == ed25519.PublicKeySize {
			pub = k.Public
		}
	}
	if pub == nil {
		return p, fmt.Errorf("kid %q names none of the registry's keys", h.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		return p, fmt.Errorf("the signature does not verify with key %s", h.Kid)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return p, errors.New("payload is not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Type != registry.CheckpointType {
		return registry.CheckpointPayload{}, errors.New("the payload is not an audit checkpoint")
	}
	return p, nil
}
