package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

// bindJSON decodes a JSON request body into v strictly: the body must be
// JSON, at most 1 MiB, one value, and have no unknown fields. Every failure
// is a 400 that names the field or says what is wrong.
func bindJSON(c echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != echo.MIMEApplicationJSON {
			return registry.FieldError("body", "send the request body as application/json")
		}
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil {
		return registry.FieldError("body", "could not read the request body")
	}
	if len(body) > maxBody {
		return &registry.Error{Code: registry.ETOOLARGE, Field: "body", Message: "the request body is over 1 MiB"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return registry.FieldError("body", "the body must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return registry.FieldError("body", "the request body is empty; send a JSON object")
	case errors.As(err, &se):
		return registry.FieldError("body", "malformed JSON at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return registry.FieldError("body", "malformed JSON: the body ends too early")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return registry.FieldError(field, "must be a JSON %s, not %s", jsonKind(te.Type.Kind().String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			return registry.FieldError("body", `unknown field ""`)
		}
		return registry.FieldError(name, "unknown field %q", name)
	default:
		return registry.FieldError("body", "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

func jsonKind(k string) string {
	switch k {
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "number"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return k
}

// wantsJSON reports whether the client asked for JSON rather than a page.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get(echo.HeaderAccept), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		switch mt {
		case echo.MIMEApplicationJSON:
			return true
		case "text/html", "application/xhtml+xml":
			return false
		}
	}
	return false
}
