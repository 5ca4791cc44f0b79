package sqlite

import (
	"context"
	"database/sql"
)

// readRow runs a single-row query of the verification path on the read
// pool through a prepared statement, kept for the store's life: the
// driver would otherwise parse and plan the SQL on every call, which was a
// fifth of a verification's CPU (bench/verify.sh, BENCHMARKS.md).
// database/sql prepares the statement once per pooled connection. If the
// statement cannot be prepared, the query runs unprepared and reports its
// own error.
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt).QueryRowContext(ctx, args...)
	}
	st, err := s.read.PrepareContext(ctx, query)
	if err != nil {
		return s.read.QueryRowContext(ctx, query, args...)
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		st = prev.(*sql.Stmt)
	}
	return st.QueryRowContext(ctx, args...)
}
