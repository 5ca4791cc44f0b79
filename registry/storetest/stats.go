package storetest

import (
	"context"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// The statistics primitives: each must be idempotent in the way
// registry/stats/sync.go relies on.

func cellID(kind, prov, cat, ch string, level, year int) string {
	return stats.Cell{Kind: kind, Province: prov, Category: cat, Channel: ch, Level: level, Year: year}.ID()
}

func testStatsCells(t *testing.T, s registry.Store) {
	ctx := context.Background()
	a := cellID(stats.CellWorkers, "11", "6", "social", 3, 2010)
	aAll := cellID(stats.CellWorkers, stats.CellAll, "6", "social", 3, 2010)
	b := cellID(stats.CellIssued, "44", "6", "social", 2, 2011)
	c := cellID(stats.CellIssued, "44", stats.CellAll, stats.CellAll, 2, 2011)
	if err := s.ApplyStatsDeltas(ctx, "m1", []stats.Delta{{Cell: a, N: 2}, {Cell: aAll, N: 2}, {Cell: b, N: 1}, {Cell: c, N: 1}}); err != nil {
		t.Fatal(err)
	}
	// The same deltas under the same marker again count nothing.
	if err := s.ApplyStatsDeltas(ctx, "m1", []stats.Delta{{Cell: a, N: 2}, {Cell: aAll, N: 2}, {Cell: b, N: 1}, {Cell: c, N: 1}}); err != nil {
		t.Fatal(err)
	}
	d := cellID(stats.CellRevoked, "44", "6", "social", 2, 2011)
	if err := s.ApplyStatsDeltas(ctx, "m1b", []stats.Delta{{Cell: d, N: 1}}); err != nil {
		t.Fatal(err)
	}
	// Another marker counts.
	if err := s.ApplyStatsDeltas(ctx, "m2", []stats.Delta{{Cell: a, N: -1}}); err != nil {
		t.Fatal(err)
	}
	got := cellMap(t, s)
	want := map[string]int64{a: 1, aAll: 2, b: 1, c: 1, d: 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("cells %v, want %v", got, want)
	}
	markers, err := s.StatsPendingMarkers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(markers)
	if !reflect.DeepEqual(markers, []string{"m1", "m1b", "m2"}) {
		t.Fatalf("pending markers %v", markers)
	}
	if err := s.ReleaseStatsMarker(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseStatsMarker(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if markers, _ := s.StatsPendingMarkers(ctx); !reflect.DeepEqual(markers, []string{"m1b", "m2"}) {
		t.Fatalf("after release: %v", markers)
	}
	// Rollup reads.
	rollup, err := s.StatsCells(ctx, stats.CellFilter{Province: "11", Category: "6", Channel: "social", Years: true})
	if err != nil || len(rollup) != 1 || rollup[0].ID() != a || rollup[0].N != 1 {
		t.Fatalf("rollup 11/6/social: %v %+v", err, rollup)
	}
	per, err := s.StatsCells(ctx, stats.CellFilter{Category: "6", Channel: "social", PerProvince: true, Years: true})
	if err != nil || len(per) != 3 {
		t.Fatalf("per province 6/social: %v %+v", err, per)
	}
	all, err := s.StatsCells(ctx, stats.CellFilter{Province: stats.CellAll, Category: stats.CellAll, Channel: stats.CellAll, Years: true})
	if err != nil || len(all) != 0 {
		t.Fatalf("empty rollup: %v %+v", err, all)
	}
	// The all-years rollup is apart from the years.
	e := cellID(stats.CellWorkers, "11", "6", "social", 3, stats.CellAllYears)
	if err := s.ApplyStatsDeltas(ctx, "m4", []stats.Delta{{Cell: e, N: 4}}); err != nil {
		t.Fatal(err)
	}
	years, err := s.StatsCells(ctx, stats.CellFilter{Province: "11", Category: "6", Channel: "social"})
	if err != nil || len(years) != 1 || years[0].ID() != e || years[0].N != 4 {
		t.Fatalf("all-years rollup 11/6/social: %v %+v", err, years)
	}
	if err := s.ApplyStatsDeltas(ctx, "m5", []stats.Delta{{Cell: e, N: -4}}); err != nil {
		t.Fatal(err)
	}
	// A counter back at zero is not listed.
	if err := s.ApplyStatsDeltas(ctx, "m3", []stats.Delta{{Cell: b, N: -1}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := cellMap(t, s)[b]; ok {
		t.Fatal("a zero counter is listed")
	}
}

func cellMap(t *testing.T, s registry.Store) map[string]int64 {
	t.Helper()
	cells, err := s.AllStatsCells(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, c := range cells {
		m[c.ID()] = c.N
	}
	return m
}

func testStatsOps(t *testing.T, s registry.Store) {
	ctx := context.Background()
	op1 := &stats.Op{ID: "h1#1", Hash: "h1", From: 0,
		Certs:  []stats.HolderCert{{Number: "S1", Level: 3, Province: "11", Category: "6", Channel: "social", IssuedOn: "2010-01-02", CreatedMS: 5}},
		Deltas: []stats.Delta{{Cell: "w|11|6|social|3|2010", N: 1}}, CreatedAt: at(1)}
	op2 := &stats.Op{ID: "h2#4", Hash: "h2", From: 3, Batch: "batch-x", Deltas: []stats.Delta{}, CreatedAt: at(2)}
	created, err := s.CreateStatsOps(ctx, []*stats.Op{op1, op2})
	if err != nil || !reflect.DeepEqual(created, []bool{true, true}) {
		t.Fatalf("create: %v %v", created, err)
	}
	again := *op1
	again.From = 9
	created, err = s.CreateStatsOps(ctx, []*stats.Op{&again, {ID: "h3#1", Hash: "h3", CreatedAt: at(3)}})
	if err != nil || !reflect.DeepEqual(created, []bool{false, true}) {
		t.Fatalf("create again: %v %v", created, err)
	}
	ops, err := s.StatsOps(ctx)
	if err != nil || len(ops) != 3 {
		t.Fatalf("ops: %v %d", err, len(ops))
	}
	if ops[0].ID != "h1#1" || ops[0].From != 0 || !reflect.DeepEqual(ops[0].Certs, op1.Certs) || !reflect.DeepEqual(ops[0].Deltas, op1.Deltas) ||
		!ops[0].CreatedAt.Equal(at(1)) || ops[1].Batch != "batch-x" || ops[1].Marker() != "batch-x" || ops[0].Marker() != "h1#1" {
		t.Fatalf("stored ops %+v %+v", ops[0], ops[1])
	}
	if err := s.DeleteStatsOps(ctx, []string{"h1#1", "h3#1", "nope"}); err != nil {
		t.Fatal(err)
	}
	if ops, _ := s.StatsOps(ctx); len(ops) != 1 || ops[0].ID != "h2#4" {
		t.Fatalf("after delete: %+v", ops)
	}
}

func testStatsHolders(t *testing.T, s registry.Store) {
	ctx := context.Background()
	certs := []stats.HolderCert{{Number: "S1", Level: 2, Province: "44", Category: "4", Channel: "school", IssuedOn: "2012-03-04", CreatedMS: 77, Revoked: true}}
	sts, err := s.StatsHolders(ctx, []string{"hb", "ha"})
	if err != nil || len(sts) != 2 || sts[0].Hash != "hb" || sts[0].Version != 0 || len(sts[0].Certs) != 0 {
		t.Fatalf("never counted: %v %+v", err, sts)
	}
	if err := s.SetStatsHolders(ctx, []*stats.Holder{{Hash: "ha", Version: 1, Certs: certs}, {Hash: "hb", Version: 1}}); err != nil {
		t.Fatal(err)
	}
	// Wrong versions are skipped: 1 again, 3 over 1.
	if err := s.SetStatsHolders(ctx, []*stats.Holder{{Hash: "ha", Version: 1}, {Hash: "hb", Version: 3, Certs: certs}}); err != nil {
		t.Fatal(err)
	}
	sts, err = s.StatsHolders(ctx, []string{"ha", "hb"})
	if err != nil || sts[0].Version != 1 || !reflect.DeepEqual(sts[0].Certs, certs) || sts[1].Version != 1 || len(sts[1].Certs) != 0 {
		t.Fatalf("after skipped sets: %v %+v %+v", err, sts[0], sts[1])
	}
	if err := s.SetStatsHolders(ctx, []*stats.Holder{{Hash: "hb", Version: 2, Certs: certs}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.StatsHoldersAfter(ctx, "", 10)
	if err != nil || len(list) != 2 || list[0].Hash != "ha" || list[1].Version != 2 || !reflect.DeepEqual(list[1].Certs, certs) {
		t.Fatalf("after: %v %+v", err, list)
	}
	if list, _ := s.StatsHoldersAfter(ctx, "ha", 10); len(list) != 1 || list[0].Hash != "hb" {
		t.Fatalf("after ha: %+v", list)
	}
	if list, _ := s.StatsHoldersAfter(ctx, "", 1); len(list) != 1 || list[0].Hash != "ha" {
		t.Fatalf("limit: %+v", list)
	}
}

func testCertificatesInHolderOrder(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	// Holders hash-0 (3 certificates), hash-1 (1), hash-2 (2).
	for i, h := range []int{0, 1, 0, 2, 0, 2} {
		c := newCert(issuerA, i)
		c.HolderIDHash = []string{"hash-0", "hash-1", "hash-2"}[h]
		mustCreate(t, s, c)
	}
	hashes := func(after string, limit int) []string {
		t.Helper()
		list, err := s.CertificatesInHolderOrder(ctx, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range list {
			out = append(out, c.HolderIDHash)
		}
		return out
	}
	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 10, []string{"hash-0", "hash-0", "hash-0", "hash-1", "hash-2", "hash-2"}},
		{"", 2, []string{"hash-0", "hash-0"}}, // cut inside a holder
		{"", 4, []string{"hash-0", "hash-0", "hash-0", "hash-1"}},
		{"hash-0", 10, []string{"hash-1", "hash-2", "hash-2"}}, // strictly after
		{"hash-1", 1, []string{"hash-2"}},
		{"hash-2", 10, nil},
	} {
		if got := hashes(tc.after, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("after %q limit %d: %v, want %v (hash order, after the hash, at most limit)", tc.after, tc.limit, got, tc.want)
		}
	}
}

func testStatsMarks(t *testing.T, s registry.Store) {
	ctx := context.Background()
	m1 := &stats.Mark{ID: "m1", Hash: "h1", At: at(0)}
	m2 := &stats.Mark{ID: "m2", Hash: "h2", At: at(10), Done: true, DoneAt: at(11)}
	m3 := &stats.Mark{ID: "m3", Hash: "h3", At: at(100), Done: true, DoneAt: at(101)}
	for _, m := range []*stats.Mark{m1, m2, m3} {
		if err := s.PutStatsMarks(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(since time.Time) []string {
		list, err := s.StatsMarks(ctx, since)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range list {
			out = append(out, m.ID)
		}
		sort.Strings(out)
		return out
	}
	if got := ids(at(50)); !slices.Equal(got, []string{"m1", "m3"}) {
		t.Fatalf("since 50: %v", got)
	}
	if got := ids(at(5)); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
		t.Fatalf("since 5: %v", got)
	}
	m1.Done, m1.DoneAt = true, at(60)
	if err := s.PutStatsMarks(ctx, m1); err != nil {
		t.Fatal(err)
	}
	list, _ := s.StatsMarks(ctx, at(55))
	if len(list) != 2 || list[0].ID != "m1" || !list[0].Done || !list[0].DoneAt.Equal(at(60)) || !list[0].At.Equal(at(0)) || list[0].Hash != "h1" {
		t.Fatalf("done mark: %+v", list)
	}
	if err := s.DeleteStatsMarks(ctx, at(50)); err != nil {
		t.Fatal(err)
	}
	if got := ids(at(-1000)); !slices.Equal(got, []string{"m3"}) {
		t.Fatalf("after delete: %v", got)
	}
}

func testPlans(t *testing.T, s registry.Store) {
	ctx := context.Background()
	p := &stats.Plan{ID: "p-2030", Name: "二〇三〇", EndDate: "2030-12-31", Default: true, CreatedAt: at(3),
		Targets: stats.PlanTargets{SkilledWorkers: 250_000_000, Technician: 0.1, SeniorWorker: 0.25, HighSkilled: 0.35}}
	if err := s.CreatePlan(ctx, p); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "same plan twice", s.CreatePlan(ctx, p), registry.ECONFLICT)
	q := &stats.Plan{ID: "a-first", Name: "A", EndDate: "2020-01-01", CreatedAt: at(4)}
	if err := s.CreatePlan(ctx, q); err != nil {
		t.Fatal(err)
	}
	list, err := s.Plans(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "a-first" || !reflect.DeepEqual(list[1], p) {
		t.Fatalf("plans %v %+v", err, list)
	}

	// Update: every field but the creation time is replaced.
	upd := &stats.Plan{ID: "p-2030", Name: "二〇三〇（修订）", EndDate: "2031-06-30", Default: true, CreatedAt: at(99),
		Targets: stats.PlanTargets{SkilledWorkers: 260_000_000, Technician: 0.12, SeniorWorker: 0.24, HighSkilled: 0.36}}
	if err := s.UpdatePlan(ctx, upd); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "update a missing plan", s.UpdatePlan(ctx, &stats.Plan{ID: "nope", Name: "x", EndDate: "2030-01-01"}), registry.ENOTFOUND)
	want := *upd
	want.CreatedAt = p.CreatedAt
	list, err = s.Plans(ctx)
	if err != nil || len(list) != 2 || !reflect.DeepEqual(list[1], &want) {
		t.Fatalf("after update %v %+v, want %+v", err, list, want)
	}

	// The default mark: one plan, or none.
	defaults := func() []string {
		t.Helper()
		list, err := s.Plans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range list {
			if p.Default {
				out = append(out, p.ID)
			}
		}
		return out
	}
	if err := s.SetDefaultPlan(ctx, "a-first"); err != nil {
		t.Fatal(err)
	}
	if got := defaults(); !slices.Equal(got, []string{"a-first"}) {
		t.Fatalf("defaults after choosing a-first: %v", got)
	}
	wantCode(t, "default a missing plan", s.SetDefaultPlan(ctx, "nope"), registry.ENOTFOUND)
	if got := defaults(); !slices.Equal(got, []string{"a-first"}) {
		t.Fatalf("defaults after a refused choice: %v", got)
	}
	if err := s.SetDefaultPlan(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got := defaults(); len(got) != 0 {
		t.Fatalf("defaults after clearing: %v", got)
	}

	// Delete.
	if err := s.DeletePlan(ctx, "a-first"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "delete twice", s.DeletePlan(ctx, "a-first"), registry.ENOTFOUND)
	list, err = s.Plans(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "p-2030" {
		t.Fatalf("after delete %v %+v", err, list)
	}
}
