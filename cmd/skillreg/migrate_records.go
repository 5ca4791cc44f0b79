package main

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// This file copies the records a migration writes through registry.Store
// itself, whose create methods already keep what they are given: training
// records, employers' API keys and plans. Like every other kind, a record
// already in the target is skipped if it is the same and is a conflict if
// it differs, except by the changes these records undergo after they are
// made (a user's password and disabled mark, a training record's outcome
// and certificate, an API key's revocation, a plan's content): those are
// applied, so that a run after the old server
// stopped brings an earlier copy up to date. Times are compared to the
// millisecond, the finest every store keeps.

// trainingRecords copies every training record in ID order, one batch
// write per batch.
func (m *migration) trainingRecords(ctx context.Context) error {
	seen, updated := 0, 0
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
			case sameTraining(recs[i], list[i]):
			default:
				if err := m.updateTraining(ctx, recs[i], list[i]); err != nil {
					return err
				}
				updated++
			}
		}
		seen += len(list)
		after = list[len(list)-1].ID
	}
	m.progress.line("training records: %d, copied %d, updated %d", seen, m.copied["training_records"], updated)
	return nil
}

// updateTraining brings stored up to offered when they differ only by the
// updates a record undergoes: its outcome and subsidy (UpdateTrainingOutcome)
// and the certificate it led to (LinkTrainingCertificate, set once).
// ECONFLICT otherwise.
func (m *migration) updateTraining(ctx context.Context, stored, offered *registry.TrainingRecord) error {
	conflict := registry.Errorf(registry.ECONFLICT, "training record %s: the target holds a different record under this ID", offered.ID)
	updatable := *stored
	updatable.Completed, updatable.ExamResult, updatable.Employed = offered.Completed, offered.ExamResult, offered.Employed
	updatable.SubsidyCategory, updatable.SubsidyAmountFen, updatable.SubsidyPayee = offered.SubsidyCategory, offered.SubsidyAmountFen, offered.SubsidyPayee
	updatable.CertificateNumber, updatable.UpdatedAt = offered.CertificateNumber, offered.UpdatedAt
	if !sameTraining(&updatable, offered) || (stored.CertificateNumber != "" && stored.CertificateNumber != offered.CertificateNumber) {
		return conflict
	}
	if stored.CertificateNumber != offered.CertificateNumber {
		if err := m.dst.LinkTrainingCertificate(ctx, offered.ID, offered.CertificateNumber); err != nil {
			return fmt.Errorf("training record %s: %w", offered.ID, err)
		}
	}
	out := *offered
	if err := m.dst.UpdateTrainingOutcome(ctx, &out, offered.CertificateNumber); err != nil {
		return fmt.Errorf("training record %s: %w", offered.ID, err)
	}
	return nil
}

// apiKeys copies employers' API keys, revoked ones included: their hashes
// carry over, so the secrets the employers hold keep working.
func (m *migration) apiKeys(ctx context.Context) error {
	keys, err := m.src.APIKeys(ctx)
	if err != nil {
		return err
	}
	revoked := 0
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
		if registry.ErrorCode(err) == registry.ENOTFOUND {
			return registry.Errorf(registry.ECONFLICT, "API key %s: the target holds another key under this ID", k.ID)
		}
		if err != nil {
			return err
		}
		if stored.RevokedAt == nil && k.RevokedAt != nil { // revoked since the last copy
			unrevoked := *k
			unrevoked.RevokedAt = nil
			if sameAPIKey(stored, &unrevoked) {
				if stored, err = m.dst.RevokeAPIKey(ctx, k.ID, *k.RevokedAt); err != nil {
					return fmt.Errorf("API key %s: %w", k.ID, err)
				}
				revoked++
			}
		}
		if !sameAPIKey(stored, k) {
			return registry.Errorf(registry.ECONFLICT, "API key %s: the target holds a different key under this ID or hash", k.ID)
		}
	}
	m.progress.line("API keys: %d, copied %d, revoked since the last copy %d", len(keys), m.copied["api_keys"], revoked)
	return nil
}

// updateUsers applies to the target's users what changed in the source
// since they were copied: a new password or a disabled mark, each of which
// raised the user's token version. They are replayed through the store's
// own updates, which raise the target's version the same way, until it is
// the source's, so tokens issued before the change stay ended. It returns
// how many users it updated; a user that differs otherwise is left for
// ImportUsers to report.
func (m *migration) updateUsers(ctx context.Context, users []*registry.User) (int, error) {
	stored, err := m.dst.Users(ctx)
	if err != nil {
		return 0, err
	}
	byID := make(map[string]*registry.User, len(stored))
	for _, u := range stored {
		byID[u.ID] = u
	}
	n := 0
	for _, u := range users {
		d, ok := byID[u.ID]
		if !ok || sameUser(d, u) || !userChangedSince(d, u) {
			continue
		}
		if d.PasswordHash != u.PasswordHash {
			if d, err = m.dst.SetUserPassword(ctx, u.ID, u.PasswordHash); err != nil {
				return n, fmt.Errorf("user %s: %w", u.ID, err)
			}
		}
		for d.Disabled != u.Disabled || d.TokenVersion < u.TokenVersion {
			if d, err = m.dst.SetUserDisabled(ctx, u.ID, u.Disabled); err != nil {
				return n, fmt.Errorf("user %s: %w", u.ID, err)
			}
		}
		n++
	}
	return n, nil
}

// userChangedSince reports whether offered is stored changed since by a
// new password or disabled mark: a higher token version, and nothing else
// different.
func userChangedSince(stored, offered *registry.User) bool {
	if offered.TokenVersion <= stored.TokenVersion {
		return false
	}
	s := *stored
	s.PasswordHash, s.Disabled, s.TokenVersion = offered.PasswordHash, offered.Disabled, offered.TokenVersion
	return sameUser(&s, offered)
}

// plans copies the stored statistics plans.
func (m *migration) plans(ctx context.Context) error {
	plans, err := m.src.Plans(ctx)
	if err != nil {
		return err
	}
	var stored map[string]*stats.Plan
	updated := 0
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
			stored = map[string]*stats.Plan{}
			for _, q := range list {
				stored[q.ID] = q
			}
		}
		q, ok := stored[p.ID]
		if ok && !samePlan(q, p) && ms(q.CreatedAt).Equal(ms(p.CreatedAt)) {
			// Updated in the source since it was copied (name, end
			// date, targets or default mark).
			c := *p
			if err := m.dst.UpdatePlan(ctx, &c); err != nil {
				return fmt.Errorf("plan %s: %w", p.ID, err)
			}
			updated++
			stored = nil // read again
			continue
		}
		if !ok || !samePlan(q, p) {
			return registry.Errorf(registry.ECONFLICT, "plan %s: the target holds a different plan under this ID", p.ID)
		}
	}
	m.progress.line("plans: %d, copied %d, updated %d", len(plans), m.copied["plans"], updated)
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

func sameUser(a, b *registry.User) bool {
	x, y := *a, *b
	x.CreatedAt, y.CreatedAt = ms(x.CreatedAt), ms(y.CreatedAt)
	return reflect.DeepEqual(x, y)
}

func samePlan(a, b *stats.Plan) bool {
	x, y := *a, *b
	x.CreatedAt, y.CreatedAt = ms(x.CreatedAt), ms(y.CreatedAt)
	return reflect.DeepEqual(x, y)
}
