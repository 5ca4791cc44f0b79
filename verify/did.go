package verify

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// DIDWeb returns the did:web identifier of the registry at publicURL
// (W3C CCG did:web): the host, its port percent-encoded ("%3A"), then each
// path segment after a colon. Its DID document is at
// publicURL + "/.well-known/did.json" when the URL has no path, and at
// publicURL + "/did.json" when it has one.
func DIDWeb(publicURL string) (string, error) {
	u, err := url.Parse(strings.TrimRight(publicURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("verify: public URL %q is not an http(s) URL with a host", publicURL)
	}
	did := "did:web:" + strings.ReplaceAll(u.Host, ":", "%3A")
	for _, seg := range strings.Split(strings.Trim(u.EscapedPath(), "/"), "/") {
		if seg != "" {
			did += ":" + seg
		}
	}
	return did, nil
}

// VerificationMethodID returns the DID URL that names key kid in the DID
// document of did; VC-JWT headers carry it as their kid.
func VerificationMethodID(did, kid string) string { return did + "#" + kid }

// didKey is a verification method of the DID document.
type didKey struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Controller   string    `json:"controller"`
	PublicKeyJwk publicJWK `json:"publicKeyJwk"`
}

// DIDDocument returns the DID document of did with keys as its
// verification methods (JsonWebKey2020, the public JWK with its kid set to
// the method's DID URL, so that a JWK set built from the document matches
// a VC-JWT header's kid), every one of them an assertion method. Pass
// retired keys too: credentials they signed keep verifying.
func DIDDocument(did string, keys []Key) ([]byte, error) {
	doc := struct {
		Context            []string `json:"@context"`
		ID                 string   `json:"id"`
		VerificationMethod []didKey `json:"verificationMethod"`
		AssertionMethod    []string `json:"assertionMethod"`
	}{
		Context:            []string{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"},
		ID:                 did,
		VerificationMethod: make([]didKey, 0, len(keys)),
		AssertionMethod:    make([]string, 0, len(keys)),
	}
	for _, k := range keys {
		if err := k.check(); err != nil {
			return nil, err
		}
		id := VerificationMethodID(did, k.ID)
		doc.VerificationMethod = append(doc.VerificationMethod, didKey{
			ID: id, Type: "JsonWebKey2020", Controller: did,
			PublicKeyJwk: publicJWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Public), Kid: id, Alg: "EdDSA", Use: "sig"},
		})
		doc.AssertionMethod = append(doc.AssertionMethod, id)
	}
	return json.MarshalIndent(doc, "", "  ")
}
