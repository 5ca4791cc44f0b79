package mongo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
)

// This file is what `skillreg migrate` needs beyond registry.Store: bulk
// imports that are idempotent (a record already in the target is skipped,
// so a re-run or a resumed run copies nothing twice) and exports to check
// the result. An import refuses to skip a record whose stored version
// differs from the one offered: that is a conflict between two registries,
// not a record copied before.

// Counts returns the number of records per kind, under the names the
// SQLite store's Counts uses, so that a migration can compare them.
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for name, coll := range map[string]*mongo.Collection{
		"issuers": s.issuers, "users": s.users, "signing_keys": s.signingKeys,
		"serials": s.serials, "certificates": s.certsLocal, "external_refs": s.refs,
		"training_records": s.training(), "api_keys": s.db.Collection(collAPIKeys), "plans": s.statsColl(collStatsPlans),
	} {
		n, err := coll.CountDocuments(ctx, bson.D{})
		if err != nil {
			return nil, internal(err, "count %s", name)
		}
		out[name] = n
	}
	return out, nil
}

// Users returns every user ordered by ID.
func (s *Store) Users(ctx context.Context) ([]*registry.User, error) {
	cur, err := s.users.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, internal(err, "list users")
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list users")
	}
	var list []*registry.User
	for i := range docs {
		list = append(list, docs[i].user())
	}
	return list, nil
}

// Serials returns the serial hint of every prefix: every serial 1..last is
// a stored certificate.
func (s *Store) Serials(ctx context.Context) (map[string]int, error) {
	cur, err := s.serials.Find(ctx, bson.D{})
	if err != nil {
		return nil, internal(err, "list serials")
	}
	var docs []serialDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list serials")
	}
	out := make(map[string]int, len(docs))
	for _, d := range docs {
		out[d.Prefix] = d.Last
	}
	return out, nil
}

// CertificatesAfter returns up to limit certificates whose numbers sort
// after the given one, in number order: keyset pagination over the _id
// index, which stays fast at any depth where skip would not.
func (s *Store) CertificatesAfter(ctx context.Context, after string, limit int) ([]*registry.Certificate, error) {
	list, err := s.findCertificates(ctx, s.certsLocal,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, internal(err, "list certificates after %q", after)
	}
	return list, nil
}

// TrainingRecordsAfter returns up to limit training records whose IDs
// sort after the given one, in ID order (keyset pagination over _id).
func (s *Store) TrainingRecordsAfter(ctx context.Context, after string, limit int) ([]*registry.TrainingRecord, error) {
	cur, err := s.training().Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, internal(err, "list training records after %q", after)
	}
	var docs []trainingDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list training records after %q", after)
	}
	list := make([]*registry.TrainingRecord, len(docs))
	for i := range docs {
		list[i] = docs[i].record()
	}
	return list, nil
}

// insertNew inserts docs unordered and returns the positions of those that
// were not inserted because their _id (or another unique key) is taken.
// Any other failure is an error.
func insertNew(ctx context.Context, coll *mongo.Collection, docs []any) ([]int, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	_, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil, nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, err
	}
	var dups []int
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(mongo.WriteException{WriteErrors: mongo.WriteErrors{we.WriteError}}) {
			return nil, err
		}
		dups = append(dups, we.Index)
	}
	slices.Sort(dups)
	return dups, nil
}

// storedByID reads the documents of coll with the given _ids into a map
// from _id to document.
func storedByID[D any](ctx context.Context, coll *mongo.Collection, ids []string, id func(*D) string) (map[string]*D, error) {
	cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, err
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make(map[string]*D, len(docs))
	for i := range docs {
		out[id(&docs[i])] = &docs[i]
	}
	return out, nil
}

// importDocs inserts the records' documents and checks every one that was
// already there: same => skipped, different or missing (another unique
// key fired) => ECONFLICT. view turns a document into the value compared,
// so that encoding details (empty binary read back as nil) do not count.
// It returns how many it inserted.
func importDocs[R, D any](ctx context.Context, coll *mongo.Collection, what string, recs []R,
	toDoc func(R) *D, id func(*D) string, view func(*D) any) (int, error) {
	docs := make([]any, len(recs))
	for i, r := range recs {
		docs[i] = toDoc(r)
	}
	dups, err := insertNew(ctx, coll, docs)
	if err != nil {
		return 0, internal(err, "import %s", what)
	}
	if len(dups) == 0 {
		return len(recs), nil
	}
	ids := make([]string, len(dups))
	for i, at := range dups {
		ids[i] = id(docs[at].(*D))
	}
	stored, err := storedByID(ctx, coll, ids, id)
	if err != nil {
		return 0, internal(err, "import %s", what)
	}
	for _, at := range dups {
		want := docs[at].(*D)
		got, ok := stored[id(want)]
		if !ok {
			return 0, registry.Errorf(registry.ECONFLICT, "%s %s: the target holds another record with the same unique key", what, id(want))
		}
		if !reflect.DeepEqual(view(got), view(want)) {
			return 0, registry.Errorf(registry.ECONFLICT, "%s %s: the target holds a different record under this key", what, id(want))
		}
	}
	return len(recs) - len(dups), nil
}

// ImportIssuers stores issuers that are not stored yet and returns how
// many it stored. ECONFLICT if a stored issuer differs from the offered one.
func (s *Store) ImportIssuers(ctx context.Context, list []*registry.Issuer) (int, error) {
	return importDocs(ctx, s.issuers, "issuer", list, toIssuerDoc,
		func(d *issuerDoc) string { return d.ID }, func(d *issuerDoc) any { return d.issuer() })
}

// ImportUsers stores users that are not stored yet and returns how many it
// stored. ECONFLICT if a stored user differs, or if the username belongs
// to another user in the target.
func (s *Store) ImportUsers(ctx context.Context, list []*registry.User) (int, error) {
	return importDocs(ctx, s.users, "user", list, toUserDoc,
		func(d *userDoc) string { return d.ID }, func(d *userDoc) any { return d.user() })
}

// ImportSigningKeys stores keys that are not stored yet, then makes the
// offered active key (if any) the active one. It returns how many keys it
// stored. ECONFLICT if a stored key differs from the offered one.
func (s *Store) ImportSigningKeys(ctx context.Context, keys []*registry.SigningKey) (int, error) {
	n, err := importDocs(ctx, s.signingKeys, "signing key", keys, toKeyDoc,
		func(d *keyDoc) string { return d.ID }, func(d *keyDoc) any { return d.key(false) })
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if k.Active {
			if err := s.setActiveKey(ctx, k.ID); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// ImportCertificates stores certificates that are not stored yet, keeping
// their numbers, and returns how many it stored. It first reads which of
// them the target holds (one range read over the _id index: pass them in
// number order, as CertificatesAfter returns them, or the range grows),
// checks those are equal, and writes only the missing ones, so a re-run
// over a finished copy writes nothing. For the missing certificates that
// have an external_ref, the external_refs documents are written first,
// already issued ({_id, number}): if the import stops between the two, a
// CreateCertificate with one of those refs reports a conflict rather than
// issue a second certificate for it, and the re-run fills in the
// certificates. (A certificate that is present therefore has its ref.) A
// stored certificate that the offered one shows revoked since is revoked
// with the offered reason and time.
// Serials are not touched: import them with ImportSerials after all
// certificates, so that the serial hint never names a certificate that is
// not stored. ECONFLICT if a stored certificate or ref differs from the
// offered one.
func (s *Store) ImportCertificates(ctx context.Context, list []*registry.Certificate) (int, error) {
	if len(list) == 0 {
		return 0, nil
	}
	lo, hi := list[0].Number, list[0].Number
	for _, c := range list {
		lo, hi = min(lo, c.Number), max(hi, c.Number)
	}
	present, err := s.findCertificates(ctx, s.certsLocal,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: lo}, {Key: "$lte", Value: hi}}}}, options.Find())
	if err != nil {
		return 0, internal(err, "read certificates %s to %s", lo, hi)
	}
	stored := make(map[string]*registry.Certificate, len(present))
	for _, c := range present {
		stored[c.Number] = c
	}
	var missing, refs, revoked []*registry.Certificate
	for _, c := range list {
		got, ok := stored[c.Number]
		if !ok {
			missing = append(missing, c)
			if c.ExternalRef != "" {
				refs = append(refs, c)
			}
			continue
		}
		switch want := toCertDoc(c).certificate(); {
		case reflect.DeepEqual(got, want):
		case registry.RevokedSince(got, want):
			revoked = append(revoked, want)
		default:
			return 0, registry.Errorf(registry.ECONFLICT, "certificate %s: the target holds a different record under this number", c.Number)
		}
	}
	for _, c := range revoked {
		if _, err := s.RevokeCertificate(ctx, c.Number, c.RevokeReason, *c.RevokedAt); err != nil {
			return 0, fmt.Errorf("certificate %s revoked since the last copy: %w", c.Number, err)
		}
	}
	_, err = importDocs(ctx, s.refs, "external_ref", refs,
		func(c *registry.Certificate) *refDoc {
			return &refDoc{Key: refKey(c.IssuerID, c.ExternalRef), Number: c.Number}
		},
		func(d *refDoc) string { return d.Key }, func(d *refDoc) any { return *d })
	if err != nil {
		return 0, err
	}
	if err := s.importStatusClaims(ctx, missing); err != nil {
		return 0, err
	}
	return importDocs(ctx, s.certsLocal, "certificate", missing, toCertDoc,
		func(d *certDoc) string { return d.Number }, func(d *certDoc) any { return d.certificate() })
}

// ImportSerials raises the serial hint of every prefix to at least the
// given value ($max: it never lowers one). Call it after the certificates
// it covers are stored.
func (s *Store) ImportSerials(ctx context.Context, serials map[string]int) error {
	for prefix, last := range serials {
		if err := s.raiseSerial(ctx, prefix, last); err != nil {
			return fmt.Errorf("import serials: %w", err)
		}
	}
	return nil
}
