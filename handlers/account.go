package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/web"
)

// usersPage is the admin's user management: the page is a shell and
// web/static/users.js does the work through the JSON API, authenticated by
// the session cookie and the CSRF token the page carries.
func (s *Server) usersPage(c echo.Context) error {
	u, err := s.requirePage(c, registry.RoleAdmin)
	if u == nil {
		return err
	}
	return s.renderAccountPage(c, web.RenderUsers, u)
}

// accountPage is where any logged-in user changes their own password.
func (s *Server) accountPage(c echo.Context) error {
	u, err := s.requirePage(c, registry.RoleAdmin, registry.RoleIssuer, registry.RoleOfficial)
	if u == nil {
		return err
	}
	return s.renderAccountPage(c, web.RenderAccount, u)
}

func (s *Server) renderAccountPage(c echo.Context, render func(web.AccountView) ([]byte, error), u *registry.User) error {
	b, err := render(web.NewAccountView(s.csrfToken(c), u.Username, u.ID, roleHome[u.Role]))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.HTMLBlob(http.StatusOK, b)
}
