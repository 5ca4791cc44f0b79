package handlers

import (
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
