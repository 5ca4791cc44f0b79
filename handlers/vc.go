package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
	"github.com/skillreg/skillreg/web"
)

// VCContext is the JSON-LD context of W3C Verifiable Credentials 2.0.
const VCContext = "https://www.w3.org/ns/credentials/v2"

// credential is a certificate as a W3C Verifiable Credential 2.0: the
// payload of its VC-JWT (VC-JOSE-COSE: the payload is the credential
// itself). It holds what the public verify page shows and no ID number.
type credential struct {
	Context           []string  `json:"@context"`
	ID                string    `json:"id"` // the public verify URL, which says the live status
	Type              []string  `json:"type"`
	Issuer            vcParty   `json:"issuer"`
	ValidFrom         string    `json:"validFrom"`
	CredentialSubject vcSubject `json:"credentialSubject"`
	CredentialStatus  *vcStatus `json:"credentialStatus,omitempty"`
	Iss               string    `json:"iss"` // the JWT claim generic libraries read: the issuer's DID
}

// vcStatus is a BitstringStatusListEntry: where a verifier reads the
// certificate's revocation bit.
type vcStatus struct {
	ID                   string `json:"id"`
	Type                 string `json:"type"`
	StatusPurpose        string `json:"statusPurpose"`
	StatusListIndex      string `json:"statusListIndex"` // a string, as Bitstring Status List requires
	StatusListCredential string `json:"statusListCredential"`
}

type vcParty struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// vcOrganization is the issuing organisation, named by its code: the
// code is no IRI, and the credential's issuer is the registry.
type vcOrganization struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type vcCode struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type vcLevel struct {
	Level int    `json:"level"`
	Name  string `json:"name"`
}

type vcSubject struct {
	Name                 string         `json:"name"` // masked: 张*三
	Occupation           vcCode         `json:"occupation"`
	Level                vcLevel        `json:"level"`
	Number               string         `json:"number"`
	IssuingOrganization  vcOrganization `json:"issuingOrganization"`
	IssuedOn             string         `json:"issuedOn"`
	EvaluationChannel    string         `json:"evaluationChannel,omitempty"`
	EvaluationChannelKey string         `json:"evaluationChannelCode,omitempty"`
}

// certificateVC answers GET /api/v1/certificates/{number}/vc with the
// certificate as a VC-JWT for the holder's digital wallet: header typ
// "vc+jwt", alg EdDSA, kid the DID URL of the active key in the registry's
// DID document (/.well-known/did.json, the same keys as
// /.well-known/jwks.json); issuer and iss the registry's did:web; the
// contexts of VC 2.0 and of skillreg's terms; and a credentialStatus that
// points at the public revocation list, so that any verifier learns of a
// later revocation.
//
// It needs a login with the same rights as reading the certificate
// (its issuer, the admin, officials of its province), although the
// credential holds only public data: numbers are sequential, so a public
// route would let anyone list every holder's masked name, occupation and
// level by counting, which the number+name lookup exists to prevent. The
// issuer hands the credential to the holder. A revoked certificate gets
// no new credential (409).
func (s *Server) certificateVC(c echo.Context) error {
	if s.signCredential == nil || s.did == "" {
		return registry.Errorf(registry.EINTERNAL, "no credential signer or DID configured")
	}
	ctx := c.Request().Context()
	cert, err := s.reg.Certificate(ctx, actor(c), c.Param("number"))
	if err != nil {
		return err
	}
	if cert.Status == registry.StatusRevoked {
		return registry.Errorf(registry.ECONFLICT, "certificate %s is revoked; it gets no credential", cert.Number)
	}
	token, err := s.reg.Token(ctx, cert)
	if err != nil {
		return err
	}
	orgName := ""
	if is, err := s.reg.Issuer(ctx, cert.IssuerID); err == nil {
		orgName = is.Name
	} else if registry.ErrorCode(err) != registry.ENOTFOUND {
		return err
	}
	pub := cert.Public(orgName)
	vc := credential{
		Context:   []string{VCContext, s.publicURL + web.ContextPath},
		ID:        s.verifyURL(token),
		Type:      []string{"VerifiableCredential", "SkillCertificate"},
		Issuer:    vcParty{ID: s.did, Name: "skillreg 职业技能等级证书登记系统"},
		ValidFrom: cert.IssuedOn + "T00:00:00+08:00",
		CredentialSubject: vcSubject{
			Name:                 pub.HolderName,
			Occupation:           vcCode{Code: pub.OccupationCode, Name: pub.OccupationName},
			Level:                vcLevel{Level: int(pub.Level), Name: pub.LevelName},
			Number:               pub.Number,
			IssuingOrganization:  vcOrganization{Code: pub.IssuerID, Name: orgName},
			IssuedOn:             pub.IssuedOn,
			EvaluationChannel:    cert.Channel.Name(),
			EvaluationChannelKey: string(cert.Channel),
		},
		Iss: s.did,
	}
	// Certificates stored before status lists get their index when the
	// server starts (AssignStatusIndexes); one without is left without a
	// status rather than pointed at a bit that is not its own.
	if cert.StatusIndex > 0 {
		list := s.publicURL + verify.StatusListPath
		idx := strconv.Itoa(cert.StatusIndex)
		vc.CredentialStatus = &vcStatus{
			ID: list + "#" + idx, Type: "BitstringStatusListEntry", StatusPurpose: "revocation",
			StatusListIndex: idx, StatusListCredential: list,
		}
	}
	jwt, _, err := s.signCredential(ctx, s.did+"#", map[string]any{"typ": "vc+jwt", "cty": "vc"}, vc)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/vc+jwt", []byte(jwt))
}
