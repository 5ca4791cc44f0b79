package storetest

import (
	"context"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// testUserPassword: a store that can change passwords replaces the hash of
// that user only, and answers ENOTFOUND for an unknown id.
func testUserPassword(t *testing.T, s registry.Store) {
	ps, ok := s.(registry.UserPasswordStore)
	if !ok {
		t.Fatalf("%T does not implement registry.UserPasswordStore", s)
	}
	ctx := context.Background()
	for _, u := range []*registry.User{
		{ID: "u1", Username: "admin", PasswordHash: "$2a$old1", Role: registry.RoleAdmin, CreatedAt: at(1)},
		{ID: "u2", Username: "official-44", PasswordHash: "$2a$old2", Role: registry.RoleOfficial, Province: "44", CreatedAt: at(2)},
	} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Username, err)
		}
	}
	if err := ps.SetUserPassword(ctx, "u1", "$2a$new1"); err != nil {
		t.Fatalf("SetUserPassword: %v", err)
	}
	if u, err := s.UserByUsername(ctx, "admin"); err != nil || u.PasswordHash != "$2a$new1" {
		t.Fatalf("admin after the reset: %+v, %v", u, err)
	}
	if u, err := s.UserByID(ctx, "u2"); err != nil || u.PasswordHash != "$2a$old2" {
		t.Fatalf("the other user after the reset: %+v, %v", u, err)
	}
	if err := ps.SetUserPassword(ctx, "nobody", "$2a$x"); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Fatalf("SetUserPassword of an unknown id: %v, want ENOTFOUND", err)
	}
}
