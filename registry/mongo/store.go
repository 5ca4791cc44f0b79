// Package mongo is the production registry.Store on MongoDB, through the
// official driver (go.mongodb.org/mongo-driver/v2): a replica set, then a
// sharded cluster (see docs/deploy.md).
//
// The package keeps to what both MongoDB and FerretDB v1 (the wire-protocol
// test server CI runs against) support: no multi-document transactions, no
// change streams, no $lookup/$facet/$expr, no partial, TTL or text indexes,
// `_id` always a string. Every write that spans documents is a sequence of
// single-document steps, each idempotent and safe to crash after; the
// certificate.go doc comment gives the design and its crash analysis.
//
// Every write uses write concern "majority" with retryable writes, so an
// acknowledged write survives the loss of the primary. Reads that decide a
// verification (a certificate, its issuer, the signing keys) use read
// concern "majority", so a verification never reports a state that a
// failover could roll back. Reads on the issuing path use "local" on the
// primary instead: after a duplicate-key error they must see the document
// that caused it, which may not be majority-committed yet.
//
// Driver errors become *registry.Error values here, at the edge: a missing
// document is ENOTFOUND and a duplicate key ECONFLICT, with messages made
// from what the store was doing, never from the server's text.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/skillreg/skillreg/registry"
)

// The store and the capabilities it has (registry/capabilities.go).
var (
	_ registry.Store              = (*Store)(nil)
	_ registry.VerificationReader = (*Store)(nil)
	_ registry.Exporter           = (*Store)(nil)
	_ registry.Restorer           = (*Store)(nil)
)

// DefaultDatabase is the database used when the URI names none.
const DefaultDatabase = "skillreg"

// Collection names. They are part of the stored format: docs/deploy.md
// gives each one's shard key.
const (
	collIssuers      = "issuers"
	collUsers        = "users"
	collCertificates = "certificates"
	collRefs         = "external_refs" // one per (issuer, external_ref): idempotent issuance
	collRebinds      = "external_ref_rebinds"
	collRevocations  = "revocations" // one per revoked certificate: decides concurrent revocations
	collSerials      = "serials"     // one per number prefix: where the next serial search starts
	collSigningKeys  = "signing_keys"
	collSettings     = "settings" // single documents such as the active signing key
	collTraining     = "training_records"
)

// activeKeyID is the _id of the settings document naming the active
// signing key.
const activeKeyID = "active_signing_key"

// Store is a registry.Store in one MongoDB database.
type Store struct {
	client *mongo.Client
	db     *mongo.Database

	issuers     *mongo.Collection
	users       *mongo.Collection
	certs       *mongo.Collection // read concern majority: verification reads
	certsLocal  *mongo.Collection // read concern local: the issuing path
	refs        *mongo.Collection
	rebinds     *mongo.Collection
	revocations *mongo.Collection
	serials     *mongo.Collection
	signingKeys *mongo.Collection
	settings    *mongo.Collection
}

// Open connects to the MongoDB deployment at uri (mongodb:// or
// mongodb+srv://), uses the database named in the URI's path (DefaultDatabase
// when there is none) and creates the indexes the store needs; creating an
// index that exists is a no-op, so every process may do it at start-up.
// Write concern majority and retryable writes are set here whatever the
// URI says, because the crash-safety of the issuing path relies on them.
// EINVALID for a malformed URI.
func Open(ctx context.Context, uri string) (*Store, error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		// The parser's message can quote the URI, and with it a password.
		return nil, registry.Errorf(registry.EINVALID, "mongo: the MongoDB URI is not valid (want mongodb://host:port/database)")
	}
	dbName := cs.Database
	if dbName == "" {
		dbName = DefaultDatabase
	}
	opts := options.Client().ApplyURI(uri).
		SetAppName("skillreg").
		SetRetryWrites(true).
		SetWriteConcern(writeconcern.Majority()).
		SetReadPreference(readpref.Primary())
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	s := newStore(client, dbName)
	if err := s.Ping(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	if err := s.keyUsernames(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("mongo: %w", err)
	}
	if err := s.ensureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("mongo: create indexes: %w", err)
	}
	return s, nil
}

func newStore(client *mongo.Client, dbName string) *Store {
	db := client.Database(dbName)
	majority := options.Collection().SetReadConcern(readconcern.Majority())
	local := options.Collection().SetReadConcern(readconcern.Local())
	return &Store{
		client:      client,
		db:          db,
		issuers:     db.Collection(collIssuers, majority),
		users:       db.Collection(collUsers, local),
		certs:       db.Collection(collCertificates, majority),
		certsLocal:  db.Collection(collCertificates, local),
		refs:        db.Collection(collRefs, local),
		rebinds:     db.Collection(collRebinds, local),
		revocations: db.Collection(collRevocations, local),
		serials:     db.Collection(collSerials, local),
		signingKeys: db.Collection(collSigningKeys, majority),
		settings:    db.Collection(collSettings, majority),
	}
}

// Database returns the name of the database the store uses.
func (s *Store) Database() string { return s.db.Name() }

// index is one secondary index of a collection.
type index struct {
	coll   string
	name   string
	keys   bson.D
	unique bool
}

// indexes is the index set, besides the unique _id every collection has.
// Listing and holder indexes end in _id so that the sort (created_at,
// number) is fully served by the index. No index is partial, sparse or
// TTL: uniqueness of (issuer, external_ref) lives in the _id of
// external_refs instead, which also holds on a sharded cluster, where a
// unique secondary index would have to start with the shard key.
var indexes = []index{
	{collCertificates, "issuer_created", bson.D{{Key: "issuer_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	{collCertificates, "created", bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	{collCertificates, "holder", bson.D{{Key: "holder_id_hash", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	{collUsers, "username", bson.D{{Key: "username", Value: 1}}, true},
	// accounts: usernames unique regardless of case (keyUsernames fills
	// the key of users stored before it, ahead of this index).
	{collUsers, "username_key", bson.D{{Key: "username_key", Value: 1}}, true},
	{collSigningKeys, "created", bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, false},
	// Revocation status lists and employers' API keys: certificates not yet indexed (the missing
	// field is indexed as null), revoked indexes for the trust bundle, and
	// API keys by the hash of their secret.
	{collCertificates, "status_index", bson.D{{Key: "status_index", Value: 1}}, false},
	{collCertificates, "revoked_status_index", bson.D{{Key: "status", Value: 1}, {Key: "status_index", Value: 1}}, false},
	{collAPIKeys, "hash", bson.D{{Key: "hash", Value: 1}}, true},
	// Training records: listings by issuer, by province, and all.
	{collTraining, "issuer_created", bson.D{{Key: "issuer_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	{collTraining, "province_created", bson.D{{Key: "province", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	{collTraining, "created", bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, false},
	// The statistics counters: the rollup a query reads, the counters that
	// hold a marker, and the marks not done.
	{collStatsCells, "rollup", bson.D{{Key: "category", Value: 1}, {Key: "channel", Value: 1}, {Key: "year", Value: 1}, {Key: "province", Value: 1}}, false},
	{collStatsCells, "pending", bson.D{{Key: "pending", Value: 1}}, false},
	{collStatsMarks, "done_at", bson.D{{Key: "done", Value: 1}, {Key: "at", Value: 1}}, false},
	// ID checks: the days to delete.
	{collIDChecks, "day", bson.D{{Key: "day", Value: 1}}, false},
}

// ensureIndexes creates the indexes that do not exist yet, by name. It
// lists first instead of relying on createIndexes being a no-op for an
// existing index, as MongoDB's is: FerretDB v1 fails that call when the
// indexes exist, which would stop a second server from starting.
func (s *Store) ensureIndexes(ctx context.Context) error {
	existing := map[string][]mongo.IndexSpecification{}
	for _, ix := range indexes {
		specs, ok := existing[ix.coll]
		if !ok {
			var err error
			if specs, err = s.db.Collection(ix.coll).Indexes().ListSpecifications(ctx); err != nil {
				return fmt.Errorf("%s: %w", ix.coll, err)
			}
			existing[ix.coll] = specs
		}
		if slices.ContainsFunc(specs, func(sp mongo.IndexSpecification) bool { return sp.Name == ix.name }) {
			continue
		}
		// A fresh options builder per call: the driver writes into it.
		_, err := s.db.Collection(ix.coll).Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys: ix.keys, Options: options.Index().SetName(ix.name).SetUnique(ix.unique),
		})
		if err != nil {
			// Another server starting at the same moment may have created
			// it between our list and our create.
			specs, lerr := s.db.Collection(ix.coll).Indexes().ListSpecifications(ctx)
			if lerr != nil || !slices.ContainsFunc(specs, func(sp mongo.IndexSpecification) bool { return sp.Name == ix.name }) {
				return fmt.Errorf("%s: index %s: %w", ix.coll, ix.name, err)
			}
		}
	}
	return nil
}

// Close disconnects from the deployment. In-flight calls finish first.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.client.Disconnect(ctx)
}

// Ping reports whether the primary is reachable: it is where every write
// and every verification read goes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("mongo: ping: %w", err)
	}
	return nil
}

// internal wraps an unexpected driver error with what the store was doing;
// registry.ErrorCode reports it as EINTERNAL, or as EUNAVAILABLE when the
// deployment cannot take writes now (see unavailable).
func internal(err error, format string, args ...any) error {
	err = fmt.Errorf("mongo: %s: %w", fmt.Sprintf(format, args...), err)
	if unavailable(err) {
		return registry.Unavailable(err)
	}
	return err
}

// unavailableCodes are the server error codes that say the deployment
// cannot take writes now but may later: OutOfDiskSpace (14031),
// NotWritablePrimary (10107), NotPrimaryNoSecondaryOk (13435),
// NotPrimaryOrSecondary (13436), PrimarySteppedDown (189),
// ShutdownInProgress (91), InterruptedAtShutdown (11600),
// InterruptedDueToReplStateChange (11602), and
// HostUnreachable/HostNotFound (6, 7).
var unavailableCodes = []int{14031, 10107, 13435, 13436, 189, 91, 11600, 11602, 6, 7}

// unavailable reports whether err says that the deployment cannot take
// writes now: a full disk, no primary, a shutdown, or no connection.
func unavailable(err error) bool {
	if mongo.IsNetworkError(err) || errors.Is(err, mongo.ErrClientDisconnected) {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		for _, c := range unavailableCodes {
			if se.HasErrorCode(c) {
				return true
			}
		}
	}
	return false
}

// notFound reports whether err says that no document matched.
func notFound(err error) bool { return errors.Is(err, mongo.ErrNoDocuments) }

// upsertOnce runs an upsert, and once more if it fails with a duplicate
// key: two concurrent upserts of a new _id can both try the insert, and
// the loser's retry then finds the document and updates it. MongoDB 4.2+
// retries this itself; FerretDB does not.
func upsertOnce(ctx context.Context, coll *mongo.Collection, filter, update any) error {
	opts := options.UpdateOne().SetUpsert(true)
	_, err := coll.UpdateOne(ctx, filter, update, opts)
	if mongo.IsDuplicateKeyError(err) {
		_, err = coll.UpdateOne(ctx, filter, update, opts)
	}
	return err
}

// msTime is t as BSON keeps it: UTC, whole milliseconds. Values handed
// back after a write go through it so that they equal what a later read
// returns.
func msTime(t time.Time) time.Time {
	return time.UnixMilli(t.UnixMilli()).UTC()
}
