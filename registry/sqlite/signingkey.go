package sqlite

import (
	"context"

	"github.com/skillreg/skillreg/registry"
)

// CreateSigningKey stores a key. If k.Active, every other key stops being
// active in the same transaction, so readers see exactly one active key
// before and after. ECONFLICT if a key with k.ID exists.
func (s *Store) CreateSigningKey(ctx context.Context, k *registry.SigningKey) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(err, "begin storing signing key %s", k.ID)
	}
	defer rollback(tx)
	if k.Active {
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET active = 0 WHERE active = 1`); err != nil {
			return internal(err, "retire active signing key")
		}
	}
	active := 0
	if k.Active {
		active = 1
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO signing_keys (id, algorithm, public, sealed, active, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, nonNil(k.Public), nonNil(k.Sealed), active, formatTime(k.CreatedAt))
	switch {
	case isUnique(err):
		return registry.Errorf(registry.ECONFLICT, "signing key %s already exists", k.ID)
	case err != nil:
		return internal(err, "store signing key %s", k.ID)
	}
	if err := tx.Commit(); err != nil {
		return internal(err, "commit signing key %s", k.ID)
	}
	return nil
}

// SigningKeys returns every key, oldest first (ties in insertion order).
func (s *Store) SigningKeys(ctx context.Context) ([]*registry.SigningKey, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT id, algorithm, public, sealed, active, created_at FROM signing_keys ORDER BY created_at, rowid`)
	if err != nil {
		return nil, internal(err, "list signing keys")
	}
	defer rows.Close()
	var keys []*registry.SigningKey
	for rows.Next() {
		var (
			k       registry.SigningKey
			active  int
			created string
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Public, &k.Sealed, &active, &created); err != nil {
			return nil, internal(err, "list signing keys")
		}
		k.Active = active == 1
		if k.CreatedAt, err = parseTime(created); err != nil {
			return nil, internal(err, "list signing keys")
		}
		if len(k.Public) == 0 {
			k.Public = nil
		}
		if len(k.Sealed) == 0 {
			k.Sealed = nil
		}
		keys = append(keys, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list signing keys")
	}
	return keys, nil
}

// nonNil turns a nil slice into an empty one for a NOT NULL BLOB column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
