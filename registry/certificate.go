package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skillreg/skillreg/registry/refdata"
)

// IssueInput is what an issuer's user sends to issue a certificate.
type IssueInput struct {
	HolderName     string  `json:"holder_name"`
	IDNumber       string  `json:"id_number"`
	OccupationCode string  `json:"occupation_code"`
	Level          Level   `json:"level"`
	Channel        Channel `json:"channel"`
	IssuedOn       string  `json:"issued_on"` // YYYY-MM-DD; empty means today (China time)
	ExternalRef    string  `json:"external_ref"`
	// TrainingRecordID optionally names the organisation's training record
	// of the same holder that led to this certificate; issuing sets the
	// record's certificate number.
	TrainingRecordID string `json:"training_record_id,omitempty"`
	// NameChangeReason confirms that the holder, whose ID number already
	// has a valid certificate under another name, has changed their name
	// (see Registry.checkIdentity); the change is audited.
	NameChangeReason string `json:"name_change_reason,omitempty"`
}

// MaxNameChangeReasonRunes bounds a name change's stated reason.
const MaxNameChangeReasonRunes = 500

// validate checks and normalises the input; it returns the canonical ID
// number and the issue date.
func (in *IssueInput) validate(today time.Time) (string, time.Time, error) {
	name, err := NormalizeName(in.HolderName)
	if err != nil {
		return "", time.Time{}, FieldError("holder_name", "%s", err)
	}
	in.HolderName = name
	id, err := NormalizeIDNumber(in.IDNumber)
	if err != nil {
		return "", time.Time{}, err
	}
	if _, ok := refdata.LookupOccupation(in.OccupationCode); !ok {
		return "", time.Time{}, FieldError("occupation_code", "%q is not an occupation of the 2022 classification (format X-XX-XX-XX, e.g. 6-18-01-01)", in.OccupationCode)
	}
	if !in.Level.Valid() {
		return "", time.Time{}, FieldError("level", "level must be 1 (一级/高级技师, highest) to 5 (五级/初级工)")
	}
	if !in.Channel.Valid() {
		return "", time.Time{}, FieldError("channel", `channel must be one of "social", "enterprise", "school", "special"`)
	}
	day := today
	if in.IssuedOn != "" {
		d, err := time.ParseInLocation("2006-01-02", in.IssuedOn, ChinaTime)
		if err != nil {
			return "", time.Time{}, FieldError("issued_on", "issued_on must be a date YYYY-MM-DD")
		}
		if d.After(today) {
			return "", time.Time{}, FieldError("issued_on", "issued_on cannot be in the future")
		}
		if d.Year() < 2000 {
			return "", time.Time{}, FieldError("issued_on", "issued_on must be in 2000 or later (older certificates use legacy numbers)")
		}
		day = d
	}
	if err := BornBy(id, day); err != nil {
		return "", time.Time{}, err
	}
	in.ExternalRef = strings.TrimSpace(in.ExternalRef)
	if len(in.ExternalRef) > 128 {
		return "", time.Time{}, FieldError("external_ref", "external_ref may have at most 128 bytes")
	}
	in.NameChangeReason = strings.TrimSpace(in.NameChangeReason)
	if utf8.RuneCountInString(in.NameChangeReason) > MaxNameChangeReasonRunes || strings.ContainsFunc(in.NameChangeReason, unicode.IsControl) {
		return "", time.Time{}, FieldError("name_change_reason", "name_change_reason may have at most %d characters and no control characters", MaxNameChangeReasonRunes)
	}
	return id, day, nil
}

// Issue issues a certificate for the actor's organisation. Issuer users
// only. EINVALID for bad fields (the error names the field), EFORBIDDEN for
// an occupation or level outside the issuer's scope. If the issuer already
// issued a certificate with the same external_ref, that certificate is
// returned with created false and nothing new is written.
func (r *Registry) Issue(ctx context.Context, actor *User, in IssueInput) (*Certificate, bool, error) {
	out, err := r.IssueMany(ctx, actor, []IssueInput{in}) // issuemany.go
	if err != nil {
		return nil, false, err
	}
	return out[0].Certificate, out[0].Created, out[0].Err
}

// prepareIssue makes every check Issue makes before it writes: the role,
// the actor's issuer, the fields (normalising in), the scope and the
// holder's identity (checkIdentity). It returns the issuer, the canonical
// ID number, the issue date, and the holder's latest certificate under
// their former name when in confirms a change of name. Issue and
// CheckIssue share it so that a dry run can never disagree with a real
// one about the input.
func (r *Registry) prepareIssue(ctx context.Context, actor *User, in *IssueInput) (*Issuer, string, time.Time, *Certificate, error) {
	if err := requireRole(actor, RoleIssuer); err != nil {
		return nil, "", time.Time{}, nil, err
	}
	is, err := r.store.Issuer(ctx, actor.IssuerID)
	if err != nil {
		return nil, "", time.Time{}, nil, err
	}
	id, day, err := r.checkIssue(is, in)
	if err != nil {
		return nil, "", time.Time{}, nil, err
	}
	prev, err := r.checkIdentity(ctx, id, in)
	if err != nil {
		return nil, "", time.Time{}, nil, err
	}
	return is, id, day, prev, nil
}

// checkIssue is prepareIssue's checks of the input alone, for an issuer
// already read: the fields (normalising in) and the scope. It returns the
// canonical ID number and the issue date.
func (r *Registry) checkIssue(is *Issuer, in *IssueInput) (string, time.Time, error) {
	now := r.now().In(ChinaTime)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, ChinaTime)
	id, day, err := in.validate(today)
	if err != nil {
		return "", time.Time{}, err
	}
	if !is.InScope(in.OccupationCode, in.Level) {
		return "", time.Time{}, Errorf(EFORBIDDEN, "%s may certify occupations %s up to level %d (%s); %s at level %d (%s) is outside its scope",
			is.Name, strings.Join(is.Scope.Occupations, ", "), is.Scope.MaxLevel, is.Scope.MaxLevel.Name(), in.OccupationCode, in.Level, in.Level.Name())
	}
	return id, day, nil
}

// checkIdentity keeps one name per person. The holder's name is the name
// on their latest valid certificate (of any issuer); issuing under
// another name is EIDENTITY, naming the masked current name, unless in
// states a NameChangeReason, in which case that latest certificate is
// returned so that Issue can audit the change. Revoked certificates do
// not count: revoking a certificate issued under a misspelt name and
// issuing it again correctly is the way to correct a name. Names compare
// in their canonical form.
func (r *Registry) checkIdentity(ctx context.Context, id string, in *IssueInput) (*Certificate, error) {
	certs, err := r.store.CertificatesByHolder(ctx, r.vault.HashID(id))
	if err != nil {
		return nil, err
	}
	return identityOf(certs, in)
}

// identityOf is checkIdentity's judgement of in against certs, the
// holder's certificates, newest first.
func identityOf(certs []*Certificate, in *IssueInput) (*Certificate, error) {
	var latest *Certificate
	for _, c := range certs {
		if c.Status == StatusValid && (latest == nil || c.CreatedAt.After(latest.CreatedAt)) {
			latest = c
		}
	}
	if latest == nil || normalizeName(latest.HolderName) == in.HolderName {
		return nil, nil
	}
	if in.NameChangeReason != "" {
		return latest, nil
	}
	masked := MaskName(latest.HolderName)
	return nil, &identityError{masked: masked, err: &Error{Code: EIDENTITY, Field: "holder_name", Message: fmt.Sprintf(
		"this ID number already holds a valid certificate under the name %s; if the holder has changed their name, issue again with name_change_reason saying so", masked)}}
}

// identityError is an EIDENTITY *Error that also carries the masked name
// the ID number is registered under.
type identityError struct {
	err    *Error
	masked string
}

func (e *identityError) Error() string { return e.err.Error() }
func (e *identityError) Unwrap() error { return e.err }

// IdentityConflictName returns the masked registered name of an
// EIDENTITY error from Issue or CheckIssue.
func IdentityConflictName(err error) (string, bool) {
	var ie *identityError
	if errors.As(err, &ie) {
		return ie.masked, true
	}
	return "", false
}

// canRead reports whether actor may read certificate c: the admin, users
// of the issuing organisation, national officials, and officials of the
// issuer's province.
func canRead(actor *User, c *Certificate) bool {
	switch actor.Role {
	case RoleAdmin:
		return true
	case RoleIssuer:
		return actor.IssuerID == c.IssuerID
	case RoleOfficial:
		return actor.Province == "" || actor.Province == c.IssuerID[5:7]
	}
	return false
}

// Certificate returns one certificate to a user allowed to read it. A
// certificate the actor may not read is ENOTFOUND, exactly as a missing
// one, so that the answer leaks nothing.
func (r *Registry) Certificate(ctx context.Context, actor *User, number string) (*Certificate, error) {
	if actor == nil {
		return nil, Errorf(EUNAUTHORIZED, "login required")
	}
	c, err := r.store.Certificate(ctx, number)
	if err != nil {
		return nil, err
	}
	if !canRead(actor, c) {
		return nil, Errorf(ENOTFOUND, "no certificate %s", number)
	}
	return c, nil
}

// Certificates lists certificates the actor may read: an issuer its own,
// the admin all. Officials use statistics, not listings.
func (r *Registry) Certificates(ctx context.Context, actor *User, f CertificateFilter) ([]*Certificate, int, error) {
	if err := requireRole(actor, RoleAdmin, RoleIssuer); err != nil {
		return nil, 0, err
	}
	if actor.Role == RoleIssuer {
		f.IssuerID = actor.IssuerID
	}
	if f.Status != "" && f.Status != StatusValid && f.Status != StatusRevoked {
		return nil, 0, FieldError("status", `status must be "valid" or "revoked"`)
	}
	if f.Level != 0 && !f.Level.Valid() {
		return nil, 0, FieldError("level", "level must be 1 to 5")
	}
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PerPage < 1 || f.PerPage > 100 {
		f.PerPage = 20
	}
	if len(f.Query) > 64 {
		return nil, 0, FieldError("q", "q may have at most 64 bytes")
	}
	return r.store.Certificates(ctx, f)
}

// Revoke revokes a certificate. Users of the issuing organisation and the
// admin may; to anyone else the certificate does not exist (ENOTFOUND).
// EINVALID without a reason, ECONFLICT if it is already revoked.
func (r *Registry) Revoke(ctx context.Context, actor *User, number, reason string) (*Certificate, error) {
	if err := requireRole(actor, RoleAdmin, RoleIssuer); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return nil, FieldError("reason", "say why the certificate is revoked")
	case n > 500:
		return nil, FieldError("reason", "a reason may have at most 500 characters")
	}
	c, err := r.store.Certificate(ctx, number)
	if err != nil {
		return nil, err
	}
	if actor.Role == RoleIssuer && actor.IssuerID != c.IssuerID {
		return nil, Errorf(ENOTFOUND, "no certificate %s", number)
	}
	mark, err := r.stats.Begin(ctx, c.HolderIDHash) // statistics: see registry/stats/sync.go
	if err != nil {
		return nil, err
	}
	c, err = r.store.RevokeCertificate(ctx, number, reason, r.now().UTC())
	if err != nil {
		return nil, err
	}
	r.status.changed()
	r.stats.End(ctx, mark) // statistics: never fails the revocation
	r.audit(ctx, "certificate.revoked", actor, "number", c.Number, "issuer", c.IssuerID, "reason", reason)
	if r.hooks.Revoked != nil {
		r.hooks.Revoked(c)
	}
	return c, nil
}

// Claims returns the token claims of a certificate.
func (c *Certificate) Claims() TokenClaims {
	return TokenClaims{
		Number:         c.Number,
		OccupationCode: c.OccupationCode,
		Level:          c.Level,
		IssuedOn:       c.IssuedOn,
		HolderMasked:   MaskName(c.HolderName),
		StatusIndex:    c.StatusIndex,
	}
}

// Token returns the certificate's signed token, made with the key recorded
// at issue; signing is deterministic, so it is the same token every time
// (the one Issue made is returned without signing again).
func (r *Registry) Token(ctx context.Context, c *Certificate) (string, error) {
	if c.token != "" {
		return c.token, nil
	}
	tok, _, err := r.tokens.Sign(ctx, c.Claims(), c.KeyID)
	return tok, err
}

// sealTokens signs the token of each newly stored certificate and stores
// its MAC (verification.go), all in one store write. It never fails the
// issuance: a certificate without a MAC verifies by its signature, and
// its first genuine verification stores the MAC.
func (r *Registry) sealTokens(ctx context.Context, certs []*Certificate) {
	macs := make(map[string][]byte, len(certs))
	for _, c := range certs {
		tok, _, err := r.tokens.Sign(ctx, c.Claims(), c.KeyID)
		if err != nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "issue: token not signed for its MAC", slog.String("number", c.Number), slog.String("error", err.Error()))
			continue
		}
		c.token, c.TokenMAC = tok, r.vault.TokenMAC(tok)
		macs[c.Number] = c.TokenMAC
	}
	if err := r.store.SetTokenMACs(context.WithoutCancel(ctx), macs); err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "issue: token MACs not stored", slog.Int("count", len(macs)), slog.String("error", err.Error()))
	}
}

// IssueSigned issues a certificate as Issue does and returns it with its
// signed token, for callers that hand both back at once (the issuing API):
// one call into the domain. Signing follows the store's commit, as Issue
// promises, so if it fails the certificate stands and a retry with the
// same external_ref returns it with its token.
func (r *Registry) IssueSigned(ctx context.Context, actor *User, in IssueInput) (c *Certificate, token string, created bool, err error) {
	c, created, err = r.Issue(ctx, actor, in)
	if err != nil {
		return nil, "", false, err
	}
	token, err = r.Token(ctx, c)
	if err != nil {
		return nil, "", false, err
	}
	return c, token, created, nil
}
