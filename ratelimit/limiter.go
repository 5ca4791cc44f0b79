package ratelimit

import (
	"math"
	"sync"
	"time"
)

// MaxBuckets bounds each limiter's memory: about 100 bytes a bucket.
const MaxBuckets = 100_000

// bucket is one client's token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// Limiter keeps one token bucket per client key. Idle buckets (full again)
// are dropped every period, and at most MaxBuckets are kept: when a flood
// of new keys fills it, an arbitrary bucket is dropped, which can only make
// that client's limit more lenient, never lock anyone out. A nil Limiter
// allows everything.
type Limiter struct {
	rate Rate

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

// New returns a limiter of rate r, or nil (no limit) for the zero Rate.
func New(r Rate) *Limiter {
	if r.N == 0 {
		return nil
	}
	return &Limiter{rate: r, buckets: map[string]*bucket{}}
}

// Rate returns the limiter's rate.
func (l *Limiter) Rate() Rate { return l.rate }

// refill returns key's bucket brought up to now, creating it full; the
// caller holds l.mu.
func (l *Limiter) refill(key string, now time.Time) *bucket {
	// At most one sweep a period, so that a flood of new keys costs O(1)
	// each rather than a sweep each.
	if now.Sub(l.lastSweep) >= l.rate.Per {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= MaxBuckets {
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
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.last) >= l.rate.Per {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// wait returns how long until key's bucket has a whole token.
func (l *Limiter) wait(b *bucket) time.Duration {
	return time.Duration((1 - b.tokens) * float64(l.rate.Per) / float64(l.rate.N))
}

// Take spends one token of key's bucket; when there is none it spends
// nothing and says how long to wait.
func (l *Limiter) Take(key string, now time.Time) (bool, time.Duration) {
	return l.use(key, now, true)
}

// Check reports whether key's bucket has a token, without spending it.
func (l *Limiter) Check(key string, now time.Time) (bool, time.Duration) {
	return l.use(key, now, false)
}

// use refills key's bucket and reports whether it has a whole token,
// spending it if spend is set; when there is none it says how long to
// wait.
func (l *Limiter) use(key string, now time.Time, spend bool) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens >= 1 {
		if spend {
			b.tokens--
		}
		return true, 0
	}
	return false, l.wait(b)
}

// TakeN spends n tokens of key's bucket at once, or none; it says how long
// until n would be there, and whether n can ever fit (n <= the burst).
func (l *Limiter) TakeN(key string, n int, now time.Time) (ok bool, wait time.Duration, fits bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > l.rate.N {
		return false, 0, false
	}
	b := l.refill(key, now)
	if b.tokens >= float64(n) {
		b.tokens -= float64(n)
		return true, 0, true
	}
	return false, time.Duration((float64(n) - b.tokens) * float64(l.rate.Per) / float64(l.rate.N)), true
}

// Size returns the number of buckets kept.
func (l *Limiter) Size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
