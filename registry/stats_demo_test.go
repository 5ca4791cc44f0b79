package registry_test

import (
	"context"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// TestDemoStatusIndexes: demo certificates get status-list indexes as
// issued ones do (distinct, not in issue order, above any index in use), so
// that a demo store needs no index assignment at start-up and its tokens
// can be checked offline; a second demo on the same store does not collide
// with the first.
func TestDemoStatusIndexes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	seen := map[int]string{}
	for round, seed := range []uint64{1, 2} {
		res, err := f.reg.LoadDemo(ctx, f.admin, registry.DemoOptions{Certificates: 400, Seed: seed, KeyID: "demo"})
		if err != nil {
			t.Fatalf("demo %d: %v", round, err)
		}
		if res.Certificates != 400 {
			t.Fatalf("demo %d stored %d certificates", round, res.Certificates)
		}
	}
	list, total, err := f.store.Certificates(ctx, registry.CertificateFilter{PerPage: 100, Page: 1})
	if err != nil || total != 800 {
		t.Fatalf("listing: %d certificates, %v", total, err)
	}
	for page := 1; (page-1)*100 < total; page++ {
		list, _, err = f.store.Certificates(ctx, registry.CertificateFilter{PerPage: 100, Page: page})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list {
			if c.StatusIndex < 1 {
				t.Fatalf("%s has no status index", c.Number)
			}
			if other, dup := seen[c.StatusIndex]; dup {
				t.Fatalf("%s and %s share status index %d", c.Number, other, c.StatusIndex)
			}
			seen[c.StatusIndex] = c.Number
		}
	}
	if n, err := f.reg.AssignStatusIndexes(ctx); err != nil || n != 0 {
		t.Fatalf("AssignStatusIndexes after a demo assigned %d (%v), want 0", n, err)
	}
}

// TestDemoMakesExactlyN: LoadDemo stores exactly the number of
// certificates asked for, whatever the last person drawn would hold (one
// to three certificates), for many seeds and sizes.
func TestDemoMakesExactlyN(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	stored := 0
	for seed := uint64(1); seed <= 12; seed++ {
		for _, n := range []int{1, 2, 37} {
			res, err := f.reg.LoadDemo(ctx, f.admin, registry.DemoOptions{Certificates: n, Seed: seed, KeyID: "demo"})
			if err != nil {
				t.Fatalf("seed %d, %d certificates: %v", seed, n, err)
			}
			stored += n
			_, total, err := f.store.Certificates(ctx, registry.CertificateFilter{PerPage: 1, Page: 1})
			if err != nil {
				t.Fatal(err)
			}
			if res.Certificates != int64(n) || total != stored {
				t.Fatalf("seed %d: asked for %d certificates, the demo reports %d and the store gained %d",
					seed, n, res.Certificates, total-(stored-n))
			}
		}
	}
}

func TestDemoName(t *testing.T) {
	t.Parallel()
	seen := map[string]int{}
	for i := 0; i < 200_000; i += 7 {
		n := registry.DemoName(i)
		if _, err := registry.NormalizeName(n); err != nil {
			t.Fatalf("DemoName(%d) = %q: %v", i, n, err)
		}
		if j, dup := seen[n]; dup {
			t.Fatalf("DemoName(%d) = DemoName(%d) = %q", i, j, n)
		}
		seen[n] = i
	}
}

// TestDemoCountsAsItLoads: the demo builds the counters with the
// certificates, and they match the certificates exactly (stats check finds
// no drift) on a fresh store, on a store that already has demo people, and
// when the same seed makes the same people again (every holder then has
// certificates from both loads).
func TestDemoCountsAsItLoads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for round, seed := range []uint64{3, 4, 3} {
		if _, err := f.reg.LoadDemo(ctx, f.admin, registry.DemoOptions{Certificates: 300, Seed: seed, KeyID: "demo"}); err != nil {
			t.Fatalf("demo %d: %v", round, err)
		}
		requireNoDrift(t, f.reg)
	}
	ts, err := f.reg.TierStats(ctx, f.admin, registry.StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var workers int64
	for _, n := range ts.ByLevel {
		workers += n
	}
	if workers == 0 {
		t.Fatal("the demo counted nobody")
	}
}
