package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry/stats"
)

// TestStatsCheckCommand: a demo store checks clean; a damaged counter
// makes `stats check` exit 1 naming the counter; --repair fixes it and
// exits 0; a second check is clean again. Against MongoDB too when
// SKILLREG_TEST_MONGO_URI is set.
func TestStatsCheckCommand(t *testing.T) {
	t.Parallel()
	stores := map[string]string{"sqlite": ""}
	if os.Getenv("SKILLREG_TEST_MONGO_URI") != "" {
		stores["mongo"] = freshMongoURI(t)
	}
	for name, uri := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			flags := []string{"--data", dir, "--mongo-uri", uri}
			runOK := func(want int, args ...string) string {
				t.Helper()
				var out, errb bytes.Buffer
				if code := run(ctx, append(args, flags...), &out, &errb); code != want {
					t.Fatalf("%v exited %d, want %d:\n%s\n%s", args, code, want, out.String(), errb.String())
				}
				return out.String()
			}
			// FerretDB, the MongoDB test server, scans a collection for an
			// update whose filter is more than an _id, so the bulk build is
			// quadratic there: a small population suffices.
			n := map[string]string{"sqlite": "1500", "mongo": "12"}[name]
			out := runOK(0, "demo", "--certificates", n, "--seed", "3", "--quiet")
			if !strings.Contains(out, "demo: "+n[:2]) || !strings.Contains(out, "no drift") {
				t.Fatalf("demo output:\n%s", out)
			}
			if out := runOK(0, "stats", "check", "--quiet"); !strings.Contains(out, "no drift") {
				t.Fatalf("check output:\n%s", out)
			}
			// Damage one counter behind the registry's back.
			e, err := openEnv(ctx, dataFlags{dataDir: dir, mongoURI: uri}, false)
			if err != nil {
				t.Fatal(err)
			}
			cell := stats.Cell{Kind: stats.CellIssued, Province: stats.CellAll, Category: stats.CellAll,
				Channel: stats.CellAll, Level: 3, Year: stats.CellAllYears}.ID()
			if err := e.store.ApplyStatsDeltas(ctx, "damage", []stats.Delta{{Cell: cell, N: 7}}); err != nil {
				t.Fatal(err)
			}
			if err := e.store.ReleaseStatsMarker(ctx, "damage"); err != nil {
				t.Fatal(err)
			}
			e.Close()
			if out := runOK(1, "stats", "check", "--quiet"); !strings.Contains(out, "counter issued */*/* level 3 0:") {
				t.Fatalf("check after damage:\n%s", out)
			}
			if out := runOK(0, "stats", "check", "--repair", "--quiet"); !strings.Contains(out, "repaired: 0 holders, 1 counters") {
				t.Fatalf("repair output:\n%s", out)
			}
			runOK(0, "stats", "check", "--quiet")
			// With no server running, --grace 0 takes nothing as in flight.
			if out := runOK(0, "stats", "check", "--grace", "0", "--quiet"); !strings.Contains(out, "no drift") {
				t.Fatalf("check --grace 0 output:\n%s", out)
			}
			runOK(1, "stats", "check", "--grace", "-1s")
			runOK(1, "stats")
		})
	}
}
