package mongo

import (
	"context"
	"net/url"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
)

// TestUsernameKeyUpgrade: users stored before usernames were unique
// regardless of case (no username_key, admin and Admin both present) get
// their keys at Open: the older keeps the name, the younger is disabled
// with its tokens ended; then the unique index holds.
func TestUsernameKeyUpgrade(t *testing.T) {
	uri := freshURI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a hang guard only
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	s := newStore(client, dbNameOf(t, uri))
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []bson.D{
		{{Key: "_id", Value: "u2"}, {Key: "username", Value: "Admin"}, {Key: "password_hash", Value: "h2"}, {Key: "role", Value: "admin"}, {Key: "created_at", Value: at.Add(time.Hour)}},
		{{Key: "_id", Value: "u1"}, {Key: "username", Value: "admin"}, {Key: "password_hash", Value: "h1"}, {Key: "role", Value: "admin"}, {Key: "created_at", Value: at}},
		{{Key: "_id", Value: "u3"}, {Key: "username", Value: "clerk"}, {Key: "password_hash", Value: "h3"}, {Key: "role", Value: "official"}, {Key: "province", Value: "44"}, {Key: "created_at", Value: at}},
	} {
		if _, err := s.users.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	st, err := Open(ctx, uri)
	if err != nil {
		t.Fatalf("Open over the old users: %v", err)
	}
	defer st.Close()
	for _, name := range []string{"admin", "ADMIN", "Admin"} {
		if u, err := st.UserByUsername(ctx, name); err != nil || u.ID != "u1" || u.Disabled || u.TokenVersion != 0 {
			t.Errorf("UserByUsername(%s) = %+v, %v; want the older admin, enabled", name, u, err)
		}
	}
	if u, err := st.UserByID(ctx, "u2"); err != nil || !u.Disabled || u.TokenVersion != 1 || u.Username != "Admin" {
		t.Errorf("the younger Admin = %+v, %v; want it disabled with its tokens ended", u, err)
	}
	if u, err := st.UserByUsername(ctx, "CLERK"); err != nil || u.ID != "u3" {
		t.Errorf("UserByUsername(CLERK) = %+v, %v", u, err)
	}
	err = st.CreateUser(ctx, &registry.User{ID: "u4", Username: "aDmin", PasswordHash: "x", Role: registry.RoleAdmin, CreatedAt: at})
	if registry.ErrorCode(err) != registry.ECONFLICT {
		t.Errorf("CreateUser(aDmin) after the upgrade: %v, want ECONFLICT", err)
	}
	// A second Open (another server starting) changes nothing.
	st2, err := Open(ctx, uri)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer st2.Close()
	if u, err := st2.UserByID(ctx, "u2"); err != nil || u.TokenVersion != 1 {
		t.Errorf("after a second Open the younger Admin = %+v, %v", u, err)
	}
}

// dbNameOf returns the database named in a test URI's path.
func dbNameOf(t *testing.T, uri string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || len(u.Path) < 2 {
		t.Fatalf("no database in %q", uri)
	}
	return u.Path[1:]
}
