package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// auditTable is the audit_log table as the store reads and writes it. Its
// time and attrs columns read leniently: a changed row must still reach
// the verifier, which reports it, so an unreadable time or attrs makes the
// entry's hash mismatch instead of failing the read.
var auditTable = []column[registry.AuditEntry]{
	intColumn("seq", func(e *registry.AuditEntry) *int64 { return &e.Seq }),
	{
		name:  "time",
		value: func(e *registry.AuditEntry) any { return formatTime(e.Time) },
		dest: func(e *registry.AuditEntry) (any, func() error) {
			var s string
			return &s, func() error { e.Time, _ = parseTime(s); return nil }
		},
	},
	textColumn("event", func(e *registry.AuditEntry) *string { return &e.Event }),
	textColumn("actor", func(e *registry.AuditEntry) *string { return &e.Actor }),
	{
		name: "attrs",
		value: func(e *registry.AuditEntry) any {
			// A map of strings always encodes.
			b, _ := json.Marshal(nonNilAttrs(e.Attrs))
			return string(b)
		},
		dest: func(e *registry.AuditEntry) (any, func() error) {
			var s string
			return &s, func() error {
				if err := json.Unmarshal([]byte(s), &e.Attrs); err != nil {
					e.Attrs = map[string]string{"!unreadable": s}
				}
				return nil
			}
		},
	},
	textColumn("prev", func(e *registry.AuditEntry) *string { return &e.Prev }),
	textColumn("hash", func(e *registry.AuditEntry) *string { return &e.Hash }),
}

var (
	auditColumns = columnNames(auditTable)
	insertAudit  = `INSERT INTO audit_log (` + auditColumns + `) VALUES (` + placeholders(auditTable) + `)`
)

// AppendAudit appends e to the audit log. Reading the head and inserting
// the successor are one BEGIN IMMEDIATE transaction, so appenders of this
// process and of others take turns and seqs stay gap-free.
//
// The transaction commits with synchronous=NORMAL instead of FULL: in WAL
// mode that still survives any crash of the process (the frames are in
// the WAL file, in the operating system's hands, when COMMIT returns) and
// only skips the fsync, which the next FULL commit (the next certificate)
// does for it. So the entry of an issuance follows its certificate within
// microseconds instead of a second disk flush, which halves the cost of
// an audited issuance; only a power cut or kernel crash can lose the last
// entries, and `skillreg audit verify` then names their certificates.
func (s *Store) AppendAudit(ctx context.Context, es ...*registry.AuditEntry) error {
	if len(es) == 0 {
		return nil
	}
	return s.withNormalSync(ctx, "audit append", func(conn *sql.Conn) error { return s.appendAudit(ctx, conn, es) })
}

// appendAudit appends es in one transaction: all or none.
func (s *Store) appendAudit(ctx context.Context, conn *sql.Conn, es []*registry.AuditEntry) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return internal(err, "begin audit append")
	}
	defer rollback(tx)
	if err := s.appendAuditTx(ctx, tx, es); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal(err, "commit audit entries up to %d", es[len(es)-1].Seq)
	}
	return nil
}

// appendAuditTx appends es inside the write transaction tx, which holds
// the write lock, so that the head it reads stays the head.
func (s *Store) appendAuditTx(ctx context.Context, tx *sql.Tx, es []*registry.AuditEntry) error {
	head, err := scanAudit(s.txQueryRow(ctx, tx, selectAuditHead))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		head = nil
	case err != nil:
		return internal(err, "read the audit head")
	}
	for _, e := range es {
		e.Link(head)
		if _, err := s.txExec(ctx, tx, insertAudit, columnValues(auditTable, e)...); err != nil {
			return internal(err, "append audit entry %d", e.Seq)
		}
		head = e
	}
	return nil
}

func nonNilAttrs(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// AuditEntries returns up to limit entries with seq > after, in seq order.
func (s *Store) AuditEntries(ctx context.Context, after int64, limit int) ([]*registry.AuditEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, internal(err, "list audit entries after %d", after)
	}
	defer rows.Close()
	var out []*registry.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, internal(err, "read audit entry")
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list audit entries after %d", after)
	}
	return out, nil
}

// AuditHead returns the last entry. ENOTFOUND if the log is empty.
func (s *Store) AuditHead(ctx context.Context) (*registry.AuditEntry, error) {
	e, err := scanAudit(s.read.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "the audit log is empty")
	case err != nil:
		return nil, internal(err, "read the audit head")
	}
	return e, nil
}

func scanAudit(row scanner) (*registry.AuditEntry, error) {
	return scanColumns(auditTable, row)
}

// checkpointTable is the audit_checkpoints table as the store reads and
// writes it.
var checkpointTable = []column[registry.AuditCheckpoint]{
	intColumn("count", func(cp *registry.AuditCheckpoint) *int64 { return &cp.Count }),
	textColumn("head_hash", func(cp *registry.AuditCheckpoint) *string { return &cp.HeadHash }),
	timeColumn("time", func(cp *registry.AuditCheckpoint) *time.Time { return &cp.Time }),
	textColumn("key_id", func(cp *registry.AuditCheckpoint) *string { return &cp.KeyID }),
	textColumn("jws", func(cp *registry.AuditCheckpoint) *string { return &cp.JWS }),
}

var (
	checkpointColumns = columnNames(checkpointTable)
	insertCheckpoint  = `INSERT INTO audit_checkpoints (` + checkpointColumns + `) VALUES (` + placeholders(checkpointTable) + `)`
)

// CreateAuditCheckpoint stores a checkpoint. ECONFLICT if one with the
// same count exists.
func (s *Store) CreateAuditCheckpoint(ctx context.Context, cp *registry.AuditCheckpoint) error {
	_, err := s.write.ExecContext(ctx, insertCheckpoint, columnValues(checkpointTable, cp)...)
	switch {
	case isUnique(err):
		return registry.Errorf(registry.ECONFLICT, "a checkpoint at %d entries exists", cp.Count)
	case err != nil:
		return internal(err, "store checkpoint %d", cp.Count)
	}
	return nil
}

// AuditCheckpoint returns the checkpoint at count entries, or the latest
// when count is 0. ENOTFOUND if there is none.
func (s *Store) AuditCheckpoint(ctx context.Context, count int64) (*registry.AuditCheckpoint, error) {
	q := `SELECT ` + checkpointColumns + ` FROM audit_checkpoints WHERE count = ?`
	args := []any{count}
	if count == 0 {
		q, args = `SELECT `+checkpointColumns+` FROM audit_checkpoints ORDER BY count DESC LIMIT 1`, nil
	}
	cp, err := scanCheckpoint(s.read.QueryRowContext(ctx, q, args...))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "no audit checkpoint at %d entries", count)
	case err != nil:
		return nil, internal(err, "read checkpoint %d", count)
	}
	return cp, nil
}

// AuditCheckpoints returns up to limit checkpoints with count > after.
func (s *Store) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]*registry.AuditCheckpoint, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints WHERE count > ? ORDER BY count LIMIT ?`, after, limit)
	if err != nil {
		return nil, internal(err, "list checkpoints")
	}
	defer rows.Close()
	var out []*registry.AuditCheckpoint
	for rows.Next() {
		cp, err := scanCheckpoint(rows)
		if err != nil {
			return nil, internal(err, "read checkpoint")
		}
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list checkpoints")
	}
	return out, nil
}

func scanCheckpoint(row scanner) (*registry.AuditCheckpoint, error) {
	return scanColumns(checkpointTable, row)
}
