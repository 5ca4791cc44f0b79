package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/skillreg/skillreg/registry"
)

// ImportCertificates stores certificates with the numbers they carry, in
// one transaction, for bulk loads (`skillreg demo`). It returns how many
// it stored. Serials are not touched: call ImportSerials afterwards, so
// that the serial counter of a prefix never runs ahead of its
// certificates. ECONFLICT if a number is already stored; then nothing of
// the batch is written. The MongoDB store has the same method.
func (s *Store) ImportCertificates(ctx context.Context, list []*registry.Certificate) (int, error) {
	err := s.inTx(ctx, "import certificates", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO certificates (`+certificateColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range list {
			var revokedAt sql.NullString
			if c.RevokedAt != nil {
				revokedAt = sql.NullString{String: formatTime(*c.RevokedAt), Valid: true}
			}
			_, err := stmt.ExecContext(ctx, c.Number, c.IssuerID, c.HolderName, c.HolderIDMasked, c.HolderIDHash, nonNil(c.HolderIDCipher),
				c.OccupationCode, int(c.Level), string(c.Channel), c.IssuedOn, c.ExternalRef, c.Status,
				revokedAt, c.RevokeReason, c.KeyID, formatTime(c.CreatedAt), statusIndexValue(c.StatusIndex), c.TrainingRecordID, blobOrNull(c.TokenMAC))
			if err != nil {
				if isUnique(err) && strings.Contains(err.Error(), "status_index") {
					return registry.Errorf(registry.ECONFLICT, "status-list index %d of certificate %s is taken", c.StatusIndex, c.Number)
				}
				if isUnique(err) {
					return registry.Errorf(registry.ECONFLICT, "certificate %s is already stored", c.Number)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		if registry.ErrorCode(err) == registry.ECONFLICT {
			return 0, registry.Errorf(registry.ECONFLICT, "%s", registry.ErrorMessage(err))
		}
		return 0, err
	}
	return len(list), nil
}

// ImportSerials raises the serial counter of every prefix to at least the
// given value; it never lowers one.
func (s *Store) ImportSerials(ctx context.Context, serials map[string]int) error {
	return s.inTx(ctx, "import serials", func(tx *sql.Tx) error {
		for prefix, last := range serials {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO serials (prefix, last) VALUES (?, ?)
				ON CONFLICT (prefix) DO UPDATE SET last = max(last, excluded.last)`, prefix, last); err != nil {
				return err
			}
		}
		return nil
	})
}
