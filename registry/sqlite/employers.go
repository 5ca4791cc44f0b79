package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// This file holds what employers' verification stores: status-list indexes
// of certificates and API keys.

// statusIndexTaken is the error for an index another certificate has.
func statusIndexTaken(idx int) error {
	return &registry.Error{Code: registry.ECONFLICT, Field: "status_index", Message: "another certificate has this status index"}
}

// SetStatusIndex gives a certificate without a status index the index idx.
func (s *Store) SetStatusIndex(ctx context.Context, number string, idx int) error {
	if idx <= 0 {
		return registry.FieldError("status_index", "a status index is positive")
	}
	res, err := s.write.ExecContext(ctx,
		`UPDATE certificates SET status_index = ? WHERE number = ? AND status_index IS NULL`, idx, number)
	if isUnique(err) {
		return statusIndexTaken(idx)
	}
	if err != nil {
		return internal(err, "set the status index of %s", number)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var have sql.NullInt64
	err = s.write.QueryRowContext(ctx, `SELECT status_index FROM certificates WHERE number = ?`, number).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Errorf(registry.ENOTFOUND, "no certificate %s", number)
	case err != nil:
		return internal(err, "read the status index of %s", number)
	}
	return registry.Errorf(registry.ECONFLICT, "certificate %s already has status index %d", number, have.Int64)
}

// CertificatesWithoutStatusIndex returns up to limit numbers of
// certificates that have no status index (the unique index finds NULLs).
func (s *Store) CertificatesWithoutStatusIndex(ctx context.Context, limit int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT number FROM certificates WHERE status_index IS NULL LIMIT ?`, limit)
	if err != nil {
		return nil, internal(err, "list certificates without a status index")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, internal(err, "list certificates without a status index")
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list certificates without a status index")
	}
	return out, nil
}

// MaxStatusIndex returns the highest status index in use, 0 if none.
func (s *Store) MaxStatusIndex(ctx context.Context) (int, error) {
	var m sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT max(status_index) FROM certificates`).Scan(&m); err != nil {
		return 0, internal(err, "read the highest status index")
	}
	return int(m.Int64), nil
}

// RevokedStatusIndexes reads the partial index of revoked certificates.
func (s *Store) RevokedStatusIndexes(ctx context.Context) ([]int, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT status_index FROM certificates WHERE status = 'revoked' AND status_index IS NOT NULL`)
	if err != nil {
		return nil, internal(err, "list revoked status indexes")
	}
	defer rows.Close()
	out := []int{}
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, internal(err, "list revoked status indexes")
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list revoked status indexes")
	}
	return out, nil
}

// apiKeyTable is the api_keys table as the store reads and writes it.
var apiKeyTable = []column[registry.APIKey]{
	textColumn("id", func(k *registry.APIKey) *string { return &k.ID }),
	textColumn("name", func(k *registry.APIKey) *string { return &k.Name }),
	textColumn("hash", func(k *registry.APIKey) *string { return &k.Hash }),
	textColumn("hint", func(k *registry.APIKey) *string { return &k.Hint }),
	intColumn("rate_per_minute", func(k *registry.APIKey) *int { return &k.RatePerMinute }),
	textColumn("created_by", func(k *registry.APIKey) *string { return &k.CreatedBy }),
	timeColumn("created_at", func(k *registry.APIKey) *time.Time { return &k.CreatedAt }),
	optionalTimeColumn("revoked_at", func(k *registry.APIKey) **time.Time { return &k.RevokedAt }),
}

var apiKeyColumns = columnNames(apiKeyTable)

// CreateAPIKey stores k. ECONFLICT if its ID or hash is taken.
func (s *Store) CreateAPIKey(ctx context.Context, k *registry.APIKey) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (`+placeholders(apiKeyTable)+`)`, columnValues(apiKeyTable, k)...)
	switch {
	case isUnique(err):
		return registry.Errorf(registry.ECONFLICT, "API key %s already exists", k.ID)
	case err != nil:
		return internal(err, "insert API key %s", k.ID)
	}
	return nil
}

// APIKeyByHash returns the key whose secret has the given hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*registry.APIKey, error) {
	k, err := scanAPIKey(s.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`, hash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "no such API key")
	case err != nil:
		return nil, internal(err, "read an API key")
	}
	return k, nil
}

// APIKeys returns every key, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]*registry.APIKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, internal(err, "list API keys")
	}
	defer rows.Close()
	out := []*registry.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, internal(err, "list API keys")
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list API keys")
	}
	return out, nil
}

// RevokeAPIKey marks a key revoked; the update is conditional, so of two
// concurrent revocations one wins and the other is ECONFLICT.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) (*registry.APIKey, error) {
	k, err := scanAPIKey(s.write.QueryRowContext(ctx,
		`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING `+apiKeyColumns,
		formatTime(at), id))
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := s.write.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE id = ?`, id).Scan(&n); err != nil {
			return nil, internal(err, "revoke API key %s", id)
		}
		if n == 0 {
			return nil, registry.Errorf(registry.ENOTFOUND, "no API key %s", id)
		}
		return nil, registry.Errorf(registry.ECONFLICT, "API key %s is already revoked", id)
	}
	if err != nil {
		return nil, internal(err, "revoke API key %s", id)
	}
	return k, nil
}

func scanAPIKey(r scanner) (*registry.APIKey, error) {
	return scanColumns(apiKeyTable, r)
}
