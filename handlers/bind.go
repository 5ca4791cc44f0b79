package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

// bindJSON decodes a JSON request body into v strictly: the body must be
// JSON, at most 1 MiB, one value, with no unknown fields and no duplicate
// keys (see checkJSONKeys). Every failure is a 400 that names the field or
// says what is wrong.
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
	return decodeJSON(body, v, "object")
}

// decodeJSON decodes body, one JSON value (what says which kind, for the
// message), into v strictly: no duplicate keys, no unknown fields, nothing
// after the value. Every JSON request body goes through it or, for a body
// the registry parses itself, through checkJSONKeys.
func decodeJSON(body []byte, v any, what string) error {
	if err := checkJSONKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return registry.FieldError("body", "the body must hold exactly one JSON %s", what)
	}
	return nil
}

// maxJSONDepth bounds the nesting of a request body: no request nests
// more than a few levels, and the key check recurses once per level.
const maxJSONDepth = 64

// checkJSONKeys refuses a body in which an object, at any depth, has a
// member name twice, or two names that differ only in case: encoding/json
// would silently keep the last (and matches field names regardless of
// case), so {"level":5,"level":1} would mean whatever the last parser to
// read it decides. The error names the path of the second occurrence
// (items[0].token). A body that is not well-formed JSON passes, for the
// decoder to describe.
func checkJSONKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	path, found, err := duplicateKey(dec, "", 0)
	switch {
	case errors.Is(err, errTooDeep):
		return registry.FieldError("body", "the JSON is nested more than %d levels deep", maxJSONDepth)
	case found:
		field := path
		if field == "" {
			field = "body"
		}
		return registry.FieldError(field, "duplicate key %q in the JSON body: give each key once", path)
	}
	return nil
}

var errTooDeep = errors.New("nested too deeply")

// duplicateKey reads one value from dec and reports the path of the first
// repeated member name in it.
func duplicateKey(dec *json.Decoder, path string, depth int) (string, bool, error) {
	if depth > maxJSONDepth {
		return "", false, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return "", false, err
			}
			key, _ := kt.(string)
			p := key
			if path != "" {
				p = path + "." + key
			}
			folded := strings.ToLower(strings.ToUpper(key))
			if seen[folded] {
				return p, true, nil
			}
			seen[folded] = true
			if dup, found, err := duplicateKey(dec, p, depth+1); found || err != nil {
				return dup, found, err
			}
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if dup, found, err := duplicateKey(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); found || err != nil {
				return dup, found, err
			}
		}
	default:
		return "", false, nil
	}
	_, err = dec.Token() // the closing delimiter
	return "", false, err
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
	rest := r.Header.Get(echo.HeaderAccept)
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		mt := strings.TrimSpace(part)
		if !knownMediaType(mt) {
			// Parameters, capitals: what ParseMediaType normalises. A
			// type written as one of the three needs no parsing.
			mt, _, _ = mime.ParseMediaType(mt)
		}
		switch mt {
		case echo.MIMEApplicationJSON:
			return true
		case "text/html", "application/xhtml+xml":
			return false
		}
	}
	return false
}

func knownMediaType(mt string) bool {
	return mt == echo.MIMEApplicationJSON || mt == "text/html" || mt == "application/xhtml+xml"
}
