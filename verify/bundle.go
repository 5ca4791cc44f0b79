package verify

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// The trust bundle: one signed document with everything an offline
// verifier needs, i.e. the public keys, the issuing organisations and
// their scopes, and the revocation status list, with when it was made and
// how long it may be relied on. It is a compact JWS (EdDSA, the registry's
// active certificate key, kid in the header, typ TrustBundleType).
//
// A bundle cannot vouch for itself: its signature is checked against keys
// the verifier already trusts (OpenTrustBundle's trusted set), never
// against the JWKS inside it. Once the signature holds, the keys inside
// are trusted too, which is how a verifier pinned to one key learns of a
// newer one.

// TrustBundleType is the JWS "typ" and the payload "type" of a bundle.
const TrustBundleType = "skillreg-trust-bundle+jwt"

// MaxTrustBundleBytes bounds what OpenTrustBundle reads: the largest
// status list (a billion entries) compresses to a few megabytes when few
// are revoked; 64 MiB leaves room for many revocations.
const MaxTrustBundleBytes = 64 << 20

// maxStatusListBytes bounds the decompressed bitstring.
const maxStatusListBytes = registry.MaxStatusListSize / 8

// BundleIssuer is an issuing organisation as the bundle lists it: no
// personal data, only what a scope check needs.
type BundleIssuer struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Province string         `json:"province"`
	Scope    registry.Scope `json:"scope"`
}

// StatusListCredential is a W3C Bitstring Status List v1.0
// BitstringStatusListCredential (unsigned by itself: the bundle's JWS
// secures it).
type StatusListCredential struct {
	Context           []string          `json:"@context"`
	ID                string            `json:"id"`
	Type              []string          `json:"type"`
	Issuer            string            `json:"issuer"`
	ValidFrom         time.Time         `json:"validFrom"`
	ValidUntil        time.Time         `json:"validUntil"`
	CredentialSubject StatusListSubject `json:"credentialSubject"`
}

// StatusListSubject is the list itself.
type StatusListSubject struct {
	ID            string `json:"id"`
	Type          string `json:"type"`          // "BitstringStatusList"
	StatusPurpose string `json:"statusPurpose"` // "revocation"
	EncodedList   string `json:"encodedList"`   // multibase "u" + base64url(GZIP(bitstring))
}

// StatusListPath is where the registry serves its revocation list as a
// credential of its own (StatusListJWT), relative to the public URL. The
// list only ever grows at its end, so one URL serves it for good.
const StatusListPath = "/api/v1/status-lists/revocation"

// TrustBundle is the signed payload.
type TrustBundle struct {
	Type       string    `json:"type"`
	Version    int       `json:"version"`
	Registry   string    `json:"registry"` // the public URL
	IssuedAt   time.Time `json:"issued_at"`
	TTLSeconds int64     `json:"ttl_seconds"`
	ExpiresAt  time.Time `json:"expires_at"`
	// IAT and EXP repeat IssuedAt and ExpiresAt as JWT NumericDates, the
	// form generic JWT libraries enforce (RFC 7519 iat and exp).
	IAT        int64                `json:"iat"`
	EXP        int64                `json:"exp"`
	JWKS       json.RawMessage      `json:"jwks"`
	Issuers    []BundleIssuer       `json:"issuers"`
	StatusList StatusListCredential `json:"status_list"`
}

// NewTrustBundle assembles a bundle payload.
func NewTrustBundle(publicURL string, issuedAt time.Time, ttl time.Duration, jwks []byte, issuers []BundleIssuer, encodedList string) *TrustBundle {
	issuedAt = issuedAt.UTC().Truncate(time.Second)
	exp := issuedAt.Add(ttl)
	if issuers == nil {
		issuers = []BundleIssuer{}
	}
	return &TrustBundle{
		Type: TrustBundleType, Version: 1, Registry: publicURL,
		IssuedAt: issuedAt, TTLSeconds: int64(ttl / time.Second), ExpiresAt: exp,
		IAT: issuedAt.Unix(), EXP: exp.Unix(),
		JWKS: json.RawMessage(jwks), Issuers: issuers,
		StatusList: newStatusListCredential(publicURL, publicURL, issuedAt, exp, encodedList),
	}
}

// newStatusListCredential is the revocation list of the registry at
// publicURL as a BitstringStatusListCredential of issuer, valid between
// the two times: the trust bundle embeds one, and the status-list VC-JWT
// is one.
func newStatusListCredential(publicURL, issuer string, from, until time.Time, encodedList string) StatusListCredential {
	return StatusListCredential{
		Context:    []string{"https://www.w3.org/ns/credentials/v2"},
		ID:         publicURL + StatusListPath,
		Type:       []string{"VerifiableCredential", "BitstringStatusListCredential"},
		Issuer:     issuer,
		ValidFrom:  from,
		ValidUntil: until,
		CredentialSubject: StatusListSubject{
			ID: publicURL + StatusListPath + "#list", Type: "BitstringStatusList",
			StatusPurpose: "revocation", EncodedList: encodedList,
		},
	}
}

// StatusListJWT is the revocation list as a credential of its own, the
// payload of a VC-JWT (VC-JOSE-COSE: the credential is the payload) that
// the registry's DID issues, with the JWT claims generic libraries
// enforce: iss (the DID), iat and exp (validFrom and validUntil as
// NumericDates).
type StatusListJWT struct {
	StatusListCredential
	Iss string `json:"iss"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// NewStatusListJWT assembles the revocation list credential of the
// registry at publicURL, issued by did, valid from validFrom for lifetime.
func NewStatusListJWT(publicURL, did string, validFrom time.Time, lifetime time.Duration, encodedList string) *StatusListJWT {
	validFrom = validFrom.UTC().Truncate(time.Second)
	until := validFrom.Add(lifetime)
	return &StatusListJWT{
		StatusListCredential: newStatusListCredential(publicURL, did, validFrom, until, encodedList),
		Iss:                  did, Iat: validFrom.Unix(), Exp: until.Unix(),
	}
}

// SignTrustBundle signs b with the active key.
func (t *Tokens) SignTrustBundle(ctx context.Context, b *TrustBundle) (string, error) {
	jws, _, err := t.SignJSON(ctx, map[string]any{"typ": TrustBundleType}, b)
	return jws, err
}

// OpenedBundle is a bundle whose signature checked out.
type OpenedBundle struct {
	*TrustBundle
	SignedBy string // kid of the trusted key that signed it
	tokens   *Tokens
	issuers  map[string]BundleIssuer
	bits     []byte
}

// DecodeStatusList decodes an encodedList (with or without the multibase
// "u") into the bitstring.
func DecodeStatusList(enc string) ([]byte, error) {
	enc = strings.TrimPrefix(enc, "u")
	gz, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return nil, errors.New("encodedList is not base64url")
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, errors.New("encodedList is not GZIP")
	}
	bits, err := io.ReadAll(io.LimitReader(zr, maxStatusListBytes+1))
	if err != nil {
		return nil, errors.New("encodedList does not decompress")
	}
	if len(bits) > maxStatusListBytes {
		return nil, errors.New("status list too long")
	}
	if len(bits)*8 < registry.StatusListMinSize {
		return nil, fmt.Errorf("status list has %d bits, fewer than the minimum %d", len(bits)*8, registry.StatusListMinSize)
	}
	return bits, nil
}

// Thumbprint returns the full base64url RFC 7638 SHA-256 thumbprint of an
// Ed25519 public key, for people to compare out of band.
func Thumbprint(pub ed25519.PublicKey) string {
	doc := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(doc))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// OpenTrustBundle checks a bundle's signature against the trusted keys
// (never against the keys inside it) and its contents, and returns it.
// Errors are EINVALID *registry.Error values saying what is wrong.
func OpenTrustBundle(jws []byte, trusted []Key) (*OpenedBundle, error) {
	bad := func(format string, args ...any) error {
		return registry.Errorf(registry.EINVALID, "trust bundle: "+format, args...)
	}
	if len(jws) > MaxTrustBundleBytes {
		return nil, bad("larger than %d bytes", MaxTrustBundleBytes)
	}
	parts := strings.Split(strings.TrimSpace(string(jws)), ".")
	if len(parts) != 3 {
		return nil, bad("not a compact JWS")
	}
	var seg [3][]byte
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil {
			return nil, bad("part %d is not base64url", i+1)
		}
		seg[i] = b
	}
	var hdr struct {
		Alg  string `json:"alg"`
		Kid  string `json:"kid"`
		Typ  string `json:"typ"`
		Crit any    `json:"crit"`
	}
	if err := json.Unmarshal(seg[0], &hdr); err != nil {
		return nil, bad("bad header")
	}
	if hdr.Alg != "EdDSA" || hdr.Typ != TrustBundleType || hdr.Crit != nil {
		return nil, bad("header must have alg EdDSA and typ %s", TrustBundleType)
	}
	var key *Key
	for i := range trusted {
		if trusted[i].ID == hdr.Kid {
			key = &trusted[i]
		}
	}
	if key == nil {
		return nil, bad("signed by key %q, which is not one of the trusted keys", truncate(hdr.Kid, 16))
	}
	if !ed25519.Verify(key.Public, []byte(parts[0]+"."+parts[1]), seg[2]) {
		return nil, bad("the signature does not verify: the bundle was altered or not made by the trusted key")
	}
	var b TrustBundle
	dec := json.NewDecoder(bytes.NewReader(seg[1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, bad("payload: %v", err)
	}
	if b.Type != TrustBundleType || b.Version != 1 {
		return nil, bad("type %q version %d is not a trust bundle this program reads", truncate(b.Type, 40), b.Version)
	}
	// Bundles made before iat and exp existed have neither; a bundle that
	// has them must agree with itself.
	if (b.IAT != 0 || b.EXP != 0) && (b.IAT != b.IssuedAt.Unix() || b.EXP != b.ExpiresAt.Unix()) {
		return nil, bad("iat and exp disagree with issued_at and expires_at")
	}
	sl := b.StatusList.CredentialSubject
	if sl.StatusPurpose != "revocation" || sl.Type != "BitstringStatusList" {
		return nil, bad("the status list is not a revocation BitstringStatusList")
	}
	keys, err := ParseJWKS(b.JWKS)
	if err != nil {
		return nil, bad("keys: %s", registry.ErrorMessage(err))
	}
	toks, err := NewStaticTokens(keys)
	if err != nil {
		return nil, bad("keys: %v", err)
	}
	bits, err := DecodeStatusList(sl.EncodedList)
	if err != nil {
		return nil, bad("status list: %v", err)
	}
	ob := &OpenedBundle{TrustBundle: &b, SignedBy: key.ID, tokens: toks, bits: bits, issuers: map[string]BundleIssuer{}}
	for _, is := range b.Issuers {
		ob.issuers[is.ID] = is
	}
	return ob, nil
}

// Keys returns the bundle's key set.
func (ob *OpenedBundle) Keys() ([]Key, error) { return ParseJWKS(ob.JWKS) }

// StatusBits returns the length of the status list in bits.
func (ob *OpenedBundle) StatusBits() int { return len(ob.bits) * 8 }

// Revoked reports whether bit idx of the status list is set: bit 0 is the
// most significant bit of the first byte. ok is false outside the list.
func (ob *OpenedBundle) Revoked(idx int) (revoked, ok bool) {
	if idx < 0 || idx >= len(ob.bits)*8 {
		return false, false
	}
	return ob.bits[idx/8]&(0x80>>(idx%8)) != 0, true
}

// Offline verdicts beyond registry's Verify* statuses.
const (
	OfflineOutOfScope    = "out_of_scope"   // signed, but outside its issuer's scope in the bundle
	OfflineUnknownIssuer = "unknown_issuer" // signed, but the bundle lists no such issuer
	OfflineNoStatus      = "status_unknown" // signed and in scope, but revocation cannot be checked offline
)

// OfflineResult is the verdict of an offline check.
type OfflineResult struct {
	Status string
	Reason string
	Claims *registry.TokenClaims
	KeyID  string
	Issuer *BundleIssuer
	Age    time.Duration // how old the bundle is
	Stale  bool          // the bundle is past its time-to-live
}

// Check verifies a token against the bundle with no network: the
// signature (with the bundle's keys), the issuer and its scope, and the
// revocation bit. Stale is set whenever the bundle is past its TTL,
// whatever the status: a stale bundle may not know a recent revocation.
func (ob *OpenedBundle) Check(ctx context.Context, token string, now time.Time) OfflineResult {
	res := OfflineResult{Age: now.Sub(ob.IssuedAt), Stale: !now.Before(ob.ExpiresAt)}
	claims, kid, err := ob.tokens.Parse(ctx, token)
	if err != nil {
		var te *registry.TokenError
		if errors.As(err, &te) {
			res.Status, res.Reason = te.Status, te.Reason
		} else {
			res.Status, res.Reason = registry.VerifyForged, err.Error()
		}
		return res
	}
	res.Claims, res.KeyID = claims, kid
	is, ok := ob.issuers[claims.Number[:13]]
	if !ok {
		res.Status, res.Reason = OfflineUnknownIssuer, "the bundle lists no issuing organisation "+claims.Number[:13]
		return res
	}
	res.Issuer = &is
	rec := registry.Issuer{Scope: is.Scope}
	if !rec.InScope(claims.OccupationCode, claims.Level) {
		res.Status = OfflineOutOfScope
		res.Reason = fmt.Sprintf("%s may certify %s up to level %d; the certificate is %s at level %d",
			is.Name, strings.Join(is.Scope.Occupations, ", "), is.Scope.MaxLevel, claims.OccupationCode, claims.Level)
		return res
	}
	if claims.StatusIndex == 0 {
		res.Status, res.Reason = OfflineNoStatus, "the token predates status lists: check it online"
		return res
	}
	revoked, ok := ob.Revoked(claims.StatusIndex)
	switch {
	case !ok:
		res.Status, res.Reason = OfflineNoStatus, fmt.Sprintf("status index %d is beyond this bundle's list of %d: the bundle is older than the certificate", claims.StatusIndex, ob.StatusBits())
	case revoked:
		res.Status, res.Reason = registry.VerifyRevoked, "the status list marks it revoked"
	default:
		res.Status = registry.VerifyValid
	}
	return res
}

// PeekTrustBundleJWKS returns the key set inside a bundle WITHOUT checking
// its signature: only for trust on first use, where the caller then shows
// the keys to a person and pins them.
func PeekTrustBundleJWKS(jws []byte) ([]byte, error) {
	parts := strings.Split(strings.TrimSpace(string(jws)), ".")
	if len(parts) != 3 {
		return nil, registry.Errorf(registry.EINVALID, "trust bundle: not a compact JWS")
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, registry.Errorf(registry.EINVALID, "trust bundle: the payload is not base64url")
	}
	var b struct {
		JWKS json.RawMessage `json:"jwks"`
	}
	if err := json.Unmarshal(body, &b); err != nil || len(b.JWKS) == 0 {
		return nil, registry.Errorf(registry.EINVALID, "trust bundle: the payload has no jwks")
	}
	return b.JWKS, nil
}
