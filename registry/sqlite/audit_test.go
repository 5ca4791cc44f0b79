package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
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
	mark := &stats.Mark{ID: "m1", Hash: "h1", At: time.Now()}
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

// TestCreateCertificateAudited: the audit entry commits in the
// certificate's transaction, carrying its number and linked to the head;
// an insert that fails appends nothing, and neither does an external_ref
// that already has its certificate.
func TestCreateCertificateAudited(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const id = "S000011000001"
	prefix := registry.NumberPrefix(id, 2024, 3)
	if err := s.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, &registry.AuditEntry{Time: time.Now(), Event: "first", Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	entry := func() *registry.AuditEntry {
		return &registry.AuditEntry{Time: time.Now(), Event: "certificate.issued", Actor: "t", Attrs: map[string]string{"issuer": id}}
	}
	c := testCert(id, 1)
	c.ExternalRef = "ref-1"
	if created, err := s.CreateCertificateAudited(ctx, prefix, c, entry()); err != nil || !created {
		t.Fatalf("CreateCertificateAudited = %v, %v", created, err)
	}
	again := testCert(id, 2)
	again.ExternalRef = "ref-1"
	if created, err := s.CreateCertificateAudited(ctx, prefix, again, entry()); err != nil || created {
		t.Fatalf("the same external_ref again = %v, %v; want the stored certificate", created, err)
	}
	bad := testCert(id, 3)
	bad.Status = "lost" // refused by the CHECK constraint
	if _, err := s.CreateCertificateAudited(ctx, prefix, bad, entry()); err == nil {
		t.Fatal("a refused certificate was stored")
	}
	entries, err := s.AuditEntries(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].Event != "certificate.issued" || entries[1].Attrs["number"] != c.Number ||
		entries[1].Attrs["issuer"] != id || entries[1].Prev != entries[0].Hash || entries[1].Hash != entries[1].ComputeHash() {
		t.Fatalf("audit log after the audited creates: %+v", entries)
	}
}
