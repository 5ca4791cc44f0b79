package mongo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
)

// This file holds what employers' verification stores: status-list indexes
// and API keys.
//
// Status indexes are unique through the _id of the status_indexes
// collection, one claim document per index in use, written before the
// certificate that uses it (the package's rule: no partial or sparse
// index, and unique keys live in an _id). A claim whose certificate never
// got written (a crash, an external_ref that turned out to be issued) is
// an index nobody holds: its bit stays clear in the list forever, which
// costs one bit and breaks nothing.

const (
	collStatusIndexes = "status_indexes"
	collAPIKeys       = "api_keys"
)

// statusClaimDoc reserves one status index. _id is the index in ten
// digits, zero-padded so that string order is number order.
type statusClaimDoc struct {
	ID     string `bson:"_id"`
	Number string `bson:"number,omitempty"` // the certificate, once known
}

func statusClaimID(idx int) string { return fmt.Sprintf("%010d", idx) }

func statusIndexTaken() error {
	return &registry.Error{Code: registry.ECONFLICT, Field: "status_index", Message: "another certificate has this status index"}
}

// claimStatusIndex inserts the claim of idx for number ("" when not yet
// known). ECONFLICT on "status_index" if it is claimed.
func (s *Store) claimStatusIndex(ctx context.Context, idx int, number string) error {
	_, err := s.db.Collection(collStatusIndexes).InsertOne(ctx, statusClaimDoc{ID: statusClaimID(idx), Number: number})
	switch {
	case mongo.IsDuplicateKeyError(err):
		return statusIndexTaken()
	case err != nil:
		return internal(err, "claim status index %d", idx)
	}
	return nil
}

// releaseStatusIndex drops a claim that is certainly unused. Best effort:
// a claim left behind only wastes its bit.
func (s *Store) releaseStatusIndex(ctx context.Context, idx int) {
	_, _ = s.db.Collection(collStatusIndexes).DeleteOne(ctx, bson.D{{Key: "_id", Value: statusClaimID(idx)}})
}

// createCertificateClaimed is CreateCertificate for a certificate with a
// status index: claim, create, then record the number on the claim or
// release it when the certificate was not created (its external_ref was
// already issued). After an error the claim stays, since an unfinished
// external_ref claim may still issue the certificate with this index.
func (s *Store) createCertificateClaimed(ctx context.Context, prefix string, c *registry.Certificate,
	create func(context.Context, string, *registry.Certificate) (bool, error)) (bool, error) {
	idx := c.StatusIndex
	if err := s.claimStatusIndex(ctx, idx, ""); err != nil {
		return false, err
	}
	created, err := create(ctx, prefix, c)
	switch {
	case err != nil:
		return false, err
	case !created && c.StatusIndex != idx:
		s.releaseStatusIndex(ctx, idx)
	case created:
		_, _ = s.db.Collection(collStatusIndexes).UpdateOne(ctx, bson.D{{Key: "_id", Value: statusClaimID(idx)}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "number", Value: c.Number}}}})
	}
	return created, nil
}

// SetStatusIndex gives a certificate without a status index the index idx.
func (s *Store) SetStatusIndex(ctx context.Context, number string, idx int) error {
	if idx <= 0 {
		return registry.FieldError("status_index", "a status index is positive")
	}
	if err := s.claimStatusIndex(ctx, idx, number); err != nil {
		return err
	}
	res, err := s.certsLocal.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: number}, {Key: "status_index", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status_index", Value: idx}}}})
	if err != nil {
		return internal(err, "set the status index of %s", number)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	s.releaseStatusIndex(ctx, idx)
	d, err := s.certLocal(ctx, number)
	switch {
	case notFound(err):
		return registry.Errorf(registry.ENOTFOUND, "no certificate %s", number)
	case err != nil:
		return internal(err, "read certificate %s", number)
	}
	return registry.Errorf(registry.ECONFLICT, "certificate %s already has status index %d", number, d.StatusIndex)
}

// SetTokenMACs stores the token MAC of each certificate named in macs,
// replacing any; numbers of no certificate are skipped. Each is one
// idempotent single-document update.
func (s *Store) SetTokenMACs(ctx context.Context, macs map[string][]byte) error {
	for number, mac := range macs {
		update := bson.D{{Key: "$set", Value: bson.D{{Key: "token_mac", Value: mac}}}}
		if len(mac) == 0 {
			update = bson.D{{Key: "$unset", Value: bson.D{{Key: "token_mac", Value: ""}}}}
		}
		if _, err := s.certsLocal.UpdateOne(ctx, bson.D{{Key: "_id", Value: number}}, update); err != nil {
			return internal(err, "set the token MAC of %s", number)
		}
	}
	return nil
}

// CertificatesWithoutStatusIndex returns up to limit numbers of
// certificates without a status index; the status_index index holds the
// missing field as null, so this does not scan the collection.
func (s *Store) CertificatesWithoutStatusIndex(ctx context.Context, limit int) ([]string, error) {
	cur, err := s.certsLocal.Find(ctx, bson.D{{Key: "status_index", Value: nil}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, internal(err, "list certificates without a status index")
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list certificates without a status index")
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out, nil
}

// MaxStatusIndex returns the highest claimed status index, 0 if none.
func (s *Store) MaxStatusIndex(ctx context.Context) (int, error) {
	var d statusClaimDoc
	err := s.db.Collection(collStatusIndexes).FindOne(ctx, bson.D{},
		options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&d)
	switch {
	case notFound(err):
		return 0, nil
	case err != nil:
		return 0, internal(err, "read the highest status index")
	}
	n, err := strconv.Atoi(d.ID)
	if err != nil {
		return 0, internal(err, "status index claim %q", d.ID)
	}
	return n, nil
}

// RevokedStatusIndexes reads the status indexes of revoked certificates
// through the (status, status_index) index.
func (s *Store) RevokedStatusIndexes(ctx context.Context) ([]int, error) {
	cur, err := s.certs.Find(ctx,
		bson.D{{Key: "status", Value: registry.StatusRevoked}, {Key: "status_index", Value: bson.D{{Key: "$gt", Value: 0}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "status_index", Value: 1}}))
	if err != nil {
		return nil, internal(err, "list revoked status indexes")
	}
	var docs []struct {
		StatusIndex int `bson:"status_index"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list revoked status indexes")
	}
	out := make([]int, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.StatusIndex)
	}
	return out, nil
}

// apiKeyDoc is an API key as stored; _id is its ID.
type apiKeyDoc struct {
	ID            string     `bson:"_id"`
	Name          string     `bson:"name"`
	Hash          string     `bson:"hash"`
	Hint          string     `bson:"hint"`
	RatePerMinute int        `bson:"rate_per_minute"`
	CreatedBy     string     `bson:"created_by"`
	CreatedAt     time.Time  `bson:"created_at"`
	RevokedAt     *time.Time `bson:"revoked_at,omitempty"`
}

func (d *apiKeyDoc) key() *registry.APIKey {
	k := &registry.APIKey{ID: d.ID, Name: d.Name, Hash: d.Hash, Hint: d.Hint, RatePerMinute: d.RatePerMinute,
		CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt.UTC()}
	if d.RevokedAt != nil {
		t := d.RevokedAt.UTC()
		k.RevokedAt = &t
	}
	return k
}

// CreateAPIKey stores k. ECONFLICT if its ID or hash is taken.
func (s *Store) CreateAPIKey(ctx context.Context, k *registry.APIKey) error {
	d := apiKeyDoc{ID: k.ID, Name: k.Name, Hash: k.Hash, Hint: k.Hint, RatePerMinute: k.RatePerMinute,
		CreatedBy: k.CreatedBy, CreatedAt: msTime(k.CreatedAt)}
	if k.RevokedAt != nil {
		t := msTime(*k.RevokedAt)
		d.RevokedAt = &t
	}
	_, err := s.db.Collection(collAPIKeys).InsertOne(ctx, d)
	switch {
	case mongo.IsDuplicateKeyError(err):
		return registry.Errorf(registry.ECONFLICT, "API key %s already exists", k.ID)
	case err != nil:
		return internal(err, "insert API key %s", k.ID)
	}
	k.CreatedAt = d.CreatedAt
	if d.RevokedAt != nil {
		k.RevokedAt = d.RevokedAt
	}
	return nil
}

// APIKeyByHash returns the key whose secret has the given hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*registry.APIKey, error) {
	var d apiKeyDoc
	err := s.db.Collection(collAPIKeys).FindOne(ctx, bson.D{{Key: "hash", Value: hash}}).Decode(&d)
	switch {
	case notFound(err):
		return nil, registry.Errorf(registry.ENOTFOUND, "no such API key")
	case err != nil:
		return nil, internal(err, "read an API key")
	}
	return d.key(), nil
}

// APIKeys returns every key, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]*registry.APIKey, error) {
	cur, err := s.db.Collection(collAPIKeys).Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, internal(err, "list API keys")
	}
	var docs []apiKeyDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list API keys")
	}
	out := make([]*registry.APIKey, 0, len(docs))
	for i := range docs {
		out = append(out, docs[i].key())
	}
	return out, nil
}

// RevokeAPIKey marks a key revoked with one conditional update, so of two
// concurrent revocations one wins and the other is ECONFLICT.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) (*registry.APIKey, error) {
	coll := s.db.Collection(collAPIKeys)
	res, err := coll.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "revoked_at", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: msTime(at)}}}})
	if err != nil {
		return nil, internal(err, "revoke API key %s", id)
	}
	var d apiKeyDoc
	err = coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	switch {
	case notFound(err):
		return nil, registry.Errorf(registry.ENOTFOUND, "no API key %s", id)
	case err != nil:
		return nil, internal(err, "read API key %s", id)
	case res.MatchedCount == 0:
		return nil, registry.Errorf(registry.ECONFLICT, "API key %s is already revoked", id)
	}
	return d.key(), nil
}

// importStatusClaims writes the claims of imported certificates that have
// a status index (skillreg migrate), before the certificates themselves.
func (s *Store) importStatusClaims(ctx context.Context, list []*registry.Certificate) error {
	var with []*registry.Certificate
	for _, c := range list {
		if c.StatusIndex > 0 {
			with = append(with, c)
		}
	}
	_, err := importDocs(ctx, s.db.Collection(collStatusIndexes), "status_index", with,
		func(c *registry.Certificate) *statusClaimDoc {
			return &statusClaimDoc{ID: statusClaimID(c.StatusIndex), Number: c.Number}
		},
		func(d *statusClaimDoc) string { return d.ID }, func(d *statusClaimDoc) any { return *d })
	return err
}
