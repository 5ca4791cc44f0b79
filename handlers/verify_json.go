package handlers

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// writeVerifyJSON sends r as c.JSON would, byte for byte, but encoded by
// appendJSON instead of by reflection: the answer of every scan of a QR
// code. With a query string (?pretty indents) or in echo's debug mode it
// leaves the answer to c.JSON.
func writeVerifyJSON(c echo.Context, code int, r verifyResultJSON) error {
	if c.Request().URL.RawQuery != "" || c.Echo().Debug {
		return c.JSON(code, r) // perhaps ?pretty, which indents
	}
	b, ok := r.appendJSON(make([]byte, 0, 640))
	if !ok {
		return c.JSON(code, r)
	}
	return c.Blob(code, echo.MIMEApplicationJSON, b)
}

// appendJSON appends r as a json.Encoder (HTML escaping on, as in
// c.JSON) writes it, newline included. It returns false for what
// encoding/json refuses: a revocation time outside the years 0-9999.
func (r verifyResultJSON) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"status":`...)
	b = appendJSONString(b, r.Status)
	if r.Reason != "" {
		b = appendStringField(b, "reason", r.Reason)
	}
	if p := r.Certificate; p != nil {
		b = append(b, `,"certificate":{"number":`...)
		b = appendJSONString(b, p.Number)
		b = appendStringField(b, "holder_name", p.HolderName)
		b = appendStringField(b, "occupation_code", p.OccupationCode)
		b = appendStringField(b, "occupation_name", p.OccupationName)
		b = appendIntField(b, "level", int(p.Level))
		b = appendStringField(b, "level_name", p.LevelName)
		b = appendStringField(b, "issuer_id", p.IssuerID)
		b = appendStringField(b, "issuer_name", p.IssuerName)
		b = appendStringField(b, "issued_on", p.IssuedOn)
		b = appendStringField(b, "status", p.Status)
		if p.RevokedAt != nil {
			t, err := p.RevokedAt.MarshalJSON()
			if err != nil {
				return b, false
			}
			b = appendFieldName(b, "revoked_at")
			b = append(b, t...)
		}
		if p.RevokeReason != "" {
			b = appendStringField(b, "revoke_reason", p.RevokeReason)
		}
		if p.StatusIndex != 0 {
			b = appendIntField(b, "status_index", p.StatusIndex)
		}
		b = append(b, '}')
	}
	return append(b, "}\n"...), true
}

// appendFieldName appends a comma and "name": for a member after the
// first. Names are constants that need no escaping.
func appendFieldName(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func appendStringField(b []byte, name, s string) []byte {
	return appendJSONString(appendFieldName(b, name), s)
}

func appendIntField(b []byte, name string, n int) []byte {
	return strconv.AppendInt(appendFieldName(b, name), int64(n), 10)
}

// appendJSONString appends s as encoding/json writes a string. A string
// of valid UTF-8 with nothing to escape (no control character, quote,
// backslash, <, >, &, U+2028 or U+2029) is copied between quotes; any
// other goes through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendMarshalledString(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendMarshalledString(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMarshalledString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
