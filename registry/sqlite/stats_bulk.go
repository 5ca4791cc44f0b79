package sqlite

import (
	"context"
	"database/sql"
	"reflect"
	"strings"

	"github.com/skillreg/skillreg/registry"
)

// ImportCertificates stores certificates with the numbers they carry, in
// one transaction, for bulk loads (`skillreg demo`) and copies from
// another store (`skillreg migrate`). A certificate whose number is
// already stored is skipped if it is the same, revoked if the offered one
// shows it revoked since (registry.RevokedSince), and is ECONFLICT if it
// differs otherwise (then nothing of the batch is written), so an
// interrupted copy can be run again. It returns how many it stored. Serials are not
// touched: call ImportSerials afterwards, so that the serial counter of a
// prefix never runs ahead of its certificates. The MongoDB store has the
// same method.
func (s *Store) ImportCertificates(ctx context.Context, list []*registry.Certificate) (int, error) {
	stored := 0
	err := s.inTx(ctx, "import certificates", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, insertCertificate+` ON CONFLICT (number) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range list {
			res, err := stmt.ExecContext(ctx, certificateValues(c)...)
			if err != nil {
				if isUnique(err) && strings.Contains(err.Error(), "status_index") {
					return registry.Errorf(registry.ECONFLICT, "status-list index %d of certificate %s is taken", c.StatusIndex, c.Number)
				}
				if isUnique(err) {
					return registry.Errorf(registry.ECONFLICT, "certificate %s: the target holds another certificate with its external_ref", c.Number)
				}
				if isForeignKey(err) {
					return registry.Errorf(registry.ECONFLICT, "certificate %s: its issuer %s is not stored (import issuers first)", c.Number, c.IssuerID)
				}
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				stored++
				continue
			}
			got, err := scanCertificate(tx.QueryRowContext(ctx, `SELECT `+certificateColumns+` FROM certificates WHERE number = ?`, c.Number))
			if err != nil {
				return err
			}
			switch want := asStored(c); {
			case reflect.DeepEqual(got, want):
			case registry.RevokedSince(got, want):
				if _, err := tx.ExecContext(ctx, `UPDATE certificates SET status = ?, revoked_at = ?, revoke_reason = ? WHERE number = ? AND status = ?`,
					registry.StatusRevoked, formatTime(*want.RevokedAt), want.RevokeReason, c.Number, registry.StatusValid); err != nil {
					return err
				}
			default:
				return registry.Errorf(registry.ECONFLICT, "certificate %s: the target holds a different certificate under this number", c.Number)
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
	return stored, nil
}

// asStored returns c as the store reads it back: times in UTC, an empty
// cipher as nil.
func asStored(c *registry.Certificate) *registry.Certificate {
	out := *c
	out.CreatedAt = out.CreatedAt.UTC()
	if out.RevokedAt != nil {
		t := out.RevokedAt.UTC()
		out.RevokedAt = &t
	}
	if len(out.HolderIDCipher) == 0 {
		out.HolderIDCipher = nil
	}
	return &out
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
