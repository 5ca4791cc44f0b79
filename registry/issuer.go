package registry

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/skillreg/skillreg/registry/refdata"
)

// IssuerInput is what an admin sends to register an issuing organisation.
type IssuerInput struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	OrgCode  string `json:"org_code"`
	Province string `json:"province"`
	Site     string `json:"site"`
	Scope    Scope  `json:"scope"`
}

// Validate checks every field and returns the first problem as an EINVALID
// *Error naming the field.
func (in *IssuerInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	switch n := utf8.RuneCountInString(in.Name); {
	case n == 0:
		return FieldError("name", "the organisation's name is required")
	case n > 100:
		return FieldError("name", "the name may have at most 100 characters")
	}
	if in.Kind != "S" && in.Kind != "Y" {
		return FieldError("kind", `kind must be "S" (social evaluation organisation) or "Y" (employer)`)
	}
	if len(in.OrgCode) != 4 || !allDigits(in.OrgCode) {
		return FieldError("org_code", `org_code must be 4 digits ("0000" if filed with a province)`)
	}
	if len(in.Province) != 2 || !allDigits(in.Province) {
		return FieldError("province", "province must be a 2-digit province code such as 11 or 44")
	}
	if _, ok := refdata.ProvinceName(in.Province); !ok {
		return FieldError("province", "%s is not a province code", in.Province)
	}
	if len(in.Site) != 6 || !allDigits(in.Site) {
		return FieldError("site", "site must be 6 digits")
	}
	if len(in.Scope.Occupations) == 0 {
		return FieldError("scope.occupations", "list at least one occupation code or category prefix, e.g. 6-18")
	}
	if len(in.Scope.Occupations) > 500 {
		return FieldError("scope.occupations", "at most 500 entries")
	}
	for _, p := range in.Scope.Occupations {
		if !refdata.IsOccupationPrefix(p) {
			return FieldError("scope.occupations", "%q is not an occupation code or category of the 2022 classification", p)
		}
	}
	if !in.Scope.MaxLevel.Valid() {
		return FieldError("scope.max_level", "max_level must be 1 (highest) to 5")
	}
	return nil
}

// IssuerID returns the issuer ID the input describes: kind, organisation
// code, province and site, which also begin each of its certificate numbers.
func (in *IssuerInput) IssuerID() string {
	return in.Kind + in.OrgCode + in.Province + in.Site
}

// CreateIssuer registers an issuing organisation. Admin only. EINVALID for
// bad fields, ECONFLICT if an issuer with the same kind, organisation code,
// province and site exists.
func (r *Registry) CreateIssuer(ctx context.Context, actor *User, in IssuerInput) (*Issuer, error) {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	is := &Issuer{
		ID: in.IssuerID(), Name: in.Name, Kind: in.Kind, OrgCode: in.OrgCode,
		Province: in.Province, Site: in.Site,
		Scope:     Scope{Occupations: append([]string(nil), in.Scope.Occupations...), MaxLevel: in.Scope.MaxLevel},
		CreatedAt: r.now().UTC(),
	}
	if err := r.store.CreateIssuer(ctx, is); err != nil {
		return nil, err
	}
	r.audit(ctx, "issuer.created", actor, "issuer", is.ID)
	return is, nil
}

// Issuers lists issuing organisations. Any logged-in user may list them
// (their names appear on public verification pages anyway).
func (r *Registry) Issuers(ctx context.Context, actor *User) ([]*Issuer, error) {
	if actor == nil {
		return nil, Errorf(EUNAUTHORIZED, "login required")
	}
	return r.store.Issuers(ctx)
}

// Issuer returns one issuing organisation. ENOTFOUND if there is none.
func (r *Registry) Issuer(ctx context.Context, id string) (*Issuer, error) {
	return r.store.Issuer(ctx, id)
}

// InScope reports whether the issuer may certify occupation at level.
func (is *Issuer) InScope(occupation string, level Level) bool {
	if level < is.Scope.MaxLevel {
		return false // a smaller number is a higher level
	}
	for _, p := range is.Scope.Occupations {
		if occupation == p || strings.HasPrefix(occupation, p+"-") {
			return true
		}
	}
	return false
}
