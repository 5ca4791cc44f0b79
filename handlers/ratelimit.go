package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillreg/skillreg/registry"
)

// Rate is a token-bucket rate: N requests per Per, with bursts of up to N.
// The zero Rate means no limit.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads a rate such as "60/min", "600/m", "10/15m", "5/s" or
// "1000/h"; "0" and "off" mean no limit. The part after the slash is s,
// sec, m, min, h, hour or a Go duration.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "off" {
		return Rate{}, nil
	}
	num, unit, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if !ok || err != nil || n < 1 || n > 1_000_000 {
		return Rate{}, fmt.Errorf("rate %q: want N/PERIOD such as 60/min or 10/15m (N from 1 to 1000000), or off", s)
	}
	var per time.Duration
	switch unit = strings.TrimSpace(unit); unit {
	case "s", "sec", "second":
		per = time.Second
	case "m", "min", "minute":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	default:
		if per, err = time.ParseDuration(unit); err != nil || per < time.Second || per > 24*time.Hour {
			return Rate{}, fmt.Errorf("rate %q: the period must be s, min, h or a duration from 1s to 24h", s)
		}
	}
	return Rate{N: n, Per: per}, nil
}

// String formats r as ParseRate reads it.
func (r Rate) String() string {
	switch {
	case r.N == 0:
		return "off"
	case r.Per == time.Second:
		return fmt.Sprintf("%d/s", r.N)
	case r.Per == time.Minute:
		return fmt.Sprintf("%d/min", r.N)
	case r.Per == time.Hour:
		return fmt.Sprintf("%d/h", r.N)
	}
	d := r.Per.String() // 15m0s: drop the zero tails
	if strings.HasSuffix(d, "m0s") {
		d = strings.TrimSuffix(d, "0s")
	}
	if strings.HasSuffix(d, "h0m") {
		d = strings.TrimSuffix(d, "0m")
	}
	return fmt.Sprintf("%d/%s", r.N, d)
}

// Set makes *Rate a flag.Value.
func (r *Rate) Set(s string) error {
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Prefixes is a list of CIDR prefixes, e.g. the trusted proxies; it is a
// flag.Value that reads a comma-separated list.
type Prefixes []netip.Prefix

// Set reads a comma-separated list of CIDR prefixes or single addresses;
// an empty string is the empty list.
func (p *Prefixes) Set(s string) error {
	var out Prefixes
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return fmt.Errorf("%q is not an IP address or CIDR prefix", part)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		pr, err := netip.ParsePrefix(part)
		if err != nil {
			return fmt.Errorf("%q is not a CIDR prefix such as 10.0.0.0/8", part)
		}
		out = append(out, pr.Masked())
	}
	*p = out
	return nil
}

// String formats the list as Set reads it.
func (p Prefixes) String() string {
	parts := make([]string, len(p))
	for i, pr := range p {
		parts[i] = pr.String()
	}
	return strings.Join(parts, ",")
}

// Limits are the abuse limits of the public endpoints, per client: the
// client is the peer's IP address (its /64 for IPv6, which one subscriber
// usually holds whole), or the address a trusted proxy put in
// X-Forwarded-For. The zero Limits limit nothing and trust no proxy.
type Limits struct {
	Lookup    Rate     // number+name lookups (API and form): guessing is what they invite
	Verify    Rate     // token verifications: GET /v/{token}, POST /api/v1/verify with a token
	Upload    Rate     // photo uploads on /scan, each a QR decode on the server
	Public    Rate     // every other public route: pages, static files, JWKS, reference data, login
	LoginUser Rate     // failed logins per username, existing or not
	LoginIP   Rate     // failed logins per client
	Trusted   Prefixes // proxies whose X-Forwarded-For is believed
}

// DefaultLimits are the limits `skillreg serve` starts with.
func DefaultLimits() Limits {
	return Limits{
		Lookup:    Rate{60, time.Minute},
		Verify:    Rate{600, time.Minute},
		Upload:    Rate{30, time.Minute},
		Public:    Rate{1200, time.Minute},
		LoginUser: Rate{10, 15 * time.Minute},
		LoginIP:   Rate{30, 15 * time.Minute},
	}
}

// LimitFlag describes one command-line flag of Limits, for cmd to
// register with its environment fallback.
type LimitFlag struct {
	Name  string // flag name, e.g. "rate-lookup"
	Env   string // environment fallback, e.g. "SKILLREG_RATE_LOOKUP"
	Usage string
	Value interface {
		Set(string) error
		String() string
	}
}

// Flags returns the flags that set l, pointing into l.
func (l *Limits) Flags() []LimitFlag {
	return []LimitFlag{
		{"rate-lookup", "SKILLREG_RATE_LOOKUP", "number+name lookups per client, e.g. 60/min, or off", &l.Lookup},
		{"rate-verify", "SKILLREG_RATE_VERIFY", "token verifications per client", &l.Verify},
		{"rate-upload", "SKILLREG_RATE_UPLOAD", "QR photo uploads per client", &l.Upload},
		{"rate-public", "SKILLREG_RATE_PUBLIC", "other public requests per client", &l.Public},
		{"rate-login-user", "SKILLREG_RATE_LOGIN_USER", "failed logins per username, e.g. 10/15m", &l.LoginUser},
		{"rate-login-ip", "SKILLREG_RATE_LOGIN_IP", "failed logins per client", &l.LoginIP},
		{"trusted-proxies", "SKILLREG_TRUSTED_PROXIES", "comma-separated CIDR prefixes of proxies whose X-Forwarded-For is trusted", &l.Trusted},
	}
}

// Limit names: the label of skillreg_rate_limited_total.
const (
	limitLookup    = "lookup"
	limitVerify    = "verify"
	limitUpload    = "upload"
	limitPublic    = "public"
	limitLoginUser = "login_user"
	limitLoginIP   = "login_ip"
)

// maxBuckets bounds each limiter's memory: about 100 bytes a bucket.
const maxBuckets = 100_000

// bucket is one client's token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// limiter keeps one token bucket per client key. Idle buckets (full again)
// are dropped every period, and at most maxBuckets are kept: when a flood
// of new keys fills it, an arbitrary bucket is dropped, which can only make
// that client's limit more lenient, never lock anyone out.
type limiter struct {
	rate Rate

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

func newLimiter(r Rate) *limiter {
	if r.N == 0 {
		return nil
	}
	return &limiter{rate: r, buckets: map[string]*bucket{}}
}

// refill returns key's bucket brought up to now, creating it full; the
// caller holds l.mu.
func (l *limiter) refill(key string, now time.Time) *bucket {
	// At most one sweep a period, so that a flood of new keys costs O(1)
	// each rather than a sweep each.
	if now.Sub(l.lastSweep) >= l.rate.Per {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			for k := range l.buckets {
				delete(l.buckets, k)
				break
			}
		}
		b = &bucket{tokens: float64(l.rate.N), last: now}
		l.buckets[key] = b
		return b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(float64(l.rate.N), b.tokens+el.Seconds()*float64(l.rate.N)/l.rate.Per.Seconds())
		b.last = now
	}
	return b
}

// sweep drops buckets that have been idle for a whole period, since they
// are full again and so the same as no bucket.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.last) >= l.rate.Per {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// wait returns how long until key's bucket has a whole token.
func (l *limiter) wait(b *bucket) time.Duration {
	return time.Duration((1 - b.tokens) * float64(l.rate.Per) / float64(l.rate.N))
}

// take spends one token of key's bucket; when there is none it spends
// nothing and says how long to wait. A nil limiter allows everything.
func (l *limiter) take(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.wait(b)
}

// check reports whether key's bucket has a token, without spending it.
func (l *limiter) check(key string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, l.wait(b)
}

// size returns the number of buckets kept, for tests of the bound.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// limiters are a server's limiters and their metric.
type limiters struct {
	by      map[string]*limiter
	limited *prometheus.CounterVec
}

func newLimiters(cfg Limits, m *Metrics) *limiters {
	ls := &limiters{by: map[string]*limiter{
		limitLookup:    newLimiter(cfg.Lookup),
		limitVerify:    newLimiter(cfg.Verify),
		limitUpload:    newLimiter(cfg.Upload),
		limitPublic:    newLimiter(cfg.Public),
		limitLoginUser: newLimiter(cfg.LoginUser),
		limitLoginIP:   newLimiter(cfg.LoginIP),
	}}
	ls.limited = m.rateLimited()
	return ls
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
	for _, name := range []string{limitLookup, limitVerify, limitUpload, limitPublic, limitLoginUser, limitLoginIP} {
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
	ok, wait := s.limits.by[limit].take(clientKey(c), s.now())
	if !ok {
		return s.limits.refuse(c, limit, wait)
	}
	return nil
}

// clientKey is the rate-limit key of the request's client: its IP
// address as the server's IP extractor sees it, IPv6 cut to its /64.
func clientKey(c echo.Context) string {
	ip := c.RealIP()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// ipExtractor returns how the server finds a client's IP: the direct peer,
// unless the peer is a trusted proxy, in which case the nearest address
// in X-Forwarded-For that is not itself a trusted proxy. Nothing is
// trusted by default, not even loopback or private networks: a proxy must
// be named.
func ipExtractor(trusted Prefixes) echo.IPExtractor {
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
	"GET /v/:token":           limitVerify,
	"POST /lookup":            limitLookup,
	"POST /scan/upload":       limitUpload,
	"POST /api/v1/verify":     "",
	"POST /api/v1/auth/login": limitPublic,
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
		limit = limitPublic
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
		byUser, byIP := s.limits.by[limitLoginUser], s.limits.by[limitLoginIP]
		if ok, wait := byIP.check(ip, now); !ok {
			return s.limits.refuse(c, limitLoginIP, wait)
		}
		if ok, wait := byUser.check(user, now); !ok {
			return s.limits.refuse(c, limitLoginUser, wait)
		}
		err := next(c)
		if registry.ErrorCode(err) == registry.EUNAUTHORIZED {
			byUser.take(user, now)
			byIP.take(ip, now)
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
