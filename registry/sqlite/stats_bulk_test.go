package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// certificateIndexes returns the definitions of the certificates table's
// indexes, by name.
func certificateIndexes(t *testing.T, s *Store) map[string]string {
	t.Helper()
	rows, err := s.write.QueryContext(context.Background(), `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'certificates' AND sql IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		out[name] = def
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBulkLoad: during a bulk load into an empty store the write
// connection runs unsynced and the late indexes are gone; afterwards the
// indexes are back exactly as they were, the connection is at
// synchronous=FULL, the certificates are all there and the WAL is empty,
// also after a load that failed; certificates sharing a status-list
// index make the load fail.
func TestBulkLoad(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	const id = "S000011000001"
	if err := s.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		t.Fatal(err)
	}
	before := certificateIndexes(t, s)
	cell := stats.Cell{Kind: stats.CellIssued, Province: stats.CellAll, Category: stats.CellAll,
		Channel: stats.CellAll, Level: 3, Year: stats.CellAllYears}.ID()
	certs := func(from, n int, index func(i int) int) []*registry.Certificate {
		var out []*registry.Certificate
		for i := from; i < from+n; i++ {
			c := testCert(id, i)
			c.Number = fmt.Sprintf("%s%06d", registry.NumberPrefix(id, 2024, 3), i)
			c.StatusIndex = index(i)
			out = append(out, c)
		}
		return out
	}

	err := s.BulkLoad(ctx, func() error {
		var sync int
		if err := s.write.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 0 {
			t.Errorf("during the load: synchronous = %d (%v), want 0 (OFF)", sync, err)
		}
		during := certificateIndexes(t, s)
		for name := range bulkLateIndexes {
			if _, ok := during[name]; ok {
				t.Errorf("during the load: index %s is there", name)
			}
		}
		if _, ok := during["certificates_holder"]; !ok {
			t.Errorf("during the load: the index by holder is gone")
		}
		if n, err := s.ImportCertificates(ctx, certs(1, 500, func(i int) int { return 1000 + i })); err != nil || n != 500 {
			t.Fatalf("ImportCertificates = %d, %v", n, err)
		}
		// A statistics step keeps the bulk settings.
		if err := s.ReleaseStatsMarker(ctx, "none"); err != nil {
			t.Fatal(err)
		}
		// Statistics steps: two markers applied (one of them twice),
		// one released; two ops stored, one deleted.
		for _, m := range []string{"m1", "m2", "m1"} {
			if err := s.ApplyStatsDeltas(ctx, m, []stats.Delta{{Cell: cell, N: 5}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ReleaseStatsMarker(ctx, "m1"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.CreateStatsOps(ctx, []*stats.Op{{ID: "op1", Hash: "h1"}, {ID: "op2", Hash: "h2"}, {ID: "op1", Hash: "h1"}}); err != nil || !reflect.DeepEqual(got, []bool{true, true, false}) {
			t.Errorf("CreateStatsOps = %v, %v", got, err)
		}
		if err := s.DeleteStatsOps(ctx, []string{"op1"}); err != nil {
			t.Fatal(err)
		}
		if ms, err := s.StatsPendingMarkers(ctx); err != nil || !reflect.DeepEqual(ms, []string{"m2"}) {
			t.Errorf("during the load: pending markers %v (%v), want [m2]", ms, err)
		}
		if err := s.write.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 0 {
			t.Errorf("after a statistics step: synchronous = %d (%v), want 0 (OFF)", sync, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("BulkLoad: %v", err)
	}
	if after := certificateIndexes(t, s); !reflect.DeepEqual(after, before) {
		t.Errorf("indexes after the load:\n%v\nwant\n%v", after, before)
	}
	checkFullSync(t, s, "after the load")
	if ms, err := s.StatsPendingMarkers(ctx); err != nil || !reflect.DeepEqual(ms, []string{"m2"}) {
		t.Errorf("after the load: pending markers %v (%v), want [m2]", ms, err)
	}
	if ops, err := s.StatsOps(ctx); err != nil || len(ops) != 1 || ops[0].ID != "op2" || ops[0].Hash != "h2" {
		t.Errorf("after the load: ops %v (%v), want op2 alone", ops, err)
	}
	cells, err := s.AllStatsCells(ctx)
	if err != nil || len(cells) != 1 || cells[0].ID() != cell || cells[0].N != 10 {
		t.Errorf("after the load: counters %+v (%v), want %s at 10", cells, err, cell)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM certificates INDEXED BY certificates_status_index WHERE status_index > 0`).Scan(&n); err != nil || n != 500 {
		t.Errorf("certificates by status index after the load: %d (%v), want 500", n, err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the WAL holds %d bytes after the load, want it checkpointed and truncated", fi.Size())
	}

	// A store that holds certificates keeps its indexes during a load.
	err = s.BulkLoad(ctx, func() error {
		if during := certificateIndexes(t, s); !reflect.DeepEqual(during, before) {
			t.Errorf("a load into a store with certificates dropped indexes: %v", during)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A failed load: its error comes back, the settings are restored.
	s2, _ := openTemp(t)
	if err := s2.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s2.BulkLoad(ctx, func() error { return boom }); !errors.Is(err, boom) {
		t.Errorf("BulkLoad of a failing load = %v, want boom", err)
	}
	if after := certificateIndexes(t, s2); !reflect.DeepEqual(after, before) {
		t.Errorf("indexes after a failed load:\n%v\nwant\n%v", after, before)
	}
	checkFullSync(t, s2, "after a failed load")

	// Two certificates with one status-list index: caught when the index
	// is built.
	s3, _ := openTemp(t)
	if err := s3.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		t.Fatal(err)
	}
	err = s3.BulkLoad(ctx, func() error {
		_, err := s3.ImportCertificates(ctx, certs(1, 2, func(int) int { return 7 }))
		return err
	})
	if registry.ErrorCode(err) != registry.ECONFLICT {
		t.Errorf("BulkLoad with a shared status-list index = %v, want ECONFLICT", err)
	}
	checkFullSync(t, s3, "after a load that broke the unique index")
	want := map[string]string{}
	for name, def := range before {
		if name != "certificates_status_index" {
			want[name] = def
		}
	}
	if after := certificateIndexes(t, s3); !reflect.DeepEqual(after, want) {
		t.Errorf("indexes after a load that broke the unique index:\n%v\nwant\n%v", after, want)
	}
}
