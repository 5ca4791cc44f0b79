package mongo

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/skillreg/skillreg/registry/stats"
)

// TestStatsDocumentFieldNames pins the field names of stored counter ops
// and holder states, so that documents written by earlier versions stay
// readable.
func TestStatsDocumentFieldNames(t *testing.T) {
	testURI(t)
	ctx := context.Background()
	s := openTest(t)
	cert := stats.HolderCert{Number: "N1", Level: 3, Province: "11", Category: "6", Channel: "social",
		IssuedOn: "2010-01-02", CreatedMS: 5, Revoked: true}
	op := &stats.Op{ID: "h#1", Hash: "h", From: 0, Certs: []stats.HolderCert{cert},
		Deltas: []stats.Delta{{Cell: "c", N: 1}}, CreatedAt: time.Now()}
	if _, err := s.CreateStatsOps(ctx, []*stats.Op{op}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatsHolders(ctx, []*stats.Holder{{Hash: "h", Version: 1, Certs: []stats.HolderCert{cert}}}); err != nil {
		t.Fatal(err)
	}
	certKeys := []string{"category", "channel", "created_ms", "issued_on", "level", "number", "province", "revoked"}
	keysOf := func(d bson.D) []string {
		var ks []string
		for _, e := range d {
			ks = append(ks, e.Key)
		}
		slices.Sort(ks)
		return ks
	}
	var rawOp struct {
		Certs  []bson.D `bson:"certs"`
		Deltas []bson.D `bson:"deltas"`
	}
	if err := s.statsColl(collStatsOps).FindOne(ctx, bson.D{{Key: "_id", Value: "h#1"}}).Decode(&rawOp); err != nil {
		t.Fatal(err)
	}
	if len(rawOp.Certs) != 1 || !slices.Equal(keysOf(rawOp.Certs[0]), certKeys) {
		t.Errorf("stored op certificate fields = %v, want %v", rawOp.Certs, certKeys)
	}
	if len(rawOp.Deltas) != 1 || !slices.Equal(keysOf(rawOp.Deltas[0]), []string{"cell", "n"}) {
		t.Errorf("stored op delta fields = %v, want [cell n]", rawOp.Deltas)
	}
	var rawHolder struct {
		Certs []bson.D `bson:"certs"`
	}
	if err := s.statsColl(collStatsHolders).FindOne(ctx, bson.D{{Key: "_id", Value: "h"}}).Decode(&rawHolder); err != nil {
		t.Fatal(err)
	}
	if len(rawHolder.Certs) != 1 || !slices.Equal(keysOf(rawHolder.Certs[0]), certKeys) {
		t.Errorf("stored holder certificate fields = %v, want %v", rawHolder.Certs, certKeys)
	}
	ops, err := s.StatsOps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || len(ops[0].Certs) != 1 || ops[0].Certs[0] != cert || len(ops[0].Deltas) != 1 || ops[0].Deltas[0] != op.Deltas[0] {
		t.Errorf("StatsOps = %+v, want the stored op back", ops)
	}
}
