package stats

import (
	"context"
	"time"
)

// CellStore keeps the counters. Every write is idempotent, so a step may
// be repeated after a crash; none needs a multi-document transaction.
type CellStore interface {
	// StatsCells returns the non-zero counters of one rollup.
	StatsCells(ctx context.Context, f CellFilter) ([]Cell, error)

	// AllStatsCells returns every non-zero counter.
	AllStatsCells(ctx context.Context) ([]Cell, error)

	// ApplyStatsDeltas adds each delta to its counter (creating it at 0)
	// and records marker in the counter's pending list, atomically per
	// counter at least; a counter whose pending list already holds marker
	// is left alone, so applying the same deltas under one marker twice
	// (or after a partial first attempt) counts once.
	ApplyStatsDeltas(ctx context.Context, marker string, deltas []Delta) error

	// StatsPendingMarkers returns every marker some counter's pending
	// list holds.
	StatsPendingMarkers(ctx context.Context) ([]string, error)

	// ReleaseStatsMarker removes marker from every pending list.
	ReleaseStatsMarker(ctx context.Context, marker string) error
}

// OpStore keeps the ops of the counters' crash-safe upkeep (sync.go).
type OpStore interface {
	// CreateStatsOps stores each op unless one with its ID is stored, and
	// reports per op whether it stored it.
	CreateStatsOps(ctx context.Context, ops []*Op) ([]bool, error)

	// StatsOps returns every stored op, oldest first.
	StatsOps(ctx context.Context) ([]*Op, error)

	// DeleteStatsOps deletes the ops with the given IDs; missing ones are
	// no error.
	DeleteStatsOps(ctx context.Context, ids []string) error
}

// MarkStore keeps the marks of holders whose certificates are changing.
type MarkStore interface {
	// PutStatsMarks stores each mark, replacing a mark with its ID. A
	// backend may store them in one write; each mark is stored whole or
	// not at all.
	PutStatsMarks(ctx context.Context, ms ...*Mark) error

	// StatsMarks returns the marks that are not done, or were made or
	// done at or after since.
	StatsMarks(ctx context.Context, since time.Time) ([]*Mark, error)

	// DeleteStatsMarks deletes the done marks made before the given time.
	DeleteStatsMarks(ctx context.Context, before time.Time) error
}

// HolderStore keeps each holder's counted state, which the upkeep reads
// and replaces and the check walks.
type HolderStore interface {
	// StatsHolders returns the counted state of each holder, in the order
	// asked; a holder never counted has Version 0 and no certificates.
	StatsHolders(ctx context.Context, hashes []string) ([]*Holder, error)

	// SetStatsHolders stores each holder state whose stored version is
	// its Version-1 (absent counts as 0) and skips the others.
	SetStatsHolders(ctx context.Context, hs []*Holder) error

	// StatsHoldersAfter returns up to limit holder states whose hashes
	// sort after the given one, in hash order.
	StatsHoldersAfter(ctx context.Context, after string, limit int) ([]*Holder, error)
}

// PlanStore keeps the plans (targets) the figures are compared against.
type PlanStore interface {
	// CreatePlan stores a plan. ECONFLICT if its ID is taken.
	CreatePlan(ctx context.Context, p *Plan) error

	// Plans returns the stored plans (not the built-in one), by ID.
	Plans(ctx context.Context) ([]*Plan, error)

	// UpdatePlan replaces the name, end date, targets and default mark of
	// the stored plan with p's ID, keeping its creation time. ENOTFOUND
	// if there is none.
	UpdatePlan(ctx context.Context, p *Plan) error

	// DeletePlan deletes the stored plan with the ID. ENOTFOUND if there
	// is none.
	DeletePlan(ctx context.Context, id string) error

	// SetDefaultPlan marks the stored plan with the ID as the default and
	// unmarks every other; "" unmarks all. ENOTFOUND if a non-empty ID
	// names no stored plan.
	SetDefaultPlan(ctx context.Context, id string) error
}

// Store is everything the statistics keep. The registry's stores
// implement it; the error codes named above are the registry's.
type Store interface {
	CellStore
	OpStore
	MarkStore
	HolderStore
	PlanStore
	TrainingCountStore
}

// Certificates is the statistics' read of the certificates, given by the
// domain, which owns them and knows how a certificate is counted.
type Certificates interface {
	// HolderCerts returns the counted certificates of each holder asked,
	// each list sorted by number (SortCerts); a holder without
	// certificates may be absent.
	HolderCerts(ctx context.Context, hashes []string) (map[string][]HolderCert, error)

	// ScanCerts returns up to limit certificates of the holders whose
	// hashes sort after afterHash, in hash order; the order within one
	// holder is not given, and the last holder may be cut off at limit.
	ScanCerts(ctx context.Context, afterHash string, limit int) ([]ScannedCert, error)
}
