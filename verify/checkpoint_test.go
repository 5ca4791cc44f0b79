package verify

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

func signedCheckpoint(t testing.TB, tk *Tokens, header map[string]any, payload any) string {
	t.Helper()
	jws, _, err := tk.SignJSON(context.Background(), header, payload)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// TestVerifyCheckpoint: a checkpoint signed with the active key verifies
// against the public keys and returns its payload; a checkpoint signed by
// another key, with another typ, a changed payload, or a document that is
// not a checkpoint, does not.
func TestVerifyCheckpoint(t *testing.T) {
	ours, theirs := testKey(1, true), testKey(9, true)
	cp := &registry.AuditCheckpoint{Count: 42, HeadHash: strings.Repeat("ab", 32), Time: time.Date(2026, 11, 28, 1, 2, 3, 4_000_000, time.UTC)}
	header := map[string]any{"typ": registry.CheckpointType + "+jws"}
	good := signedCheckpoint(t, staticTokens(t, ours), header, cp.Payload())
	pub := []Key{{ID: ours.ID, Public: ours.Public}}
	p, err := VerifyCheckpoint(pub, good)
	if err != nil || p != cp.Payload() {
		t.Fatalf("VerifyCheckpoint = %+v, %v; want %+v", p, err, cp.Payload())
	}
	parts := strings.Split(good, ".")
	changed := *cp
	changed.HeadHash = strings.Repeat("cd", 32)
	forgedBody := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"skillreg-audit-checkpoint","count":42,"head_hash":"` + changed.HeadHash + `","time":"2026-11-28T01:02:03.004Z"}`))
	cases := map[string]string{
		"another key":      signedCheckpoint(t, staticTokens(t, theirs), header, cp.Payload()),
		"another typ":      signedCheckpoint(t, staticTokens(t, ours), map[string]any{"typ": "vc+jwt"}, cp.Payload()),
		"not a checkpoint": signedCheckpoint(t, staticTokens(t, ours), header, map[string]any{"count": 42}),
		"changed payload":  parts[0] + "." + forgedBody + "." + parts[2],
		"alg none":         base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+ours.ID+`","typ":"skillreg-audit-checkpoint+jws"}`)) + "." + parts[1] + ".",
		"two parts":        parts[0] + "." + parts[1],
		"too long":         good + strings.Repeat("A", 5000),
	}
	for name, jws := range cases {
		if p, err := VerifyCheckpoint(pub, jws); err == nil {
			t.Errorf("%s: verified as %+v", name, p)
		}
	}
}

// FuzzVerifyCheckpoint: checkpoints come from the store and from other
// registries' servers; no input may crash the verifier or verify without
// our key.
func FuzzVerifyCheckpoint(f *testing.F) {
	k := testKey(1, true)
	cp := &registry.AuditCheckpoint{Count: 7, HeadHash: strings.Repeat("0", 64), Time: time.Unix(0, 0)}
	f.Add(signedCheckpoint(f, staticTokens(f, k), map[string]any{"typ": registry.CheckpointType + "+jws"}, cp.Payload()))
	f.Add("a.b.c")
	f.Add("")
	pub := []Key{{ID: k.ID, Public: k.Public}}
	f.Fuzz(func(t *testing.T, jws string) {
		p, err := VerifyCheckpoint(pub, jws)
		if err == nil && p.Type != registry.CheckpointType {
			t.Fatalf("verified a payload of type %q", p.Type)
		}
	})
}
