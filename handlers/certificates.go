package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/refdata"
)

// certificateJSON is a certificate as its issuer sees it: the holder's full
// name and masked ID number, never the ID number itself.
type certificateJSON struct {
	Number         string     `json:"number"`
	Status         string     `json:"status"`
	IssuerID       string     `json:"issuer_id"`
	HolderName     string     `json:"holder_name"`
	HolderIDMasked string     `json:"holder_id_masked"`
	OccupationCode string     `json:"occupation_code"`
	OccupationName string     `json:"occupation_name"`
	Level          int        `json:"level"`
	LevelName      string     `json:"level_name"`
	Channel        string     `json:"channel"`
	IssuedOn       string     `json:"issued_on"`
	ExternalRef    string     `json:"external_ref,omitempty"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	RevokeReason   string     `json:"revoke_reason,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	VerifyURL      string     `json:"verify_url,omitempty"`
	QRURL          string     `json:"qr_url"`
	Token          string     `json:"token,omitempty"`
}

func (s *Server) certificateJSON(c *registry.Certificate, token string) certificateJSON {
	out := certificateJSON{
		Number: c.Number, Status: c.Status, IssuerID: c.IssuerID,
		HolderName: c.HolderName, HolderIDMasked: c.HolderIDMasked,
		OccupationCode: c.OccupationCode, Level: int(c.Level), LevelName: c.Level.Name(),
		Channel: string(c.Channel), IssuedOn: c.IssuedOn, ExternalRef: c.ExternalRef,
		RevokedAt: c.RevokedAt, RevokeReason: c.RevokeReason, CreatedAt: c.CreatedAt,
		QRURL: s.publicURL + "/api/v1/certificates/" + c.Number + "/qr.png",
	}
	if o, ok := refdata.LookupOccupation(c.OccupationCode); ok {
		out.OccupationName = o.Name
	}
	if token != "" {
		out.Token = token
		out.VerifyURL = s.verifyURL(token)
	}
	return out
}

func (s *Server) verifyURL(token string) string { return s.publicURL + "/v/" + token }

func (s *Server) issueCertificate(c echo.Context) error {
	var in registry.IssueInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cert, tok, created, err := s.reg.IssueSigned(ctx, actor(c), in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return c.JSON(status, s.certificateJSON(cert, tok))
}

// readableCertificate returns the certificate named in the path, if the
// actor may read it, with its token.
func (s *Server) readableCertificate(c echo.Context) (*registry.Certificate, string, error) {
	ctx := c.Request().Context()
	cert, err := s.reg.Certificate(ctx, actor(c), c.Param("number"))
	if err != nil {
		return nil, "", err
	}
	tok, err := s.reg.Token(ctx, cert)
	if err != nil {
		return nil, "", err
	}
	return cert, tok, nil
}

func (s *Server) getCertificate(c echo.Context) error {
	cert, tok, err := s.readableCertificate(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.certificateJSON(cert, tok))
}

type listResponse struct {
	Items []certificateJSON `json:"items"`
	Total int               `json:"total"`
	Page  int               `json:"page"`
}

func (s *Server) listCertificates(c echo.Context) error {
	if err := checkQuery(c, "q", "status", "level", "occupation", "page", "per_page"); err != nil {
		return err
	}
	f := registry.CertificateFilter{
		Status:     c.QueryParam("status"),
		Occupation: c.QueryParam("occupation"),
		Query:      c.QueryParam("q"),
	}
	var err error
	if f.Level, err = intParam(c, "level"); err != nil {
		return err
	}
	if f.Page, f.PerPage, err = pageParams(c, 20, 100); err != nil {
		return err
	}
	list, total, err := s.reg.Certificates(c.Request().Context(), actor(c), f)
	if err != nil {
		return err
	}
	out := listResponse{Items: make([]certificateJSON, 0, len(list)), Total: total, Page: f.Page}
	for _, cert := range list {
		out.Items = append(out.Items, s.certificateJSON(cert, ""))
	}
	return c.JSON(http.StatusOK, out)
}

func intParam(c echo.Context, name string) (registry.Level, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1_000_000 {
		return 0, registry.FieldError(name, "%s must be a positive whole number", name)
	}
	return registry.Level(n), nil
}

type revokeRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) revokeCertificate(c echo.Context) error {
	var req revokeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cert, err := s.reg.Revoke(c.Request().Context(), actor(c), c.Param("number"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.certificateJSON(cert, ""))
}

func (s *Server) certificateQR(c echo.Context) error {
	size := 320
	if v := c.QueryParam("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 64 || n > 2048 {
			return registry.FieldError("size", "size must be a number of pixels from 64 to 2048")
		}
		size = n
	}
	_, tok, err := s.readableCertificate(c)
	if err != nil {
		return err
	}
	png, err := s.qrPNG(s.verifyURL(tok), size)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, "image/png", png)
}
