package registry

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/skillreg/skillreg/registry/refdata"
)

// PublicCertificate is what anyone verifying a certificate may see: no ID
// number, and the holder's name masked.
type PublicCertificate struct {
	Number         string     `json:"number"`
	HolderName     string     `json:"holder_name"` // masked: 张*三
	OccupationCode string     `json:"occupation_code"`
	OccupationName string     `json:"occupation_name"`
	Level          Level      `json:"level"`
	LevelName      string     `json:"level_name"`
	IssuerID       string     `json:"issuer_id"`
	IssuerName     string     `json:"issuer_name"`
	IssuedOn       string     `json:"issued_on"`
	Status         string     `json:"status"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	RevokeReason   string     `json:"revoke_reason,omitempty"`
	// StatusIndex is the certificate's bit in the trust bundle's
	// revocation status list; absent for a certificate not yet indexed.
	StatusIndex int `json:"status_index,omitempty"`
}

// VerifyResult is the answer to a verification. Certificate is set for
// valid and revoked certificates only.
type VerifyResult struct {
	Status      string             `json:"status"`
	Reason      string             `json:"reason,omitempty"`
	Certificate *PublicCertificate `json:"certificate,omitempty"`
}

// Public returns the public view of c; issuerName may be "".
func (c *Certificate) Public(issuerName string) *PublicCertificate {
	p := &PublicCertificate{
		Number:         c.Number,
		HolderName:     MaskName(c.HolderName),
		OccupationCode: c.OccupationCode,
		Level:          c.Level,
		LevelName:      c.Level.Name(),
		IssuerID:       c.IssuerID,
		IssuerName:     issuerName,
		IssuedOn:       c.IssuedOn,
		Status:         c.Status,
		RevokedAt:      c.RevokedAt,
		RevokeReason:   c.RevokeReason,
		StatusIndex:    c.StatusIndex,
	}
	if o, ok := refdata.LookupOccupation(c.OccupationCode); ok {
		p.OccupationName = o.Name
	}
	return p
}

// Verify checks a certificate token against its signature and the
// registry's current record, which decides the status: a revoked
// certificate with a perfect signature is revoked. Everything a presenter
// can cause is a status in the result; the error is only for internal
// failures (the store is down), never "this token is bad".
func (r *Registry) Verify(ctx context.Context, token string) (VerifyResult, error) {
	res, err := r.verify(ctx, token)
	if err == nil && r.hooks.Verified != nil {
		r.hooks.Verified(res.Status)
	}
	return res, err
}

// verify answers a token in one of two ways, which give the same answer
// for every input.
//
// The record decides first: the certificate of the number the token
// states holds the keyed MAC (Vault.TokenMAC) of the token the registry
// issued for it. A presented token with that MAC is that token, byte for
// byte: its signature was made by our key, which is never deleted, so
// Parse would accept it. The MAC's key comes from the master key and is
// never stored, so write access to the database alone cannot make a MAC
// match a token of one's own. The claims are still held against the
// record, as on the signature path.
//
// Anything else (no record, no MAC, another encoding of the token, a
// token printed before a key rotation or a status index, a forgery, a
// malformed input) takes the full path: the signature, then the record.
// A genuine token whose record has no MAC yet (stored before token MACs)
// gets it there, so that its next verification takes the short path.
func (r *Registry) verify(ctx context.Context, token string) (VerifyResult, error) {
	var rec *Certificate // the record read on the first path, for the second
	if stated, err := r.tokens.Claims(token); err == nil {
		c, err := r.verificationRecord(ctx, stated.Number)
		if err == nil {
			if r.vault.TokenMACMatches(token, c.TokenMAC) {
				return r.answer(ctx, stated, c)
			}
			rec = c
		}
		// A failed read (missing or not) is left to the full path, which
		// decides what it means after the signature.
	}
	claims, kid, err := r.tokens.Parse(ctx, token)
	if err != nil {
		var te *TokenError
		if errors.As(err, &te) {
			return VerifyResult{Status: te.Status, Reason: te.Reason}, nil
		}
		return VerifyResult{}, err
	}
	c := rec
	if c == nil || c.Number != claims.Number {
		c, err = r.verificationRecord(ctx, claims.Number)
		if ErrorCode(err) == ENOTFOUND {
			return VerifyResult{Status: VerifyUnknown, Reason: "the signature is good but this registry has no certificate " + claims.Number}, nil
		}
		if err != nil {
			return VerifyResult{}, err
		}
	}
	res, err := r.answer(ctx, claims, c)
	if err == nil && len(c.TokenMAC) == 0 && kid == c.KeyID && *claims == c.Claims() {
		// The token is the certificate's current one, signed by its key:
		// remember its MAC. Losing this write costs only speed.
		if err := r.store.SetTokenMACs(ctx, map[string][]byte{c.Number: r.vault.TokenMAC(token)}); err != nil {
			r.log.LogAttrs(ctx, slog.LevelDebug, "verify: token MAC not stored", slog.String("number", c.Number), slog.String("error", err.Error()))
		}
	}
	return res, err
}

// verificationRecord reads what verify and answer need of the
// certificate numbered number: through the store's VerificationReader if
// it has one, else the whole record.
func (r *Registry) verificationRecord(ctx context.Context, number string) (*Certificate, error) {
	if vr, ok := r.store.(VerificationReader); ok {
		return vr.VerificationRecord(ctx, number)
	}
	return r.store.Certificate(ctx, number)
}

// answer holds a token's claims against the certificate's record and
// gives the status the record decides.
func (r *Registry) answer(ctx context.Context, claims *TokenClaims, c *Certificate) (VerifyResult, error) {
	want := c.Claims()
	if claims.StatusIndex == 0 {
		// A token printed before the certificate had a status index.
		want.StatusIndex = 0
	}
	if want != *claims {
		// Only our key could have signed these claims, yet they differ
		// from the record: treat as forged rather than vouch for either.
		return VerifyResult{Status: VerifyForged, Reason: "the token's contents do not match the registry's record"}, nil
	}
	name, err := r.issuerName(ctx, c.IssuerID)
	if err != nil {
		return VerifyResult{}, err
	}
	res := VerifyResult{Status: VerifyValid, Certificate: c.Public(name)}
	if c.Status == StatusRevoked {
		res.Status = VerifyRevoked
	}
	return res, nil
}
