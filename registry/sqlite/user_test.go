package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// TestUsernameKeyUpgrade: a database made before usernames were unique
// regardless of case, holding admin and Admin, opens; the older keeps its
// name (found under any case), the younger is disabled with its tokens
// ended, and a third user of that name cannot be created.
func TestUsernameKeyUpgrade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	// The database as it was just before the migration that keys usernames.
	accounts := slices.IndexFunc(migrations, func(m string) bool { return strings.Contains(m, "ADD COLUMN username_key") })
	if accounts < 0 {
		t.Fatal("no migration adds username_key")
	}
	stmts := []string{`CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT`}
	for i := 0; i < accounts; i++ {
		stmts = append(stmts, migrations[i], fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, i+1))
	}
	stmts = append(stmts,
		`INSERT INTO users VALUES ('u2', 'Admin', 'h2', 'admin', NULL, '', '2024-01-02T00:00:00.000000000Z')`,
		`INSERT INTO users VALUES ('u1', 'admin', 'h1', 'admin', NULL, '', '2024-01-01T00:00:00.000000000Z')`,
		`INSERT INTO users VALUES ('u3', 'clerk', 'h3', 'official', NULL, '44', '2024-01-03T00:00:00.000000000Z')`)
	for _, stmt := range stmts {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%.60s: %v", stmt, err)
		}
	}
	db.Close()

	st, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("opening the old database: %v", err)
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
	if u, err := st.UserByUsername(ctx, "CLERK"); err != nil || u.ID != "u3" || u.Disabled {
		t.Errorf("UserByUsername(CLERK) = %+v, %v", u, err)
	}
	err = st.CreateUser(ctx, &registry.User{ID: "u4", Username: "aDmin", PasswordHash: "x", Role: registry.RoleAdmin})
	if registry.ErrorCode(err) != registry.ECONFLICT {
		t.Errorf("CreateUser(aDmin) after the upgrade: %v, want ECONFLICT", err)
	}
	// The younger account can be deleted by the admin, freeing nothing
	// that the older one holds.
	if err := st.DeleteUser(ctx, "u2"); err != nil {
		t.Fatal(err)
	}
}
