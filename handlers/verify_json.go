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
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, r.Reason)
	}
	if p := r.Certificate; p != nil {
		b = append(b, `,"certificate":{"number":`...)
		b = appendJSONString(b, p.Number)
		b = append(b, `,"holder_name":`...)
		b = appendJSONString(b, p.HolderName)
		b = append(b, `,"occupation_code":`...)
		b = appendJSONString(b, p.OccupationCode)
		b = append(b, `,"occupation_name":`...)
		b = appendJSONString(b, p.OccupationName)
		b = append(b, `,"level":`...)
		b = strconv.AppendInt(b, int64(p.Level), 10)
		b = append(b, `,"level_name":`...)
		b = appendJSONString(b, p.LevelName)
		b = append(b, `,"issuer_id":`...)
		b = appendJSONString(b, p.IssuerID)
		b = append(b, `,"issuer_name":`...)
		b = appendJSONString(b, p.IssuerName)
		b = append(b, `,"issued_on":`...)
		b = appendJSONString(b, p.IssuedOn)
		b = append(b, `,"status":`...)
		b = appendJSONString(b, p.Status)
		if p.RevokedAt != nil {
			t, err := p.RevokedAt.MarshalJSON()
			if err != nil {
				return b, false
			}
			b = append(b, `,"revoked_at":`...)
			b = append(b, t...)
		}
		if p.RevokeReason != "" {
			b = append(b, `,"revoke_reason":`...)
			b = appendJSONString(b, p.RevokeReason)
		}
		if p.StatusIndex != 0 {
			b = append(b, `,"status_index":`...)
			b = strconv.AppendInt(b, int64(p.StatusIndex), 10)
		}
		b = append(b, '}')
	}
	return append(b, "}\n"...), true
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
