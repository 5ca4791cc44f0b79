package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/web"
)

// dashboardPage serves the officials' dashboard. The page itself holds no
// figures: its script reads them from /api/v1/stats/* with the session
// cookie, so that the page and the API can never disagree and the API's
// rules (a provincial official sees their own province) are the only
// ones. An anonymous browser is sent to the login form; issuer users get a
// 403 page.
func (s *Server) dashboardPage(c echo.Context) error {
	u, err := s.requirePage(c, registry.RoleOfficial, registry.RoleAdmin)
	if u == nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return s.render(c, http.StatusOK, "dashboard", web.DashboardView(u, s.csrfToken(c)))
}
