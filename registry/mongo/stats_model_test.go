package mongo

import (
	"context"
	"reflect"
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

// TestPlanDocumentFieldNames pins the field names of a stored plan's
// targets, as CreatePlan and UpdatePlan write them.
func TestPlanDocumentFieldNames(t *testing.T) {
	testURI(t)
	ctx := context.Background()
	s := openTest(t)
	targets := stats.PlanTargets{SkilledWorkers: 250_000_000, Technician: 0.05, SeniorWorker: 0.2, HighSkilled: 0.25}
	if err := s.CreatePlan(ctx, &stats.Plan{ID: "created", Name: "c", EndDate: "2030-12-31", Targets: targets, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePlan(ctx, &stats.Plan{ID: "updated", Name: "u", EndDate: "2030-12-31", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdatePlan(ctx, &stats.Plan{ID: "updated", Name: "u2", EndDate: "2031-12-31", Targets: targets}); err != nil {
		t.Fatal(err)
	}
	want := bson.D{{Key: "skilledworkers", Value: int64(250_000_000)}, {Key: "technician", Value: 0.05},
		{Key: "seniorworker", Value: 0.2}, {Key: "highskilled", Value: 0.25}}
	for _, id := range []string{"created", "updated"} {
		var raw struct {
			Targets bson.D `bson:"targets"`
		}
		if err := s.statsColl(collStatsPlans).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(raw.Targets, want) {
			t.Errorf("plan %s: stored targets %v, want %v", id, raw.Targets, want)
		}
	}
	plans, err := s.Plans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 2 || plans[0].Targets != targets || plans[1].Targets != targets {
		t.Errorf("Plans = %+v, want the targets back", plans)
	}
}
