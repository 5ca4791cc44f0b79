package sqlite

import (
	"context"

	"github.com/skillreg/skillreg/registry"
)

// This file lets `skillreg migrate` read everything out of an embedded
// store, beyond what registry.Store offers, and check the copy afterwards.

// Counts returns the number of records per kind: issuers, users,
// signing_keys, serials (number prefixes in use), certificates,
// external_refs (certificates with an external_ref), training_records,
// api_keys and plans. The MongoDB store's Counts uses the same names.
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	queries := map[string]string{
		"issuers":          `SELECT count(*) FROM issuers`,
		"users":            `SELECT count(*) FROM users`,
		"signing_keys":     `SELECT count(*) FROM signing_keys`,
		"serials":          `SELECT count(*) FROM serials`,
		"certificates":     `SELECT count(*) FROM certificates`,
		"external_refs":    `SELECT count(*) FROM certificates WHERE external_ref <> ''`,
		"training_records": `SELECT count(*) FROM training_records`,
		"api_keys":         `SELECT count(*) FROM api_keys`,
		"plans":            `SELECT count(*) FROM stats_plans`,
	}
	out := make(map[string]int64, len(queries))
	for name, q := range queries {
		var n int64
		if err := s.read.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return nil, internal(err, "count %s", name)
		}
		out[name] = n
	}
	return out, nil
}

// Users returns every user ordered by ID.
func (s *Store) Users(ctx context.Context) ([]*registry.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, internal(err, "list users")
	}
	defer rows.Close()
	var list []*registry.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, internal(err, "list users")
		}
		list = append(list, u)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list users")
	}
	return list, nil
}

// Serials returns the last serial handed out per number prefix.
func (s *Store) Serials(ctx context.Context) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT prefix, last FROM serials`)
	if err != nil {
		return nil, internal(err, "list serials")
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			prefix string
			last   int
		)
		if err := rows.Scan(&prefix, &last); err != nil {
			return nil, internal(err, "list serials")
		}
		out[prefix] = last
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list serials")
	}
	return out, nil
}

// CertificatesAfter returns up to limit certificates whose numbers sort
// after the given one, in number order: keyset pagination on the primary
// key, so that a copy can walk the whole table in batches and resume from
// the last number it saw.
func (s *Store) CertificatesAfter(ctx context.Context, after string, limit int) ([]*registry.Certificate, error) {
	list, err := queryCertificates(ctx, s.read,
		`SELECT `+certificateColumns+` FROM certificates WHERE number > ? ORDER BY number LIMIT ?`, after, limit)
	if err != nil {
		return nil, internal(err, "list certificates after %q", after)
	}
	return list, nil
}

// TrainingRecordsAfter returns up to limit training records whose IDs sort
// after the given one, in ID order (keyset pagination on the primary key).
func (s *Store) TrainingRecordsAfter(ctx context.Context, after string, limit int) ([]*registry.TrainingRecord, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+trainingColumns+` FROM training_records WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, internal(err, "list training records after %q", after)
	}
	defer rows.Close()
	var list []*registry.TrainingRecord
	for rows.Next() {
		r, err := scanTraining(rows)
		if err != nil {
			return nil, internal(err, "list training records after %q", after)
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list training records after %q", after)
	}
	return list, nil
}
