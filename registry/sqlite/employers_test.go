package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStatusIndexSchemaUpgrade: a database made before status lists (the
// first schema only) opens, gains the column, and its certificates read
// back without an index until one is set.
func TestStatusIndexSchemaUpgrade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT`,
		migrations[0],
		`INSERT INTO schema_version (version) VALUES (1)`,
		`INSERT INTO issuers VALUES ('S000111000001', '机构', 'S', '0001', '11', '000001', '{"occupations":["6-18"],"max_level":2}', '2024-01-01T00:00:00.000000000Z')`,
		`INSERT INTO certificates VALUES ('S000111000001243000001', 'S000111000001', '张三', '110105********002X', 'h', x'00', '6-18-01-01', 3, 'social', '2024-01-01', '', 'valid', NULL, '', 'k', '2024-01-01T00:00:00.000000000Z')`,
	} {
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
	c, err := st.Certificate(ctx, "S000111000001243000001")
	if err != nil || c.StatusIndex != 0 || c.HolderName != "张三" {
		t.Fatalf("old certificate after the upgrade: %+v %v", c, err)
	}
	if n, _ := st.CertificatesWithoutStatusIndex(ctx, 10); !slices.Equal(n, []string{c.Number}) {
		t.Fatalf("CertificatesWithoutStatusIndex = %v", n)
	}
	if err := st.SetStatusIndex(ctx, c.Number, 12345); err != nil {
		t.Fatal(err)
	}
	if c, _ := st.Certificate(ctx, c.Number); c.StatusIndex != 12345 {
		t.Fatalf("index after SetStatusIndex: %d", c.StatusIndex)
	}
}

// TestStatusQueriesUseIndexes: the trust bundle's revoked-index read and
// the migration's "no index yet" read use their indexes, not a scan of
// every certificate.
func TestStatusQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for query, index := range map[string]string{
		`SELECT status_index FROM certificates WHERE status = 'revoked' AND status_index IS NOT NULL`: "certificates_revoked_status_index",
		`SELECT number FROM certificates WHERE status_index IS NULL LIMIT 10`:                         "certificates_status_index",
		`SELECT max(status_index) FROM certificates`:                                                  "certificates_status_index",
	} {
		if joined := queryPlan(t, st, query); !strings.Contains(joined, index) {
			t.Errorf("%s: plan %q does not use %s", query, joined, index)
		}
	}
}
