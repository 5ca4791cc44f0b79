package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/web"
)

// Browser sessions. The pages staff and officials use (the portal, the
// dashboard) keep the same HS256 login token the API hands out, but in an
// HttpOnly, SameSite=Strict cookie, so that page scripts never hold it.
// Because a cookie is sent by the browser on its own, every unsafe request
// authenticated by it must also prove it came from our own page: the
// double-submit CSRF token (a random value in a readable cookie that the
// page echoes in the X-CSRF-Token header or a "csrf" form field). Bearer
// tokens and API keys need no such proof: a browser never attaches them
// by itself.
const (
	sessionCookie = "skillreg_session"
	csrfCookie    = "skillreg_csrf"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf"
)

// roleHome is where a browser login lands, by role, unless the login page
// was reached from another page (?next=).
var roleHome = map[string]string{
	registry.RoleAdmin:    "/portal",
	registry.RoleIssuer:   "/portal",
	registry.RoleOfficial: "/dashboard",
}

// sessionActor authenticates the session cookie of a request that has no
// Authorization header. A missing, expired or forged cookie leaves the
// request anonymous (the page then offers the login form); it is never an
// error, so that a stale cookie cannot lock anyone out.
func (s *Server) sessionActor(c echo.Context) (*registry.User, bool) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, false
	}
	u, err := s.tokenUser(c.Request().Context(), ck.Value)
	return u, err == nil
}

// checkCSRF refuses an unsafe request authenticated by cookie unless it
// carries the CSRF cookie's value in the header or, for a plain form, in
// the csrf field.
func checkCSRF(c echo.Context) error {
	switch c.Request().Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	ck, err := c.Cookie(csrfCookie)
	if err != nil || len(ck.Value) < 20 {
		return errCSRF
	}
	got := c.Request().Header.Get(csrfHeader)
	if got == "" && strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm) {
		got = c.FormValue(csrfField)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(ck.Value)) != 1 {
		return errCSRF
	}
	return nil
}

var errCSRF = registry.Errorf(registry.EFORBIDDEN, "页面已过期，请刷新后重试 · This form is out of date or did not come from this site (CSRF check failed); reload the page and try again.")

// csrfToken returns the request's CSRF token, setting a new cookie when it
// has none, for a page to put into its forms and scripts.
func (s *Server) csrfToken(c echo.Context) string {
	if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 20 && len(ck.Value) <= 64 {
		return ck.Value
	}
	return s.newCSRF(c)
}

func (s *Server) newCSRF(c echo.Context) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: v, Path: "/", SameSite: http.SameSiteStrictMode, Secure: c.Scheme() == "https"})
	return v
}

// safeNext returns next when it is a path on this site, and "" otherwise,
// so that the login form cannot be made to redirect elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return ""
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return ""
	}
	return next
}

func (s *Server) loginPage(c echo.Context) error {
	if u := actor(c); u != nil {
		if next := safeNext(c.QueryParam("next")); next != "" {
			return c.Redirect(http.StatusSeeOther, next)
		}
		return c.Redirect(http.StatusSeeOther, roleHome[u.Role])
	}
	return s.render(c, http.StatusOK, "login", web.LoginView(s.csrfToken(c), safeNext(c.QueryParam("next")), "", ""))
}

// loginForm logs a browser in. A bad username or password gets the same
// message either way; failures count against the same throttles as the
// API login (see limited).
func (s *Server) loginForm(c echo.Context) error {
	username := strings.TrimSpace(c.FormValue("username"))
	next := safeNext(c.FormValue("next"))
	if err := checkCSRF(c); err != nil {
		return s.render(c, http.StatusForbidden, "login", web.LoginView(s.newCSRF(c), next, username, registry.ErrorMessage(err)))
	}
	u, err := s.reg.Authenticate(c.Request().Context(), username, c.FormValue("password"))
	if err != nil {
		code := registry.ErrorCode(err)
		if code != registry.EUNAUTHORIZED && code != registry.EINVALID {
			return err
		}
		_ = s.render(c, http.StatusUnauthorized, "login", web.LoginView(s.csrfToken(c), next, username, "用户名或密码错误 · Wrong username or password."))
		return registry.Errorf(registry.EUNAUTHORIZED, "wrong username or password") // counted by the throttle; the page is already written
	}
	tok, exp, err := s.makeLoginToken(u)
	if err != nil {
		return err
	}
	s.setSession(c, tok, exp)
	if next == "" {
		next = roleHome[u.Role]
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// setSession gives the browser a session cookie holding tok, and a fresh
// CSRF token for the new session.
func (s *Server) setSession(c echo.Context, tok string, exp time.Time) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: tok, Path: "/", Expires: exp, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Scheme() == "https"})
	s.newCSRF(c)
}

// logout ends the browser session: both cookies are cleared. The login
// token itself stays valid until it expires, as for the API; a new
// password, or disabling or deleting the account, ends it and every other
// token of the user at once (see tokenUser).
func (s *Server) logout(c echo.Context) error {
	if err := checkCSRF(c); err != nil {
		return err
	}
	for _, name := range []string{sessionCookie, csrfCookie} {
		c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == sessionCookie, SameSite: http.SameSiteStrictMode, Secure: c.Scheme() == "https"})
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// requirePage is for page handlers: an anonymous browser is sent to the
// login form (coming back afterwards), and a user without one of roles
// gets a 403 page.
func (s *Server) requirePage(c echo.Context, roles ...string) (*registry.User, error) {
	u := actor(c)
	if u == nil {
		next := c.Request().URL.RequestURI()
		return nil, c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(next))
	}
	for _, r := range roles {
		if u.Role == r {
			return u, nil
		}
	}
	return nil, s.render(c, http.StatusForbidden, "message", web.MessageView("无权访问", "您的账号无权查看此页面 · Your account may not open this page."))
}
