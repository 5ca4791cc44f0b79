package registry

import (
	"context"

	"golang.org/x/crypto/bcrypt"
)

// ResetPassword gives the user username a new password. Admin only.
// EINVALID for a password that breaks the password rules, ENOTFOUND for
// an unknown user. Login tokens issued before stay valid until they
// expire.
func (r *Registry) ResetPassword(ctx context.Context, actor *User, username, password string) error {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	ps, ok := r.store.(UserPasswordStore)
	if !ok {
		return Errorf(EINTERNAL, "this store cannot change passwords")
	}
	u, err := r.store.UserByUsername(ctx, username)
	if err != nil {
		return err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return err
	}
	if err := ps.SetUserPassword(ctx, u.ID, string(h)); err != nil {
		return err
	}
	r.audit(ctx, "user.password_reset", actor, "user", u.Username)
	return nil
}
