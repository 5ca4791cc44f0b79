package mongo

import (
	"context"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
)

var _ registry.IDCheckStore = (*Store)(nil)

// collIDChecks holds one document per ID check charged ("c") and per
// charge refunded ("r"), _id "day/hash/kind/k" with k = 1, 2, ... per
// holder, day and kind; k is decimal, so "~" sorts after every _id of one
// prefix. The day's count is charges minus refunds. Each document is
// inserted under a unique _id, retried with the next k on a duplicate
// key, because that is atomic on every server, whereas an upserting $inc
// is not atomic on FerretDB.
const collIDChecks = "id_checks"

type idCheckDoc struct {
	ID     string `bson:"_id"`
	Day    string `bson:"day"`
	Holder string `bson:"holder"`
	Kind   string `bson:"kind"`
}

func idCheckPrefix(holderHash, day, kind string) string {
	return day + "/" + holderHash + "/" + kind + "/"
}

// countIDChecks counts the documents of one holder, day and kind.
func (s *Store) countIDChecks(ctx context.Context, holderHash, day, kind string) (int, error) {
	p := idCheckPrefix(holderHash, day, kind)
	n, err := s.db.Collection(collIDChecks).CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: p}, {Key: "$lt", Value: p + "~"}}}})
	return int(n), err
}

// insertIDCheck inserts the next document of one holder, day and kind,
// from k = from on, and returns its k; limit > 0 refuses k > limit (and
// returns 0).
func (s *Store) insertIDCheck(ctx context.Context, holderHash, day, kind string, from, limit int) (int, error) {
	for k := from; limit <= 0 || k <= limit; k++ {
		_, err := s.db.Collection(collIDChecks).InsertOne(ctx, idCheckDoc{
			ID: idCheckPrefix(holderHash, day, kind) + strconv.Itoa(k), Day: day, Holder: holderHash, Kind: kind,
		})
		if err == nil {
			return k, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return 0, err
		}
	}
	return 0, nil
}

// ChargeIDCheck inserts the holder's next charge of the day; its k counts
// every charge so far, so the count is k minus the refunds. The first
// charge of a holder's day also deletes the documents of earlier days
// (there is no TTL index: FerretDB has none).
func (s *Store) ChargeIDCheck(ctx context.Context, holderHash, day string) (int, error) {
	n, err := s.countIDChecks(ctx, holderHash, day, "c")
	if err != nil {
		return 0, internal(err, "count ID checks")
	}
	k, err := s.insertIDCheck(ctx, holderHash, day, "c", n+1, 0)
	if err != nil {
		return 0, internal(err, "count an ID check")
	}
	refunds, err := s.countIDChecks(ctx, holderHash, day, "r")
	if err != nil {
		return 0, internal(err, "count ID check refunds")
	}
	if k == 1 {
		if _, err := s.db.Collection(collIDChecks).DeleteMany(ctx, bson.D{{Key: "day", Value: bson.D{{Key: "$lt", Value: day}}}}); err != nil {
			return 0, internal(err, "delete old ID check counts")
		}
	}
	return max(k-refunds, 0), nil
}

// RefundIDCheck inserts the holder's next refund of the day, unless there
// are as many refunds as charges already.
func (s *Store) RefundIDCheck(ctx context.Context, holderHash, day string) error {
	charges, err := s.countIDChecks(ctx, holderHash, day, "c")
	if err != nil {
		return internal(err, "count ID checks")
	}
	refunds, err := s.countIDChecks(ctx, holderHash, day, "r")
	if err != nil {
		return internal(err, "count ID check refunds")
	}
	if _, err := s.insertIDCheck(ctx, holderHash, day, "r", refunds+1, charges); err != nil {
		return internal(err, "take back an ID check")
	}
	return nil
}

var _ registry.WriteChecker = (*Store)(nil)

// writeProbeID is the _id of the settings document CheckWrite writes.
const writeProbeID = "write_probe"

// CheckWrite writes one small settings document with write concern
// majority: it fails while the deployment has no primary, no majority or
// no disk space.
func (s *Store) CheckWrite(ctx context.Context) error {
	_, err := s.settings.UpdateOne(ctx, bson.D{{Key: "_id", Value: writeProbeID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return internal(err, "probe write")
	}
	return nil
}
