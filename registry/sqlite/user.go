package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/skillreg/skillreg/registry"
)

// CreateUser stores a new user. ECONFLICT if the username (or the ID) is
// taken, EINVALID if IssuerID names no stored issuer.
func (s *Store) CreateUser(ctx context.Context, u *registry.User) error {
	var issuerID sql.NullString // NULL, not "", so that the foreign key holds
	if u.IssuerID != "" {
		issuerID = sql.NullString{String: u.IssuerID, Valid: true}
	}
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO users (id, username, password_hash, role, issuer_id, province, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.PasswordHash, u.Role, issuerID, u.Province, formatTime(u.CreatedAt))
	switch {
	case isUnique(err) && strings.Contains(err.Error(), "users.username"):
		return registry.Errorf(registry.ECONFLICT, "username %s is taken", u.Username)
	case isUnique(err):
		return registry.Errorf(registry.ECONFLICT, "user id %s already exists", u.ID)
	case isForeignKey(err):
		return registry.FieldError("issuer_id", "no issuer has the id %q", u.IssuerID)
	case err != nil:
		return internal(err, "create user %s", u.Username)
	}
	return nil
}

const userColumns = `id, username, password_hash, role, issuer_id, province, created_at`

// UserByUsername returns one user. ENOTFOUND if there is none.
func (s *Store) UserByUsername(ctx context.Context, username string) (*registry.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "no user %s", username)
	case err != nil:
		return nil, internal(err, "read user %s", username)
	}
	return u, nil
}

// UserByID returns one user. ENOTFOUND if there is none.
func (s *Store) UserByID(ctx context.Context, id string) (*registry.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "no user with id %s", id)
	case err != nil:
		return nil, internal(err, "read user with id %s", id)
	}
	return u, nil
}

func scanUser(r scanner) (*registry.User, error) {
	var (
		u        registry.User
		issuerID sql.NullString
		created  string
	)
	if err := r.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, &issuerID, &u.Province, &created); err != nil {
		return nil, err
	}
	u.IssuerID = issuerID.String
	var err error
	if u.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &u, nil
}

// SetUserPassword replaces the password hash of the user with this id.
// ENOTFOUND if there is none.
func (s *Store) SetUserPassword(ctx context.Context, id, passwordHash string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, id)
	if err != nil {
		return internal(err, "set the password of user %s", id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal(err, "set the password of user %s", id)
	} else if n == 0 {
		return registry.Errorf(registry.ENOTFOUND, "no user with id %s", id)
	}
	return nil
}
