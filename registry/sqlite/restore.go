package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"reflect"

	"github.com/skillreg/skillreg/registry"
)

// This file makes the embedded store a target of `skillreg migrate`:
// records copied from another store are written as they are (IDs, hashes,
// seqs and audit links kept). A record whose key is already stored is
// skipped if it is the same and is ECONFLICT if it differs, so a copy can
// be interrupted and run again and copies nothing twice. Each call is one
// transaction: all of its records or none.

// restoreRows writes list in one transaction. For each record, stored
// reads the row under its key (sql.ErrNoRows if none) and insert writes
// it; same says whether a stored record is the offered one. It returns how
// many records it inserted.
func restoreRows[R any](ctx context.Context, s *Store, what string, list []*R, key func(*R) any,
	stored func(tx *sql.Tx, r *R) (*R, error), insert func(tx *sql.Tx, r *R) error, same func(got, want *R) bool) (int, error) {
	n := 0
	err := s.inTx(ctx, "import "+what, func(tx *sql.Tx) error {
		for _, r := range list {
			got, err := stored(tx, r)
			switch {
			case err == nil:
				if !same(got, r) {
					return registry.Errorf(registry.ECONFLICT, "%s %v: the target holds a different record under this key", what, key(r))
				}
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			err = insert(tx, r)
			switch {
			case isUnique(err):
				return registry.Errorf(registry.ECONFLICT, "%s %v: the target holds another record with the same unique key", what, key(r))
			case isForeignKey(err):
				return registry.Errorf(registry.ECONFLICT, "%s %v: it refers to a record the target does not hold", what, key(r))
			case err != nil:
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		if code := registry.ErrorCode(err); code != registry.EINTERNAL {
			return 0, registry.Errorf(code, "%s", registry.ErrorMessage(err))
		}
		return 0, err
	}
	return n, nil
}

// ImportIssuers stores issuers that are not stored yet and returns how
// many it stored. ECONFLICT if a stored issuer differs from the offered
// one.
func (s *Store) ImportIssuers(ctx context.Context, list []*registry.Issuer) (int, error) {
	return restoreRows(ctx, s, "issuer", list,
		func(is *registry.Issuer) any { return is.ID },
		func(tx *sql.Tx, is *registry.Issuer) (*registry.Issuer, error) {
			return scanIssuer(tx.QueryRowContext(ctx, `SELECT `+issuerColumns+` FROM issuers WHERE id = ?`, is.ID))
		},
		func(tx *sql.Tx, is *registry.Issuer) error {
			_, err := tx.ExecContext(ctx, insertIssuer, columnValues(issuerTable, is)...)
			return err
		},
		func(got, want *registry.Issuer) bool {
			w := *want
			w.CreatedAt = w.CreatedAt.UTC()
			return reflect.DeepEqual(got, &w)
		})
}

// ImportUsers stores users that are not stored yet and returns how many it
// stored. ECONFLICT if a stored user differs, if the username belongs to
// another user in the target, or if the user's issuer is not stored.
func (s *Store) ImportUsers(ctx context.Context, list []*registry.User) (int, error) {
	return restoreRows(ctx, s, "user", list,
		func(u *registry.User) any { return u.ID },
		func(tx *sql.Tx, u *registry.User) (*registry.User, error) {
			return scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, u.ID))
		},
		func(tx *sql.Tx, u *registry.User) error {
			_, err := tx.ExecContext(ctx, insertUser, userValues(u)...)
			return err
		},
		func(got, want *registry.User) bool {
			w := *want
			w.CreatedAt = w.CreatedAt.UTC()
			return reflect.DeepEqual(got, &w)
		})
}

// ImportSigningKeys stores keys that are not stored yet, inactive, then
// makes the offered active key (if any) the active one, all in one
// transaction. It returns how many keys it stored. ECONFLICT if a stored
// key differs from the offered one (whether a key is active aside).
func (s *Store) ImportSigningKeys(ctx context.Context, keys []*registry.SigningKey) (int, error) {
	var active string
	for _, k := range keys {
		if k.Active {
			active = k.ID
		}
	}
	n, err := restoreRows(ctx, s, "signing key", keys,
		func(k *registry.SigningKey) any { return k.ID },
		func(tx *sql.Tx, k *registry.SigningKey) (*registry.SigningKey, error) {
			return scanColumns(signingKeyTable, tx.QueryRowContext(ctx, `SELECT `+signingKeyColumns+` FROM signing_keys WHERE id = ?`, k.ID))
		},
		func(tx *sql.Tx, k *registry.SigningKey) error {
			// Stored inactive: the offered active key is made active
			// below, once every key is in.
			inactive := *k
			inactive.Active = false
			_, err := tx.ExecContext(ctx, insertSigningKey, columnValues(signingKeyTable, &inactive)...)
			return err
		},
		func(got, want *registry.SigningKey) bool {
			return got.ID == want.ID && got.Algorithm == want.Algorithm && string(got.Public) == string(want.Public) &&
				string(got.Sealed) == string(want.Sealed) && got.CreatedAt.Equal(want.CreatedAt)
		})
	if err != nil || active == "" {
		return n, err
	}
	err = s.inTx(ctx, "activate signing key "+active, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET active = 0 WHERE active = 1 AND id <> ?`, active); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE signing_keys SET active = 1 WHERE id = ?`, active)
		return err
	})
	return n, err
}

// ImportAuditEntries stores audit entries copied from another store
// verbatim, under their own seqs, so that the chain and its checkpoints
// carry over. An entry already stored is skipped if it has the same hash,
// ECONFLICT otherwise. It returns how many it stored.
func (s *Store) ImportAuditEntries(ctx context.Context, list []*registry.AuditEntry) (int, error) {
	return restoreRows(ctx, s, "audit entry", list,
		func(e *registry.AuditEntry) any { return e.Seq },
		func(tx *sql.Tx, e *registry.AuditEntry) (*registry.AuditEntry, error) {
			return scanAudit(tx.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq = ?`, e.Seq))
		},
		func(tx *sql.Tx, e *registry.AuditEntry) error {
			_, err := tx.ExecContext(ctx, insertAudit, columnValues(auditTable, e)...)
			return err
		},
		func(got, want *registry.AuditEntry) bool { return got.Hash == want.Hash })
}

// ImportAuditCheckpoints stores checkpoints copied from another store, like
// ImportAuditEntries; a stored one is the same if its signature (JWS) is.
func (s *Store) ImportAuditCheckpoints(ctx context.Context, list []*registry.AuditCheckpoint) (int, error) {
	return restoreRows(ctx, s, "audit checkpoint", list,
		func(cp *registry.AuditCheckpoint) any { return cp.Count },
		func(tx *sql.Tx, cp *registry.AuditCheckpoint) (*registry.AuditCheckpoint, error) {
			return scanCheckpoint(tx.QueryRowContext(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints WHERE count = ?`, cp.Count))
		},
		func(tx *sql.Tx, cp *registry.AuditCheckpoint) error {
			_, err := tx.ExecContext(ctx, insertCheckpoint, columnValues(checkpointTable, cp)...)
			return err
		},
		func(got, want *registry.AuditCheckpoint) bool { return got.JWS == want.JWS })
}
