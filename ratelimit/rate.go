// Package ratelimit is skillreg's abuse-limit policy: rates and their
// syntax, the per-client limits of the public routes, token buckets with a
// bounded memory, and per-API-key buckets. It knows nothing of HTTP: the
// handlers package decides which limit a request draws on and shapes the
// 429 answer.
package ratelimit

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
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
