package sqlite

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry/stats"
)

// TestStatsStoredFormat: plans, counter ops and holder states are stored
// as JSON text whose keys and omitted fields are a stored format, read
// back by every later version; the text written is exactly the literal.
func TestStatsStoredFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openTemp(t)
	at := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

	targets := stats.PlanTargets{SkilledWorkers: 250_000_000, Technician: 0.05, SeniorWorker: 0.2, HighSkilled: 0.25}
	if err := st.CreatePlan(ctx, &stats.Plan{ID: "p-2030", Name: "二〇三〇", EndDate: "2030-12-31", Targets: targets, Default: true, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePlan(ctx, &stats.Plan{ID: "p-zero", Name: "zero", EndDate: "2031-01-01"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreatePlan(ctx, &stats.Plan{ID: "p-none", Name: "none", EndDate: "2032-01-01"}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdatePlan(ctx, &stats.Plan{ID: "p-zero", Name: "zero (revised)", EndDate: "2031-06-30", Targets: targets, BuiltIn: true, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}

	certs := []stats.HolderCert{
		{Number: "N1", Level: 3, Province: "44", Category: "6", Channel: "social", IssuedOn: "2026-03-01", CreatedMS: 1772600000000},
		{Number: "N2", Level: 1, Province: "11", Category: "2", Channel: "school", IssuedOn: "2025-12-31", CreatedMS: 1767100000000, Revoked: true},
	}
	ops := []*stats.Op{
		{ID: "h1#1", Hash: "h1", From: 0, Certs: certs, Deltas: []stats.Delta{{Cell: "c1", N: 1}, {Cell: "c2", N: -1}}, CreatedAt: at},
		{ID: "h2#3", Hash: "h2", From: 2, Certs: []stats.HolderCert{}, Deltas: []stats.Delta{}, Batch: "batch-1", CreatedAt: at},
		{ID: "repair-1", Deltas: []stats.Delta{{Cell: "c3", N: 7}}, CreatedAt: at},
	}
	if _, err := st.CreateStatsOps(ctx, ops); err != nil {
		t.Fatal(err)
	}
	if err := st.SetStatsHolders(ctx, []*stats.Holder{{Hash: "h1", Version: 1, Certs: certs}, {Hash: "h2", Version: 1}}); err != nil {
		t.Fatal(err)
	}

	// What is stored reads back as it was written.
	gotOps, err := st.StatsOps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*stats.Op{}
	for _, op := range gotOps {
		byID[op.ID] = op
	}
	for _, op := range ops {
		if got := byID[op.ID]; got == nil || !reflect.DeepEqual(*got, *op) {
			t.Errorf("op %s reads back as %+v, want %+v", op.ID, got, op)
		}
	}
	hs, err := st.StatsHolders(ctx, []string{"h1", "h2"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []*stats.Holder{{Hash: "h1", Version: 1, Certs: certs}, {Hash: "h2", Version: 1, Certs: []stats.HolderCert{}}}; !reflect.DeepEqual(hs, want) {
		t.Errorf("holders read back as %+v, want %+v", hs, want)
	}
	plans, err := st.Plans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantPlans := []*stats.Plan{
		{ID: "p-2030", Name: "二〇三〇", EndDate: "2030-12-31", Targets: targets, Default: true, CreatedAt: at},
		{ID: "p-none", Name: "none", EndDate: "2032-01-01"},
		{ID: "p-zero", Name: "zero (revised)", EndDate: "2031-06-30", Targets: targets, BuiltIn: true},
	}
	if !reflect.DeepEqual(plans, wantPlans) {
		t.Errorf("plans read back as %+v, want %+v", plans, wantPlans)
	}

	// The stored text, as every earlier version wrote it.
	for _, tt := range []struct{ query, want string }{
		{`SELECT body FROM stats_plans WHERE id = 'p-2030'`,
			`{"id":"p-2030","name":"二〇三〇","end_date":"2030-12-31","targets":{"skilled_workers":250000000,"technician":0.05,"senior_worker":0.2,"high_skilled":0.25},"default":true,"built_in":false,"created_at":"2026-03-04T05:06:07.89Z"}`},
		{`SELECT body FROM stats_plans WHERE id = 'p-none'`,
			`{"id":"p-none","name":"none","end_date":"2032-01-01","targets":{"skilled_workers":0,"technician":0,"senior_worker":0,"high_skilled":0},"default":false,"built_in":false}`},
		{`SELECT body FROM stats_plans WHERE id = 'p-zero'`,
			`{"id":"p-zero","name":"zero (revised)","end_date":"2031-06-30","targets":{"skilled_workers":250000000,"technician":0.05,"senior_worker":0.2,"high_skilled":0.25},"default":false,"built_in":true,"created_at":null}`},
		{`SELECT body FROM stats_ops WHERE id = 'h1#1'`,
			`{"id":"h1#1","hash":"h1","from":0,"certs":[{"number":"N1","level":3,"province":"44","category":"6","channel":"social","issued_on":"2026-03-01","created_ms":1772600000000,"revoked":false},{"number":"N2","level":1,"province":"11","category":"2","channel":"school","issued_on":"2025-12-31","created_ms":1767100000000,"revoked":true}],"deltas":[{"cell":"c1","n":1},{"cell":"c2","n":-1}],"created_at":"2026-03-04T05:06:07.89Z"}`},
		{`SELECT body FROM stats_ops WHERE id = 'h2#3'`,
			`{"id":"h2#3","hash":"h2","from":2,"certs":[],"deltas":[],"batch":"batch-1","created_at":"2026-03-04T05:06:07.89Z"}`},
		{`SELECT body FROM stats_ops WHERE id = 'repair-1'`,
			`{"id":"repair-1","hash":"","from":0,"certs":null,"deltas":[{"cell":"c3","n":7}],"created_at":"2026-03-04T05:06:07.89Z"}`},
		{`SELECT certs FROM stats_holders WHERE hash = 'h1'`,
			`[{"number":"N1","level":3,"province":"44","category":"6","channel":"social","issued_on":"2026-03-01","created_ms":1772600000000,"revoked":false},{"number":"N2","level":1,"province":"11","category":"2","channel":"school","issued_on":"2025-12-31","created_ms":1767100000000,"revoked":true}]`},
		{`SELECT certs FROM stats_holders WHERE hash = 'h2'`,
			`[]`},
	} {
		var got string
		if err := st.read.QueryRowContext(ctx, tt.query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.query, got, tt.want)
		}
	}
}
