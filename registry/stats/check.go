package stats

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
	// Grace is how long an unfinished counter update may still belong to
	// a live writer: older ones are finished first, younger ones waited
	// for (up to Grace). 0 means Lease. A negative value takes every
	// unfinished update as abandoned and finishes it at once, without
	// waiting: for a store that no server is writing to.
	Grace time.Duration
}

// CellDiff is a counter that differs from what the records say.
type CellDiff struct {
	Cell    Cell  // N is the stored value
	Records int64 // what the certificates give
}

// CheckResult is what CheckStats found.
type CheckResult struct {
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
func (c *CheckResult) Drift() bool { return c.HolderDiffs > 0 || len(c.CellDiffs) > 0 }

// CheckStats recomputes every counter and every holder's counted state
// from the certificates and compares. It is safe while the registry
// serves:
//
//   - it first finishes ops and marks left for longer than Lease
//     (opts.Grace), and waits (up to as long) for younger ones to go;
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
func (k *Keeper) Check(ctx context.Context, opts CheckOptions) (*CheckResult, error) {
	if opts.Batch <= 0 {
		opts.Batch = 5000
	}
	if opts.Passes <= 0 {
		opts.Passes = 3
	}
	grace := opts.Grace
	switch {
	case grace == 0:
		grace = Lease
	case grace < 0:
		grace = 0
	}
	var res *CheckResult
	for pass := 0; pass < opts.Passes; pass++ {
		rec, err := k.Recover(ctx, grace)
		if err != nil {
			return nil, err
		}
		if err := k.awaitQuiet(ctx, grace); err != nil {
			return nil, err
		}
		res, err = k.checkPass(ctx, opts)
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
// most wait.
func (k *Keeper) awaitQuiet(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		ops, err := k.store.StatsOps(ctx)
		if err != nil {
			return err
		}
		marks, err := k.store.StatsMarks(ctx, now().Add(time.Hour))
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

// holderWalk merges the certificates, grouped by holder, and the holder
// states, both in hash order. It is the one place that groups the
// certificate scan by holder.
type holderWalk struct {
	k      *Keeper
	batch  int
	certs  []ScannedCert // whole holders, in hash order, not yet returned
	states []*Holder
	cAfter string
	sAfter string
	cDone  bool
	sDone  bool
}

// fill reads the next holders' certificates when none are buffered. The
// scan may cut its last holder off at the limit: that holder is left to
// the next scan, or, when it is the only one (it has more certificates
// than the limit), read whole.
func (w *holderWalk) fill(ctx context.Context) error {
	if len(w.certs) > 0 || w.cDone {
		return nil
	}
	list, err := w.k.certs.ScanCerts(ctx, w.cAfter, w.batch)
	if err != nil {
		return err
	}
	if len(list) < w.batch {
		w.cDone = true
		w.certs = list
	} else {
		last := list[len(list)-1].Hash
		i := len(list)
		for i > 0 && list[i-1].Hash == last {
			i--
		}
		if i > 0 {
			w.certs = list[:i]
		} else {
			whole, err := w.k.certs.HolderCerts(ctx, []string{last})
			if err != nil {
				return err
			}
			for _, c := range whole[last] {
				w.certs = append(w.certs, ScannedCert{Hash: last, HolderCert: c})
			}
		}
	}
	if len(w.certs) > 0 {
		w.cAfter = w.certs[len(w.certs)-1].Hash
	}
	return nil
}

// next returns the next holder's counted certificates (sorted by number)
// and counted state; ok is false at the end.
func (w *holderWalk) next(ctx context.Context) (hash string, certs []HolderCert, st *Holder, ok bool, err error) {
	if err := w.fill(ctx); err != nil {
		return "", nil, nil, false, err
	}
	if len(w.states) == 0 && !w.sDone {
		if w.states, err = w.k.store.StatsHoldersAfter(ctx, w.sAfter, w.batch); err != nil {
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
	case len(w.states) == 0 || (len(w.certs) > 0 && w.certs[0].Hash < w.states[0].Hash):
		hash = w.certs[0].Hash
		st = &Holder{Hash: hash}
	case len(w.certs) == 0 || w.states[0].Hash < w.certs[0].Hash:
		hash, st = w.states[0].Hash, w.states[0]
		w.states = w.states[1:]
		return hash, nil, st, true, nil
	default:
		hash, st = w.certs[0].Hash, w.states[0]
		w.states = w.states[1:]
	}
	i := 0
	for i < len(w.certs) && w.certs[i].Hash == hash {
		certs = append(certs, w.certs[i].HolderCert)
		i++
	}
	w.certs = w.certs[i:]
	SortCerts(certs)
	return hash, certs, st, true, nil
}

// checkPass walks every holder once.
func (k *Keeper) checkPass(ctx context.Context, opts CheckOptions) (*CheckResult, error) {
	// Marks of the last minute before and after the walk: any mark made,
	// finished or pending in between means a write ran during the walk.
	since := now().Add(-time.Minute)
	marksBefore, err := k.store.StatsMarks(ctx, since)
	if err != nil {
		return nil, err
	}
	res := &CheckResult{}
	walk, err := k.walkHolders(ctx, opts, res)
	if err != nil {
		return nil, err
	}
	cells, err := k.store.AllStatsCells(ctx)
	if err != nil {
		return nil, err
	}
	unsure, err := k.cellsWrittenDuringWalk(ctx, since, marksBefore, walk.mismatched, res)
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
	if err := k.repairCells(ctx, walk.truth, stored, unsure); err != nil {
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
func (k *Keeper) walkHolders(ctx context.Context, opts CheckOptions, res *CheckResult) (*checkWalk, error) {
	walk := &checkWalk{truth: map[string]int64{}, repaired: map[string]int64{}, mismatched: map[string]bool{}}
	var batch []*Op
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		applied, err := k.runBatch(ctx, batch)
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
	w := &holderWalk{k: k, batch: opts.Batch}
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
		want := certs
		contributions(want, 1, walk.truth)
		if !sameCerts(st.Certs, want) {
			res.HolderDiffs++
			if len(walk.mismatched) < 10000 {
				walk.mismatched[hash] = true
			}
			if opts.Repair {
				batch = append(batch, &Op{ID: opID(hash, st.Version+1), Hash: hash, From: st.Version, Certs: want,
					Deltas: DeltasBetween(st.Certs, want), Batch: marker, CreatedAt: now()})
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
func (k *Keeper) cellsWrittenDuringWalk(ctx context.Context, since time.Time, marksBefore []*Mark, mismatched map[string]bool, res *CheckResult) (map[string]bool, error) {
	marksAfter, err := k.store.StatsMarks(ctx, since)
	if err != nil {
		return nil, err
	}
	ops, err := k.store.StatsOps(ctx)
	if err != nil {
		return nil, err
	}
	touched := touchedHolders(marksBefore, marksAfter, ops)
	hashes := make([]string, 0, len(touched))
	for hash := range touched {
		hashes = append(hashes, hash)
	}
	sort.Strings(hashes)
	certs, err := k.certs.HolderCerts(ctx, hashes)
	if err != nil {
		return nil, err
	}
	unsure := map[string]bool{}
	for _, hash := range hashes {
		if mismatched[hash] {
			res.HolderDiffs--
		}
		for _, hc := range certs[hash] {
			for _, kind := range []string{CellWorkers, CellIssued, CellRevoked} {
				rollups(kind, hc.Province, hc.Category, hc.Channel, hc.Level, yearOf(hc.IssuedOn), func(id string) { unsure[id] = true })
			}
		}
	}
	return unsure, nil
}

// repairCells sets every counter that differs from the truth, except the
// unsure ones, through one repair op.
func (k *Keeper) repairCells(ctx context.Context, truth, stored map[string]int64, unsure map[string]bool) error {
	m := map[string]int64{}
	for _, d := range cellDiffs(truth, stored) {
		if !unsure[d.Cell.ID()] {
			m[d.Cell.ID()] = d.Records - d.Cell.N
		}
	}
	if len(m) == 0 {
		return nil
	}
	op := &Op{ID: "repair-" + newID(), Deltas: deltasOf(m), CreatedAt: now()}
	if _, err := k.store.CreateStatsOps(ctx, []*Op{op}); err != nil {
		return err
	}
	return k.finishOps(ctx, op.ID, []*Op{op})
}

// touchedHolders returns the holders that a write may have touched
// between two listings of marks: marks new, newly done or not done in the
// second listing, and the holders of ops still stored.
func touchedHolders(before, after []*Mark, ops []*Op) map[string]bool {
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
func (k *Keeper) runBatch(ctx context.Context, ops []*Op) ([]*Op, error) {
	created, err := k.store.CreateStatsOps(ctx, ops)
	if err != nil {
		return nil, err
	}
	var mine []*Op
	for i, op := range ops {
		if created[i] {
			mine = append(mine, op)
		}
	}
	if len(mine) == 0 {
		return nil, nil
	}
	fresh, err := k.verifyOps(ctx, mine)
	if err != nil {
		return nil, err
	}
	if len(fresh) == 0 {
		return nil, nil
	}
	if err := k.finishOps(ctx, fresh[0].Marker(), fresh); err != nil {
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
			c = Cell{Kind: id}
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
