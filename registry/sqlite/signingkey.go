package sqlite

import (
	"context"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// signingKeyTable is the signing_keys table as the store reads and writes
// it.
var signingKeyTable = []column[registry.SigningKey]{
	textColumn("id", func(k *registry.SigningKey) *string { return &k.ID }),
	textColumn("algorithm", func(k *registry.SigningKey) *string { return &k.Algorithm }),
	blobColumn("public", func(k *registry.SigningKey) *[]byte { return &k.Public }),
	blobColumn("sealed", func(k *registry.SigningKey) *[]byte { return &k.Sealed }),
	boolColumn("active", func(k *registry.SigningKey) *bool { return &k.Active }),
	timeColumn("created_at", func(k *registry.SigningKey) *time.Time { return &k.CreatedAt }),
}

var (
	signingKeyColumns = columnNames(signingKeyTable)
	insertSigningKey  = `INSERT INTO signing_keys (` + signingKeyColumns + `) VALUES (` + placeholders(signingKeyTable) + `)`
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
	_, err = tx.ExecContext(ctx, insertSigningKey, columnValues(signingKeyTable, k)...)
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
	rows, err := s.read.QueryContext(ctx, `SELECT `+signingKeyColumns+` FROM signing_keys ORDER BY created_at, rowid`)
	if err != nil {
		return nil, internal(err, "list signing keys")
	}
	defer rows.Close()
	var keys []*registry.SigningKey
	for rows.Next() {
		k, err := scanColumns(signingKeyTable, rows)
		if err != nil {
			return nil, internal(err, "list signing keys")
		}
		keys = append(keys, k)
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
