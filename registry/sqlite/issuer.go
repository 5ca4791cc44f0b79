package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// issuerTable is the issuers table as the store reads and writes it.
var issuerTable = []column[registry.Issuer]{
	textColumn("id", func(is *registry.Issuer) *string { return &is.ID }),
	textColumn("name", func(is *registry.Issuer) *string { return &is.Name }),
	textColumn("kind", func(is *registry.Issuer) *string { return &is.Kind }),
	textColumn("org_code", func(is *registry.Issuer) *string { return &is.OrgCode }),
	textColumn("province", func(is *registry.Issuer) *string { return &is.Province }),
	textColumn("site", func(is *registry.Issuer) *string { return &is.Site }),
	jsonColumn("scope", func(is *registry.Issuer) *registry.Scope { return &is.Scope }),
	timeColumn("created_at", func(is *registry.Issuer) *time.Time { return &is.CreatedAt }),
}

var (
	issuerColumns = columnNames(issuerTable)
	insertIssuer  = `INSERT INTO issuers (` + issuerColumns + `) VALUES (` + placeholders(issuerTable) + `)`
)

// CreateIssuer stores a new issuer. ECONFLICT if its ID exists.
func (s *Store) CreateIssuer(ctx context.Context, is *registry.Issuer) error {
	_, err := s.write.ExecContext(ctx, insertIssuer, columnValues(issuerTable, is)...)
	switch {
	case isUnique(err):
		return registry.Errorf(registry.ECONFLICT, "issuer %s already exists", is.ID)
	case err != nil:
		return internal(err, "create issuer %s", is.ID)
	}
	return nil
}

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
	return scanColumns(issuerTable, r)
}
