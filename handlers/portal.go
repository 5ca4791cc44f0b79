package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/web"
)

// portalPage is the portal of an issuer's staff: the page is a shell and
// web/static/portal.js does the work through the JSON API, authenticated
// by the session cookie and the CSRF token the page carries. The admin
// gets the same page without the issue and import forms.
func (s *Server) portalPage(c echo.Context) error {
	u, err := s.requirePage(c, registry.RoleIssuer, registry.RoleAdmin)
	if u == nil {
		return err
	}
	issuerName := ""
	if u.Role == registry.RoleIssuer {
		is, err := s.reg.Issuer(c.Request().Context(), u.IssuerID)
		if err != nil {
			return err
		}
		issuerName = is.Name
	}
	b, err := web.RenderPortal(web.NewPortalView(s.csrfToken(c), u.Username, issuerName, u.Role == registry.RoleIssuer))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.HTMLBlob(http.StatusOK, b)
}
