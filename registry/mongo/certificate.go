package mongo

// # Gap-free serials without transactions
//
// A certificate number is a prefix (issuer, year, level) and a serial, and
// serials of one prefix must run 1, 2, 3, ... with no gaps, even when many
// processes issue at once and any of them may crash between two writes.
// FerretDB has no multi-document transactions (and sharded transactions
// are costly on MongoDB), so the design needs none. It also needs no
// atomic conditional update: FerretDB v1 runs every update, findAndModify
// included, as a read followed by a write of the whole document, so a
// compare-and-set or an $inc counter loses updates under concurrency (the
// contract's ConcurrentRevoke test caught this). The only arbiter here is
// the unique _id of an insert, which is atomic on both. Updates are used
// only where a lost or repeated update is harmless: idempotent roll-forwards
// that every writer performs with the same values, and a monotone hint.
//
// The insert is the allocation. A serial is not taken from a counter and
// then used: a certificate document is inserted with _id = number, and the
// unique _id decides which of several writers gets that number. A writer
// only ever tries serial n when it knows that serials 1..n-1 are stored
// certificates, so the set of stored serials is always 1..N:
//
//   - the serials collection holds, per prefix, a hint "last": every
//     serial 1..last is a stored certificate. A writer starts at last+1.
//   - if the insert of n fails with a duplicate key, n is stored (by
//     someone else), so 1..n are stored and n+1 is as safe to try; the
//     writer re-reads the hint and tries max(n+1, last+1).
//   - after its insert succeeds, the writer raises the hint with $max. The
//     hint only saves work: if it lags, writers meet duplicates and walk
//     past them. Even a lost $max update (FerretDB) leaves a value some
//     writer computed from a stored serial, so "1..last are stored" holds.
//
// Certificates are never deleted (revocation is an update), so "1..n-1 are
// stored" stays true once observed. Crash analysis, for an issuance
// without external_ref: a crash before the insert wrote nothing; after the
// insert, the certificate exists and only the hint lags, which the next
// writer walks past. No state is left that needs cleaning up, and no
// serial is ever skipped. A failed insert uses no serial.
//
// With write concern majority a replica-set failover cannot open a gap
// either: a writer tries n+1 only after seeing n on the primary, so n is
// before n+1 in the primary's oplog, and n+1 being majority-committed
// means n is too. (A write that was never acknowledged can be rolled back;
// then so is every later serial that was not acknowledged, and a rolled-
// back certificate was never reported as issued.) Retryable writes keep a
// network error on the insert's reply from turning into a second
// certificate: the driver's retry gets the first attempt's result.
//
// # Idempotent external_ref
//
// The external_refs collection makes (issuer, external_ref) unique by its
// _id, issuer + "|" + ref. That holds on a sharded cluster (a unique
// secondary index would need the shard key as its prefix) and on FerretDB,
// which ignores the sparse option; a sparse compound index on real MongoDB
// would not do either, because it indexes a certificate without a ref as
// (issuer, null) and makes all of them collide.
//
//  1. Claim: the first caller inserts {_id: key, cert: the certificate to
//     issue, prefix, first: prefix+(last+1)}. Whoever inserts it owns the
//     ref; later callers with the same ref issue nothing of their own, they
//     finish the stored claim instead.
//  2. Bind: the claim's number is "first". If that number turns out to hold
//     another certificate, the claim moves on by inserting a rebind
//     document {_id: key|k, number: max(n+1, last+1)} for k = 1, 2, ...
//     (rebinds are insert-only and never deleted; the highest k wins).
//  3. Issue: the certificate is inserted at the current number, then the
//     claim is rewritten to {_id, number} (the same values from whoever
//     does it).
//
// Any caller that finds an unfinished claim finishes it, whether the caller
// that claimed crashed or is merely slow: there is no lease to expire and
// nothing waits. However many finish it at once, one certificate is stored
// per ref: it can only be inserted at the number of the highest rebind,
// and rebind k+1 is only inserted after number k was seen to hold another
// certificate, which is never deleted, so no insert at an earlier number
// can succeed any more. The caller whose insert succeeded reports created
// = true; every other gets the stored certificate and created = false. The
// serials stay gap-free by the rule above: every number bound is one whose
// predecessors are known to be stored.
//
// Crash analysis for an issuance with external_ref: after the claim, the
// next call with the same ref (the client's retry) issues the claimed
// certificate; after a rebind, the same at the new number; after the
// certificate insert and before the claim is rewritten, the next call
// finds the certificate and rewrites the claim. A claim never retried uses
// no serial: binding a number does not take it, only the insert does.
//
// # Revocation
//
// Also by insert: a revocations document {_id: number, reason, at} is
// inserted first, and its unique _id makes exactly one of concurrent
// revocations win; then the certificate is set revoked with those values.
// A caller that loses the insert applies the stored revocation too (the
// same values) before it answers ECONFLICT, so a crash between the two
// writes is repaired by the next attempt to revoke, and "already revoked"
// is never said of a certificate that still reads as valid.

import (
	"context"
	"regexp"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
)

// Listing page sizes: the default when a filter asks for none, and the most
// one page may hold.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
)

// certDoc is a certificate as stored; _id is its number. Empty optional
// fields are left out, which keeps the 300-million-document collection
// smaller (docs/deploy.md).
type certDoc struct {
	Number         string     `bson:"_id,omitempty"` // empty only inside a claimed refDoc
	IssuerID       string     `bson:"issuer_id"`
	HolderName     string     `bson:"holder_name"`
	HolderIDMasked string     `bson:"holder_id_masked"`
	HolderIDHash   string     `bson:"holder_id_hash"`
	HolderIDCipher []byte     `bson:"holder_id_cipher"`
	OccupationCode string     `bson:"occupation_code"`
	Level          int        `bson:"level"`
	Channel        string     `bson:"channel"`
	IssuedOn       string     `bson:"issued_on"`
	ExternalRef    string     `bson:"external_ref,omitempty"`
	Status         string     `bson:"status"`
	RevokedAt      *time.Time `bson:"revoked_at,omitempty"`
	RevokeReason   string     `bson:"revoke_reason,omitempty"`
	KeyID          string     `bson:"key_id"`
	CreatedAt      time.Time  `bson:"created_at"`
	StatusIndex    int        `bson:"status_index,omitempty"` // claimed in status_indexes (employers.go)
	// TrainingRecordID names the training record the certificate came
	// from, if any.
	TrainingRecordID string `bson:"training_record_id,omitempty"`
	// TokenMAC: the keyed MAC of the issued token (registry.Vault.TokenMAC).
	TokenMAC []byte `bson:"token_mac,omitempty"`
}

// refDoc is the external_refs document of one (issuer, external_ref); see
// the design comment at the top of this file for its states.
type refDoc struct {
	Key     string   `bson:"_id"`               // issuer ID + "|" + external_ref
	Number  string   `bson:"number,omitempty"`  // the issued certificate, once issued
	First   string   `bson:"first,omitempty"`   // the number bound at the claim, until issued
	Prefix  string   `bson:"prefix,omitempty"`  // until issued
	Cert    *certDoc `bson:"cert,omitempty"`    // the certificate to issue, until issued
	Claimed *int64   `bson:"claimed,omitempty"` // Unix ms of the claim, for operators
}

// rebindDoc moves an unfinished claim to another number: _id is the claim's
// key + "|" + k for k = 1, 2, ...; the highest k is the current number.
type rebindDoc struct {
	ID     string `bson:"_id"`
	Number string `bson:"number"`
}

// revocationDoc decides a revocation: its unique _id (the number) makes
// one revocation win; the certificate then takes its values.
type revocationDoc struct {
	Number    string    `bson:"_id"`
	Reason    string    `bson:"reason"`
	RevokedAt time.Time `bson:"revoked_at"`
}

// serialDoc is the serials hint of one prefix: every serial 1..Last is a
// stored certificate.
type serialDoc struct {
	Prefix string `bson:"_id"`
	Last   int    `bson:"last"`
}

func toCertDoc(c *registry.Certificate) *certDoc {
	d := &certDoc{
		Number: c.Number, IssuerID: c.IssuerID, HolderName: c.HolderName, HolderIDMasked: c.HolderIDMasked,
		HolderIDHash: c.HolderIDHash, HolderIDCipher: nonNil(c.HolderIDCipher), OccupationCode: c.OccupationCode,
		Level: int(c.Level), Channel: string(c.Channel), IssuedOn: c.IssuedOn, ExternalRef: c.ExternalRef,
		Status: c.Status, RevokeReason: c.RevokeReason, KeyID: c.KeyID, CreatedAt: msTime(c.CreatedAt),
		StatusIndex: c.StatusIndex, TrainingRecordID: c.TrainingRecordID, TokenMAC: nilIfEmpty(c.TokenMAC),
	}
	if c.RevokedAt != nil {
		t := msTime(*c.RevokedAt)
		d.RevokedAt = &t
	}
	return d
}

func (d *certDoc) certificate() *registry.Certificate {
	c := &registry.Certificate{
		Number: d.Number, IssuerID: d.IssuerID, HolderName: d.HolderName, HolderIDMasked: d.HolderIDMasked,
		HolderIDHash: d.HolderIDHash, HolderIDCipher: nilIfEmpty(d.HolderIDCipher), OccupationCode: d.OccupationCode,
		Level: registry.Level(d.Level), Channel: registry.Channel(d.Channel), IssuedOn: d.IssuedOn,
		ExternalRef: d.ExternalRef, Status: d.Status, RevokeReason: d.RevokeReason, KeyID: d.KeyID,
		CreatedAt: d.CreatedAt.UTC(), StatusIndex: d.StatusIndex, TrainingRecordID: d.TrainingRecordID,
		TokenMAC: nilIfEmpty(d.TokenMAC),
	}
	if d.RevokedAt != nil {
		t := d.RevokedAt.UTC()
		c.RevokedAt = &t
	}
	return c
}

// refKey is the _id of the external_refs document of (issuer, ref). An
// issuer ID is 13 letters and digits, so the first "|" ends it.
func refKey(issuerID, ref string) string { return issuerID + "|" + ref }

// CreateCertificate stores c with the next serial of prefix, which it also
// writes into c.Number; afterwards c holds exactly what was stored (times
// in UTC milliseconds). If c.ExternalRef is not empty and the issuer
// already has a certificate with it, nothing is written, c is overwritten
// with the stored one and created is false. EINVALID if the prefix has no
// serials left, is malformed, or c.IssuerID names no stored issuer. See
// the top of this file for how serials stay gap-free without transactions.
func (s *Store) CreateCertificate(ctx context.Context, prefix string, c *registry.Certificate) (bool, error) {
	if c.StatusIndex > 0 {
		return s.createCertificateClaimed(ctx, prefix, c, s.createCertificate)
	}
	return s.createCertificate(ctx, prefix, c)
}

func (s *Store) createCertificate(ctx context.Context, prefix string, c *registry.Certificate) (bool, error) {
	if info, err := registry.ParseNumber(registry.FormatNumber(prefix, 1)); err != nil || info.Legacy {
		return false, registry.Errorf(registry.EINVALID, "%q is not a certificate number prefix", prefix)
	}
	ok, err := s.issuerExists(ctx, c.IssuerID)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, registry.FieldError("issuer_id", "no issuer has the id %q", c.IssuerID)
	}
	d := toCertDoc(c)
	if c.ExternalRef == "" {
		if err := s.insertNext(ctx, prefix, d); err != nil {
			return false, err
		}
		*c = *d.certificate()
		return true, nil
	}
	return s.createWithRef(ctx, prefix, c, d)
}

// lastSerial reads the hint of prefix: serials 1..last are stored.
func (s *Store) lastSerial(ctx context.Context, prefix string) (int, error) {
	var d serialDoc
	err := s.serials.FindOne(ctx, bson.D{{Key: "_id", Value: prefix}}).Decode(&d)
	switch {
	case notFound(err):
		return 0, nil
	case err != nil:
		return 0, internal(err, "read the serials of %s", prefix)
	}
	return d.Last, nil
}

// raiseSerial records that serials 1..serial of prefix are stored. $max
// never lowers the hint, so concurrent and late calls are harmless.
func (s *Store) raiseSerial(ctx context.Context, prefix string, serial int) error {
	err := upsertOnce(ctx, s.serials, bson.D{{Key: "_id", Value: prefix}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "last", Value: serial}}}})
	if err != nil {
		return internal(err, "record serial %d of %s", serial, prefix)
	}
	return nil
}

// nextCandidate returns the serial to try after finding serial taken:
// taken+1 is safe (1..taken are stored), and the hint may know better.
func (s *Store) nextCandidate(ctx context.Context, prefix string, taken int) (int, error) {
	last, err := s.lastSerial(ctx, prefix)
	if err != nil {
		return 0, err
	}
	return max(taken+1, last+1), nil
}

func noSerialsLeft(prefix string) error {
	return registry.Errorf(registry.EINVALID, "no serials left for prefix %s: all %d are used", prefix, registry.MaxSerial)
}

// insertNext inserts d at the lowest free serial of prefix and sets
// d.Number. It is the whole issuing path of a certificate without
// external_ref: one successful insert, then the hint.
func (s *Store) insertNext(ctx context.Context, prefix string, d *certDoc) error {
	last, err := s.lastSerial(ctx, prefix)
	if err != nil {
		return err
	}
	serial := last + 1
	for {
		if serial > registry.MaxSerial {
			return noSerialsLeft(prefix)
		}
		d.Number = registry.FormatNumber(prefix, serial)
		_, err := s.certsLocal.InsertOne(ctx, d)
		if err == nil {
			break
		}
		if !mongo.IsDuplicateKeyError(err) {
			return internal(err, "insert certificate %s", d.Number)
		}
		if serial, err = s.nextCandidate(ctx, prefix, serial); err != nil {
			return err
		}
	}
	// The certificate is stored: a failure to raise the hint must not
	// report the issuance as failed (a client would retry and issue twice).
	// The hint only saves later writers a few duplicate-key round trips.
	_ = s.raiseSerial(ctx, prefix, serial)
	return nil
}

// certLocal reads a certificate on the issuing path (read concern local).
func (s *Store) certLocal(ctx context.Context, number string) (*certDoc, error) {
	var d certDoc
	err := s.certsLocal.FindOne(ctx, bson.D{{Key: "_id", Value: number}}).Decode(&d)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// createWithRef issues c unless its (issuer, external_ref) is known; see
// the design comment at the top of this file.
func (s *Store) createWithRef(ctx context.Context, prefix string, c *registry.Certificate, d *certDoc) (bool, error) {
	key := refKey(c.IssuerID, c.ExternalRef)
	for {
		var claim refDoc
		err := s.refs.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&claim)
		if notFound(err) {
			last, err := s.lastSerial(ctx, prefix)
			if err != nil {
				return false, err
			}
			if last >= registry.MaxSerial {
				return false, noSerialsLeft(prefix)
			}
			body := *d
			body.Number = ""
			since := time.Now().UnixMilli()
			claim = refDoc{Key: key, First: registry.FormatNumber(prefix, last+1), Prefix: prefix, Cert: &body, Claimed: &since}
			_, err = s.refs.InsertOne(ctx, &claim)
			if mongo.IsDuplicateKeyError(err) {
				continue // claimed by a concurrent caller: finish its claim
			}
			if err != nil {
				return false, internal(err, "claim external_ref %q of issuer %s", c.ExternalRef, c.IssuerID)
			}
		} else if err != nil {
			return false, internal(err, "read external_ref %q of issuer %s", c.ExternalRef, c.IssuerID)
		}
		stored, created, err := s.finishClaim(ctx, &claim)
		if err != nil {
			return false, err
		}
		*c = *stored.certificate()
		return created, nil
	}
}

// finishClaim drives a claim to its issued state and returns its
// certificate, and whether this call inserted it.
func (s *Store) finishClaim(ctx context.Context, claim *refDoc) (*certDoc, bool, error) {
	if claim.Number != "" {
		// Issued. Only an unfinished migration (refs are copied before
		// certificates) can leave the certificate missing.
		stored, err := s.certLocal(ctx, claim.Number)
		switch {
		case notFound(err):
			return nil, false, registry.Errorf(registry.ECONFLICT,
				"external_ref %q is recorded for certificate %s, which is not stored (yet): is a migration running?", claim.Key[14:], claim.Number)
		case err != nil:
			return nil, false, internal(err, "read certificate %s", claim.Number)
		}
		return stored, false, nil
	}
	number, k := claim.First, 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		// Follow the rebinds to the current number.
		for {
			var r rebindDoc
			err := s.rebinds.FindOne(ctx, bson.D{{Key: "_id", Value: rebindKey(claim.Key, k+1)}}).Decode(&r)
			if notFound(err) {
				break
			}
			if err != nil {
				return nil, false, internal(err, "read rebinds of external_ref %q", claim.Key)
			}
			number, k = r.Number, k+1
		}

		stored, err := s.certLocal(ctx, number)
		switch {
		case err == nil && stored.IssuerID+"|"+stored.ExternalRef == claim.Key:
			s.markIssued(ctx, claim.Key, number) // by a concurrent caller, or a crashed one
			return stored, false, nil
		case err == nil:
			// The number went to another certificate first: move on.
			next, err := s.nextCandidate(ctx, claim.Prefix, serialOf(number))
			if err != nil {
				return nil, false, err
			}
			if next > registry.MaxSerial {
				return nil, false, noSerialsLeft(claim.Prefix)
			}
			_, err = s.rebinds.InsertOne(ctx, &rebindDoc{ID: rebindKey(claim.Key, k+1), Number: registry.FormatNumber(claim.Prefix, next)})
			if err != nil && !mongo.IsDuplicateKeyError(err) { // a duplicate: someone else moved it; follow
				return nil, false, internal(err, "rebind external_ref %q", claim.Key)
			}
			continue
		case !notFound(err):
			return nil, false, internal(err, "read certificate %s", number)
		}

		d := *claim.Cert
		d.Number = number
		_, err = s.certsLocal.InsertOne(ctx, &d)
		if mongo.IsDuplicateKeyError(err) {
			continue // someone took the number: the next read says who
		}
		if err != nil {
			return nil, false, internal(err, "insert certificate %s", number)
		}
		_ = s.raiseSerial(ctx, claim.Prefix, serialOf(number)) // a hint; see insertNext
		s.markIssued(ctx, claim.Key, number)
		return &d, true, nil
	}
}

func rebindKey(key string, k int) string { return key + "|" + strconv.Itoa(k) }

// serialOf returns the serial of a certificate number.
func serialOf(number string) int {
	n, _ := strconv.Atoi(number[len(number)-6:])
	return n
}

// markIssued rewrites a finished claim to {_id, number}. Every caller
// writes the same values, so concurrent or repeated calls agree, and a
// failure is harmless: the claim stays unfinished and the next caller of
// the ref finds the certificate and tries again.
func (s *Store) markIssued(ctx context.Context, key, number string) {
	_, _ = s.refs.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "number", Value: number}}},
		{Key: "$unset", Value: bson.D{{Key: "cert", Value: ""}, {Key: "prefix", Value: ""}, {Key: "first", Value: ""}, {Key: "claimed", Value: ""}}},
	})
}

// Certificate returns one certificate, read with read concern majority: a
// verification never reports a state that a failover could roll back.
// ENOTFOUND if there is none.
func (s *Store) Certificate(ctx context.Context, number string) (*registry.Certificate, error) {
	return s.findCertificate(ctx, number)
}

// findCertificate reads the certificate numbered number, with opts (a
// projection leaves the fields it omits zero). ENOTFOUND if there is none.
func (s *Store) findCertificate(ctx context.Context, number string, opts ...options.Lister[options.FindOneOptions]) (*registry.Certificate, error) {
	var d certDoc
	err := s.certs.FindOne(ctx, bson.D{{Key: "_id", Value: number}}, opts...).Decode(&d)
	switch {
	case notFound(err):
		return nil, registry.Errorf(registry.ENOTFOUND, "no certificate %s", number)
	case err != nil:
		return nil, internal(err, "read certificate %s", number)
	}
	return d.certificate(), nil
}

// verificationProjection is what a token verification reads of a
// certificate (registry.VerificationReader): not the holder's sealed ID
// number, its hash or mask, the channel, the external reference, the
// creation time or the training record.
var verificationProjection = bson.D{
	{Key: "issuer_id", Value: 1}, {Key: "holder_name", Value: 1}, {Key: "occupation_code", Value: 1},
	{Key: "level", Value: 1}, {Key: "issued_on", Value: 1}, {Key: "status", Value: 1},
	{Key: "revoked_at", Value: 1}, {Key: "revoke_reason", Value: 1}, {Key: "key_id", Value: 1},
	{Key: "status_index", Value: 1}, {Key: "token_mac", Value: 1},
}

// VerificationRecord returns the fields of the certificate numbered number
// that verification reads, converted as Certificate converts them, and
// leaves the others zero. ENOTFOUND if there is none.
func (s *Store) VerificationRecord(ctx context.Context, number string) (*registry.Certificate, error) {
	return s.findCertificate(ctx, number, options.FindOne().SetProjection(verificationProjection))
}

// newestFirst is the listing order: creation time, then number, both
// descending, as the listing indexes are built.
var newestFirst = bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}

// Certificates lists certificates matching f, newest first (ties by number,
// highest first), with the total number of matches. Page counts from 1;
// PerPage defaults to DefaultPerPage and is capped at MaxPerPage. Unlike
// the SQLite store, the page and the total are two reads, so a certificate
// issued in between can make them differ by one.
func (s *Store) Certificates(ctx context.Context, f registry.CertificateFilter) ([]*registry.Certificate, int, error) {
	filter := bson.D{}
	if f.IssuerID != "" {
		filter = append(filter, bson.E{Key: "issuer_id", Value: f.IssuerID})
	}
	if f.Status != "" {
		filter = append(filter, bson.E{Key: "status", Value: f.Status})
	}
	if f.Level != 0 {
		filter = append(filter, bson.E{Key: "level", Value: int(f.Level)})
	}
	var and bson.A
	if f.Occupation != "" {
		// A prefix is a whole code or a parent category: "6-18" matches
		// "6-18-01-01" but not "6-180".
		and = append(and, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "occupation_code", Value: f.Occupation}},
			bson.D{{Key: "occupation_code", Value: bson.Regex{Pattern: "^" + regexp.QuoteMeta(f.Occupation) + "-"}}},
		}}})
	}
	if f.Query != "" {
		// QuoteMeta makes every character literal, in PCRE as in Go. The
		// anchored number pattern can use the _id index.
		q := regexp.QuoteMeta(f.Query)
		and = append(and, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "_id", Value: bson.Regex{Pattern: "^" + q}}},
			bson.D{{Key: "holder_name", Value: bson.Regex{Pattern: q}}},
		}}})
	}
	if len(and) > 0 {
		filter = append(filter, bson.E{Key: "$and", Value: and})
	}
	page, perPage := max(f.Page, 1), f.PerPage
	if perPage < 1 {
		perPage = DefaultPerPage
	}
	perPage = min(perPage, MaxPerPage)

	total, err := s.certsLocal.CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, internal(err, "count certificates")
	}
	list, err := s.findCertificates(ctx, s.certsLocal, filter,
		options.Find().SetSort(newestFirst).SetSkip(int64((page-1)*perPage)).SetLimit(int64(perPage)))
	if err != nil {
		return nil, 0, internal(err, "list certificates")
	}
	return list, int(total), nil
}

// CertificatesByHolder returns every certificate of the holder whose
// ID-number hash is given, newest first.
func (s *Store) CertificatesByHolder(ctx context.Context, holderHash string) ([]*registry.Certificate, error) {
	list, err := s.findCertificates(ctx, s.certs, bson.D{{Key: "holder_id_hash", Value: holderHash}},
		options.Find().SetSort(newestFirst))
	if err != nil {
		return nil, internal(err, "list certificates of a holder")
	}
	return list, nil
}

// holdersPerFind is the most holder hashes one find of
// CertificatesByHolders asks for.
const holdersPerFind = 500

// CertificatesByHolders returns the certificates of each holder whose
// ID-number hash is given, newest first, a holder with none having no
// entry: one find ($in on the holder index) per holdersPerFind hashes.
func (s *Store) CertificatesByHolders(ctx context.Context, holderHashes []string) (map[string][]*registry.Certificate, error) {
	out := make(map[string][]*registry.Certificate, len(holderHashes))
	for len(holderHashes) > 0 {
		part := holderHashes[:min(len(holderHashes), holdersPerFind)]
		holderHashes = holderHashes[len(part):]
		list, err := s.findCertificates(ctx, s.certs, bson.D{{Key: "holder_id_hash", Value: bson.D{{Key: "$in", Value: part}}}},
			options.Find().SetSort(bson.D{{Key: "holder_id_hash", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}))
		if err != nil {
			return nil, internal(err, "list certificates of %d holders", len(part))
		}
		for _, c := range list {
			out[c.HolderIDHash] = append(out[c.HolderIDHash], c)
		}
	}
	return out, nil
}

func (s *Store) findCertificates(ctx context.Context, coll *mongo.Collection, filter any, opts *options.FindOptionsBuilder) ([]*registry.Certificate, error) {
	cur, err := coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []certDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	list := make([]*registry.Certificate, 0, len(docs))
	for i := range docs {
		list = append(list, docs[i].certificate())
	}
	return list, nil
}

// RevokeCertificate marks a valid certificate revoked. ENOTFOUND if there
// is none, ECONFLICT if it is already revoked. Of concurrent revocations
// exactly one wins: the one whose revocations document is inserted (see
// the top of this file).
func (s *Store) RevokeCertificate(ctx context.Context, number, reason string, at time.Time) (*registry.Certificate, error) {
	d, err := s.certLocal(ctx, number)
	switch {
	case notFound(err):
		return nil, registry.Errorf(registry.ENOTFOUND, "no certificate %s", number)
	case err != nil:
		return nil, internal(err, "read certificate %s", number)
	case d.Status == registry.StatusRevoked:
		return nil, registry.Errorf(registry.ECONFLICT, "certificate %s is already revoked", number)
	}
	rev := revocationDoc{Number: number, Reason: reason, RevokedAt: msTime(at)}
	_, err = s.revocations.InsertOne(ctx, &rev)
	if mongo.IsDuplicateKeyError(err) {
		// Another revocation won. Apply it before answering, in case its
		// caller crashed before it could.
		var won revocationDoc
		if err := s.revocations.FindOne(ctx, bson.D{{Key: "_id", Value: number}}).Decode(&won); err != nil {
			return nil, internal(err, "read revocation of %s", number)
		}
		if err := s.applyRevocation(ctx, &won); err != nil {
			return nil, err
		}
		return nil, registry.Errorf(registry.ECONFLICT, "certificate %s is already revoked", number)
	}
	if err != nil {
		return nil, internal(err, "revoke certificate %s", number)
	}
	if err := s.applyRevocation(ctx, &rev); err != nil {
		return nil, err
	}
	d.Status, d.RevokedAt, d.RevokeReason = registry.StatusRevoked, &rev.RevokedAt, rev.Reason
	return d.certificate(), nil
}

// applyRevocation sets a certificate revoked with the values of its
// revocations document; every caller writes the same values.
func (s *Store) applyRevocation(ctx context.Context, rev *revocationDoc) error {
	_, err := s.certsLocal.UpdateOne(ctx, bson.D{{Key: "_id", Value: rev.Number}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "status", Value: registry.StatusRevoked},
			{Key: "revoked_at", Value: rev.RevokedAt},
			{Key: "revoke_reason", Value: rev.Reason},
		}}})
	if err != nil {
		return internal(err, "revoke certificate %s", rev.Number)
	}
	return nil
}
