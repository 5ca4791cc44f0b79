package registry

import "context"

// statsCells returns the cells of one rollup. Transitional: it counts by
// walking every certificate; the next commit reads stored counters.
func (r *Registry) statsCells(ctx context.Context, f StatsCellFilter) ([]StatsCell, error) {
	byHolder := map[string][]*Certificate{}
	for page := 1; ; page++ {
		list, _, err := r.store.Certificates(ctx, CertificateFilter{Page: page, PerPage: 100})
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			byHolder[c.HolderIDHash] = append(byHolder[c.HolderIDHash], c)
		}
		if len(list) < 100 {
			break
		}
	}
	m := map[string]int64{}
	for _, certs := range byHolder {
		contributions(holderCertsOf(certs), 1, m)
	}
	all, err := cellsOf(m)
	if err != nil {
		return nil, err
	}
	var out []StatsCell
	for _, c := range all {
		if f.matches(c) {
			out = append(out, c)
		}
	}
	return out, nil
}
