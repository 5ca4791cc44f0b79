package registry

// # Counters that stay exact without transactions
//
// The statistics are read from counters (StatsCell), never from
// certificates. A counter changes only through an op, and an op is a
// change of one holder's counted state (StatsHolder: the certificates the
// counters include, as counted) from version v to v+1. The store gives
// single-document primitives only, each idempotent; the steps live here,
// once, for both stores (the SQLite store runs the same steps, one small
// transaction each, rather than a second code path).
//
// Issue and Revoke call statsBegin before they write the certificate and
// statsEnd after:
//
//  0. mark: a StatsMark {holder, time} is stored before the certificate
//     is written. A failure here fails the issuance (nothing is written
//     yet). It is what makes a crash between the certificate write and
//     step 1 recoverable: recovery syncs every holder with an old mark
//     that is not done.
//  1. op: read the holder's counted state (version v) and certificates;
//     if they differ, store op {_id: hash#v+1, new state, deltas}. The
//     unique _id is the reservation of the transition v -> v+1: of two
//     writers only one stores it; the other waits for it to finish and
//     starts again from v+1.
//  2. verify: read the state again; if it is no longer v, the op is stale
//     (another op did v -> v+1 and was deleted before ours was stored):
//     delete it and start again. While our op is stored nobody else can
//     move the holder, so the check is final.
//  3. apply: each delta goes to its counter with the op's marker in one
//     single-document update that matches only counters whose pending
//     list lacks the marker, so repeating it counts nothing twice.
//  4. holder: store the new state, conditional on version v.
//  5. release: delete the op, then remove the marker from the pending
//     lists. (In that order: while a marker is in a pending list, its op
//     is either stored or deleted for good, so a marker is never applied
//     again after it started to disappear.)
//  6. the mark is set done.
//
// Recovery (RecoverStats; run by `skillreg serve` every minute and by
// `skillreg stats check`) finishes every op older than the lease (an op
// younger than that may belong to a live writer that is still at it):
// if no counter holds the op's marker yet, it repeats step 2 (a stale op
// is deleted unapplied), then steps 3-5; if some counter holds it, the
// op was verified and applying had begun, so it goes on from step 3.
// Then it syncs the holder of every mark older than the lease that is not
// done, and removes pending markers whose op is gone (a crash between the
// two halves of step 5).
//
// A failure after the certificate is written never fails the issuance:
// the certificate is issued and the client is told so; the mark stays not
// done and recovery brings the counters up to date within a minute. Until
// then the figures lag by that certificate, and `stats check` reports the
// holder as in flight, not as drift.
//
// Bulk work (stats check --repair, and the counters of `skillreg demo`)
// uses the same ops, many at a time: one op per holder, all of a batch
// sharing one marker (StatsOp.Batch), so that a counter takes one marker
// per batch and not one per holder.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"
)

// StatsLease is how long an op or a mark belongs to the writer that made
// it; after that recovery finishes it. A writer that stalls for longer
// while between two steps could race with recovery; the steps are
// single-document writes of milliseconds.
var StatsLease = 30 * time.Second

// StatsOp is one change of one holder's counted state, from version From
// to From+1, with the counter deltas it makes. An op with no Hash is a
// repair of counters alone (stats check --repair).
type StatsOp struct {
	ID        string       `json:"id"`   // Hash#From+1, or repair-... for a counter repair
	Hash      string       `json:"hash"` // the holder
	From      int64        `json:"from"`
	Certs     []HolderCert `json:"certs"` // the new counted state
	Deltas    []StatsDelta `json:"deltas"`
	Batch     string       `json:"batch,omitempty"` // the shared marker of a bulk batch; "" for the op's own ID
	CreatedAt time.Time    `json:"created_at"`
}

// Marker is the marker the op's deltas carry in the counters.
func (op *StatsOp) Marker() string {
	if op.Batch != "" {
		return op.Batch
	}
	return op.ID
}

// StatsMark records that a holder's certificates are about to change and
// their counters need a sync; Done once they are counted.
type StatsMark struct {
	ID     string    `json:"id"`
	Hash   string    `json:"hash"`
	At     time.Time `json:"at"`
	Done   bool      `json:"done"`
	DoneAt time.Time `json:"done_at"`
}

// statsNow is the time of the counter upkeep: the wall clock, not the
// registry's clock, because leases and marks coordinate processes and
// must advance even where a test pins the registry's clock.
func statsNow() time.Time { return time.Now().UTC() }

func statsOpID(hash string, version int64) string {
	return hash + "#" + strconv.FormatInt(version, 10)
}

// statsFaults holds, for tests only, a function per Registry that is
// called before each step of the counter upkeep with the step's name; an
// error it returns is the step's failure, as if the process had died
// there.
var statsFaults sync.Map // *Registry -> func(step string) error

func (r *Registry) fault(step string) error {
	if f, ok := statsFaults.Load(r); ok {
		return f.(func(string) error)(step)
	}
	return nil
}

// statsBegin stores the mark of a change of the holder's certificates.
func (r *Registry) statsBegin(ctx context.Context, hash string) (*StatsMark, error) {
	if err := r.fault("mark"); err != nil {
		return nil, err
	}
	m := &StatsMark{ID: newID(), Hash: hash, At: statsNow()}
	if err := r.store.PutStatsMarks(ctx, m); err != nil {
		return nil, fmt.Errorf("stats: mark holder: %w", err)
	}
	return m, nil
}

// statsEnd brings the holder's counters up to date after the certificate
// write and sets the mark done. It never fails the caller: an error is
// logged and left to recovery.
func (r *Registry) statsEnd(ctx context.Context, m *StatsMark) {
	if err := r.syncHolder(ctx, m.Hash, true); err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "stats: counters left to recovery", slog.String("mark", m.ID), slog.String("error", err.Error()))
		return
	}
	if err := r.fault("done"); err != nil {
		return
	}
	m.Done, m.DoneAt = true, statsNow()
	if err := r.store.PutStatsMarks(ctx, m); err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "stats: mark not set done", slog.String("mark", m.ID), slog.String("error", err.Error()))
	}
}

// syncHolder makes the holder's counted state and the counters match its
// certificates, through ops, until they match.
//
// When another writer holds the holder's next transition, syncHolder
// waits for it if wait is set, and fails otherwise (recovery, which has
// just tried to finish that op, must not wait for itself).
func (r *Registry) syncHolder(ctx context.Context, hash string, wait bool) error {
	for attempt := 0; attempt < 50; attempt++ {
		sts, err := r.store.StatsHolders(ctx, []string{hash})
		if err != nil {
			return err
		}
		st := sts[0]
		certs, err := r.store.CertificatesByHolder(ctx, hash)
		if err != nil {
			return err
		}
		next := holderCertsOf(certs)
		if sameCerts(st.Certs, next) {
			return nil
		}
		op := &StatsOp{ID: statsOpID(hash, st.Version+1), Hash: hash, From: st.Version, Certs: next,
			Deltas: deltasBetween(st.Certs, next), CreatedAt: statsNow()}
		if err := r.fault("op"); err != nil {
			return err
		}
		created, err := r.store.CreateStatsOps(ctx, []*StatsOp{op})
		if err != nil {
			return err
		}
		if !created[0] {
			if !wait {
				return fmt.Errorf("stats: holder busy with op %s", op.ID)
			}
			if err := r.awaitOp(ctx, op.ID); err != nil {
				return err
			}
			continue
		}
		if err := r.fault("verify"); err != nil {
			return err
		}
		fresh, err := r.verifyOps(ctx, []*StatsOp{op})
		if err != nil {
			return err
		}
		if len(fresh) == 0 {
			continue
		}
		if err := r.finishOps(ctx, op.Marker(), fresh); err != nil {
			return err
		}
	}
	return fmt.Errorf("stats: holder counters did not settle after 50 attempts")
}

// awaitOp waits for another writer's op to go; if it outlives the lease,
// the writer is taken for dead and the op is finished here.
func (r *Registry) awaitOp(ctx context.Context, id string) error {
	deadline := time.Now().Add(StatsLease + time.Second)
	for {
		ops, err := r.store.StatsOps(ctx)
		if err != nil {
			return err
		}
		var found *StatsOp
		for _, op := range ops {
			if op.ID == id {
				found = op
			}
		}
		if found == nil {
			return nil
		}
		if time.Now().After(deadline) || statsNow().Sub(found.CreatedAt) > StatsLease {
			return r.recoverGroup(ctx, found.Marker(), opsOfMarker(ops, found.Marker()), false)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func opsOfMarker(ops []*StatsOp, marker string) []*StatsOp {
	var out []*StatsOp
	for _, op := range ops {
		if op.Marker() == marker {
			out = append(out, op)
		}
	}
	return out
}

// verifyOps is step 2: it deletes the ops whose holder is no longer at
// their From version and returns the others.
func (r *Registry) verifyOps(ctx context.Context, ops []*StatsOp) ([]*StatsOp, error) {
	var hashes []string
	for _, op := range ops {
		if op.Hash != "" {
			hashes = append(hashes, op.Hash)
		}
	}
	sts, err := r.store.StatsHolders(ctx, hashes)
	if err != nil {
		return nil, err
	}
	version := make(map[string]int64, len(sts))
	for i, st := range sts {
		version[hashes[i]] = st.Version
	}
	var fresh []*StatsOp
	var stale []string
	for _, op := range ops {
		if op.Hash == "" || version[op.Hash] == op.From {
			fresh = append(fresh, op)
		} else {
			stale = append(stale, op.ID)
		}
	}
	if len(stale) > 0 {
		if err := r.store.DeleteStatsOps(ctx, stale); err != nil {
			return nil, err
		}
	}
	return fresh, nil
}

// finishOps is steps 3 to 5 for verified ops sharing one marker.
func (r *Registry) finishOps(ctx context.Context, marker string, ops []*StatsOp) error {
	sum := map[string]int64{}
	var holders []*StatsHolder
	ids := make([]string, 0, len(ops))
	for _, op := range ops {
		for _, d := range op.Deltas {
			sum[d.Cell] += d.N
		}
		if op.Hash != "" {
			holders = append(holders, &StatsHolder{Hash: op.Hash, Version: op.From + 1, Certs: op.Certs})
		}
		ids = append(ids, op.ID)
	}
	if err := r.fault("apply"); err != nil {
		return err
	}
	if err := r.store.ApplyStatsDeltas(ctx, marker, deltasOf(sum)); err != nil {
		return err
	}
	if err := r.fault("holder"); err != nil {
		return err
	}
	if err := r.store.SetStatsHolders(ctx, holders); err != nil {
		return err
	}
	if err := r.fault("delete"); err != nil {
		return err
	}
	if err := r.store.DeleteStatsOps(ctx, ids); err != nil {
		return err
	}
	if err := r.fault("release"); err != nil {
		return err
	}
	return r.store.ReleaseStatsMarker(ctx, marker)
}

// recoverGroup finishes the ops of one marker that their writer left.
// applied says whether some counter holds the marker already.
func (r *Registry) recoverGroup(ctx context.Context, marker string, ops []*StatsOp, applied bool) error {
	if !applied {
		markers, err := r.store.StatsPendingMarkers(ctx)
		if err != nil {
			return err
		}
		for _, m := range markers {
			applied = applied || m == marker
		}
	}
	if !applied {
		var err error
		if ops, err = r.verifyOps(ctx, ops); err != nil {
			return err
		}
	}
	if len(ops) == 0 {
		return nil
	}
	return r.finishOps(ctx, marker, ops)
}

// RecoverStats finishes the counter upkeep that writers left unfinished
// for longer than olderThan: ops, holders with a mark not done, and
// pending markers whose op is gone. It returns how many ops and marks it
// finished. Safe to run while the registry serves, from any number of
// processes, with olderThan at least StatsLease; tests pass 0 after a
// simulated crash.
func (r *Registry) RecoverStats(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := statsNow().Add(-olderThan)
	ops, err := r.store.StatsOps(ctx)
	if err != nil {
		return 0, err
	}
	markers, err := r.store.StatsPendingMarkers(ctx)
	if err != nil {
		return 0, err
	}
	pending := map[string]bool{}
	for _, m := range markers {
		pending[m] = true
	}
	groups := map[string][]*StatsOp{}
	young := map[string]bool{}
	for _, op := range ops {
		groups[op.Marker()] = append(groups[op.Marker()], op)
		if op.CreatedAt.After(cutoff) {
			young[op.Marker()] = true
		}
	}
	names := make([]string, 0, len(groups))
	for m := range groups {
		names = append(names, m)
	}
	sort.Strings(names)
	n := 0
	var errs []error
	for _, m := range names {
		if young[m] {
			continue
		}
		if err := r.recoverGroup(ctx, m, groups[m], pending[m]); err != nil {
			errs = append(errs, fmt.Errorf("stats: recover op %s: %w", m, err))
			continue
		}
		n += len(groups[m])
	}
	// Markers whose op is gone: the second half of step 5 did not run.
	for _, m := range markers {
		if _, live := groups[m]; !live {
			if err := r.store.ReleaseStatsMarker(ctx, m); err != nil {
				errs = append(errs, err)
			}
		}
	}
	marks, err := r.store.StatsMarks(ctx, statsNow().Add(time.Hour))
	if err != nil {
		return n, errors.Join(append(errs, err)...)
	}
	for _, m := range marks {
		if m.Done || m.At.After(cutoff) {
			continue
		}
		if err := r.syncHolder(ctx, m.Hash, false); err != nil {
			errs = append(errs, fmt.Errorf("stats: recover mark %s: %w", m.ID, err))
			continue
		}
		m.Done, m.DoneAt = true, statsNow()
		if err := r.store.PutStatsMarks(ctx, m); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if err := r.store.DeleteStatsMarks(ctx, statsNow().Add(-time.Hour)); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// RunStatsRecovery calls RecoverStats with StatsLease every interval until
// ctx ends, logging what it did. `skillreg serve` runs it.
func (r *Registry) RunStatsRecovery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := r.RecoverStats(ctx, StatsLease)
		if err != nil && ctx.Err() == nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "stats: recovery", slog.String("error", err.Error()))
		}
		if n > 0 {
			r.log.LogAttrs(ctx, slog.LevelInfo, "stats: recovered unfinished counter updates", slog.Int("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
