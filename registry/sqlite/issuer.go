package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
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
	scopeColumn("scope", func(is *registry.Issuer) *registry.Scope { return &is.Scope }),
	timeColumn("created_at", func(is *registry.Issuer) *time.Time { return &is.CreatedAt }),
}

// scopeRow is an issuer's scope as the scope column stores it: JSON with
// these keys, which existing databases hold.
type scopeRow struct {
	Occupations []string `json:"occupations"`
	MaxLevel    int      `json:"max_level"`
}

// scopeColumn stores a Scope as TEXT holding a scopeRow's JSON.
func scopeColumn(name string, field func(*registry.Issuer) *registry.Scope) column[registry.Issuer] {
	return column[registry.Issuer]{
		name: name,
		value: func(is *registry.Issuer) any {
			sc := field(is)
			// A struct of strings and an int always encodes.
			b, _ := json.Marshal(scopeRow{Occupations: sc.Occupations, MaxLevel: int(sc.MaxLevel)})
			return string(b)
		},
		dest: func(is *registry.Issuer) (any, func() error) {
			var s string
			return &s, func() error {
				var r scopeRow
				if err := json.Unmarshal([]byte(s), &r); err != nil {
					return err
				}
				*field(is) = registry.Scope{Occupations: r.Occupations, MaxLevel: registry.Level(r.MaxLevel)}
				return nil
			}
		},
	}
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
