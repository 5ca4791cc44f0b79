package verify

import (
	"encoding/json"
	"testing"
)

// TestDIDWeb: the did:web of a public URL percent-encodes the port and
// turns path segments into colon-separated parts; a URL without a host
// or of another scheme has none.
func TestDIDWeb(t *testing.T) {
	for in, want := range map[string]string{
		"https://zs.example.gov.cn":           "did:web:zs.example.gov.cn",
		"http://127.0.0.1:8080":               "did:web:127.0.0.1%3A8080",
		"https://x.gov.cn/skillreg/":          "did:web:x.gov.cn:skillreg",
		"https://x.gov.cn:8443/a/b":           "did:web:x.gov.cn%3A8443:a:b",
		"https://x.gov.cn/%E8%AF%81%E4%B9%A6": "did:web:x.gov.cn:%E8%AF%81%E4%B9%A6",
	} {
		got, err := DIDWeb(in)
		if err != nil || got != want {
			t.Errorf("DIDWeb(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/relative", "ftp://x.gov.cn", "x.gov.cn"} {
		if got, err := DIDWeb(bad); err == nil {
			t.Errorf("DIDWeb(%q) = %q, want an error", bad, got)
		}
	}
}

// TestDIDDocument: every key is a verification method and an assertion
// method named did#kid, with its public JWK (kid the same DID URL) and no
// private part.
func TestDIDDocument(t *testing.T) {
	old, active := testKey(1, false), testKey(2, true)
	b, err := DIDDocument("did:web:zs.example", []Key{old, active})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ID                 string `json:"id"`
		VerificationMethod []struct {
			ID, Type, Controller string
			PublicKeyJwk         map[string]string
		}
		AssertionMethod []string
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ID != "did:web:zs.example" || len(doc.VerificationMethod) != 2 || len(doc.AssertionMethod) != 2 {
		t.Fatalf("%s", b)
	}
	for i, k := range []Key{old, active} {
		vm := doc.VerificationMethod[i]
		id := "did:web:zs.example#" + k.ID
		if vm.ID != id || doc.AssertionMethod[i] != id || vm.Controller != doc.ID || vm.PublicKeyJwk["kid"] != id || vm.PublicKeyJwk["d"] != "" || vm.PublicKeyJwk["crv"] != "Ed25519" {
			t.Errorf("verification method %d: %+v", i, vm)
		}
	}
}
