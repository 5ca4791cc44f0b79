package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// CreateUser stores a new user. ECONFLICT if the username (whatever its
// case) or the ID is taken, EINVALID if IssuerID names no stored issuer.
func (s *Store) CreateUser(ctx context.Context, u *registry.User) error {
	_, err := s.write.ExecContext(ctx, insertUser, userValues(u)...)
	switch {
	case isUnique(err) && (strings.Contains(err.Error(), "users.username") || strings.Contains(err.Error(), "users_username_key")):
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

// userTable is the users table as the store reads and writes it.
// username_key is the username regardless of case (registry.UsernameKey),
// unique.
var userTable = []column[registry.User]{
	textColumn("id", func(u *registry.User) *string { return &u.ID }),
	textColumn("username", func(u *registry.User) *string { return &u.Username }),
	derivedColumn("username_key", func(u *registry.User) any { return registry.UsernameKey(u.Username) }),
	textColumn("password_hash", func(u *registry.User) *string { return &u.PasswordHash }),
	textColumn("role", func(u *registry.User) *string { return &u.Role }),
	optionalTextColumn("issuer_id", func(u *registry.User) *string { return &u.IssuerID }), // NULL, not "", so that the foreign key holds
	textColumn("province", func(u *registry.User) *string { return &u.Province }),
	boolColumn("disabled", func(u *registry.User) *bool { return &u.Disabled }),
	intColumn("token_version", func(u *registry.User) *int64 { return &u.TokenVersion }),
	timeColumn("created_at", func(u *registry.User) *time.Time { return &u.CreatedAt }),
}

var (
	userColumns = columnNames(userTable)
	insertUser  = `INSERT INTO users (` + userColumns + `) VALUES (` + placeholders(userTable) + `)`
)

// userValues returns the arguments of insertUser for u.
func userValues(u *registry.User) []any { return columnValues(userTable, u) }

// UserByUsername returns the user whose name is username regardless of
// case. ENOTFOUND if there is none.
func (s *Store) UserByUsername(ctx context.Context, username string) (*registry.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username_key = ?`, registry.UsernameKey(username)))
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
	return s.userByID(ctx, s.read, id)
}

func (s *Store) userByID(ctx context.Context, q rowQuerier, id string) (*registry.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "no user with id %s", id)
	case err != nil:
		return nil, internal(err, "read user with id %s", id)
	}
	return u, nil
}

// SetUserDisabled sets disabled and raises the token version in one
// statement. ENOTFOUND if there is no such user.
func (s *Store) SetUserDisabled(ctx context.Context, id string, disabled bool) (*registry.User, error) {
	return s.updateUser(ctx, id, `UPDATE users SET disabled = ?, token_version = token_version + 1 WHERE id = ?`, disabled, id)
}

// SetUserPassword sets the password hash and raises the token version in
// one statement. ENOTFOUND if there is no such user.
func (s *Store) SetUserPassword(ctx context.Context, id, passwordHash string) (*registry.User, error) {
	return s.updateUser(ctx, id, `UPDATE users SET password_hash = ?, token_version = token_version + 1 WHERE id = ?`, passwordHash, id)
}

// updateUser runs one UPDATE of a user and reads the user back in the same
// transaction.
func (s *Store) updateUser(ctx context.Context, id, query string, args ...any) (*registry.User, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, internal(err, "update user %s", id)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, internal(err, "update user %s", id)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, registry.Errorf(registry.ENOTFOUND, "no user with id %s", id)
	}
	u, err := s.userByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, internal(err, "update user %s", id)
	}
	return u, nil
}

// DeleteUser deletes a user. ENOTFOUND if there is none.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return internal(err, "delete user %s", id)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return registry.Errorf(registry.ENOTFOUND, "no user with id %s", id)
	}
	return nil
}

func scanUser(r scanner) (*registry.User, error) {
	return scanColumns(userTable, r)
}
