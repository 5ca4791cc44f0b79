package sqlite

import (
	"context"
	"database/sql"
)

// readRow runs a single-row hot read (a whole certificate, an issuer) on
// the read pool through a prepared statement, kept for the store's life:
// the driver would otherwise parse and plan the SQL on every call, which
// was a fifth of a verification's CPU when verification read through it
// (bench/verify.sh, BENCHMARKS.md).
// database/sql prepares the statement once per pooled connection. If the
// statement cannot be prepared, the query runs unprepared and reports its
// own error.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.read.QueryRowContext(ctx, query, args...)
}

// readRows is readRow for a query of many rows: the reads of a holder's
// certificates that every issuance makes (the identity check, the
// statistics upkeep), where parsing the long column list cost more than
// the index lookup.
func (s *Store) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.read.QueryContext(ctx, query, args...)
}

// prepared returns the statement of query on the read pool, preparing it
// the first time; nil if it cannot be prepared.
func (s *Store) prepared(ctx context.Context, query string) *sql.Stmt {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := s.read.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		st = prev.(*sql.Stmt)
	}
	return st
}

// readQuerier runs queries through the store's prepared statements on the
// read pool.
type readQuerier struct{ s *Store }

func (q readQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.s.readRows(ctx, query, args...)
}

// Statements of issuing a certificate, run in the write transaction.
var (
	selectByRef = `SELECT ` + certificateColumns + ` FROM certificates WHERE ` + externalRefWhere
	nextSerial  = `
		INSERT INTO serials (prefix, last) VALUES (?, 1)
		ON CONFLICT (prefix) DO UPDATE SET last = last + 1
		RETURNING last`
	selectAuditHead = `SELECT ` + auditColumns + ` FROM audit_log ORDER BY seq DESC LIMIT 1`
)

// prepareWrites prepares the statements of issuing a certificate (and the
// savepoints around each certificate of a chunk) on the write connection,
// once when the store opens: parsing them again in every issuance's
// transaction was a fifth of an import's CPU (BenchmarkImport100k's
// profile). It runs before any transaction, since
// preparing on the pool waits for its one connection. A statement that
// cannot be prepared is left out, and runs unprepared.
func (s *Store) prepareWrites(ctx context.Context) {
	s.writeStmts = map[string]*sql.Stmt{}
	for _, q := range []string{selectByRef, nextSerial, insertCertificate, selectAuditHead, insertAudit, savepointCert, releaseCert, rollbackCert} {
		if st, err := s.write.PrepareContext(ctx, q); err == nil {
			s.writeStmts[q] = st
		}
	}
}

// txQueryRow runs a single-row query in tx, through its prepared
// statement if it has one.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.writeStmts[query]; st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// txExec runs a statement in tx, through its prepared statement if it
// has one.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.writeStmts[query]; st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}
