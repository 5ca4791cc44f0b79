package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

const (
	loginIssuer   = "skillreg"
	loginAudience = "skillreg-api"
	loginTTL      = 12 * time.Hour
	maxTokenLen   = 4096
)

// loginClaims are a login token's claims. Version is the user's token
// version when the token was made: a token whose version is not the
// user's current one (the password changed, the account was disabled) is
// refused, on every server sharing the database.
type loginClaims struct {
	Role    string `json:"role"`
	Version int64  `json:"ver"`
	jwt.RegisteredClaims
}

// makeLoginToken returns an HS256 JWT for u, keyed with the login key,
// which is unrelated to any certificate-signing key.
func (s *Server) makeLoginToken(u *registry.User) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(loginTTL)
	claims := loginClaims{
		Role: u.Role, Version: u.TokenVersion,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: loginIssuer, Subject: u.ID, Audience: jwt.ClaimStrings{loginAudience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.loginKey)
	return tok, exp, err
}

// parseLoginToken checks a login token strictly: HS256 only, our issuer and
// audience, expiry required, 30 s leeway for clock skew.
func (s *Server) parseLoginToken(tok string) (*loginClaims, error) {
	if len(tok) > maxTokenLen {
		return nil, registry.Errorf(registry.EUNAUTHORIZED, "token too long")
	}
	var claims loginClaims
	_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return s.loginKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(loginIssuer), jwt.WithAudience(loginAudience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(s.now))
	if err != nil || claims.Subject == "" {
		return nil, registry.Errorf(registry.EUNAUTHORIZED, "invalid or expired token; log in again")
	}
	return &claims, nil
}

type actorKey struct{}

// authenticate turns a Bearer token, or else a browser's session cookie,
// into the acting user. Neither means an anonymous request (handlers decide
// whether that is enough); a bad Bearer token is refused at once with 401,
// a bad cookie is ignored (see sessionActor), and an unsafe request
// authenticated by cookie must pass the CSRF check.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if h == "" {
			u, ok := s.sessionActor(c)
			if !ok {
				return next(c)
			}
			if err := checkCSRF(c); err != nil {
				if s.access[c.Request().Method+" "+c.Path()] == "public" {
					return next(c) // a public form needs no login: go on as anonymous
				}
				return err
			}
			return next(withActor(c, u))
		}
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return registry.Errorf(registry.EUNAUTHORIZED, `the Authorization header must be "Bearer <token>"`)
		}
		u, err := s.tokenUser(c.Request().Context(), strings.TrimSpace(tok))
		if err != nil {
			return err
		}
		return next(withActor(c, u))
	}
}

// tokenUser returns the user a login token names: EUNAUTHORIZED for a bad
// or expired token, or one whose user no longer exists, is disabled, or
// has had its tokens ended since (a new password, disabling). The user is
// read on every request anyway, so the check costs nothing more, and it
// holds across servers sharing the database.
func (s *Server) tokenUser(ctx context.Context, tok string) (*registry.User, error) {
	claims, err := s.parseLoginToken(tok)
	if err != nil {
		return nil, err
	}
	u, err := s.reg.UserByID(ctx, claims.Subject)
	if registry.ErrorCode(err) == registry.ENOTFOUND || err == nil && (u.Disabled || u.TokenVersion != claims.Version) {
		return nil, registry.Errorf(registry.EUNAUTHORIZED, "invalid or expired token; log in again")
	}
	return u, err
}

// withActor makes u the request's acting user.
func withActor(c echo.Context, u *registry.User) echo.Context {
	c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), actorKey{}, u)))
	return c
}

// actor returns the logged-in user, or nil.
func actor(c echo.Context) *registry.User {
	u, _ := c.Request().Context().Value(actorKey{}).(*registry.User)
	return u
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Role      string    `json:"role"`
}

func (s *Server) login(c echo.Context) error {
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	u, err := s.reg.Authenticate(c.Request().Context(), req.Username, req.Password)
	if err != nil {
		return err
	}
	tok, exp, err := s.makeLoginToken(u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, loginResponse{Token: tok, ExpiresAt: exp.UTC(), Role: u.Role})
}
