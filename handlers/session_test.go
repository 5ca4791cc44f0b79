package handlers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/ratelimit"
)

// cookieClient is an HTTP client with a cookie jar that does not follow
// redirects, so that a test sees each step a browser takes.
type cookieClient struct {
	t    *testing.T
	h    *harness
	jar  *cookiejar.Jar
	http *http.Client
}

func newCookieClient(t *testing.T, h *harness) *cookieClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &cookieClient{t: t, h: h, jar: jar, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *cookieClient) req(method, path, ctype, body string, headers ...string) response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.h.url+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: out}
}

func (b *cookieClient) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.h.url)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func must(t *testing.T, r response, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginForm opens the login page and submits it, returning the response
// to the POST.
func (b *cookieClient) loginForm(username, password, next string) response {
	b.t.Helper()
	page := b.req("GET", "/login", "", "")
	if page.status != 200 {
		b.t.Fatalf("GET /login: %d %s", page.status, page.body)
	}
	m := csrfInput.FindSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("the login form has no csrf field: %s", page.body)
	}
	form := url.Values{"username": {username}, "password": {password}, "csrf": {string(m[1])}, "next": {next}}
	return b.req("POST", "/login", "application/x-www-form-urlencoded", form.Encode())
}

func TestBrowserSession(t *testing.T) {
	h := newHarness(t)
	issuerTok := h.issuer("S000011000001", "11", []string{"6"}, 1)

	t.Run("login sets strict cookies and lands by role", func(t *testing.T) {
		b := newCookieClient(t, h)
		r := b.loginForm("user-s000011000001", userPassword, "")
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/portal" {
			t.Fatalf("login: %d to %q, want 303 to /portal: %s", r.status, r.header.Get("Location"), r.body)
		}
		var session *http.Cookie
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == "skillreg_session" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" {
			t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/", session)
		}
		// The cookie authenticates API reads without any header.
		must(t, b.req("GET", "/api/v1/issuers", "", ""), 200)
		// The login page of a logged-in browser goes on to where it belongs.
		if r := b.req("GET", "/login?next=/certificates", "", ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/certificates" {
			t.Fatalf("GET /login when logged in: %d to %q", r.status, r.header.Get("Location"))
		}
	})

	t.Run("unsafe requests by cookie need the CSRF token", func(t *testing.T) {
		b := newCookieClient(t, h)
		b.loginForm("user-s000011000001", userPassword, "")
		j, _ := json.Marshal(certBody(map[string]any{"holder_name": "张三"}))
		body := string(j)
		r := b.req("POST", "/api/v1/certificates", "application/json", body)
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "CSRF") {
			t.Fatalf("issue without CSRF header: %d %s, want 403 naming CSRF", r.status, r.body)
		}
		r = b.req("POST", "/api/v1/certificates", "application/json", body, "X-CSRF-Token", "forged-forged-forged-forged")
		if r.status != http.StatusForbidden {
			t.Fatalf("issue with a wrong CSRF token: %d, want 403", r.status)
		}
		if n := must(t, h.do("GET", "/api/v1/certificates", issuerTok, nil), 200).json(t)["total"]; n != float64(0) {
			t.Fatalf("a refused request issued something: total %v", n)
		}
		csrf := b.cookie("skillreg_csrf")
		if csrf == nil {
			t.Fatal("no CSRF cookie after login")
		}
		must(t, b.req("POST", "/api/v1/certificates", "application/json", body, "X-CSRF-Token", csrf.Value), 201)
		// A public form (the lookup on the home page) still works from a
		// logged-in browser without the token: it runs as anonymous.
		lookup := url.Values{"number": {"S000011000001"}, "name": {"张三"}}
		if r := b.req("POST", "/lookup", "application/x-www-form-urlencoded", lookup.Encode()); r.status == http.StatusForbidden {
			t.Fatalf("public lookup form from a logged-in browser: 403 %s", r.body)
		}
		// Logging out needs the token too, and clears the session.
		if r := b.req("POST", "/logout", "application/x-www-form-urlencoded", ""); r.status != http.StatusForbidden {
			t.Fatalf("logout without CSRF: %d, want 403", r.status)
		}
		r = b.req("POST", "/logout", "application/x-www-form-urlencoded", url.Values{"csrf": {csrf.Value}}.Encode())
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
			t.Fatalf("logout: %d to %q", r.status, r.header.Get("Location"))
		}
		must(t, b.req("GET", "/api/v1/issuers", "", ""), 401)
	})

	t.Run("wrong password gets one generic message", func(t *testing.T) {
		b := newCookieClient(t, h)
		bad := b.loginForm("user-s000011000001", "wrong password", "")
		nobody := b.loginForm("nobody-at-all", "wrong password", "")
		if bad.status != http.StatusUnauthorized || nobody.status != http.StatusUnauthorized {
			t.Fatalf("bad logins: %d and %d, want 401", bad.status, nobody.status)
		}
		msg := regexp.MustCompile(`id="login-error">([^<]*)<`)
		a, c := msg.FindSubmatch(bad.body), msg.FindSubmatch(nobody.body)
		if a == nil || c == nil || string(a[1]) != string(c[1]) {
			t.Fatalf("the two failures read differently: %q vs %q", a, c)
		}
		if b.cookie("skillreg_session") != nil {
			t.Fatal("a failed login set a session cookie")
		}
	})

	t.Run("login form without its CSRF token is refused", func(t *testing.T) {
		b := newCookieClient(t, h)
		form := url.Values{"username": {"user-s000011000001"}, "password": {userPassword}}
		r := b.req("POST", "/login", "application/x-www-form-urlencoded", form.Encode())
		if r.status != http.StatusForbidden || b.cookie("skillreg_session") != nil {
			t.Fatalf("login without CSRF: %d, session %v", r.status, b.cookie("skillreg_session"))
		}
	})

	t.Run("next cannot leave the site", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
			b := newCookieClient(t, h)
			r := b.loginForm("user-s000011000001", userPassword, next)
			if loc := r.header.Get("Location"); loc != "/portal" {
				t.Errorf("next=%q: redirected to %q, want /portal", next, loc)
			}
		}
	})

	t.Run("a forged or expired cookie is anonymous", func(t *testing.T) {
		b := newCookieClient(t, h)
		u, _ := url.Parse(h.url)
		b.jar.SetCookies(u, []*http.Cookie{{Name: "skillreg_session", Value: "eyJhbGciOiJub25lIn0.e30."}})
		must(t, b.req("GET", "/api/v1/issuers", "", ""), 401)
		must(t, b.req("GET", "/login", "", ""), 200)
	})
}

// TestBrowserLoginThrottled: the login form counts failures against the
// same per-user throttle as the API login, and a throttled browser gets
// the 429 page without the password being checked.
func TestBrowserLoginThrottled(t *testing.T) {
	h := newHarness(t, func(c *handlers.Config) {
		c.Limits.LoginUser = ratelimit.Rate{N: 3, Per: 15 * time.Minute}
	})
	b := newCookieClient(t, h)
	for i := 0; i < 3; i++ {
		if r := b.loginForm("admin", "wrong password", ""); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, r.status)
		}
	}
	r := b.loginForm("admin", adminPassword, "")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("login after 3 failures: %d (Retry-After %q), want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	if !strings.Contains(string(r.body), "<html") || b.cookie("skillreg_session") != nil {
		t.Fatalf("the throttled login is not a page, or it logged in: %.200s", r.body)
	}
	// The API login shares the per-user count.
	if r := h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": adminPassword}); r.status != http.StatusTooManyRequests {
		t.Fatalf("API login of the throttled user: %d, want 429", r.status)
	}
}
