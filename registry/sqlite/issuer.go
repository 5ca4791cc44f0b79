package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/skillreg/skillreg/registry"
)

// CreateIssuer stores a new issuer. ECONFLICT if its ID exists.
func (s *Store) CreateIssuer(ctx context.Context, is *registry.Issuer) error {
	scope, err := json.Marshal(is.Scope)
	if err != nil {
		return internal(err, "encode scope of issuer %s", is.ID)
	}
	_, err = s.write.ExecContext(ctx, `
		INSERT INTO issuers (id, name, kind, org_code, province, site, scope, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		is.ID, is.Name, is.Kind, is.OrgCode, is.Province, is.Site, string(scope), formatTime(is.CreatedAt))
	switch {
	case isUnique(err):
		return registry.Errorf(registry.ECONFLICT, "issuer %s already exists", is.ID)
	case err != nil:
		return internal(err, "create issuer %s", is.ID)
	}
	return nil
}

const issuerColumns = `id, name, kind, org_code, province, site, scope, created_at`

// Issuer returns one issuer. ENOTFOUND if there is none.
func (s *Store) Issuer(ctx context.Context, id string) (*registry.Issuer, error) {
	row := s.readRow(ctx, `SELECT `+issuerColumns+` FROM issuers WHERE id = ?`, id)
	is, err := scanIssuer(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "no issuer %s", id)
	case err != nil:
		return nil, internal(err, "read issuer %s", id)
	}
	return is, nil
}

// Issuers lists all issuers ordered by ID.
func (s *Store) Issuers(ctx context.Context) ([]*registry.Issuer, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+issuerColumns+` FROM issuers ORDER BY id`)
	if err != nil {
		return nil, internal(err, "list issuers")
	}
	defer rows.Close()
	var list []*registry.Issuer
	for rows.Next() {
		is, err := scanIssuer(rows)
		if err != nil {
			return nil, internal(err, "list issuers")
		}
		list = append(list, is)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list issuers")
	}
	return list, nil
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

func scanIssuer(r scanner) (*registry.Issuer, error) {
	var (
		is             registry.Issuer
		scope, created string
	)
	if err := r.Scan(&is.ID, &is.Name, &is.Kind, &is.OrgCode, &is.Province, &is.Site, &scope, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scope), &is.Scope); err != nil {
		return nil, err
	}
	var err error
	if is.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &is, nil
}
