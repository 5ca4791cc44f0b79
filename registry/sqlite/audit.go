package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/skillreg/skillreg/registry"
)

const auditColumns = `seq, time, event, actor, attrs, prev, hash`

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
		attrs, err := json.Marshal(nonNilAttrs(e.Attrs))
		if err != nil {
			return internal(err, "encode audit attrs")
		}
		if _, err := s.txExec(ctx, tx, insertAudit,
			e.Seq, formatTime(e.Time), e.Event, e.Actor, string(attrs), e.Prev, e.Hash); err != nil {
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

func scanAudit(row interface{ Scan(...any) error }) (*registry.AuditEntry, error) {
	var e registry.AuditEntry
	var t, attrs string
	if err := row.Scan(&e.Seq, &t, &e.Event, &e.Actor, &attrs, &e.Prev, &e.Hash); err != nil {
		return nil, err
	}
	// A changed row must still reach the verifier, which reports it: an
	// unreadable time or attrs makes the hash mismatch instead of an error.
	e.Time, _ = parseTime(t)
	if err := json.Unmarshal([]byte(attrs), &e.Attrs); err != nil {
		e.Attrs = map[string]string{"!unreadable": attrs}
	}
	return &e, nil
}

const checkpointColumns = `count, head_hash, time, key_id, jws`

// CreateAuditCheckpoint stores a checkpoint. ECONFLICT if one with the
// same count exists.
func (s *Store) CreateAuditCheckpoint(ctx context.Context, cp *registry.AuditCheckpoint) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO audit_checkpoints (`+checkpointColumns+`) VALUES (?, ?, ?, ?, ?)`,
		cp.Count, cp.HeadHash, formatTime(cp.Time), cp.KeyID, cp.JWS)
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

func scanCheckpoint(row interface{ Scan(...any) error }) (*registry.AuditCheckpoint, error) {
	var cp registry.AuditCheckpoint
	var t string
	if err := row.Scan(&cp.Count, &cp.HeadHash, &t, &cp.KeyID, &cp.JWS); err != nil {
		return nil, err
	}
	var err error
	cp.Time, err = parseTime(t)
	return &cp, err
}
