package ratelimit

import (
	"sync"
	"time"
)

// DefaultAPIKeyRate is each API key's bucket when neither the server nor
// the key sets one.
var DefaultAPIKeyRate = Rate{12000, time.Minute}

// LookupCost is what one number+name check costs in an API key's bucket,
// against 1 for a token: the ratio of the default per-client limits (600
// token verifications against 60 lookups a minute), since a number and a
// name can be guessed and a token cannot.
const LookupCost = 10

// Cost returns what one request under the named per-client limit costs
// in an API key's bucket, and how many token verifications and lookups it
// counts as.
func Cost(limit string) (cost, tokens, lookups int) {
	switch limit {
	case NameVerify:
		return 1, 1, 0
	case NameLookup:
		return LookupCost, 0, 1
	}
	return 1, 0, 0
}

// Keyed holds one limiter per API key (or per logged-in user's batches),
// each at the key's own rate or the default.
type Keyed struct {
	def     Rate
	mu      sync.Mutex
	buckets map[string]*Limiter
}

// NewKeyed returns a Keyed whose limiters run at def unless a key sets
// its own rate; the zero def means DefaultAPIKeyRate.
func NewKeyed(def Rate) *Keyed {
	if def.N == 0 {
		def = DefaultAPIKeyRate
	}
	return &Keyed{def: def, buckets: map[string]*Limiter{}}
}

// RateOf returns the rate of a key that sets perMinute (zero: the default).
func (k *Keyed) RateOf(perMinute int) Rate {
	if perMinute > 0 {
		return Rate{perMinute, time.Minute}
	}
	return k.def
}

// For returns the limiter of id, created at RateOf(perMinute) on first use.
func (k *Keyed) For(id string, perMinute int) *Limiter {
	k.mu.Lock()
	defer k.mu.Unlock()
	l, ok := k.buckets[id]
	if !ok {
		l = New(k.RateOf(perMinute))
		k.buckets[id] = l
	}
	return l
}
