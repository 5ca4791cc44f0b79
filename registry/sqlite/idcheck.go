package sqlite

import (
	"context"

	"github.com/skillreg/skillreg/registry"
)

var _ registry.IDCheckStore = (*Store)(nil)

// ChargeIDCheck adds one to the day's count of the holder in one
// statement, which the single write connection (and, across processes,
// SQLite's write lock) makes atomic. The first charge of a holder's day
// also deletes the counts of earlier days.
func (s *Store) ChargeIDCheck(ctx context.Context, holderHash, day string) (int, error) {
	var n int
	err := s.write.QueryRowContext(ctx,
		`INSERT INTO id_checks (holder_hash, day, n) VALUES (?, ?, 1)
		 ON CONFLICT (holder_hash, day) DO UPDATE SET n = n + 1 RETURNING n`, holderHash, day).Scan(&n)
	if err != nil {
		return 0, internal(err, "count an ID check")
	}
	if n == 1 {
		if _, err := s.write.ExecContext(ctx, `DELETE FROM id_checks WHERE day < ?`, day); err != nil {
			return 0, internal(err, "delete old ID check counts")
		}
	}
	return n, nil
}

// RefundIDCheck takes one back from the day's count of the holder.
func (s *Store) RefundIDCheck(ctx context.Context, holderHash, day string) error {
	if _, err := s.write.ExecContext(ctx,
		`UPDATE id_checks SET n = n - 1 WHERE holder_hash = ? AND day = ? AND n > 0`, holderHash, day); err != nil {
		return internal(err, "take back an ID check")
	}
	return nil
}
