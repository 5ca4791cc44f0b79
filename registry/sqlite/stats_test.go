package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry/stats"
)

// TestStatsCellsUseRollupIndexes: each read of the statistics searches one
// index range on every column it fixes, so that its cost is the rollup's
// size, never the counter table's.
func TestStatsCellsUseRollupIndexes(t *testing.T) {
	t.Parallel()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tests := []struct {
		name string
		f    stats.CellFilter
		want string
	}{
		{"one rollup, all years", stats.CellFilter{Province: "44", Category: "6", Channel: "social"},
			"stats_cells_by_year (category=? AND channel=? AND year=? AND province=?)"},
		{"every province", stats.CellFilter{Category: "*", Channel: "*", PerProvince: true},
			"stats_cells_by_year (category=? AND channel=? AND year=?)"},
		{"the years of one rollup", stats.CellFilter{Province: "*", Category: "*", Channel: "*", Years: true},
			"stats_cells_rollup (category=? AND channel=? AND province=? AND year>?)"},
	}
	for _, tt := range tests {
		q, args := statsCellsQuery(tt.f)
		if joined := queryPlan(t, st, q, args...); !strings.Contains(joined, tt.want) {
			t.Errorf("%s: plan %q, want %q", tt.name, joined, tt.want)
		}
	}
}
