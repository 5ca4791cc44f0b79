package registry

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// CheckOptions tune CheckStats.
type CheckOptions struct {
	// Repair writes what the check finds wrong: holder states through
	// ops, then counter differences as one delta op.
	Repair bool
	// Progress, if set, is called after every batch with the number of
	// holders and certificates walked so far.
	Progress func(holders, certificates int64)
	// Batch is the number of certificates read at a time (default 5000).
	Batch int
	// Passes is how many times to walk before giving up on a quiet pass
	// (default 3).
	Passes int
}

// CellDiff is a counter that differs from what the records say.
type CellDiff struct {
	Cell    StatsCell // N is the stored value
	Records int64     // what the certificates give
}

// StatsCheck is what CheckStats found.
type StatsCheck struct {
	Holders      int64      // holders walked
	Certificates int64      // certificates walked
	Recovered    int        // unfinished ops and marks finished first
	HolderDiffs  int64      // holders whose counted state differed from their certificates
	CellDiffs    []CellDiff // counters that differed, by cell ID, before any repair
	Repaired     bool       // Repair was asked and the differences are written
	// Unconfirmed counts the differing counters that a write during the
	// last pass may have moved; they are neither reported in CellDiffs
	// nor repaired. Busy says there were some.
	Unconfirmed int
	Busy        bool
}

// Drift reports whether the check found any difference.
func (c *StatsCheck) Drift() bool { return c.HolderDiffs > 0 || len(c.CellDiffs) > 0 }

// CheckStats recomputes every counter and every holder's counted state
// from the certificates and compares. It is safe while the registry
// serves:
//
//   - it first finishes ops and marks left for longer than StatsLease,
//     and waits (up to StatsLease) for younger ones to go;
//   - a write that ran during a pass (a mark made, done or pending since
//     it started, or an op stored at its end) makes the counters of its
//     holder's certificates unconfirmed for that pass: their differences
//     are neither reported nor repaired, every other counter is; a pass
//     with unconfirmed differences is walked again, up to Passes times,
//     and the last one reports Busy;
//   - repair never overwrites a counter: holder states are repaired
//     through ops (each reserves the holder's next version, so a
//     concurrent issuance either waits for it or makes it stale), and the
//     counters' remaining difference is added as a delta, in a quiet
//     pass only, so that increments made meanwhile are kept.
//
// The bulk build of `skillreg demo` is this repair over a store whose
// counters are empty.
func (r *Registry) CheckStats(ctx context.Context, opts CheckOptions) (*StatsCheck, error) {
	if opts.Batch <= 0 {
		opts.Batch = 5000
	}
	if opts.Passes <= 0 {
		opts.Passes = 3
	}
	var res *StatsCheck
	for pass := 0; pass < opts.Passes; pass++ {
		rec, err := r.RecoverStats(ctx, StatsLease)
		if err != nil {
			return nil, err
		}
		if err := r.awaitQuiet(ctx); err != nil {
			return nil, err
		}
		res, err = r.checkPass(ctx, opts)
		if err != nil {
			return nil, err
		}
		res.Recovered = rec
		if !res.Busy {
			return res, nil
		}
	}
	return res, nil
}

// awaitQuiet waits until no op is stored and every mark is done, for at
// most StatsLease.
func (r *Registry) awaitQuiet(ctx context.Context) error {
	deadline := time.Now().Add(StatsLease)
	for {
		ops, err := r.store.StatsOps(ctx)
		if err != nil {
			return err
		}
		marks, err := r.store.StatsMarks(ctx, statsNow().Add(time.Hour))
		if err != nil {
			return err
		}
		if (len(ops) == 0 && len(marks) == 0) || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// holderWalk merges the certificates by holder and the holder states,
// both in hash order.
type holderWalk struct {
	r      *Registry
	batch  int
	certs  []*Certificate
	states []*StatsHolder
	cAfter string
	sAfter string
	cDone  bool
	sDone  bool
}

// next returns the next holder's certificates and counted state; ok is
// false at the end.
func (w *holderWalk) next(ctx context.Context) (hash string, certs []*Certificate, st *StatsHolder, ok bool, err error) {
	if len(w.certs) == 0 && !w.cDone {
		if w.certs, err = w.r.store.HolderCertificatesAfter(ctx, w.cAfter, w.batch); err != nil {
			return "", nil, nil, false, err
		}
		if len(w.certs) == 0 {
			w.cDone = true
		} else {
			w.cAfter = w.certs[len(w.certs)-1].HolderIDHash
		}
	}
	if len(w.states) == 0 && !w.sDone {
		if w.states, err = w.r.store.StatsHoldersAfter(ctx, w.sAfter, w.batch); err != nil {
			return "", nil, nil, false, err
		}
		if len(w.states) == 0 {
			w.sDone = true
		} else {
			w.sAfter = w.states[len(w.states)-1].Hash
		}
	}
	switch {
	case len(w.certs) == 0 && len(w.states) == 0:
		return "", nil, nil, false, nil
	case len(w.states) == 0 || (len(w.certs) > 0 && w.certs[0].HolderIDHash < w.states[0].Hash):
		hash = w.certs[0].HolderIDHash
		st = &StatsHolder{Hash: hash}
	case len(w.certs) == 0 || w.states[0].Hash < w.certs[0].HolderIDHash:
		hash, st = w.states[0].Hash, w.states[0]
		w.states = w.states[1:]
		return hash, nil, st, true, nil
	default:
		hash, st = w.certs[0].HolderIDHash, w.states[0]
		w.states = w.states[1:]
	}
	i := 0
	for i < len(w.certs) && w.certs[i].HolderIDHash == hash {
		i++
	}
	certs, w.certs = w.certs[:i], w.certs[i:]
	return hash, certs, st, true, nil
}

// checkPass walks every holder once.
func (r *Registry) checkPass(ctx context.Context, opts CheckOptions) (*StatsCheck, error) {
	// Marks of the last minute before and after the walk: any mark made,
	// finished or pending in between means a write ran during the walk.
	since := statsNow().Add(-time.Minute)
	marksBefore, err := r.store.StatsMarks(ctx, since)
	if err != nil {
		return nil, err
	}
	res := &StatsCheck{}
	walk, err := r.walkHolders(ctx, opts, res)
	if err != nil {
		return nil, err
	}
	cells, err := r.store.AllStatsCells(ctx)
	if err != nil {
		return nil, err
	}
	unsure, err := r.cellsWrittenDuringWalk(ctx, since, marksBefore, walk.mismatched, res)
	if err != nil {
		return nil, err
	}

	stored := map[string]int64{}
	for _, c := range cells {
		stored[c.ID()] = c.N
	}
	// What the counters held before this pass repaired holders.
	before := map[string]int64{}
	for id, n := range stored {
		before[id] = n
	}
	for id, n := range walk.repaired {
		before[id] -= n
	}
	for _, d := range cellDiffs(walk.truth, before) {
		if unsure[d.Cell.ID()] {
			res.Unconfirmed++
		} else {
			res.CellDiffs = append(res.CellDiffs, d)
		}
	}
	res.Busy = res.Unconfirmed > 0
	if !opts.Repair {
		return res, nil
	}
	if err := r.repairCells(ctx, walk.truth, stored, unsure); err != nil {
		return nil, err
	}
	res.Repaired = res.Drift()
	return res, nil
}

// checkWalk is what a check pass learns from walking the holders.
type checkWalk struct {
	truth      map[string]int64 // cell -> count from the certificates
	repaired   map[string]int64 // deltas applied by this pass's holder repairs
	mismatched map[string]bool  // the first 10,000 holders that differed
}

// walkHolders compares every holder's counted state with their
// certificates, counting holders, certificates and differences into res,
// and with opts.Repair stores the corrected states in batches of ops.
func (r *Registry) walkHolders(ctx context.Context, opts CheckOptions, res *StatsCheck) (*checkWalk, error) {
	walk := &checkWalk{truth: map[string]int64{}, repaired: map[string]int64{}, mismatched: map[string]bool{}}
	var batch []*StatsOp
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		applied, err := r.runBatch(ctx, batch)
		if err != nil {
			return err
		}
		for _, op := range applied {
			for _, d := range op.Deltas {
				walk.repaired[d.Cell] += d.N
			}
		}
		batch = batch[:0]
		return nil
	}
	w := &holderWalk{r: r, batch: opts.Batch}
	marker := "batch-" + newID()
	for {
		hash, certs, st, ok, err := w.next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		res.Holders++
		res.Certificates += int64(len(certs))
		want := holderCertsOf(certs)
		contributions(want, 1, walk.truth)
		if !sameCerts(st.Certs, want) {
			res.HolderDiffs++
			if len(walk.mismatched) < 10000 {
				walk.mismatched[hash] = true
			}
			if opts.Repair {
				batch = append(batch, &StatsOp{ID: statsOpID(hash, st.Version+1), Hash: hash, From: st.Version, Certs: want,
					Deltas: deltasBetween(st.Certs, want), Batch: marker, CreatedAt: statsNow()})
				if len(batch) >= 20000 {
					if err := flush(); err != nil {
						return nil, err
					}
					marker = "batch-" + newID()
				}
			}
		}
		if opts.Progress != nil && res.Holders%1000 == 0 {
			opts.Progress(res.Holders, res.Certificates)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		opts.Progress(res.Holders, res.Certificates)
	}
	return walk, nil
}

// cellsWrittenDuringWalk returns the counters that a write during the
// walk may have moved: every rollup of every certificate of the holders
// written meanwhile. Their differences are not confirmed in this pass;
// the others are. A holder written during the walk was seen mid-write,
// not drifted, so it is taken out of res.HolderDiffs.
func (r *Registry) cellsWrittenDuringWalk(ctx context.Context, since time.Time, marksBefore []*StatsMark, mismatched map[string]bool, res *StatsCheck) (map[string]bool, error) {
	marksAfter, err := r.store.StatsMarks(ctx, since)
	if err != nil {
		return nil, err
	}
	ops, err := r.store.StatsOps(ctx)
	if err != nil {
		return nil, err
	}
	unsure := map[string]bool{}
	for hash := range touchedHolders(marksBefore, marksAfter, ops) {
		if mismatched[hash] {
			res.HolderDiffs--
		}
		certs, err := r.store.CertificatesByHolder(ctx, hash)
		if err != nil {
			return nil, err
		}
		for _, hc := range holderCertsOf(certs) {
			for _, kind := range []string{CellWorkers, CellIssued, CellRevoked} {
				rollups(kind, hc.Province, hc.Category, hc.Channel, hc.Level, yearOf(hc.IssuedOn), func(id string) { unsure[id] = true })
			}
		}
	}
	return unsure, nil
}

// repairCells sets every counter that differs from the truth, except the
// unsure ones, through one repair op.
func (r *Registry) repairCells(ctx context.Context, truth, stored map[string]int64, unsure map[string]bool) error {
	m := map[string]int64{}
	for _, d := range cellDiffs(truth, stored) {
		if !unsure[d.Cell.ID()] {
			m[d.Cell.ID()] = d.Records - d.Cell.N
		}
	}
	if len(m) == 0 {
		return nil
	}
	op := &StatsOp{ID: "repair-" + newID(), Deltas: deltasOf(m), CreatedAt: statsNow()}
	if _, err := r.store.CreateStatsOps(ctx, []*StatsOp{op}); err != nil {
		return err
	}
	return r.finishOps(ctx, op.ID, []*StatsOp{op})
}

// touchedHolders returns the holders that a write may have touched
// between two listings of marks: marks new, newly done or not done in the
// second listing, and the holders of ops still stored.
func touchedHolders(before, after []*StatsMark, ops []*StatsOp) map[string]bool {
	done := map[string]bool{}
	for _, m := range before {
		done[m.ID] = m.Done
	}
	out := map[string]bool{}
	for _, m := range after {
		if d, ok := done[m.ID]; !m.Done || !ok || !d {
			out[m.Hash] = true
		}
	}
	for _, op := range ops {
		if op.Hash != "" {
			out[op.Hash] = true
		}
	}
	return out
}

// runBatch stores ops sharing one marker, drops those whose transition
// another writer holds or made, and finishes the rest. It returns the ops
// it applied.
func (r *Registry) runBatch(ctx context.Context, ops []*StatsOp) ([]*StatsOp, error) {
	created, err := r.store.CreateStatsOps(ctx, ops)
	if err != nil {
		return nil, err
	}
	var mine []*StatsOp
	for i, op := range ops {
		if created[i] {
			mine = append(mine, op)
		}
	}
	if len(mine) == 0 {
		return nil, nil
	}
	fresh, err := r.verifyOps(ctx, mine)
	if err != nil {
		return nil, err
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	if err := r.finishOps(ctx, fresh[0].Marker(), fresh); err != nil {
		return nil, err
	}
	return fresh, nil
}

// cellDiffs lists the counters where want and got differ, by cell ID.
func cellDiffs(want, got map[string]int64) []CellDiff {
	ids := map[string]bool{}
	for id := range want {
		ids[id] = true
	}
	for id := range got {
		ids[id] = true
	}
	var out []CellDiff
	for id := range ids {
		if want[id] == got[id] {
			continue
		}
		c, err := ParseCellID(id)
		if err != nil {
			c = StatsCell{Kind: id}
		}
		c.N = got[id]
		out = append(out, CellDiff{Cell: c, Records: want[id]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cell.ID() < out[j].Cell.ID() })
	return out
}

// String describes a difference for people, e.g.
// "workers 44/6/social level 3 2010: records 120, counter 119".
func (d CellDiff) String() string {
	kind := map[string]string{CellWorkers: "workers", CellIssued: "issued", CellRevoked: "revoked"}[d.Cell.Kind]
	if kind == "" {
		kind = d.Cell.Kind
	}
	return fmt.Sprintf("%s %s/%s/%s level %d %d: records %d, counter %d",
		kind, d.Cell.Province, d.Cell.Category, d.Cell.Channel, d.Cell.Level, d.Cell.Year, d.Records, d.Cell.N)
}
