package ratelimit

import (
	"testing"
	"time"
)

// TestClientKey: an IPv4 address is its own key, IPv6 is cut to its /64,
// a mapped IPv4 address is the IPv4 one, and anything else is kept.
func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"not an address":       "not an address",
		"":                     "",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestKeyed: a key's own rate wins over the default, each key has one
// limiter, and TakeN spends all or nothing and refuses what never fits.
func TestKeyed(t *testing.T) {
	k := NewKeyed(Rate{})
	if got := k.RateOf(0); got != DefaultAPIKeyRate {
		t.Fatalf("default rate %v", got)
	}
	if got := k.RateOf(30); got != (Rate{30, time.Minute}) {
		t.Fatalf("own rate %v", got)
	}
	l := k.For("key1", 20)
	if k.For("key1", 20) != l || k.For("key2", 20) == l {
		t.Fatal("a key's limiter is not kept, or is shared")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if ok, _, fits := l.TakeN("key1", 21, now); ok || fits {
		t.Fatalf("21 of a burst of 20: ok %v, fits %v", ok, fits)
	}
	if ok, _, _ := l.TakeN("key1", 15, now); !ok {
		t.Fatal("15 of 20 refused")
	}
	ok, wait, fits := l.TakeN("key1", 10, now)
	if ok || !fits || wait != 15*time.Second {
		t.Fatalf("10 with 5 left: ok %v, fits %v, wait %v; want refused, 15s", ok, fits, wait)
	}
	if ok, _, _ := l.TakeN("key1", 5, now); !ok {
		t.Fatal("the refused 10 spent tokens")
	}
}

// TestCost: a lookup costs LookupCost and counts as a lookup, a token
// verification costs one and counts as a token, anything else costs one.
func TestCost(t *testing.T) {
	for _, tt := range []struct {
		limit                 string
		cost, tokens, lookups int
	}{
		{NameVerify, 1, 1, 0},
		{NameLookup, LookupCost, 0, 1},
		{NamePublic, 1, 0, 0},
		{NameUpload, 1, 0, 0},
	} {
		c, tk, lk := Cost(tt.limit)
		if c != tt.cost || tk != tt.tokens || lk != tt.lookups {
			t.Errorf("Cost(%s) = %d, %d, %d", tt.limit, c, tk, lk)
		}
	}
}
