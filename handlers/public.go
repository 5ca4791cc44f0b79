package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/refdata"
	"github.com/skillreg/skillreg/web"
)

func (s *Server) verifyPage(c echo.Context) error {
	res, err := s.reg.Verify(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if wantsJSON(c.Request()) {
		return writeVerifyJSON(c, http.StatusOK, toVerifyResultJSON(res))
	}
	return s.render(c, http.StatusOK, "verify", web.VerifyView(res, s.now()))
}

func (s *Server) occupations(c echo.Context) error {
	if err := checkQuery(c, "q", "limit"); err != nil {
		return err
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 2000 {
			return registry.FieldError("limit", "limit must be 1 to 2000")
		}
		limit = n
	}
	q := c.QueryParam("q")
	if len(q) > 100 {
		return registry.FieldError("q", "q may have at most 100 bytes")
	}
	items := refdata.SearchOccupations(q, limit)
	if items == nil {
		items = []refdata.Occupation{}
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *Server) regions(c echo.Context) error {
	if err := checkQuery(c, "level"); err != nil {
		return err
	}
	switch c.QueryParam("level") {
	case "", "province":
	default:
		return registry.FieldError("level", `level may be "province" (the provinces only)`)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	if c.QueryParam("level") == "province" {
		return c.JSON(http.StatusOK, map[string]any{"items": refdata.Provinces()})
	}
	return c.JSON(http.StatusOK, map[string]any{"items": refdata.Regions()})
}

func (s *Server) jwksDoc(c echo.Context) error {
	b, err := s.jwks(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/jwk-set+json", b)
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.reg.Store().Ping(ctx); err != nil {
		s.log.Warn("store not reachable", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "store unreachable"})
	}
	// After a write failed because storage was full or read-only, the
	// server is not ready until a probe write passes: then it is ready
	// again by itself, without a restart.
	if s.storageDown.Load() {
		if wc, ok := s.reg.Store().(registry.WriteChecker); ok {
			if err := wc.CheckWrite(ctx); err != nil {
				s.log.Warn("store cannot write", "err", err)
				c.Response().Header().Set("Retry-After", strconv.Itoa(int(registry.StorageRetryAfter/time.Second)))
				return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "storage unavailable"})
			}
		}
		s.storageDown.Store(false)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) openAPIDoc(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", web.OpenAPI())
}

func (s *Server) home(c echo.Context) error {
	return s.render(c, http.StatusOK, "home", nil)
}

func (s *Server) static(c echo.Context) error {
	b, ctype, ok := web.Static(c.Param("*"))
	if !ok {
		return registry.Errorf(registry.ENOTFOUND, "no such file")
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.Blob(http.StatusOK, ctype, b)
}

func (s *Server) render(c echo.Context, status int, page string, data any) error {
	b, err := s.pages.Render(page, data)
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, b)
}
