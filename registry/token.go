package registry

import "context"

// Verification outcomes. Verification answers with one of these, never
// with an error, for anything a presenter of a token can cause.
const (
	VerifyValid     = "valid"     // good signature, in the registry, not revoked
	VerifyRevoked   = "revoked"   // good signature, revoked in the registry
	VerifyForged    = "forged"    // bad signature or unknown key
	VerifyUnknown   = "unknown"   // well-formed and signed, but not in this registry
	VerifyMalformed = "malformed" // not a certificate token at all
	VerifyNotFound  = "not_found" // number + name lookup that matched nothing
)

// TokenClaims are what a certificate token carries: just enough to check a
// certificate offline, and no ID number. The issuing organisation is the
// first 13 characters of Number.
type TokenClaims struct {
	Number         string
	OccupationCode string
	Level          Level
	IssuedOn       string // YYYY-MM-DD
	HolderMasked   string
	StatusIndex    int // revocation status-list index; 0 in tokens made before status lists
}

// TokenError says why a token failed: Status is VerifyMalformed or
// VerifyForged; Reason is for logs and the curious, never a secret.
type TokenError struct {
	Status string
	Reason string
}

func (e *TokenError) Error() string { return "token " + e.Status + ": " + e.Reason }

// TokenCodec signs and checks certificate tokens. verify.Tokens implements
// it; the registry depends only on this interface.
type TokenCodec interface {
	// Sign returns the token for c signed with key kid, or with the active
	// key when kid is "", and the kid it used. Signing is deterministic:
	// the same claims and key give the same token.
	Sign(ctx context.Context, c TokenClaims, kid string) (token, usedKID string, err error)
	// Parse checks a token's form and signature and returns its claims and
	// the kid that signed it. A token that fails returns a *TokenError;
	// any other error is internal (the keys could not be loaded).
	Parse(ctx context.Context, token string) (*TokenClaims, string, error)
	// Claims decodes the claims a token states, without checking its
	// signature or its form: it vouches for nothing. The registry uses it
	// only to find the record whose stored token MAC then decides; every
	// other answer comes from Parse. A token it cannot decode returns a
	// *TokenError.
	Claims(token string) (*TokenClaims, error)
	// ActiveKeyID returns the kid of the key that signs new certificates,
	// so that the registry can record it before signing.
	ActiveKeyID(ctx context.Context) (string, error)
}
