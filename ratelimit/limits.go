package ratelimit

import (
	"net/netip"
	"time"
)

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

// Flag describes one command-line flag of Limits, for cmd to register
// with its environment fallback.
type Flag struct {
	Name  string // flag name, e.g. "rate-lookup"
	Env   string // environment fallback, e.g. "SKILLREG_RATE_LOOKUP"
	Usage string
	Value interface {
		Set(string) error
		String() string
	}
}

// Flags returns the flags that set l, pointing into l.
func (l *Limits) Flags() []Flag {
	return []Flag{
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
	NameLookup    = "lookup"
	NameVerify    = "verify"
	NameUpload    = "upload"
	NamePublic    = "public"
	NameLoginUser = "login_user"
	NameLoginIP   = "login_ip"
	NameAPIKey    = "api_key" // API-key and batch buckets (Keyed)
)

// ClientNames are the names of the per-client limits, in Limits order.
var ClientNames = []string{NameLookup, NameVerify, NameUpload, NamePublic, NameLoginUser, NameLoginIP}

// Set is a server's per-client limiters by name; a limit that is off has
// a nil Limiter, which allows everything.
type Set map[string]*Limiter

// NewSet returns a limiter for each limit of cfg.
func NewSet(cfg Limits) Set {
	return Set{
		NameLookup:    New(cfg.Lookup),
		NameVerify:    New(cfg.Verify),
		NameUpload:    New(cfg.Upload),
		NamePublic:    New(cfg.Public),
		NameLoginUser: New(cfg.LoginUser),
		NameLoginIP:   New(cfg.LoginIP),
	}
}

// ClientKey is the rate-limit key of a client at the IP address ip:
// the address itself, IPv6 cut to its /64; anything unparsable is its
// own key.
func ClientKey(ip string) string {
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
