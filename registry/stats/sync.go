package stats

// # Counters that stay exact without transactions
//
// The statistics are read from counters (Cell), never from
// certificates. A counter changes only through an op, and an op is a
// change of one holder's counted state (Holder: the certificates the
// counters include, as counted) from version v to v+1. The store gives
// single-document primitives only, each idempotent; the steps live here,
// once, for both stores (the SQLite store runs the same steps, one small
// transaction each, rather than a second code path).
//
// The domain calls Keeper.Begin before it writes a certificate and
// Keeper.End after (Keeper.BeginMany and Keeper.EndMany for a chunk):
//
//  0. mark: a Mark {holder, time} is stored before the certificate
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
// Recovery (Keeper.Recover; run by `skillreg serve` every minute and by
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
// sharing one marker (Op.Batch), so that a counter takes one marker
// per batch and not one per holder.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
)

// Lease is how long an op or a mark belongs to the writer that made
// it; after that recovery finishes it. A writer that stalls for longer
// while between two steps could race with recovery; the steps are
// single-document writes of milliseconds.
var Lease = 30 * time.Second

// Op is one change of one holder's counted state, from version From
// to From+1, with the counter deltas it makes. An op with no Hash is a
// repair of counters alone (stats check --repair).
type Op struct {
	ID        string // Hash#From+1, or repair-... for a counter repair
	Hash      string // the holder
	From      int64
	Certs     []HolderCert // the new counted state
	Deltas    []Delta
	Batch     string // the shared marker of a bulk batch; "" for the op's own ID
	CreatedAt time.Time
}

// Marker is the marker the op's deltas carry in the counters.
func (op *Op) Marker() string {
	if op.Batch != "" {
		return op.Batch
	}
	return op.ID
}

// Mark records that a holder's certificates are about to change and
// their counters need a sync; Done once they are counted.
type Mark struct {
	ID     string
	Hash   string
	At     time.Time
	Done   bool
	DoneAt time.Time
}

// now is the time of the counter upkeep: the wall clock, not the
// registry's clock, because leases and marks coordinate processes and
// must advance even where a test pins the registry's clock.
func now() time.Time { return time.Now().UTC() }

func opID(hash string, version int64) string {
	return hash + "#" + strconv.FormatInt(version, 10)
}

// Keeper keeps the counters up to date, recovers what writers left
// unfinished, checks them against the certificates and answers the
// figures. The domain makes one with NewKeeper and calls it around every
// certificate write.
type Keeper struct {
	store  Store
	certs  Certificates
	log    *slog.Logger
	faults atomic.Pointer[func(step string) error] // tests only: SetFault
}

// NewKeeper returns a Keeper over store, reading certificates through
// certs and logging to log (slog.Default if nil).
func NewKeeper(store Store, certs Certificates, log *slog.Logger) *Keeper {
	if log == nil {
		log = slog.Default()
	}
	return &Keeper{store: store, certs: certs, log: log}
}

// fault is the failure SetFault injects before a step, nil without one.
func (k *Keeper) fault(step string) error {
	if f := k.faults.Load(); f != nil {
		return (*f)(step)
	}
	return nil
}

// SetFault makes the keeper call f before each step of the counter
// upkeep with the step's name; an error from f is the step's failure, as
// if the process had died there. nil removes it. For tests only.
func (k *Keeper) SetFault(f func(step string) error) {
	if f == nil {
		k.faults.Store(nil)
		return
	}
	k.faults.Store(&f)
}

// NewMark returns the mark of a change of the holder's certificates, not
// stored yet: BeginMany stores a chunk's marks in one write.
func NewMark(hash string) *Mark { return &Mark{ID: newID(), Hash: hash, At: now()} }

// BeginMany stores the marks of a chunk's holders in one write, before
// any of their certificates is written. An error must fail the writes.
func (k *Keeper) BeginMany(ctx context.Context, marks []*Mark) error {
	if err := k.fault("mark"); err != nil {
		return err
	}
	if err := k.store.PutStatsMarks(ctx, marks...); err != nil {
		return fmt.Errorf("stats: mark holders: %w", err)
	}
	return nil
}

// newID returns a random identifier for marks and batch markers.
func newID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Begin stores the mark of a change of the holder's certificates; the
// domain calls it before it writes the certificate, and an error must
// fail that write.
func (k *Keeper) Begin(ctx context.Context, hash string) (*Mark, error) {
	if err := k.fault("mark"); err != nil {
		return nil, err
	}
	m := NewMark(hash)
	if err := k.store.PutStatsMarks(ctx, m); err != nil {
		return nil, fmt.Errorf("stats: mark holder: %w", err)
	}
	return m, nil
}

// End brings the holder's counters up to date after the certificate
// write and sets the mark done. It never fails the caller: an error is
// logged and left to recovery.
func (k *Keeper) End(ctx context.Context, m *Mark) {
	if err := k.syncHolder(ctx, m.Hash, true); err != nil {
		k.log.LogAttrs(ctx, slog.LevelWarn, "stats: counters left to recovery", slog.String("mark", m.ID), slog.String("error", err.Error()))
		return
	}
	if err := k.fault("done"); err != nil {
		return
	}
	m.Done, m.DoneAt = true, now()
	if err := k.store.PutStatsMarks(ctx, m); err != nil {
		k.log.LogAttrs(ctx, slog.LevelWarn, "stats: mark not set done", slog.String("mark", m.ID), slog.String("error", err.Error()))
	}
}

// syncHolder makes the holder's counted state and the counters match its
// certificates, through ops, until they match.
//
// When another writer holds the holder's next transition, syncHolder
// waits for it if wait is set, and fails otherwise (recovery, which has
// just tried to finish that op, must not wait for itself).
func (k *Keeper) syncHolder(ctx context.Context, hash string, wait bool) error {
	for attempt := 0; attempt < 50; attempt++ {
		sts, err := k.store.StatsHolders(ctx, []string{hash})
		if err != nil {
			return err
		}
		st := sts[0]
		certs, err := k.certs.HolderCerts(ctx, []string{hash})
		if err != nil {
			return err
		}
		next := certs[hash]
		if sameCerts(st.Certs, next) {
			return nil
		}
		op := &Op{ID: opID(hash, st.Version+1), Hash: hash, From: st.Version, Certs: next,
			Deltas: DeltasBetween(st.Certs, next), CreatedAt: now()}
		if err := k.fault("op"); err != nil {
			return err
		}
		created, err := k.store.CreateStatsOps(ctx, []*Op{op})
		if err != nil {
			return err
		}
		if !created[0] {
			if !wait {
				return fmt.Errorf("stats: holder busy with op %s", op.ID)
			}
			if err := k.awaitOp(ctx, op.ID); err != nil {
				return err
			}
			continue
		}
		if err := k.fault("verify"); err != nil {
			return err
		}
		fresh, err := k.verifyOps(ctx, []*Op{op})
		if err != nil {
			return err
		}
		if len(fresh) == 0 {
			continue
		}
		if err := k.finishOps(ctx, op.Marker(), fresh); err != nil {
			return err
		}
	}
	return fmt.Errorf("stats: holder counters did not settle after 50 attempts")
}

// awaitOp waits for another writer's op to go; if it outlives the lease,
// the writer is taken for dead and the op is finished here.
func (k *Keeper) awaitOp(ctx context.Context, id string) error {
	deadline := time.Now().Add(Lease + time.Second)
	for {
		ops, err := k.store.StatsOps(ctx)
		if err != nil {
			return err
		}
		var found *Op
		for _, op := range ops {
			if op.ID == id {
				found = op
			}
		}
		if found == nil {
			return nil
		}
		if time.Now().After(deadline) || now().Sub(found.CreatedAt) > Lease {
			return k.recoverGroup(ctx, found.Marker(), opsOfMarker(ops, found.Marker()), false)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func opsOfMarker(ops []*Op, marker string) []*Op {
	var out []*Op
	for _, op := range ops {
		if op.Marker() == marker {
			out = append(out, op)
		}
	}
	return out
}

// verifyOps is step 2: it deletes the ops whose holder is no longer at
// their From version and returns the others.
func (k *Keeper) verifyOps(ctx context.Context, ops []*Op) ([]*Op, error) {
	var hashes []string
	for _, op := range ops {
		if op.Hash != "" {
			hashes = append(hashes, op.Hash)
		}
	}
	sts, err := k.store.StatsHolders(ctx, hashes)
	if err != nil {
		return nil, err
	}
	version := make(map[string]int64, len(sts))
	for i, st := range sts {
		version[hashes[i]] = st.Version
	}
	var fresh []*Op
	var stale []string
	for _, op := range ops {
		if op.Hash == "" || version[op.Hash] == op.From {
			fresh = append(fresh, op)
		} else {
			stale = append(stale, op.ID)
		}
	}
	if len(stale) > 0 {
		if err := k.store.DeleteStatsOps(ctx, stale); err != nil {
			return nil, err
		}
	}
	return fresh, nil
}

// finishOps is steps 3 to 5 for verified ops sharing one marker.
func (k *Keeper) finishOps(ctx context.Context, marker string, ops []*Op) error {
	sum := map[string]int64{}
	var holders []*Holder
	ids := make([]string, 0, len(ops))
	for _, op := range ops {
		for _, d := range op.Deltas {
			sum[d.Cell] += d.N
		}
		if op.Hash != "" {
			holders = append(holders, &Holder{Hash: op.Hash, Version: op.From + 1, Certs: op.Certs})
		}
		ids = append(ids, op.ID)
	}
	if err := k.fault("apply"); err != nil {
		return err
	}
	if err := k.store.ApplyStatsDeltas(ctx, marker, deltasOf(sum)); err != nil {
		return err
	}
	if err := k.fault("holder"); err != nil {
		return err
	}
	if err := k.store.SetStatsHolders(ctx, holders); err != nil {
		return err
	}
	if err := k.fault("delete"); err != nil {
		return err
	}
	if err := k.store.DeleteStatsOps(ctx, ids); err != nil {
		return err
	}
	if err := k.fault("release"); err != nil {
		return err
	}
	return k.store.ReleaseStatsMarker(ctx, marker)
}

// recoverGroup finishes the ops of one marker that their writer left.
// applied says whether some counter holds the marker already.
func (k *Keeper) recoverGroup(ctx context.Context, marker string, ops []*Op, applied bool) error {
	if !applied {
		markers, err := k.store.StatsPendingMarkers(ctx)
		if err != nil {
			return err
		}
		for _, m := range markers {
			applied = applied || m == marker
		}
	}
	if !applied {
		var err error
		if ops, err = k.verifyOps(ctx, ops); err != nil {
			return err
		}
	}
	if len(ops) == 0 {
		return nil
	}
	return k.finishOps(ctx, marker, ops)
}

// RecoverStats finishes the counter upkeep that writers left unfinished
// for longer than olderThan: ops, holders with a mark not done, and
// pending markers whose op is gone. It returns how many ops and marks it
// finished. Safe to run while the registry serves, from any number of
// processes, with olderThan at least Lease; tests pass 0 after a
// simulated crash.
func (k *Keeper) Recover(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := now().Add(-olderThan)
	ops, err := k.store.StatsOps(ctx)
	if err != nil {
		return 0, err
	}
	markers, err := k.store.StatsPendingMarkers(ctx)
	if err != nil {
		return 0, err
	}
	pending := map[string]bool{}
	for _, m := range markers {
		pending[m] = true
	}
	groups := map[string][]*Op{}
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
		if err := k.recoverGroup(ctx, m, groups[m], pending[m]); err != nil {
			errs = append(errs, fmt.Errorf("stats: recover op %s: %w", m, err))
			continue
		}
		n += len(groups[m])
	}
	// Markers whose op is gone: the second half of step 5 did not run.
	for _, m := range markers {
		if _, live := groups[m]; !live {
			if err := k.store.ReleaseStatsMarker(ctx, m); err != nil {
				errs = append(errs, err)
			}
		}
	}
	marks, err := k.store.StatsMarks(ctx, now().Add(time.Hour))
	if err != nil {
		return n, errors.Join(append(errs, err)...)
	}
	for _, m := range marks {
		if m.Done || m.At.After(cutoff) {
			continue
		}
		if err := k.syncHolder(ctx, m.Hash, false); err != nil {
			errs = append(errs, fmt.Errorf("stats: recover mark %s: %w", m.ID, err))
			continue
		}
		m.Done, m.DoneAt = true, now()
		if err := k.store.PutStatsMarks(ctx, m); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if err := k.store.DeleteStatsMarks(ctx, now().Add(-time.Hour)); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// RunStatsRecovery calls RecoverStats with Lease every interval until
// ctx ends, logging what it did. `skillreg serve` runs it.
func (k *Keeper) RunRecovery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := k.Recover(ctx, Lease)
		if err != nil && ctx.Err() == nil {
			k.log.LogAttrs(ctx, slog.LevelWarn, "stats: recovery", slog.String("error", err.Error()))
		}
		if n > 0 {
			k.log.LogAttrs(ctx, slog.LevelInfo, "stats: recovered unfinished counter updates", slog.Int("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// EndMany is End for the marks of a chunk: the holders' counters in one
// batch of ops, then every mark set done in one write. It never fails the
// caller: what it cannot finish is left to recovery.
func (k *Keeper) EndMany(ctx context.Context, marks []*Mark) {
	if len(marks) == 1 {
		k.End(ctx, marks[0])
		return
	}
	fail := func(err error) {
		k.log.LogAttrs(ctx, slog.LevelWarn, "stats: counters of a chunk left to recovery", slog.Int("holders", len(marks)), slog.String("error", err.Error()))
	}
	var hashes []string
	seen := map[string]bool{}
	for _, m := range marks {
		if !seen[m.Hash] {
			seen[m.Hash] = true
			hashes = append(hashes, m.Hash)
		}
	}
	sts, err := k.store.StatsHolders(ctx, hashes)
	if err != nil {
		fail(err)
		return
	}
	// Read after the chunk's certificates are committed, as End reads
	// one holder's, so that the counted state includes them.
	certs, err := k.certs.HolderCerts(ctx, hashes)
	if err != nil {
		fail(err)
		return
	}
	marker := "batch-" + newID()
	var ops []*Op
	for i, hash := range hashes {
		next := certs[hash]
		if st := sts[i]; !sameCerts(st.Certs, next) {
			ops = append(ops, &Op{ID: opID(hash, st.Version+1), Hash: hash, From: st.Version, Certs: next,
				Deltas: DeltasBetween(st.Certs, next), Batch: marker, CreatedAt: now()})
		}
	}
	if len(ops) > 0 {
		if err := k.fault("op"); err != nil {
			return
		}
		if err := k.runOps(ctx, ops); err != nil {
			fail(err)
			return
		}
	}
	if err := k.fault("done"); err != nil {
		return
	}
	at := now()
	for _, m := range marks {
		m.Done, m.DoneAt = true, at
	}
	if err := k.store.PutStatsMarks(ctx, marks...); err != nil {
		k.log.LogAttrs(ctx, slog.LevelWarn, "stats: marks not set done", slog.Int("count", len(marks)), slog.String("error", err.Error()))
	}
}

// runOps runs ops sharing one marker as a batch, then syncs alone, waiting
// as End does, every holder whose transition another writer held or made
// meanwhile.
func (k *Keeper) runOps(ctx context.Context, ops []*Op) error {
	applied, err := k.runBatch(ctx, ops)
	if err != nil {
		return err
	}
	done := make(map[string]bool, len(applied))
	for _, op := range applied {
		done[op.Hash] = true
	}
	for _, op := range ops {
		if !done[op.Hash] {
			if err := k.syncHolder(ctx, op.Hash, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// CountBatch brings the counters up to date with certificates just stored
// in bulk, given by holder: one op per holder, all sharing one marker, run
// as the check's repair runs its batches. When fresh (the store had no
// certificate before the load) a holder never counted has exactly the
// certificates given; any other holder is counted from all its stored
// certificates. It returns the number of holders.
func (k *Keeper) CountBatch(ctx context.Context, byHolder map[string][]HolderCert, fresh bool) (int, error) {
	hashes := make([]string, 0, len(byHolder))
	for h := range byHolder {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	sts, err := k.store.StatsHolders(ctx, hashes)
	if err != nil {
		return 0, err
	}
	var reread []string
	for i, hash := range hashes {
		if st := sts[i]; !fresh || st.Version > 0 || len(st.Certs) > 0 {
			reread = append(reread, hash)
		}
	}
	stored := map[string][]HolderCert{}
	if len(reread) > 0 {
		if stored, err = k.certs.HolderCerts(ctx, reread); err != nil {
			return 0, err
		}
	}
	marker := "batch-" + newID()
	ops := make([]*Op, 0, len(hashes))
	for i, hash := range hashes {
		st, next := sts[i], byHolder[hash]
		if c, ok := stored[hash]; ok {
			next = c
		}
		if !sameCerts(st.Certs, next) {
			ops = append(ops, &Op{ID: opID(hash, st.Version+1), Hash: hash, From: st.Version, Certs: next,
				Deltas: DeltasBetween(st.Certs, next), Batch: marker, CreatedAt: now()})
		}
	}
	if len(ops) == 0 {
		return len(hashes), nil
	}
	if err := k.runOps(ctx, ops); err != nil {
		return 0, err
	}
	return len(hashes), nil
}
