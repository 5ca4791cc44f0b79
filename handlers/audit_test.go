package handlers_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// TestAuditCheckpointAPI: GET /api/v1/audit/checkpoint serves the latest
// signed checkpoint to anyone, ?seq= an older one; the JWS verifies with
// the keys of /.well-known/jwks.json alone and signs what the JSON says;
// a bad or unknown seq is a clear 400 or 404.
func TestAuditCheckpointAPI(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.expect(h.do("GET", "/api/v1/audit/checkpoint", "", nil), 404)

	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	cpr := &registry.Checkpointer{Store: h.store, Sign: h.tokens.SignJSON}
	first, made, err := cpr.Checkpoint(ctx)
	if err != nil || !made {
		t.Fatalf("checkpoint: %v %v", made, err)
	}
	h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(nil)), 201)
	second, _, err := cpr.Checkpoint(ctx)
	if err != nil || second.Count <= first.Count {
		t.Fatalf("second checkpoint %+v, %v", second, err)
	}

	keys, err := verify.ParseJWKS(h.expect(h.do("GET", "/.well-known/jwks.json", "", nil), 200).body)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]*registry.AuditCheckpoint{
		"/api/v1/audit/checkpoint": second,
		"/api/v1/audit/checkpoint?seq=" + strconv.FormatInt(first.Count, 10): first,
	} {
		var got registry.AuditCheckpoint
		if err := json.Unmarshal(h.expect(h.do("GET", path, "", nil), 200).body, &got); err != nil {
			t.Fatal(err)
		}
		p, err := verify.VerifyCheckpoint(keys, got.JWS)
		if err != nil {
			t.Fatalf("%s: the JWS does not verify with the published keys: %v", path, err)
		}
		if got.Count != want.Count || got.HeadHash != want.HeadHash || p.Count != got.Count || p.HeadHash != got.HeadHash {
			t.Errorf("%s: got %+v signing %+v, want %+v", path, got, p, want)
		}
	}
	for path, want := range map[string]int{
		"/api/v1/audit/checkpoint?seq=0":       400,
		"/api/v1/audit/checkpoint?seq=x":       400,
		"/api/v1/audit/checkpoint?seq=-3":      400,
		"/api/v1/audit/checkpoint?seq=9999999": 404,
	} {
		r := h.expect(h.do("GET", path, "", nil), want)
		if code, _ := r.errorCode(t); code == "" {
			t.Errorf("%s: no error code in %s", path, r.body)
		}
	}
}
