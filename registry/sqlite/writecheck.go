package sqlite

import (
	"context"
	"database/sql"

	"github.com/skillreg/skillreg/registry"
)

var _ registry.WriteChecker = (*Store)(nil)

// probeBytes is the size of CheckWrite's probe: enough pages (16 of 4 KiB)
// that a database at its size limit, or a disk without room for them,
// refuses it.
const probeBytes = 64 << 10

// CheckWrite inserts a 64 KiB row and deletes it in one committed
// transaction on the write connection: the insert needs fresh pages (a
// full database or page limit refuses it) and the commit writes to the
// WAL (a full or read-only disk refuses it), yet nothing is left behind.
func (s *Store) CheckWrite(ctx context.Context) error {
	return commitTx(ctx, "probe write", s.write.BeginTx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO write_probe (id, pad) VALUES (1, zeroblob(?))`, probeBytes); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM write_probe`)
		return err
	})
}
