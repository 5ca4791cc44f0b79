package handlers

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/ratelimit"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/web"
)

// publicCertificateJSON is a certificate as anyone verifying it sees it:
// no ID number, the holder's name masked.
type publicCertificateJSON struct {
	Number         string         `json:"number"`
	HolderName     string         `json:"holder_name"`
	OccupationCode string         `json:"occupation_code"`
	OccupationName string         `json:"occupation_name"`
	Level          registry.Level `json:"level"`
	LevelName      string         `json:"level_name"`
	IssuerID       string         `json:"issuer_id"`
	IssuerName     string         `json:"issuer_name"`
	IssuedOn       string         `json:"issued_on"`
	Status         string         `json:"status"`
	RevokedAt      *time.Time     `json:"revoked_at,omitempty"`
	RevokeReason   string         `json:"revoke_reason,omitempty"`
	StatusIndex    int            `json:"status_index,omitempty"`
}

// verifyResultJSON is the answer to a verification by token.
type verifyResultJSON struct {
	Status      string                 `json:"status"`
	Reason      string                 `json:"reason,omitempty"`
	Certificate *publicCertificateJSON `json:"certificate,omitempty"`
}

func toVerifyResultJSON(r registry.VerifyResult) verifyResultJSON {
	out := verifyResultJSON{Status: r.Status, Reason: r.Reason}
	if p := r.Certificate; p != nil {
		out.Certificate = &publicCertificateJSON{
			Number: p.Number, HolderName: p.HolderName, OccupationCode: p.OccupationCode,
			OccupationName: p.OccupationName, Level: p.Level, LevelName: p.LevelName,
			IssuerID: p.IssuerID, IssuerName: p.IssuerName, IssuedOn: p.IssuedOn, Status: p.Status,
			RevokedAt: p.RevokedAt, RevokeReason: p.RevokeReason, StatusIndex: p.StatusIndex,
		}
	}
	return out
}

// lookupResultJSON is the answer to a lookup by number and name: a
// verification's answer, and whether the ID number matched when one was
// given.
type lookupResultJSON struct {
	verifyResultJSON
	IDMatches *bool `json:"id_matches,omitempty"`
}

func toLookupResultJSON(r registry.LookupResult) lookupResultJSON {
	return lookupResultJSON{verifyResultJSON: toVerifyResultJSON(r.VerifyResult), IDMatches: r.IDMatches}
}

// verifyRequest is the body of POST /api/v1/verify: a token (from a QR
// code), or a number and name with an optional ID number.
type verifyRequest struct {
	Token    string `json:"token"`
	Number   string `json:"number"`
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

// verifyAPI answers POST /api/v1/verify. The two kinds of request have
// different limits: a token cannot be guessed, a number and name can.
func (s *Server) verifyAPI(c echo.Context) error {
	var req verifyRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	byNumber := req.Number != "" || req.Name != "" || req.IDNumber != ""
	c.Response().Header().Set("Cache-Control", "no-store")
	switch {
	case req.Token != "" && byNumber:
		return registry.FieldError("token", "send either the token, or number and name, not both")
	case req.Token != "":
		if err := s.take(c, ratelimit.NameVerify); err != nil {
			return err
		}
		res, err := s.reg.Verify(c.Request().Context(), req.Token)
		if err != nil {
			return err
		}
		return writeVerifyJSON(c, http.StatusOK, toVerifyResultJSON(res))
	case byNumber:
		if err := s.take(c, ratelimit.NameLookup); err != nil {
			return err
		}
		if strings.TrimSpace(req.Number) == "" {
			return registry.FieldError("number", "send the certificate number with the name")
		}
		res, err := s.reg.LookupAs(c.Request().Context(), lookupAsker(c), req.Number, req.Name, req.IDNumber)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, toLookupResultJSON(res))
	default:
		if err := s.take(c, ratelimit.NameVerify); err != nil {
			return err
		}
		return registry.FieldError("token", "send the certificate token (the part of the QR link after /v/), or number and name")
	}
}

// lookupPage answers the home page's form (POST /lookup, number and name
// as an ordinary form): the verify page with the answer. It changes
// nothing, so it needs no CSRF token.
func (s *Server) lookupPage(c echo.Context) error {
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationForm {
		return s.pageError(c, registry.FieldError("body", "请使用页面上的表单提交 · send the form as application/x-www-form-urlencoded"))
	}
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, 8<<10)
	number, name := c.FormValue("number"), c.FormValue("name")
	if strings.TrimSpace(number) == "" || strings.TrimSpace(name) == "" {
		return s.pageError(c, registry.FieldError("number", "请填写证书编号和持证人姓名 · Enter the certificate number and the holder's name."))
	}
	res, err := s.reg.Lookup(c.Request().Context(), number, name, "")
	if err != nil {
		return s.pageError(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusOK, "verify", web.VerifyView(res.VerifyResult, s.now()))
}

// lookupAsker names the caller of a lookup for the audit entry of its ID
// check: the API key, the logged-in user, or anonymous.
func lookupAsker(c echo.Context) registry.Asker {
	a := registry.Asker{RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
	if k := apiKeyOf(c); k != nil {
		a.Actor = "api_key:" + k.ID
	} else if u := actor(c); u != nil {
		a.Actor = u.Username
	}
	return a
}
