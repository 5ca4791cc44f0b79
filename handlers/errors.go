package handlers

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

// statusOf is the one table that maps domain error codes to HTTP statuses.
var statusOf = map[string]int{
	registry.EINVALID:      http.StatusBadRequest,
	registry.ETOOLARGE:     http.StatusBadRequest,
	registry.EUNAUTHORIZED: http.StatusUnauthorized,
	registry.EFORBIDDEN:    http.StatusForbidden,
	registry.ENOTFOUND:     http.StatusNotFound,
	registry.ECONFLICT:     http.StatusConflict,
	registry.EIDENTITY:     http.StatusConflict,
	registry.ERATELIMIT:    http.StatusTooManyRequests,
	registry.EINTERNAL:     http.StatusInternalServerError,
	// No verdict on the ID number until the day ends (Retry-After says
	// when).
	registry.EIDCHECKLOCKED: http.StatusTooManyRequests,
	// The store refuses writes (full or read-only storage): the same
	// request can succeed later, so 503 with Retry-After, not 500.
	registry.EUNAVAILABLE: http.StatusServiceUnavailable,
}

// codeOfStatus turns echo's own HTTP errors (404 for no route, 405, ...)
// into our codes.
var codeOfStatus = map[int]string{
	http.StatusBadRequest:            registry.EINVALID,
	http.StatusUnauthorized:          registry.EUNAUTHORIZED,
	http.StatusForbidden:             registry.EFORBIDDEN,
	http.StatusNotFound:              registry.ENOTFOUND,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: registry.ETOOLARGE,
	http.StatusTooManyRequests:       registry.ERATELIMIT,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Problems lists every bad field of a training record.
	Problems []problemJSON `json:"problems,omitempty"`
}

// problemJSON is one bad field of an input, in English and Chinese.
type problemJSON struct {
	Field     string `json:"field"`
	Message   string `json:"message"`
	MessageZH string `json:"message_zh"`
}

func toProblemsJSON(list []registry.Problem) []problemJSON {
	if list == nil {
		return nil
	}
	out := make([]problemJSON, len(list))
	for i, p := range list {
		out[i] = problemJSON{Field: p.Field, Message: p.Message, MessageZH: p.MessageZH}
	}
	return out
}

// errorHandler renders every error as {"error":{"code","message"}}.
// Internal errors are logged with the request id and shown only as
// "internal error".
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	var he *echo.HTTPError
	var body errorBody
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &he):
		status = he.Code
		code, ok := codeOfStatus[status]
		if !ok {
			code = registry.EINTERNAL
		}
		msg := http.StatusText(status)
		if m, ok := he.Message.(string); ok && status < 500 {
			msg = m
		}
		body.Error = errorDetail{Code: code, Message: msg}
	default:
		code := registry.ErrorCode(err)
		status = statusOf[code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		body.Error = errorDetail{Code: code, Message: registry.ErrorMessage(err), Field: registry.ErrorField(err), Problems: toProblemsJSON(registry.ProblemsOf(err))}
		if wait := registry.ErrorRetryAfter(err); wait > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		}
	}
	if registry.ErrorCode(err) == registry.EUNAVAILABLE {
		// Readiness turns false until a probe write passes (readyz).
		s.storageDown.Store(true)
		s.log.Error("storage unavailable", "request_id", rid, "method", c.Request().Method, "path", c.Path(), "err", err)
		body.Error.RequestID = rid
	} else if status >= 500 {
		s.log.Error("internal error", "request_id", rid, "method", c.Request().Method, "path", c.Path(), "err", err)
		body.Error = errorDetail{Code: registry.EINTERNAL, Message: "internal error", RequestID: rid}
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if err := c.JSON(status, body); err != nil {
		s.log.Error("writing error response", "request_id", rid, "err", err)
	}
}
