package registry

import (
	"context"
	"sync"
	"time"
)

// IssuerNameTTL bounds how long a verification may show an issuer's name
// after it changed: names are read from the store at most this often per
// issuer. A name is not a verdict (the certificate record, read on every
// verification, decides valid or revoked), so this cache cannot hide a
// revocation.
const IssuerNameTTL = time.Minute

type issuerNameEntry struct {
	name string
	at   time.Time
}

// issuerNames caches issuer names for the verification path, where an
// issuer read was a fifth of the work of verifying a token.
type issuerNames struct {
	m sync.Map // issuer ID -> issuerNameEntry
}

// issuerName returns the issuer's name, "" if there is no such issuer;
// the error is internal only.
func (r *Registry) issuerName(ctx context.Context, id string) (string, error) {
	now := r.now()
	if e, ok := r.status.names.m.Load(id); ok {
		ent := e.(issuerNameEntry)
		if d := now.Sub(ent.at); d >= 0 && d < IssuerNameTTL {
			return ent.name, nil
		}
	}
	name := ""
	is, err := r.store.Issuer(ctx, id)
	switch {
	case err == nil:
		name = is.Name
	case ErrorCode(err) != ENOTFOUND:
		return "", err
	}
	r.status.names.m.Store(id, issuerNameEntry{name: name, at: now})
	return name, nil
}
