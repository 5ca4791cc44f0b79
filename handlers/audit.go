package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

// checkpointJSON is a signed audit checkpoint: the count, head hash and
// time it signs, and the compact JWS that signs them.
type checkpointJSON struct {
	Count    int64     `json:"count"`
	HeadHash string    `json:"head_hash"`
	Time     time.Time `json:"time"`
	KeyID    string    `json:"kid"`
	JWS      string    `json:"jws"`
}

func toCheckpointJSON(cp *registry.AuditCheckpoint) checkpointJSON {
	return checkpointJSON{Count: cp.Count, HeadHash: cp.HeadHash, Time: cp.Time, KeyID: cp.KeyID, JWS: cp.JWS}
}

// auditCheckpoint serves the latest signed audit checkpoint, or with
// ?seq=N the one taken at N entries. It is public on purpose: a checkpoint
// is a count, a hash and a time, nothing personal, and the more parties
// keep copies, the less an insider can rewrite the log unnoticed.
func (s *Server) auditCheckpoint(c echo.Context) error {
	var count int64
	if q := c.QueryParam("seq"); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil || n < 1 {
			return registry.FieldError("seq", "seq must be a positive entry count, e.g. ?seq=1000")
		}
		count = n
	}
	cp, err := s.reg.AuditCheckpoint(c.Request().Context(), count)
	if err != nil {
		return err
	}
	if count > 0 {
		c.Response().Header().Set("Cache-Control", "public, max-age=86400, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	return c.JSON(http.StatusOK, toCheckpointJSON(cp))
}
