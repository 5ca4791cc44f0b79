package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

// TestParseRate: the rate syntax of the serve flags, and its round trip.
func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		wantErr bool
	}{
		{"60/min", Rate{60, time.Minute}, false},
		{"600/m", Rate{600, time.Minute}, false},
		{" 10 / 15m ", Rate{10, 15 * time.Minute}, false},
		{"5/s", Rate{5, time.Second}, false},
		{"1000/hour", Rate{1000, time.Hour}, false},
		{"off", Rate{}, false},
		{"0", Rate{}, false},
		{"60", Rate{}, true},
		{"-1/min", Rate{}, true},
		{"0/min", Rate{}, true},
		{"x/min", Rate{}, true},
		{"60/fortnight", Rate{}, true},
		{"60/10ms", Rate{}, true},
		{"60/48h", Rate{}, true},
		{"2000000/s", Rate{}, true},
		{"3/90m", Rate{3, 90 * time.Minute}, false},
		{"3/2h", Rate{3, 2 * time.Hour}, false},
		{"3/90s", Rate{3, 90 * time.Second}, false},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			continue
		}
		if err == nil {
			back, err := ParseRate(got.String())
			if err != nil || back != got {
				t.Errorf("round trip of %q through %q: %v, %v", tt.in, got.String(), back, err)
			}
		}
	}
}

// TestPrefixesSet: trusted proxies as CIDR prefixes or single addresses.
func TestPrefixesSet(t *testing.T) {
	var p Prefixes
	if err := p.Set("10.0.0.0/8, 192.168.1.7,::1, 2001:db8::/32,"); err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "10.0.0.0/8,192.168.1.7/32,::1/128,2001:db8::/32" {
		t.Fatalf("got %s", got)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0/8"} {
		if err := p.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
	if err := p.Set(""); err != nil || len(p) != 0 {
		t.Fatalf("empty: %v %v", p, err)
	}
}

// TestLimiterBucket: a burst of N, then one token per Per/N, and the wait
// it reports is the time to the next token.
func TestLimiterBucket(t *testing.T) {
	l := New(Rate{N: 3, Per: time.Minute})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.Take("a", now); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	ok, wait := l.Take("a", now)
	if ok || wait != 20*time.Second {
		t.Fatalf("4th: %v, wait %v; want refused, 20s", ok, wait)
	}
	if ok, _ := l.Check("a", now.Add(19*time.Second)); ok {
		t.Fatal("a token after 19 s")
	}
	if ok, _ := l.Take("a", now.Add(20*time.Second)); !ok {
		t.Fatal("no token after 20 s")
	}
	if ok, _ := l.Take("b", now); !ok {
		t.Fatal("another key is limited")
	}
	if ok, _ := (*Limiter)(nil).Take("a", now); !ok {
		t.Fatal("a nil limiter refused")
	}
}

// TestLimiterMemoryBound: idle buckets are dropped after a period, and a
// flood of keys never holds more than MaxBuckets.
func TestLimiterMemoryBound(t *testing.T) {
	l := New(Rate{N: 10, Per: time.Minute})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 1000 {
		l.Take("k"+strconv.Itoa(i), now)
	}
	if l.Size() != 1000 {
		t.Fatalf("size %d", l.Size())
	}
	l.Take("late", now.Add(61*time.Second))
	if l.Size() != 1 {
		t.Fatalf("after a minute idle, %d buckets remain; want only the new one", l.Size())
	}
	for i := range MaxBuckets + 5000 {
		l.Take("flood"+strconv.Itoa(i), now.Add(62*time.Second))
	}
	if l.Size() > MaxBuckets {
		t.Fatalf("%d buckets, more than %d", l.Size(), MaxBuckets)
	}
}
