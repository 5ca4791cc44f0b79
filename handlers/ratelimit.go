package handlers

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillreg/skillreg/ratelimit"
	"github.com/skillreg/skillreg/registry"
)

// limiters are a server's limiters and their metric.
type limiters struct {
	by      ratelimit.Set
	limited *prometheus.CounterVec
}

func newLimiters(cfg ratelimit.Limits, m *Metrics) *limiters {
	return &limiters{by: ratelimit.NewSet(cfg), limited: m.rateLimited()}
}

// rateLimited returns the counter of refused requests, registering it on
// first use so that one Metrics can serve several servers (as in tests).
func (m *Metrics) rateLimited() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skillreg_rate_limited_total", Help: "Requests refused with 429, by limit.",
	}, []string{"limit"})
	if err := m.reg.Register(c); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			return are.ExistingCollector.(*prometheus.CounterVec)
		}
		panic(err)
	}
	for _, name := range ratelimit.ClientNames {
		c.WithLabelValues(name)
	}
	return c
}

// rateLimitError is the 429 answer; the caller sets Retry-After.
func (ls *limiters) refuse(c echo.Context, limit string, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	ls.limited.WithLabelValues(limit).Inc()
	return registry.Errorf(registry.ERATELIMIT, "too many requests; try again in %d s", secs)
}

// take spends one request of the named limit for this client, or returns
// the 429 error.
func (s *Server) take(c echo.Context, limit string) error {
	if handled, err := s.apiKeyTake(c, limit); handled {
		return err // an API key draws on its own bucket (employers.go)
	}
	ok, wait := s.limits.by[limit].Take(clientKey(c), s.now())
	if !ok {
		return s.limits.refuse(c, limit, wait)
	}
	return nil
}

// clientKey is the rate-limit key of the request's client: its IP
// address as the server's IP extractor sees it, IPv6 cut to its /64.
func clientKey(c echo.Context) string { return ratelimit.ClientKey(c.RealIP()) }

// ipExtractor returns how the server finds a client's IP: the direct peer,
// unless the peer is a trusted proxy, in which case the nearest address
// in X-Forwarded-For that is not itself a trusted proxy. Nothing is
// trusted by default, not even loopback or private networks: a proxy must
// be named.
func ipExtractor(trusted ratelimit.Prefixes) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// routeLimits names the limit of public routes that do not use the
// general one. POST /api/v1/verify chooses once it has read the body.
var routeLimits = map[string]string{
	"GET /v/:token":           ratelimit.NameVerify,
	"POST /lookup":            ratelimit.NameLookup,
	"POST /scan/upload":       ratelimit.NameUpload,
	"POST /api/v1/verify":     "",
	"POST /api/v1/auth/login": ratelimit.NamePublic,
}

// limited wraps a route's handler with its rate limit. Only public routes
// are limited: the others need a login, which is itself throttled.
func (s *Server) limited(r Route) echo.HandlerFunc {
	if r.Access != "public" {
		return r.Handler
	}
	key := r.Method + " " + r.Path
	limit, ok := routeLimits[key]
	if !ok {
		limit = ratelimit.NamePublic
	}
	h := r.Handler
	switch key {
	case "POST /api/v1/auth/login":
		h = s.throttleLogin(h)
	case "POST /login":
		th := s.throttleLogin(h)
		h = func(c echo.Context) error { return s.pageError(c, th(c)) }
	}
	if limit == "" {
		return h
	}
	return func(c echo.Context) error {
		if err := s.take(c, limit); err != nil {
			return s.pageError(c, err)
		}
		return h(c)
	}
}

// throttleLogin refuses a login while the username or the client has used
// up its failures, and counts each failure (EUNAUTHORIZED) against both.
// The refusal is the same 429 whether or not the user exists, and a
// refused attempt does not check the password at all, so that a throttled
// guesser learns nothing.
func (s *Server) throttleLogin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		user := s.loginUsername(c)
		ip := clientKey(c)
		now := s.now()
		byUser, byIP := s.limits.by[ratelimit.NameLoginUser], s.limits.by[ratelimit.NameLoginIP]
		if ok, wait := byIP.Check(ip, now); !ok {
			return s.limits.refuse(c, ratelimit.NameLoginIP, wait)
		}
		if ok, wait := byUser.Check(user, now); !ok {
			return s.limits.refuse(c, ratelimit.NameLoginUser, wait)
		}
		err := next(c)
		if registry.ErrorCode(err) == registry.EUNAUTHORIZED {
			byUser.Take(user, now)
			byIP.Take(ip, now)
		}
		return err
	}
}

// loginUsername peeks at the username of a login body and puts the body
// back for the handler. Anything unreadable counts under "".
func (s *Server) loginUsername(c echo.Context) string {
	req := c.Request()
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	req.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	var v struct {
		Username string `json:"username"`
	}
	if strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm) {
		q, _ := url.ParseQuery(string(body))
		v.Username = strings.TrimSpace(q.Get("username"))
	} else {
		_ = json.Unmarshal(body, &v)
	}
	if len(v.Username) > 64 {
		v.Username = v.Username[:64]
	}
	// Usernames are one name regardless of case: Admin and ADMIN count
	// against admin's throttle.
	return registry.UsernameKey(v.Username)
}
