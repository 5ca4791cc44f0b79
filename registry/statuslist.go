package registry

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"
)

// The revocation status list (W3C Bitstring Status List v1.0): every
// certificate gets, at issue, one bit of a registry-wide bitstring, set
// when it is revoked. Offline verifiers download the bitstring in the
// trust bundle and learn a certificate's revocation without telling the
// registry which certificate they hold.
//
// Indexes are drawn with crypto/rand, uniformly among the free indexes of
// the current list, so that an index says nothing about when or by whom a
// certificate was issued ("herd privacy", spec §6.5). Index 0 is never
// handed out: it lets Certificate.StatusIndex's zero value mean "none
// yet" in every store, and costs one bit that is always clear.
//
// The list starts at StatusListMinSize bits (the spec's minimum, 16 KiB)
// and doubles when it fills up: one list whose length is always
// StatusListMinSize << k, and whose length anyone can work out from the
// highest index in use (StatusListSize). An index never moves, so a
// growing list only appends bits: tokens and bundles made earlier stay
// right. The allocator notices a full list through collisions: after
// statusGrowAfter draws in a row hit taken indexes (likely only once the
// list is roughly three quarters full), it doubles the list, so an issue
// costs on average a little over one insert attempt.
const (
	StatusListMinSize = 131_072
	// MaxStatusListSize bounds the list (8,192 lists' worth, a billion
	// certificates): an index then fits in the QR token's budget.
	MaxStatusListSize = StatusListMinSize << 13
	statusGrowAfter   = 8
	statusMaxAttempts = 64
)

// StatusListRefresh bounds how long a built status list is reused: a
// revocation through another process reaches StatusList within this time;
// one through this process invalidates it at once.
const StatusListRefresh = 5 * time.Second

// StatusListSize returns the length in bits of the list whose highest
// index in use is maxIndex.
func StatusListSize(maxIndex int) int {
	n := StatusListMinSize
	for n <= maxIndex && n < MaxStatusListSize {
		n <<= 1
	}
	return n
}

// statusState is the revocation status list's state in the registry: the
// status-list allocator and cache, and the issuer names of the
// verification path (issuername.go).
type statusState struct {
	names issuerNames

	capacity atomic.Int64  // current list length for new draws; 0 until loaded
	gen      atomic.Uint64 // bumped by every revocation through this registry

	mu       sync.Mutex
	built    *StatusList
	builtGen uint64 // gen when built was read
}

// changed marks the cached list stale (a revocation happened).
func (s *statusState) changed() { s.gen.Add(1) }

// randomStatusIndex draws an index in [1, size) from crypto/rand.
func randomStatusIndex(size int) (int, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(size-1)))
	if err != nil {
		return 0, fmt.Errorf("registry: drawing a status index: %w", err)
	}
	return int(n.Int64()) + 1, nil
}

// statusCapacity returns the list length new indexes are drawn from,
// loading it from the store on first use.
func (r *Registry) statusCapacity(ctx context.Context) (int, error) {
	if c := r.status.capacity.Load(); c > 0 {
		return int(c), nil
	}
	m, err := r.store.MaxStatusIndex(ctx)
	if err != nil {
		return 0, err
	}
	size := StatusListSize(m)
	r.status.capacity.CompareAndSwap(0, int64(size))
	return int(r.status.capacity.Load()), nil
}

// growStatus doubles the list length new indexes are drawn from, unless
// another caller already did.
func (r *Registry) growStatus(from int) {
	if from < MaxStatusListSize {
		r.status.capacity.CompareAndSwap(int64(from), int64(from*2))
	}
}

// statusIndexTaken reports whether err is the store's "another
// certificate has this status index".
func statusIndexTaken(err error) bool {
	return ErrorCode(err) == ECONFLICT && ErrorField(err) == "status_index"
}

// createWithStatusIndex stores c under prefix with a random free status
// index, retrying the draw when the store reports the index taken. With
// an audit entry e, the store appends it with the certificate (e is only
// passed for a store that is an AuditedCertificateCreator).
func (r *Registry) createWithStatusIndex(ctx context.Context, prefix string, c *Certificate, e *AuditEntry) (bool, error) {
	create := func(ctx context.Context, prefix string, c *Certificate, e *AuditEntry) (bool, error) {
		if e != nil {
			return r.store.(AuditedCertificateCreator).CreateCertificateAudited(ctx, prefix, c, e)
		}
		return r.store.CreateCertificate(ctx, prefix, c)
	}
	return r.createWithStatusIndexBy(ctx, create, prefix, c, e)
}

// createWithStatusIndexBy is createWithStatusIndex through create, which
// stores c (and e, when not nil) as CreateCertificateAudited does.
func (r *Registry) createWithStatusIndexBy(ctx context.Context, create func(context.Context, string, *Certificate, *AuditEntry) (bool, error),
	prefix string, c *Certificate, e *AuditEntry) (bool, error) {
	misses := 0
	for attempt := 0; attempt < statusMaxAttempts; attempt++ {
		size, err := r.statusCapacity(ctx)
		if err != nil {
			return false, err
		}
		if c.StatusIndex, err = randomStatusIndex(size); err != nil {
			return false, err
		}
		created, err := create(ctx, prefix, c, e)
		if !statusIndexTaken(err) {
			return created, err
		}
		if misses++; misses >= statusGrowAfter {
			r.growStatus(size)
			misses = 0
		}
	}
	return false, fmt.Errorf("registry: no free status index after %d draws", statusMaxAttempts)
}

// AssignStatusIndexes gives every certificate without a status index
// (stored before status lists existed) a random free one, in batches, and
// returns how many it assigned. It is idempotent and safe to run from
// several processes at once: a certificate that another process indexed
// first is skipped.
func (r *Registry) AssignStatusIndexes(ctx context.Context) (int, error) {
	done, stalls := 0, 0
	for {
		numbers, err := r.store.CertificatesWithoutStatusIndex(ctx, 500)
		if err != nil {
			return done, err
		}
		if len(numbers) == 0 {
			return done, nil
		}
		progress := false
		for _, n := range numbers {
			ok, err := r.assignStatusIndex(ctx, n)
			if err != nil {
				return done, err
			}
			if ok {
				done++
				progress = true
			}
		}
		if !progress {
			// Every one was indexed by someone else meanwhile, so the next
			// read should not list them again; if it does, stop rather
			// than loop.
			stalls++
			if stalls > 3 {
				return done, fmt.Errorf("registry: certificates without a status index could not be indexed (e.g. %s)", numbers[0])
			}
			continue
		}
		stalls = 0
	}
}

func (r *Registry) assignStatusIndex(ctx context.Context, number string) (bool, error) {
	misses := 0
	for attempt := 0; attempt < statusMaxAttempts; attempt++ {
		size, err := r.statusCapacity(ctx)
		if err != nil {
			return false, err
		}
		idx, err := randomStatusIndex(size)
		if err != nil {
			return false, err
		}
		err = r.store.SetStatusIndex(ctx, number, idx)
		switch {
		case err == nil:
			return true, nil
		case statusIndexTaken(err):
			if misses++; misses >= statusGrowAfter {
				r.growStatus(size)
				misses = 0
			}
		case ErrorCode(err) == ECONFLICT, ErrorCode(err) == ENOTFOUND:
			return false, nil // indexed or gone meanwhile
		default:
			return false, err
		}
	}
	return false, fmt.Errorf("registry: no free status index for %s after %d draws", number, statusMaxAttempts)
}

// StatusList is the revocation bitstring as published.
type StatusList struct {
	Size        int       // bits
	Revoked     int       // bits set
	EncodedList string    // multibase base64url (prefix "u") of GZIP(bitstring)
	BuiltAt     time.Time // when it was read from the store
}

// StatusList returns the current revocation list, built from the store's
// revoked indexes only and reused until a revocation through this
// registry or StatusListRefresh has passed.
func (r *Registry) StatusList(ctx context.Context) (*StatusList, error) {
	gen := r.status.gen.Load()
	now := r.now()
	r.status.mu.Lock()
	defer r.status.mu.Unlock()
	if b := r.status.built; b != nil && r.status.builtGen == gen && now.Sub(b.BuiltAt) < StatusListRefresh && !now.Before(b.BuiltAt) {
		return b, nil
	}
	maxIdx, err := r.store.MaxStatusIndex(ctx)
	if err != nil {
		return nil, err
	}
	revoked, err := r.store.RevokedStatusIndexes(ctx)
	if err != nil {
		return nil, err
	}
	size := StatusListSize(maxIdx)
	enc, err := EncodeStatusList(size, revoked)
	if err != nil {
		return nil, err
	}
	r.status.built = &StatusList{Size: size, Revoked: len(revoked), EncodedList: enc, BuiltAt: now}
	r.status.builtGen = gen
	return r.status.built, nil
}

// EncodeStatusList makes the spec's encodedList for a list of size bits
// with the given indexes set: bit 0 is the most significant bit of the
// first byte; the bytes are GZIP-compressed and written as unpadded
// base64url with the multibase prefix "u".
func EncodeStatusList(size int, set []int) (string, error) {
	if size%8 != 0 || size <= 0 {
		return "", fmt.Errorf("registry: status list size %d is not a positive multiple of 8", size)
	}
	bits := make([]byte, size/8)
	for _, i := range set {
		if i < 0 || i >= size {
			return "", fmt.Errorf("registry: status index %d outside a list of %d", i, size)
		}
		bits[i/8] |= 0x80 >> (i % 8)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(bits); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// PublicIssuers returns every issuing organisation, for the public trust
// bundle: issuers are organisations, not people, and their IDs are in
// every certificate number anyway.
func (r *Registry) PublicIssuers(ctx context.Context) ([]*Issuer, error) {
	return r.store.Issuers(ctx)
}
