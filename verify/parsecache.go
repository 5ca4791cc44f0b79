package verify

import (
	"context"
	"sync"

	"github.com/skillreg/skillreg/registry"
)

// The parse cache remembers tokens whose signature and claims checked out,
// keyed by the exact token string. Whether a given string carries a good
// signature by a given key never changes, and keys are never deleted
// (retired keys stay so that old certificates keep verifying), so a hit
// only skips work whose answer is known. It holds no verdict: revocation
// and the registry's record are read on every verification, so the cache
// hides no revocation, for any length of time. Only genuine tokens enter
// it (failures are not cached), so forged inputs cannot fill it; at most
// max entries are kept, and when full an arbitrary one is dropped.
type parseCache struct {
	max int
	mu  sync.Mutex
	m   map[string]parsed
}

type parsed struct {
	claims registry.TokenClaims
	kid    string
}

// WithParseCache keeps up to entries successfully parsed tokens (about 400
// bytes each), so that a token verified again skips the signature check.
// Zero or less disables it (the default).
func WithParseCache(entries int) Option {
	return func(t *Tokens) {
		if entries > 0 {
			t.cache = &parseCache{max: entries, m: make(map[string]parsed, min(entries, 1024))}
		}
	}
}

func (c *parseCache) get(token string) (parsed, bool) {
	if c == nil {
		return parsed{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[token]
	return p, ok
}

func (c *parseCache) put(token string, p parsed) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[token] = p
}

// parseCached answers from the cache when the token is there and its key
// is still in the current key set (loaded as Parse would load it).
func (t *Tokens) parseCached(ctx context.Context, token string) (*registry.TokenClaims, string, bool) {
	p, ok := t.cache.get(token)
	if !ok {
		return nil, "", false
	}
	set, err := t.keys(ctx, p.kid)
	if err != nil {
		return nil, "", false
	}
	if _, ok := set.byID[p.kid]; !ok {
		return nil, "", false
	}
	c := p.claims
	return &c, p.kid, true
}
