package main

import (
	"context"
	"fmt"

	"github.com/skillreg/skillreg/registry"
)

// auditLog copies the audit log and its checkpoints verbatim (same seqs,
// same hashes), then checks that both stores end at the same head, so
// that `skillreg audit verify` passes on the copy exactly when it passes
// on the original.
func (m *migration) auditLog(ctx context.Context) error {
	var seen, copied int
	for after := int64(0); ; {
		list, err := m.src.AuditEntries(ctx, after, m.batch)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			break
		}
		n, err := m.dst.ImportAuditEntries(ctx, list)
		if err != nil {
			return fmt.Errorf("audit entries after %d: %w", after, err)
		}
		seen, copied = seen+len(list), copied+n
		after = list[len(list)-1].Seq
	}
	var cps, cpsCopied int
	for after := int64(0); ; {
		list, err := m.src.AuditCheckpoints(ctx, after, m.batch)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			break
		}
		n, err := m.dst.ImportAuditCheckpoints(ctx, list)
		if err != nil {
			return fmt.Errorf("audit checkpoints after %d: %w", after, err)
		}
		cps, cpsCopied = cps+len(list), cpsCopied+n
		after = list[len(list)-1].Count
	}
	m.progress.line("audit log: %d entries, copied %d; %d checkpoints, copied %d", seen, copied, cps, cpsCopied)
	if seen == 0 {
		return nil
	}
	src, err := m.src.AuditHead(ctx)
	if err != nil {
		return err
	}
	dst, err := m.dst.AuditHead(ctx)
	if err != nil {
		return err
	}
	if src.Seq != dst.Seq || src.Hash != dst.Hash {
		return registry.Errorf(registry.ECONFLICT, "the audit logs end differently (source %d %s, target %d %s): was the source written to during the copy (run migrate again), or has a server appended to the target?", src.Seq, src.Hash, dst.Seq, dst.Hash)
	}
	return nil
}
