package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/skillreg/skillreg/registry"
)

// MaxTokenBytes is the longest input Parse looks at. Real tokens are under
// 300 bytes; anything much longer is refused before any decoding work.
const MaxTokenBytes = 4096

// How often Tokens goes back to its KeySource: at least every
// refreshInterval, so that a key rotated by another process is seen, and
// for an unknown kid at most every missInterval, so that a flood of bogus
// kids cannot hammer the store.
const (
	refreshInterval = 5 * time.Second
	missInterval    = time.Second
)

// KeySource loads the current keys, e.g. from the registry's store. It is
// called from Sign, Parse and ActiveKeyID with their context.
type KeySource func(ctx context.Context) ([]Key, error)

// Tokens signs and parses certificate tokens; it implements
// registry.TokenCodec. It is safe for concurrent use.
//
// Keys are cached and never used more than 5 seconds past their load: if
// the KeySource then fails, Sign, Parse and ActiveKeyID return its error
// (internal) rather than trust keys that may have been retired.
type Tokens struct {
	src    KeySource // nil for static keys
	now    func() time.Time
	parser *jwt.Parser

	loadMu sync.Mutex // held while loading, so that concurrent callers share one load

	mu       sync.Mutex // guards the fields below
	set      *keySet
	loadedAt time.Time // last successful load
	triedAt  time.Time // last load attempt
}

var _ registry.TokenCodec = (*Tokens)(nil)

// Option configures Tokens.
type Option func(*Tokens)

// WithClock sets the clock that times key reloads, so that tests can move
// time instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(t *Tokens) { t.now = now }
}

// NewTokens returns Tokens that load keys from src on first use and reload
// them as described at KeySource. src must not be nil.
func NewTokens(src KeySource, opts ...Option) *Tokens {
	if src == nil {
		panic("verify: NewTokens with a nil KeySource")
	}
	t := newTokens(opts)
	t.src = src
	return t
}

// NewStaticTokens returns Tokens over a fixed set of keys, for offline
// verification (e.g. keys from ParseJWKS) where there is no store to reload
// from. It fails if a key is broken or two share an ID.
func NewStaticTokens(keys []Key) (*Tokens, error) {
	if len(keys) == 0 {
		return nil, errors.New("verify: no keys")
	}
	set, err := newKeySet(keys)
	if err != nil {
		return nil, err
	}
	t := newTokens(nil)
	t.set = set
	return t, nil
}

func newTokens(opts []Option) *Tokens {
	t := &Tokens{
		now: time.Now,
		// The algorithm is pinned: "none", HS256 keyed with our public
		// key and every other algorithm are refused before any key is
		// looked up. Claims are checked by decodePayload, not by jwt.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithStrictDecoding(), jwt.WithoutClaimsValidation()),
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// keys returns the current key set, reloading it when it is older than
// refreshInterval, or when kid is not in it and the last attempt was at
// least missInterval ago.
func (t *Tokens) keys(ctx context.Context, kid string) (*keySet, error) {
	if set, ok := t.cached(kid); ok {
		return set, nil
	}
	t.loadMu.Lock()
	defer t.loadMu.Unlock()
	// Another caller may have loaded while this one waited.
	if set, ok := t.cached(kid); ok {
		return set, nil
	}
	now := t.now()
	t.mu.Lock()
	t.triedAt = now
	t.mu.Unlock()
	keys, err := t.src(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: loading keys: %w", err)
	}
	set, err := newKeySet(keys)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.set, t.loadedAt = set, now
	t.mu.Unlock()
	return set, nil
}

// cached returns the cached key set and whether it will do without a
// reload: it is fresh, and it has kid or a reload for kid is not yet
// allowed.
func (t *Tokens) cached(kid string) (*keySet, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.src == nil {
		return t.set, true
	}
	if t.set == nil {
		return nil, false
	}
	now := t.now()
	if !within(now, t.loadedAt, refreshInterval) {
		return nil, false
	}
	if _, ok := t.set.byID[kid]; kid == "" || ok {
		return t.set, true
	}
	if within(now, t.triedAt, missInterval) {
		return t.set, true
	}
	return nil, false
}

// within reports whether now is less than d after then; a clock that went
// backwards counts as not within, so that it cannot freeze the cache.
func within(now, then time.Time, d time.Duration) bool {
	age := now.Sub(then)
	return age >= 0 && age < d
}

// ActiveKeyID returns the ID of the key that signs new certificates. It
// fails (an internal error) if the keys cannot be loaded or no key with a
// private part is active.
func (t *Tokens) ActiveKeyID(ctx context.Context) (string, error) {
	set, err := t.keys(ctx, "")
	if err != nil {
		return "", err
	}
	k, err := set.signer("")
	if err != nil {
		return "", err
	}
	return k.ID, nil
}

func (s *keySet) signer(kid string) (Key, error) {
	var k Key
	if kid == "" {
		if s.active == nil {
			return Key{}, errors.New("verify: no active signing key")
		}
		k = *s.active
	} else {
		var ok bool
		if k, ok = s.byID[kid]; !ok {
			return Key{}, registry.Errorf(registry.ENOTFOUND, "no signing key %q", kid)
		}
	}
	if k.Private == nil {
		return Key{}, fmt.Errorf("verify: key %q has no private part and cannot sign", k.ID)
	}
	if !validSigningKID(k.ID) {
		return Key{}, fmt.Errorf("verify: key ID %q is not 1-%d base64url characters and would not fit the QR budget", k.ID, KIDLen)
	}
	return k, nil
}

// Sign returns the token for c signed with key kid, or with the active key
// when kid is "", and the kid it used. Claims that Parse would refuse are
// an EINVALID *registry.Error; an unknown kid is ENOTFOUND; a missing
// active key or a store failure is an internal error.
func (t *Tokens) Sign(ctx context.Context, c registry.TokenClaims, kid string) (string, string, error) {
	p, err := toPayload(c)
	if err != nil {
		return "", "", err
	}
	set, err := t.keys(ctx, kid)
	if err != nil {
		return "", "", err
	}
	k, err := set.signer(kid)
	if err != nil {
		return "", "", err
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, p)
	// No "typ": every byte costs QR space, and only we read these.
	tok.Header = map[string]any{"alg": jwt.SigningMethodEdDSA.Alg(), "kid": k.ID}
	s, err := tok.SignedString(k.Private)
	if err != nil {
		return "", "", fmt.Errorf("verify: signing: %w", err)
	}
	return s, k.ID, nil
}

// keyLoadError marks a failure to load keys inside jwt's key function, so
// that Parse can tell it (internal) from a bad token (forged).
type keyLoadError struct{ err error }

func (e *keyLoadError) Error() string { return e.err.Error() }
func (e *keyLoadError) Unwrap() error { return e.err }

var (
	errNoKID      = errors.New("the token names no key")
	errUnknownKID = errors.New("no such key")
)

// Parse checks a token and returns its claims and the ID of the key that
// signed it. A token that is not a certificate token is a
// *registry.TokenError with Status registry.VerifyMalformed; one whose
// algorithm, key or signature is wrong has Status registry.VerifyForged.
// Any other error is internal: the keys could not be loaded.
//
// Header members other than alg and kid (jku, x5u, jwk, x5c, typ, ...) are
// ignored: keys come only from the KeySource, never from the token.
func (t *Tokens) Parse(ctx context.Context, token string) (*registry.TokenClaims, string, error) {
	if len(token) > MaxTokenBytes {
		return nil, "", malformed("longer than %d bytes", MaxTokenBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, "", malformed("not three dot-separated parts")
	}
	var seg [3][]byte
	for i, p := range parts {
		// The decoder skips CR and LF, so a token with line breaks added
		// would decode as the token without them: a second spelling of
		// one token, refused like any other character outside base64url.
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil || strings.ContainsAny(p, "\r\n") {
			return nil, "", malformed("part %d is not unpadded base64url", i+1)
		}
		seg[i] = b
	}
	hdr, err := decodeObject(seg[0])
	if err != nil {
		return nil, "", malformed("header: %v", err)
	}
	for _, name := range []string{"alg", "kid"} {
		if v, ok := hdr[name]; ok {
			var s string
			if err := decodeString(v, &s); err != nil {
				return nil, "", malformed("header: %q is not a string", name)
			}
		}
	}
	var alg string
	if v, ok := hdr["alg"]; ok {
		_ = decodeString(v, &alg)
	}
	if _, ok := hdr["crit"]; ok {
		// RFC 7515 §4.1.11: a recipient must refuse extensions it does
		// not understand, and we understand none.
		return nil, "", malformed("header: critical extensions are not supported")
	}
	// Documents the registry signs as its DID (SignJSONAs: credentials,
	// the revocation list) name their key by DID URL, "<did>#<kid>":
	// their signature is checked with that key, so that a genuine one is
	// malformed as a certificate token and a fake one is still forged.
	var kid string
	document := false
	_, err = t.parser.ParseWithClaims(token, &opaque{}, func(tok *jwt.Token) (any, error) {
		kid, _ = tok.Header["kid"].(string)
		if i := strings.LastIndexByte(kid, '#'); i >= 0 {
			kid, document = kid[i+1:], true
		}
		if kid == "" {
			return nil, errNoKID
		}
		set, err := t.keys(ctx, kid)
		if err != nil {
			return nil, &keyLoadError{err}
		}
		k, ok := set.byID[kid]
		if !ok {
			return nil, errUnknownKID
		}
		return k.Public, nil
	})
	if err != nil {
		var le *keyLoadError
		switch {
		case errors.As(err, &le):
			return nil, "", le.err
		case errors.Is(err, errNoKID):
			return nil, "", forged("the token names no key")
		case errors.Is(err, errUnknownKID):
			return nil, "", forged("unknown key %q", truncate(kid, 16))
		case errors.Is(err, jwt.ErrTokenMalformed):
			return nil, "", malformed("%v", err)
		case alg != jwt.SigningMethodEdDSA.Alg():
			return nil, "", forged("algorithm %q is not EdDSA", truncate(alg, 16))
		default:
			return nil, "", forged("bad signature")
		}
	}
	if document {
		return nil, "", malformed("a document signed by the registry, not a certificate token")
	}
	claims, err := decodePayload(seg[1])
	if err != nil {
		return nil, "", malformed("%v", err)
	}
	return &claims, kid, nil
}

// Claims decodes the claims a token states without checking its
// signature or its form, so it vouches for nothing: the registry uses it
// only to find the certificate record whose stored token MAC then decides
// whether this is the token it issued, byte for byte. It is cheap on
// purpose (no header; the payload read by scanPayload, json.Unmarshal
// only for a form Sign does not write); a token it cannot decode is a
// *registry.TokenError (malformed), and Parse gives the real answer.
func (t *Tokens) Claims(token string) (*registry.TokenClaims, error) {
	if len(token) > MaxTokenBytes {
		return nil, malformed("longer than %d bytes", MaxTokenBytes)
	}
	_, rest, ok := strings.Cut(token, ".")
	p, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return nil, malformed("not three dot-separated parts")
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return nil, malformed("part 2 is not unpadded base64url")
	}
	w, ok := scanPayload(b)
	if !ok {
		w = payload{}
		if err := json.Unmarshal(b, &w); err != nil {
			return nil, malformed("payload: not a certificate's claims")
		}
	}
	if len(w.D) != 8 {
		return nil, malformed("payload: not a certificate's claims")
	}
	return &registry.TokenClaims{Number: w.N, OccupationCode: w.O, Level: registry.Level(w.L),
		IssuedOn: w.D[:4] + "-" + w.D[4:6] + "-" + w.D[6:], HolderMasked: w.H, StatusIndex: w.S}, nil
}

func malformed(format string, args ...any) error {
	return &registry.TokenError{Status: registry.VerifyMalformed, Reason: fmt.Sprintf(format, args...)}
}

func forged(format string, args ...any) error {
	return &registry.TokenError{Status: registry.VerifyForged, Reason: fmt.Sprintf(format, args...)}
}

// truncate keeps attacker-chosen text in reasons short.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
