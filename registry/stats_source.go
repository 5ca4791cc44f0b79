package registry

import "context"

// statsCells returns the non-zero counters of one rollup.
func (r *Registry) statsCells(ctx context.Context, f StatsCellFilter) ([]StatsCell, error) {
	return r.store.StatsCells(ctx, f)
}
