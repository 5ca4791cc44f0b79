package registry_test

import (
	"context"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// TestResetPassword: an admin gives a user a new password, which then logs
// in while the old one does not; other roles are refused, the password
// rules hold, and an unknown user is ENOTFOUND.
func TestResetPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.reg.EnsureAdmin(ctx, "first-password-1"); err != nil {
		t.Fatal(err)
	}
	official, err := f.reg.CreateUser(ctx, f.admin, registry.UserInput{Username: "gd-official", Password: "official-pass-12", Role: registry.RoleOfficial, Province: "44"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.reg.ResetPasswordByName(ctx, official, "admin", "taken-over-123"); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Fatalf("an official reset the admin's password: %v", err)
	}
	if err := f.reg.ResetPasswordByName(ctx, f.admin, "admin", "short"); registry.ErrorCode(err) != registry.EINVALID {
		t.Fatalf("a 5-character password: %v, want EINVALID", err)
	}
	if err := f.reg.ResetPasswordByName(ctx, f.admin, "nobody", "change-me-please"); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Fatalf("an unknown user: %v, want ENOTFOUND", err)
	}
	if err := f.reg.ResetPasswordByName(ctx, f.admin, "admin", "change-me-please"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Authenticate(ctx, "admin", "change-me-please"); err != nil {
		t.Fatalf("the new password does not log in: %v", err)
	}
	if _, err := f.reg.Authenticate(ctx, "admin", "first-password-1"); registry.ErrorCode(err) != registry.EUNAUTHORIZED {
		t.Fatalf("the old password still logs in: %v", err)
	}
	if _, err := f.reg.Authenticate(ctx, "gd-official", "official-pass-12"); err != nil {
		t.Fatalf("another user's password changed: %v", err)
	}
}
