// Package signedcache keeps a server's last signed copy of a document
// that is built over the revocation status list (the trust bundle, the
// status-list credential): the copy is served again while the list's
// bits are unchanged and it is younger than a maximum age, so that a
// flood of downloads costs no signatures. It knows nothing of HTTP.
package signedcache

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// Doc is one signed document.
type Doc struct {
	Body   []byte
	ETag   string    // a strong entity tag of Body, quoted
	Signed time.Time // when it was signed, as its signer dated it
	bits   string    // the encoded status list it was built over
}

// Cache holds the last Doc. Its zero value is ready to use with a MaxAge
// of zero, which never reuses a Doc.
type Cache struct {
	// MaxAge bounds how long a Doc whose status list has not changed is
	// served again, so that whatever else it holds (issuers, keys) or its
	// own validity stays fresh.
	MaxAge time.Duration

	mu  sync.Mutex
	doc *Doc
}

// New returns a Cache that reuses a Doc for at most maxAge.
func New(maxAge time.Duration) *Cache { return &Cache{MaxAge: maxAge} }

// Sign builds and signs the document at now; it returns the signed text
// and the time the document says it was signed.
type Sign func(ctx context.Context, now time.Time) (body string, signed time.Time, err error)

// Get returns the cached Doc if it was built over bits, is younger than
// MaxAge and is not dated after the clock's now (a clock set back);
// otherwise it signs a new one with sign and keeps it. A failed sign keeps
// the old Doc and returns its error. Calls are serialised, and the clock
// is read once the lock is held, so that requests that queued behind a
// signature reuse it rather than finding it newer than their own now.
func (c *Cache) Get(ctx context.Context, bits string, clock func() time.Time, sign Sign) (*Doc, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := clock()
	if d := c.doc; d != nil && d.bits == bits && now.Sub(d.Signed) < c.MaxAge && !now.Before(d.Signed) {
		return d, nil
	}
	body, signed, err := sign(ctx, now)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(body))
	c.doc = &Doc{Body: []byte(body), ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`, Signed: signed, bits: bits}
	return c.doc, nil
}
