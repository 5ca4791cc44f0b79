package mongo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
)

// Collections of the audit log. An entry's _id is its seq as a
// zero-padded decimal string, so that _id order is seq order and the
// unique _id index is what makes two appenders of the same seq conflict:
// the loser reads the new head and tries again. No transaction is needed
// and nothing is ever updated in place.
const (
	collAudit       = "audit_log"
	collCheckpoints = "audit_checkpoints"
)

// auditAppendAttempts bounds the retries of one append under contention;
// each failed attempt means another appender succeeded.
const auditAppendAttempts = 200

type auditDoc struct {
	ID    string            `bson:"_id"`
	Seq   int64             `bson:"seq"`
	Time  time.Time         `bson:"time"`
	Event string            `bson:"event"`
	Actor string            `bson:"actor"`
	Attrs map[string]string `bson:"attrs"`
	Prev  string            `bson:"prev"`
	Hash  string            `bson:"hash"`
}

func seqID(n int64) string { return fmt.Sprintf("%020d", n) }

func (d *auditDoc) entry() *registry.AuditEntry {
	attrs := d.Attrs
	if attrs == nil {
		attrs = map[string]string{}
	}
	return &registry.AuditEntry{Seq: d.Seq, Time: d.Time.UTC(), Event: d.Event, Actor: d.Actor, Attrs: attrs, Prev: d.Prev, Hash: d.Hash}
}

func (s *Store) audit() *mongo.Collection       { return s.db.Collection(collAudit) }
func (s *Store) checkpoints() *mongo.Collection { return s.db.Collection(collCheckpoints) }

// AppendAudit appends e: it reads the head, links e to it and inserts e
// with _id = its seq; if another process inserted that seq first, it
// reads the new head and tries again.
func (s *Store) AppendAudit(ctx context.Context, es ...*registry.AuditEntry) error {
	for _, e := range es {
		if err := s.appendAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) appendAudit(ctx context.Context, e *registry.AuditEntry) error {
	e.Time = msTime(e.Time)
	for attempt := 0; attempt < auditAppendAttempts; attempt++ {
		head, err := s.auditHead(ctx)
		if err != nil && registry.ErrorCode(err) != registry.ENOTFOUND {
			return err
		}
		e.Link(head)
		attrs := e.Attrs
		if attrs == nil {
			attrs = map[string]string{}
		}
		_, err = s.audit().InsertOne(ctx, &auditDoc{ID: seqID(e.Seq), Seq: e.Seq, Time: e.Time, Event: e.Event, Actor: e.Actor, Attrs: attrs, Prev: e.Prev, Hash: e.Hash})
		switch {
		case err == nil:
			return nil
		case !mongo.IsDuplicateKeyError(err):
			return internal(err, "append audit entry %d", e.Seq)
		}
		// Lost the race for this seq: back off a little so that a crowd of
		// appenders does not retry in lockstep.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(rand.IntN(2000)) * time.Microsecond):
		}
	}
	return registry.Errorf(registry.EINTERNAL, "audit append gave up after %d attempts under contention", auditAppendAttempts)
}

func (s *Store) auditHead(ctx context.Context) (*registry.AuditEntry, error) {
	var d auditDoc
	err := s.audit().FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}})).Decode(&d)
	switch {
	case notFound(err):
		return nil, registry.Errorf(registry.ENOTFOUND, "the audit log is empty")
	case err != nil:
		return nil, internal(err, "read the audit head")
	}
	return d.entry(), nil
}

// AuditHead returns the last entry. ENOTFOUND if the log is empty.
func (s *Store) AuditHead(ctx context.Context) (*registry.AuditEntry, error) { return s.auditHead(ctx) }

// AuditEntries returns up to limit entries with seq > after, in seq order.
func (s *Store) AuditEntries(ctx context.Context, after int64, limit int) ([]*registry.AuditEntry, error) {
	cur, err := s.audit().Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: seqID(after)}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, internal(err, "list audit entries after %d", after)
	}
	var docs []auditDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list audit entries after %d", after)
	}
	out := make([]*registry.AuditEntry, len(docs))
	for i := range docs {
		out[i] = docs[i].entry()
	}
	return out, nil
}

type checkpointDoc struct {
	ID       string    `bson:"_id"`
	Count    int64     `bson:"count"`
	HeadHash string    `bson:"head_hash"`
	Time     time.Time `bson:"time"`
	KeyID    string    `bson:"key_id"`
	JWS      string    `bson:"jws"`
}

func (d *checkpointDoc) checkpoint() *registry.AuditCheckpoint {
	return &registry.AuditCheckpoint{Count: d.Count, HeadHash: d.HeadHash, Time: d.Time.UTC(), KeyID: d.KeyID, JWS: d.JWS}
}

// CreateAuditCheckpoint stores a checkpoint. ECONFLICT if one with the
// same count exists.
func (s *Store) CreateAuditCheckpoint(ctx context.Context, cp *registry.AuditCheckpoint) error {
	cp.Time = msTime(cp.Time)
	_, err := s.checkpoints().InsertOne(ctx, &checkpointDoc{ID: seqID(cp.Count), Count: cp.Count, HeadHash: cp.HeadHash, Time: cp.Time, KeyID: cp.KeyID, JWS: cp.JWS})
	switch {
	case mongo.IsDuplicateKeyError(err):
		return registry.Errorf(registry.ECONFLICT, "a checkpoint at %d entries exists", cp.Count)
	case err != nil:
		return internal(err, "store checkpoint %d", cp.Count)
	}
	return nil
}

// AuditCheckpoint returns the checkpoint at count entries, or the latest
// when count is 0. ENOTFOUND if there is none.
func (s *Store) AuditCheckpoint(ctx context.Context, count int64) (*registry.AuditCheckpoint, error) {
	filter, opts := bson.D{{Key: "_id", Value: seqID(count)}}, options.FindOne()
	if count == 0 {
		filter, opts = bson.D{}, opts.SetSort(bson.D{{Key: "_id", Value: -1}})
	}
	var d checkpointDoc
	err := s.checkpoints().FindOne(ctx, filter, opts).Decode(&d)
	switch {
	case notFound(err):
		return nil, registry.Errorf(registry.ENOTFOUND, "no audit checkpoint at %s entries", strconv.FormatInt(count, 10))
	case err != nil:
		return nil, internal(err, "read checkpoint %d", count)
	}
	return d.checkpoint(), nil
}

// AuditCheckpoints returns up to limit checkpoints with count > after.
func (s *Store) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]*registry.AuditCheckpoint, error) {
	cur, err := s.checkpoints().Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: seqID(after)}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, internal(err, "list checkpoints")
	}
	var docs []checkpointDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list checkpoints")
	}
	out := make([]*registry.AuditCheckpoint, len(docs))
	for i := range docs {
		out[i] = docs[i].checkpoint()
	}
	return out, nil
}
