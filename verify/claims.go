package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/skillreg/skillreg/registry"
)

// MaxHolderRunes is the longest masked holder name a token carries;
// registry.MaskName never makes a longer one.
const MaxHolderRunes = 4

var occupationRe = regexp.MustCompile(`^[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}$`)

// payload is the token's claims as they are on the wire. The field order is
// the JSON order, which makes the encoding (and so the signature)
// deterministic.
type payload struct {
	N string `json:"n"`           // certificate number, 22-character format
	O string `json:"o"`           // occupation code X-XX-XX-XX
	L int    `json:"l"`           // level 1 (highest) to 5
	D string `json:"d"`           // issue date YYYYMMDD
	H string `json:"h"`           // masked holder name
	S int    `json:"s,omitempty"` // revocation status-list index; absent in tokens made before status lists
}

// payloadKeys are the claims every token has; "s" is optional.
var payloadKeys = []string{"n", "o", "l", "d", "h"}

// The jwt.Claims methods: a certificate does not expire (revocation is
// checked against the registry), has no audience and no subject.
func (payload) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (payload) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (payload) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (payload) GetIssuer() (string, error)                   { return "", nil }
func (payload) GetSubject() (string, error)                  { return "", nil }
func (payload) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// opaque is the payload as the signature check sees it: any JSON object.
// The signature is checked before the claims, so that a token signed by
// anyone but us is "forged" however its payload is written; only a token
// that carries our signature can be "malformed" for its claims.
type opaque struct{}

func (opaque) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (opaque) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (opaque) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (opaque) GetIssuer() (string, error)                   { return "", nil }
func (opaque) GetSubject() (string, error)                  { return "", nil }
func (opaque) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// toPayload checks c and returns its wire form. Sign and Parse share it, so
// that whatever Sign accepts Parse accepts and the other way round.
func toPayload(c registry.TokenClaims) (payload, error) {
	info, err := registry.ParseNumber(c.Number)
	if err != nil || info.Legacy {
		return payload{}, registry.FieldError("number", "%q is not a 22-character certificate number", c.Number)
	}
	if c.Level < 1 || c.Level > 5 {
		return payload{}, registry.FieldError("level", "level %d is outside 1-5", int(c.Level))
	}
	if info.Level != c.Level {
		return payload{}, registry.FieldError("level", "level %d differs from the level %d in number %s", int(c.Level), int(info.Level), c.Number)
	}
	if !occupationRe.MatchString(c.OccupationCode) {
		return payload{}, registry.FieldError("occupation_code", "%q is not an occupation code X-XX-XX-XX", c.OccupationCode)
	}
	d, err := time.Parse("2006-01-02", c.IssuedOn)
	if err != nil || d.Format("2006-01-02") != c.IssuedOn {
		return payload{}, registry.FieldError("issued_on", "%q is not a date YYYY-MM-DD", c.IssuedOn)
	}
	if n := utf8.RuneCountInString(c.HolderMasked); !utf8.ValidString(c.HolderMasked) || n < 1 || n > MaxHolderRunes {
		return payload{}, registry.FieldError("holder_masked", "a masked name has 1 to %d characters of valid UTF-8", MaxHolderRunes)
	}
	if c.StatusIndex < 0 || c.StatusIndex >= registry.MaxStatusListSize {
		return payload{}, registry.FieldError("status_index", "status index %d is outside 0-%d", c.StatusIndex, registry.MaxStatusListSize-1)
	}
	return payload{N: c.Number, O: c.OccupationCode, L: int(c.Level), D: d.Format("20060102"), H: c.HolderMasked, S: c.StatusIndex}, nil
}

// decodePayload reads a token payload strictly: exactly the five claims
// and optionally "s", each of its type, valid, and in the canonical
// encoding that Sign makes (so "s":0 is refused: Sign leaves it out).
func decodePayload(b []byte) (registry.TokenClaims, error) {
	obj, err := decodeObject(b)
	if err != nil {
		return registry.TokenClaims{}, fmt.Errorf("payload: %w", err)
	}
	for k := range obj {
		if !slices.Contains(payloadKeys, k) && k != "s" {
			return registry.TokenClaims{}, fmt.Errorf("payload: unexpected claim %q", k)
		}
	}
	for _, k := range payloadKeys {
		if _, ok := obj[k]; !ok {
			return registry.TokenClaims{}, fmt.Errorf("payload: claim %q is missing", k)
		}
	}
	var p payload
	for _, f := range []struct {
		key string
		dst *string
	}{{"n", &p.N}, {"o", &p.O}, {"d", &p.D}, {"h", &p.H}} {
		if err := decodeString(obj[f.key], f.dst); err != nil {
			return registry.TokenClaims{}, fmt.Errorf("payload: claim %q: %w", f.key, err)
		}
	}
	l, err := strconv.Atoi(string(obj["l"]))
	if err != nil {
		return registry.TokenClaims{}, fmt.Errorf("payload: claim \"l\" is not an integer")
	}
	p.L = l
	if raw, ok := obj["s"]; ok {
		if p.S, err = strconv.Atoi(string(raw)); err != nil {
			return registry.TokenClaims{}, fmt.Errorf("payload: claim \"s\" is not an integer")
		}
	}
	if len(p.D) != 8 {
		return registry.TokenClaims{}, fmt.Errorf("payload: claim \"d\" is not a date YYYYMMDD")
	}
	d, err := time.Parse("20060102", p.D)
	if err != nil || d.Format("20060102") != p.D {
		return registry.TokenClaims{}, fmt.Errorf("payload: claim \"d\" is not a date YYYYMMDD")
	}
	c := registry.TokenClaims{
		Number:         p.N,
		OccupationCode: p.O,
		Level:          registry.Level(p.L),
		IssuedOn:       d.Format("2006-01-02"),
		HolderMasked:   p.H,
		StatusIndex:    p.S,
	}
	if _, err := toPayload(c); err != nil {
		return registry.TokenClaims{}, fmt.Errorf("payload: %s", registry.ErrorMessage(err))
	}
	// Whitespace, escapes, key order, 3.0 for 3: none of these come from
	// Sign, so one set of claims has exactly one token per key.
	canon, err := json.Marshal(p)
	if err != nil || !bytes.Equal(canon, b) {
		return registry.TokenClaims{}, errors.New("payload: not in canonical form")
	}
	return c, nil
}

// decodeObject reads one JSON object and returns its members, refusing
// duplicate names (encoding/json would silently keep the last, letting two
// readers of the same token disagree) and anything after the object.
func decodeObject(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	obj := make(map[string]json.RawMessage)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, errors.New("bad JSON")
		}
		key, ok := t.(string)
		if !ok {
			return nil, errors.New("bad JSON")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("bad JSON")
		}
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("duplicate member %q", key)
		}
		obj[key] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, errors.New("bad JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return obj, nil
}

// decodeString decodes a JSON string value; any other JSON type is an error.
func decodeString(raw json.RawMessage, dst *string) error {
	if len(raw) == 0 || raw[0] != '"' {
		return errors.New("not a string")
	}
	return json.Unmarshal(raw, dst)
}

// scanPayload reads a payload written the way Sign writes one,
// {"n":"…","o":"…","l":…,"d":"…","h":"…"} with an optional ,"s":… before
// the brace, without reflection. It answers only for that shape, with
// strings of valid UTF-8 holding no quote, backslash or control
// character and integers of up to nine digits without a leading zero: for
// such input it gives exactly what json.Unmarshal gives. For anything
// else it returns false and the caller decodes with json.Unmarshal.
func scanPayload(b []byte) (payload, bool) {
	var p payload
	rest, ok := b, true
	rest, ok = cutPrefix(rest, `{"n":`)
	p.N, rest, ok = scanString(rest, ok)
	rest, ok = cutPrefixIf(rest, `,"o":`, ok)
	p.O, rest, ok = scanString(rest, ok)
	rest, ok = cutPrefixIf(rest, `,"l":`, ok)
	p.L, rest, ok = scanInt(rest, ok)
	rest, ok = cutPrefixIf(rest, `,"d":`, ok)
	p.D, rest, ok = scanString(rest, ok)
	rest, ok = cutPrefixIf(rest, `,"h":`, ok)
	p.H, rest, ok = scanString(rest, ok)
	if !ok {
		return payload{}, false
	}
	if r, found := cutPrefix(rest, `,"s":`); found {
		p.S, rest, ok = scanInt(r, true)
		if !ok {
			return payload{}, false
		}
	}
	if string(rest) != "}" {
		return payload{}, false
	}
	return p, true
}

func cutPrefix(b []byte, prefix string) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return b, false
	}
	return b[len(prefix):], true
}

func cutPrefixIf(b []byte, prefix string, ok bool) ([]byte, bool) {
	if !ok {
		return b, false
	}
	return cutPrefix(b, prefix)
}

// scanString reads a JSON string that needs no unescaping.
func scanString(b []byte, ok bool) (string, []byte, bool) {
	if !ok || len(b) == 0 || b[0] != '"' {
		return "", b, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			s := b[1:i]
			if !utf8.Valid(s) {
				return "", b, false
			}
			return string(s), b[i+1:], true
		case c == '\\' || c < 0x20:
			return "", b, false
		}
	}
	return "", b, false
}

// scanInt reads a JSON integer of 1 to 9 digits without a leading zero,
// or a single 0.
func scanInt(b []byte, ok bool) (int, []byte, bool) {
	if !ok {
		return 0, b, false
	}
	n, i := 0, 0
	for ; i < len(b) && i < 10 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	if i == 0 || i > 9 || (i > 1 && b[0] == '0') {
		return 0, b, false
	}
	return n, b[i:], true
}
