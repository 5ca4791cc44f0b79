package mongo

import (
	"context"

	"github.com/skillreg/skillreg/registry"
)

// ImportAuditEntries stores audit entries copied from another store
// (`skillreg migrate`) verbatim, under their own seqs, so that the chain
// and its checkpoints carry over. Entries already stored are skipped if
// they are the same (same hash), ECONFLICT otherwise. It returns how many
// it stored.
func (s *Store) ImportAuditEntries(ctx context.Context, list []*registry.AuditEntry) (int, error) {
	return importDocs(ctx, s.audit(), "audit entry", list,
		func(e *registry.AuditEntry) *auditDoc {
			attrs := e.Attrs
			if attrs == nil {
				attrs = map[string]string{}
			}
			return &auditDoc{ID: seqID(e.Seq), Seq: e.Seq, Time: msTime(e.Time), Event: e.Event, Actor: e.Actor, Attrs: attrs, Prev: e.Prev, Hash: e.Hash}
		},
		func(d *auditDoc) string { return d.ID },
		func(d *auditDoc) any { return d.Hash })
}

// ImportAuditCheckpoints stores checkpoints copied from another store,
// like ImportAuditEntries.
func (s *Store) ImportAuditCheckpoints(ctx context.Context, list []*registry.AuditCheckpoint) (int, error) {
	return importDocs(ctx, s.checkpoints(), "audit checkpoint", list,
		func(cp *registry.AuditCheckpoint) *checkpointDoc {
			return &checkpointDoc{ID: seqID(cp.Count), Count: cp.Count, HeadHash: cp.HeadHash, Time: msTime(cp.Time), KeyID: cp.KeyID, JWS: cp.JWS}
		},
		func(d *checkpointDoc) string { return d.ID },
		func(d *checkpointDoc) any { return d.JWS })
}
