package main

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// This file copies the records a migration writes through registry.Store
// itself, whose create methods already keep what they are given: training
// records, employers' API keys and plans. Like every other kind, a record
// already in the target is skipped if it is the same and is a conflict if
// it differs. Times are compared to the millisecond, the finest every
// store keeps.

// trainingRecords copies every training record in ID order, one batch
// write per batch.
func (m *migration) trainingRecords(ctx context.Context) error {
	seen := 0
	for after := ""; ; {
		list, err := m.src.TrainingRecordsAfter(ctx, after, m.batch)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			break
		}
		// CreateTrainingRecords overwrites a record that exists with the
		// stored one: give it copies, and compare.
		recs := make([]*registry.TrainingRecord, len(list))
		for i, r := range list {
			c := *r
			recs[i] = &c
		}
		created, err := m.dst.CreateTrainingRecords(ctx, recs)
		if err != nil {
			return fmt.Errorf("training records after %q: %w", after, err)
		}
		for i, ok := range created {
			switch {
			case ok:
				m.copied["training_records"]++
			case !sameTraining(recs[i], list[i]):
				return registry.Errorf(registry.ECONFLICT, "training record %s: the target holds a different record under this ID", list[i].ID)
			}
		}
		seen += len(list)
		after = list[len(list)-1].ID
	}
	m.progress.line("training records: %d, copied %d", seen, m.copied["training_records"])
	return nil
}

// apiKeys copies employers' API keys, revoked ones included: their hashes
// carry over, so the secrets the employers hold keep working.
func (m *migration) apiKeys(ctx context.Context) error {
	keys, err := m.src.APIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		c := *k
		err := m.dst.CreateAPIKey(ctx, &c)
		switch registry.ErrorCode(err) {
		case "":
			m.copied["api_keys"]++
			continue
		case registry.ECONFLICT:
		default:
			return fmt.Errorf("API key %s: %w", k.ID, err)
		}
		stored, err := m.dst.APIKeyByHash(ctx, k.Hash)
		if registry.ErrorCode(err) == registry.ENOTFOUND || (err == nil && !sameAPIKey(stored, k)) {
			return registry.Errorf(registry.ECONFLICT, "API key %s: the target holds a different key under this ID or hash", k.ID)
		}
		if err != nil {
			return err
		}
	}
	m.progress.line("API keys: %d, copied %d", len(keys), m.copied["api_keys"])
	return nil
}

// plans copies the stored statistics plans.
func (m *migration) plans(ctx context.Context) error {
	plans, err := m.src.Plans(ctx)
	if err != nil {
		return err
	}
	var stored map[string]*registry.Plan
	for _, p := range plans {
		c := *p
		err := m.dst.CreatePlan(ctx, &c)
		switch registry.ErrorCode(err) {
		case "":
			m.copied["plans"]++
			continue
		case registry.ECONFLICT:
		default:
			return fmt.Errorf("plan %s: %w", p.ID, err)
		}
		if stored == nil {
			list, err := m.dst.Plans(ctx)
			if err != nil {
				return err
			}
			stored = map[string]*registry.Plan{}
			for _, q := range list {
				stored[q.ID] = q
			}
		}
		if q, ok := stored[p.ID]; !ok || !samePlan(q, p) {
			return registry.Errorf(registry.ECONFLICT, "plan %s: the target holds a different plan under this ID", p.ID)
		}
	}
	m.progress.line("plans: %d, copied %d", len(plans), m.copied["plans"])
	return nil
}

// ms is t in UTC to the millisecond.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func msPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := ms(*t)
	return &u
}

func sameTraining(a, b *registry.TrainingRecord) bool {
	x, y := *a, *b
	x.CreatedAt, x.UpdatedAt, y.CreatedAt, y.UpdatedAt = ms(x.CreatedAt), ms(x.UpdatedAt), ms(y.CreatedAt), ms(y.UpdatedAt)
	if len(x.IDCipher) == 0 {
		x.IDCipher = nil
	}
	if len(y.IDCipher) == 0 {
		y.IDCipher = nil
	}
	return reflect.DeepEqual(x, y)
}

func sameAPIKey(a, b *registry.APIKey) bool {
	x, y := *a, *b
	x.CreatedAt, y.CreatedAt = ms(x.CreatedAt), ms(y.CreatedAt)
	x.RevokedAt, y.RevokedAt = msPtr(x.RevokedAt), msPtr(y.RevokedAt)
	return reflect.DeepEqual(x, y)
}

func samePlan(a, b *registry.Plan) bool {
	x, y := *a, *b
	x.CreatedAt, y.CreatedAt = ms(x.CreatedAt), ms(y.CreatedAt)
	return reflect.DeepEqual(x, y)
}
