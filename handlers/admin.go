package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

// issuerJSON is an issuing organisation as the admin API shows it.
type issuerJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	OrgCode   string    `json:"org_code"`
	Province  string    `json:"province"`
	Site      string    `json:"site"`
	Scope     scopeJSON `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
}

// scopeJSON is what an issuer may certify: occupation code prefixes and
// the highest level.
type scopeJSON struct {
	Occupations []string       `json:"occupations"`
	MaxLevel    registry.Level `json:"max_level"`
}

func toIssuerJSON(is *registry.Issuer) issuerJSON {
	return issuerJSON{
		ID: is.ID, Name: is.Name, Kind: is.Kind, OrgCode: is.OrgCode, Province: is.Province, Site: is.Site,
		Scope:     scopeJSON{Occupations: is.Scope.Occupations, MaxLevel: is.Scope.MaxLevel},
		CreatedAt: is.CreatedAt,
	}
}

// userJSON is an account as the admin API shows it: never the password
// hash or the token version.
type userJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	IssuerID  string    `json:"issuer_id,omitempty"`
	Province  string    `json:"province,omitempty"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

func toUserJSON(u *registry.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Role: u.Role, IssuerID: u.IssuerID,
		Province: u.Province, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

// listJSON is the {"items": [...]} envelope of the list routes, with each
// item converted to its response type. A nil list stays nil (null), as
// the route sent it before it had response types; a route that promises
// [] passes an empty list.
type listJSON[T any] struct {
	Items []T `json:"items"`
}

func toListJSON[D, T any](list []D, conv func(D) T) listJSON[T] {
	if list == nil {
		return listJSON[T]{}
	}
	out := listJSON[T]{Items: make([]T, len(list))}
	for i, d := range list {
		out.Items[i] = conv(d)
	}
	return out
}

func (s *Server) createIssuer(c echo.Context) error {
	var in registry.IssuerInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	is, err := s.reg.CreateIssuer(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toIssuerJSON(is))
}

func (s *Server) listIssuers(c echo.Context) error {
	if err := checkQuery(c); err != nil {
		return err
	}
	list, err := s.reg.Issuers(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	if list == nil {
		list = []*registry.Issuer{}
	}
	return c.JSON(http.StatusOK, toListJSON(list, toIssuerJSON))
}

func (s *Server) createUser(c echo.Context) error {
	var in registry.UserInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	u, err := s.reg.CreateUser(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toUserJSON(u))
}

// listUsers lists the users (admin): ?role=admin|issuer|official,
// ?status=active|disabled.
func (s *Server) listUsers(c echo.Context) error {
	if err := checkQuery(c, "role", "status"); err != nil {
		return err
	}
	list, err := s.reg.Users(c.Request().Context(), actor(c), registry.UserFilter{Role: c.QueryParam("role"), Status: c.QueryParam("status")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toListJSON(list, toUserJSON))
}

func (s *Server) disableUser(c echo.Context) error { return s.setUserDisabled(c, true) }

func (s *Server) enableUser(c echo.Context) error { return s.setUserDisabled(c, false) }

func (s *Server) setUserDisabled(c echo.Context, disabled bool) error {
	u, err := s.reg.SetUserDisabled(c.Request().Context(), actor(c), c.Param("id"), disabled)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
}

func (s *Server) deleteUser(c echo.Context) error {
	if err := s.reg.DeleteUser(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type resetPasswordRequest struct {
	Password string `json:"password"`
}

// resetPassword sets another user's password (admin); the user's tokens
// and sessions end at once.
func (s *Server) resetPassword(c echo.Context) error {
	var req resetPasswordRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	u, err := s.reg.ResetPassword(c.Request().Context(), actor(c), c.Param("id"), req.Password)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword sets the caller's own password. Every token and session
// the caller had ends, this one included, so the answer carries a new
// login token, and a browser session gets a new cookie.
func (s *Server) changePassword(c echo.Context) error {
	var req changePasswordRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	u, err := s.reg.ChangePassword(c.Request().Context(), actor(c), req.CurrentPassword, req.NewPassword)
	if err != nil {
		return err
	}
	tok, exp, err := s.makeLoginToken(u)
	if err != nil {
		return err
	}
	if c.Request().Header.Get(echo.HeaderAuthorization) == "" {
		s.setSession(c, tok, exp)
	}
	return c.JSON(http.StatusOK, loginResponse{Token: tok, ExpiresAt: exp.UTC(), Role: u.Role})
}
