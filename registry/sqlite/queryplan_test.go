package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestExternalRefLookupUsesIndex: the external_ref lookup must use the
// partial unique index, not scan the issuer's certificates; SQLite uses a
// partial index only when the query repeats its condition.
func TestExternalRefLookupUsesIndex(t *testing.T) {
	t.Parallel()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	joined := queryPlan(t, st, `SELECT number FROM certificates WHERE `+externalRefWhere, "S000111000001", "ref")
	if !strings.Contains(joined, "external_ref") || strings.Contains(joined, "issuer_created") {
		t.Fatalf("the external_ref lookup does not use its index: %s", joined)
	}
	t.Log(joined)
}

// queryPlan returns SQLite's plan for query, its steps joined by "; ".
func queryPlan(t *testing.T, st *Store, query string, args ...any) string {
	t.Helper()
	rows, err := st.read.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
