package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// TestAuditAppendRestoresFullSync: an audit append commits with
// synchronous=NORMAL, and the write connection is back at FULL afterwards,
// also after a failed append, so certificates never commit without a
// flush.
func TestAuditAppendRestoresFullSync(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	check := func(when string) { t.Helper(); checkFullSync(t, s, when) }
	if err := s.AppendAudit(ctx, &registry.AuditEntry{Time: time.Now(), Event: "test", Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	check("after an append")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.AppendAudit(cancelled, &registry.AuditEntry{Time: time.Now(), Event: "test", Actor: "t"}); err == nil {
		t.Fatal("append with a cancelled context succeeded")
	}
	check("after a failed append")
	if _, err := s.write.ExecContext(ctx, `DROP TABLE audit_log`); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, &registry.AuditEntry{Time: time.Now(), Event: "test", Actor: "t"}); err == nil {
		t.Fatal("append without its table succeeded")
	}
	check("after an append that failed inside its transaction")
}

// TestStatsStepsRestoreFullSync: the statistics steps commit with
// synchronous=NORMAL (see inStatsTx) and must leave the write connection
// at FULL, which certificates rely on, whether they succeed or fail.
func TestStatsStepsRestoreFullSync(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	check := func(when string) { t.Helper(); checkFullSync(t, s, when) }
	mark := &registry.StatsMark{ID: "m1", Hash: "h1", At: time.Now()}
	if err := s.PutStatsMarks(ctx, mark); err != nil {
		t.Fatal(err)
	}
	check("after a stats step")
	if _, err := s.write.ExecContext(ctx, `DROP TABLE stats_marks`); err != nil {
		t.Fatal(err)
	}
	if err := s.PutStatsMarks(ctx, mark); err == nil {
		t.Fatal("a stats step without its table succeeded")
	}
	check("after a stats step that failed inside its transaction")
}

// checkFullSync fails t unless the write connection is at
// synchronous=FULL.
func checkFullSync(t *testing.T, s *Store, when string) {
	t.Helper()
	var got int
	if err := s.write.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&got); err != nil || got != 2 {
		t.Fatalf("%s: write connection synchronous = %d (%v), want 2 (FULL)", when, got, err)
	}
}
