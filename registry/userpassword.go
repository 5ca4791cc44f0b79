package registry

import "context"

// ResetPasswordByName is ResetPassword for the user called username (the
// `skillreg users reset-password` command). Admin only; it ends the user's
// tokens and sessions like ResetPassword. EINVALID for a password that
// breaks the password rules, ENOTFOUND for an unknown user.
func (r *Registry) ResetPasswordByName(ctx context.Context, actor *User, username, password string) error {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return err
	}
	u, err := r.store.UserByUsername(ctx, username)
	if err != nil {
		return err
	}
	_, err = r.ResetPassword(ctx, actor, u.ID, password)
	return err
}
