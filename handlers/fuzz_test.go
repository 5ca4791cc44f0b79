package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

// FuzzBindJSON: any request body either binds or gives an EINVALID or
// ETOOLARGE error naming a field; it never panics and never binds a body
// with unknown fields.
func FuzzBindJSON(f *testing.F) {
	for _, s := range []string{
		`{"holder_name":"张三","id_number":"11010519491231002X","occupation_code":"6-18-01-01","level":2,"channel":"social"}`,
		`{"level":"2"}`, `{"x":1}`, `{} {}`, ``, `{`, `[]`, `null`, `{"level":1e400}`, `{"holder_name":"\ud800"}`,
		`{"level":2,"level":3}`,
	} {
		f.Add(s)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		c := e.NewContext(req, httptest.NewRecorder())
		var in registry.IssueInput
		err := bindJSON(c, &in)
		if err == nil {
			if strings.Contains(body, `"x"`) && !strings.Contains(body, `\`) && strings.HasPrefix(strings.TrimSpace(body), `{"x"`) {
				t.Fatalf("bound a body with an unknown field: %q", body)
			}
			return
		}
		code := registry.ErrorCode(err)
		if code != registry.EINVALID && code != registry.ETOOLARGE {
			t.Fatalf("code %q for %q", code, body)
		}
		if registry.ErrorField(err) == "" {
			t.Fatalf("no field for %q: %v", body, err)
		}
	})
}

// FuzzLoginToken: no string is accepted as a login token unless it was
// signed with the login key, and nothing panics.
func FuzzLoginToken(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	s := &Server{loginKey: key, now: func() time.Time { return now }}
	good, _, err := s.makeLoginToken(&registry.User{ID: "u1", Role: registry.RoleAdmin})
	if err != nil {
		f.Fatal(err)
	}
	other, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "iss": loginIssuer, "aud": loginAudience, "exp": now.Add(time.Hour).Unix()}).SignedString([]byte("another key"))
	for _, seed := range []string{good, other, "", "a.b.c", good + "x", strings.Repeat("a", 5000)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := s.parseLoginToken(tok)
		if err != nil {
			if registry.ErrorCode(err) != registry.EUNAUTHORIZED {
				t.Fatalf("code %q", registry.ErrorCode(err))
			}
			return
		}
		// Accepted: it must verify with our key and carry our claims.
		if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return key, nil }, jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation()); err != nil {
			t.Fatalf("accepted a token our key did not sign: %q", tok)
		}
		if claims.Subject == "" {
			t.Fatalf("accepted a token without a subject")
		}
	})
}

// FuzzCheckJSONKeys: checkJSONKeys refuses a well-formed body exactly
// when one of its objects, at any depth, repeats a member name (exactly
// or up to case), as counted independently by decoding into maps; it
// never panics on any input.
func FuzzCheckJSONKeys(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":1,"b":2}}`, `[{"a":1},{"a":1}]`, `{"items":[{"token":"x","token":"y"}]}`,
		`{"Level":1,"level":2}`, `{"a":[1,{"c":{"d":1,"D":2}}]}`, `{"\u0061":1,"a":2}`, `{"ſ":1,"S":2}`, `[[[[[]]]]]`, `{`, `{"a":1}{"a":1}`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		err := checkJSONKeys([]byte(body))
		var v any
		if json.Unmarshal([]byte(body), &v) != nil || depth(v) > maxJSONDepth-2 {
			return // not one well-formed value, or deeper than any request: no claim
		}
		dup := hasDuplicate([]byte(body))
		if dup && err == nil {
			t.Fatalf("accepted a body with a repeated key: %q", body)
		}
		if !dup && err != nil {
			t.Fatalf("refused a body without a repeated key: %q: %v", body, err)
		}
		if err != nil && (registry.ErrorCode(err) != registry.EINVALID || registry.ErrorField(err) == "") {
			t.Fatalf("error without code or field for %q: %v", body, err)
		}
	})
}

// hasDuplicate is the fuzz test's own account of repeated names: it counts
// each object's members as they are written (raw, through RawMessage maps
// that keep every name) against the distinct case-folded names.
func hasDuplicate(body []byte) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil && obj != nil {
		if countMembers(body) != len(foldedKeys(obj)) {
			return true
		}
		for _, raw := range obj {
			if hasDuplicate(raw) {
				return true
			}
		}
		return false
	}
	var arr []json.RawMessage
	if json.Unmarshal(body, &arr) == nil {
		for _, raw := range arr {
			if hasDuplicate(raw) {
				return true
			}
		}
	}
	return false
}

func foldedKeys(m map[string]json.RawMessage) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[strings.ToLower(strings.ToUpper(k))] = true
	}
	return out
}

// countMembers counts the members of the top-level object of body by
// walking its raw bytes: a member starts after '{' or ',' at depth 1,
// outside strings.
func countMembers(body []byte) int {
	n, depth, inString, escaped, empty := 0, 0, false, false, true
	for _, c := range body {
		switch {
		case inString:
			if escaped {
				escaped = false
			} else if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
			continue
		case c == '"':
			inString = true
			if depth == 1 && empty {
				n, empty = n+1, false
			}
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ',' && depth == 1:
			n++
		}
	}
	return n
}

func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}
