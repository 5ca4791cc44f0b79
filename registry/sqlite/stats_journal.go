package sqlite

import (
	"context"
	"database/sql"
	"sort"
	"sync"

	"github.com/skillreg/skillreg/registry/stats"
)

// bulkJournal holds, during a BulkLoad, what the statistics steps would
// write to stats_ops, stats_pending and stats_cells: the ops not yet
// deleted, the markers not yet released and the sum of all deltas
// applied. The load's steps create an op and delete it a moment later,
// and add deltas to the same counters batch after batch; in memory that
// costs nothing, while in the tables it is most of the load's writes.
// flush writes what is left in one transaction at the end of the load.
// The load is not crash-safe anyway (BulkLoad), and nobody reads the
// counters while it runs, so nothing sees the difference: the counters,
// ops and markers are exactly what the steps would have left.
type bulkJournal struct {
	mu      sync.Mutex
	ops     map[string]*stats.Op
	pending map[string]bool
	sum     map[string]int64
}

func newBulkJournal() *bulkJournal {
	return &bulkJournal{ops: map[string]*stats.Op{}, pending: map[string]bool{}, sum: map[string]int64{}}
}

// create is CreateStatsOps.
func (j *bulkJournal) create(ops []*stats.Op) []bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	created := make([]bool, len(ops))
	for i, op := range ops {
		if _, ok := j.ops[op.ID]; !ok {
			c := *op
			j.ops[op.ID] = &c
			created[i] = true
		}
	}
	return created
}

// list appends the journal's ops to stored and sorts them as StatsOps
// does.
func (j *bulkJournal) list(stored []*stats.Op) []*stats.Op {
	j.mu.Lock()
	for _, op := range j.ops {
		c := *op
		stored = append(stored, &c)
	}
	j.mu.Unlock()
	sort.SliceStable(stored, func(a, b int) bool {
		ta, tb := formatTime(stored[a].CreatedAt), formatTime(stored[b].CreatedAt)
		if ta != tb {
			return ta < tb
		}
		return stored[a].ID < stored[b].ID
	})
	return stored
}

// remove deletes the ops it holds and returns the IDs it does not hold.
func (j *bulkJournal) remove(ids []string) []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var rest []string
	for _, id := range ids {
		if _, ok := j.ops[id]; ok {
			delete(j.ops, id)
		} else {
			rest = append(rest, id)
		}
	}
	return rest
}

// apply is ApplyStatsDeltas.
func (j *bulkJournal) apply(marker string, deltas []stats.Delta) error {
	for _, d := range deltas {
		if _, err := stats.ParseCellID(d.Cell); err != nil {
			return internal(err, "apply counter deltas")
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.pending[marker] {
		return nil
	}
	j.pending[marker] = true
	for _, d := range deltas {
		j.sum[d.Cell] += d.N
	}
	return nil
}

// markers appends the journal's pending markers to stored, sorted.
func (j *bulkJournal) markers(stored []string) []string {
	j.mu.Lock()
	for m := range j.pending {
		stored = append(stored, m)
	}
	j.mu.Unlock()
	sort.Strings(stored)
	return stored
}

// release removes marker and reports whether the journal held it.
func (j *bulkJournal) release(marker string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	held := j.pending[marker]
	delete(j.pending, marker)
	return held
}

// flush writes the journal to the tables in one transaction: the summed
// deltas, the pending markers and the ops left.
func (s *Store) flushJournal(ctx context.Context, j *bulkJournal) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return s.inTx(ctx, "bulk load: write the counters", func(tx *sql.Tx) error {
		add, err := tx.PrepareContext(ctx, addToCell)
		if err != nil {
			return err
		}
		defer add.Close()
		cells := make([]string, 0, len(j.sum))
		for id := range j.sum {
			cells = append(cells, id)
		}
		sort.Strings(cells)
		for _, id := range cells {
			c, err := stats.ParseCellID(id)
			if err != nil {
				return err
			}
			if _, err := add.ExecContext(ctx, id, c.Kind, c.Province, c.Category, c.Channel, int(c.Level), c.Year, j.sum[id]); err != nil {
				return err
			}
		}
		for m := range j.pending {
			if _, err := tx.ExecContext(ctx, `INSERT INTO stats_pending (marker) VALUES (?) ON CONFLICT DO NOTHING`, m); err != nil {
				return err
			}
		}
		for _, op := range j.ops {
			body, err := encodeOp(op)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO stats_ops (id, created_at, body) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				op.ID, formatTime(op.CreatedAt), string(body)); err != nil {
				return err
			}
		}
		return nil
	})
}
