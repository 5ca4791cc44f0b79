package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

func (s *Server) createIssuer(c echo.Context) error {
	var in registry.IssuerInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	is, err := s.reg.CreateIssuer(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, is)
}

func (s *Server) listIssuers(c echo.Context) error {
	list, err := s.reg.Issuers(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	if list == nil {
		list = []*registry.Issuer{}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
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
	return c.JSON(http.StatusCreated, u)
}
