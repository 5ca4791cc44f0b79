package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// chunkInputs is a chunk with a bit of everything: new people, one person
// twice (two levels), a refused row (out of scope) and a row whose
// external_ref names a certificate issued before the chunk.
func chunkInputs() []registry.IssueInput {
	in := func(who int, level registry.Level, ref string) registry.IssueInput {
		return registry.IssueInput{HolderName: "测试人", IDNumber: person(who), OccupationCode: "6-18-01-01", Level: level,
			Channel: registry.ChannelSocial, IssuedOn: "2012-01-01", ExternalRef: ref}
	}
	refused := in(6, 3, "")
	refused.OccupationCode = "1-01-00-01"
	return []registry.IssueInput{in(1, 3, "r1"), in(2, 4, "r2"), in(2, 2, "r3"), refused, in(3, 5, "before"), in(4, 1, "")}
}

// TestIssueMany: each input's outcome is what Issue would have said, the
// counters, token MACs and audit entries of the chunk are all written,
// and stats check finds no drift.
func TestIssueMany(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	before, _, err := w.reg.Issue(ctx, w.bj, chunkInputs()[4])
	if err != nil {
		t.Fatal(err)
	}
	head, err := w.store.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.reg.IssueMany(ctx, w.bj, chunkInputs())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 6 {
		t.Fatalf("%d outcomes", len(out))
	}
	for i, o := range out {
		switch i {
		case 3:
			if registry.ErrorCode(o.Err) != registry.EFORBIDDEN || o.Certificate != nil {
				t.Errorf("input %d: %+v, want EFORBIDDEN", i, o)
			}
		case 4:
			if o.Err != nil || o.Created || o.Certificate.Number != before.Number {
				t.Errorf("input %d: %+v, want the certificate issued before", i, o)
			}
		default:
			if o.Err != nil || !o.Created {
				t.Fatalf("input %d: %+v, want created", i, o)
			}
			tok, err := w.reg.Token(ctx, o.Certificate)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := w.store.Certificate(ctx, o.Certificate.Number)
			if err != nil || !w.vault.TokenMACMatches(tok, stored.TokenMAC) {
				t.Errorf("input %d: no MAC of its token stored (%v)", i, err)
			}
			if res, err := w.reg.Verify(ctx, tok); err != nil || res.Status != registry.VerifyValid {
				t.Errorf("input %d: Verify = %+v, %v", i, res, err)
			}
		}
	}
	entries, err := w.store.AuditEntries(ctx, head.Seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Fatalf("%d audit entries after the chunk, want 4", len(entries))
	}
	for i, e := range entries {
		want := []int{0, 1, 2, 5}[i]
		if e.Event != "certificate.issued" || e.Attrs["number"] != out[want].Certificate.Number {
			t.Errorf("audit entry %d: %s %v, want the issuance of input %d", i, e.Event, e.Attrs, want)
		}
	}
	requireNoDrift(t, w.reg)
	// Persons 1 (level 3), 2 (highest level 2), 3 (level 5), 4 (level 1).
	if got := levels(w.tiers(t, registry.StatsQuery{}).ByLevel); got != [5]int64{1, 1, 1, 0, 1} {
		t.Fatalf("levels %v", got)
	}
}

// TestIssueManyCrashAtEveryStep fails the chunk's counter upkeep at each
// step in turn, as if the process died there; recovery then brings the
// counters back and stats check finds no drift. Running the chunk again
// (the import's re-run) issues nothing twice.
func TestIssueManyCrashAtEveryStep(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"mark", "op", "verify", "apply", "holder", "delete", "release", "done"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			w := newStatsWorld(t)
			ctx := context.Background()
			w.issue(t, w.gd, 2, 4, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
			crash := errors.New("crash at " + step)
			registry.SetStatsFault(w.reg, func(s string) error {
				if s == step {
					return crash
				}
				return nil
			})
			out, err := w.reg.IssueMany(ctx, w.bj, chunkInputs())
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range out {
				// Only a failure before the writes fails the inputs (input 3
				// is refused either way).
				if i != 3 && (o.Err != nil) != (step == "mark") {
					t.Fatalf("input %d: %+v", i, o)
				}
			}
			registry.SetStatsFault(w.reg, nil)
			if _, err := w.reg.RecoverStats(ctx, 0); err != nil {
				t.Fatal(err)
			}
			requireNoDrift(t, w.reg)
			want := [5]int64{1, 1, 1, 0, 1}
			if step == "mark" {
				want = [5]int64{0, 0, 0, 1, 0} // only the certificate issued before
			}
			if got := levels(w.tiers(t, registry.StatsQuery{}).ByLevel); got != want {
				t.Fatalf("after recovery: %v, want %v", got, want)
			}
			again, err := w.reg.IssueMany(ctx, w.bj, chunkInputs())
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range again {
				if o.Created && step != "mark" && i != 5 {
					t.Errorf("re-run issued input %d again: %s", i, o.Certificate.Number)
				}
			}
			if _, err := w.reg.RecoverStats(ctx, 0); err != nil {
				t.Fatal(err)
			}
			requireNoDrift(t, w.reg)
		})
	}
}

// failingCreates is the real store whose certificate writes fail from the
// n-th on, as when the disk fails half way through a chunk.
type failingCreates struct {
	registry.Store
	n     int
	calls int
}

func (s *failingCreates) CreateCertificate(ctx context.Context, prefix string, c *registry.Certificate) (bool, error) {
	if s.calls++; s.calls >= s.n {
		return false, errors.New("disk failed")
	}
	return s.Store.CreateCertificate(ctx, prefix, c)
}

// issueFiveFailing issues five certificates, to five people, in one
// IssueMany through a registry over failing (the world's store with a
// failure planted), and returns the audit head before, the inputs and
// their outcomes.
func issueFiveFailing(t *testing.T, w *statsWorld, failing registry.Store) (*registry.AuditEntry, []registry.IssueInput, []registry.IssueOutcome) {
	t.Helper()
	ctx := context.Background()
	reg := registry.New(registry.Config{Store: failing, Tokens: verify.NewTokens(verify.KeyStore{Store: w.store, Vault: w.vault}.Source()),
		Vault: w.vault, Clock: func() time.Time { return w.now }})
	head, err := w.store.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ins []registry.IssueInput
	for who := range 5 {
		ins = append(ins, registry.IssueInput{HolderName: "测试人", IDNumber: person(10 + who), OccupationCode: "6-18-01-01",
			Level: 3, Channel: registry.ChannelSocial, IssuedOn: "2012-01-01"})
	}
	out, err := reg.IssueMany(ctx, w.bj, ins)
	if err != nil {
		t.Fatal(err)
	}
	return head, ins, out
}

// TestIssueManyStoreFailure: a store failure half way through a chunk
// leaves the inputs before it issued (with their audit entries and
// counters) and gives every later input the error; nothing is half done.
func TestIssueManyStoreFailure(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	head, _, out := issueFiveFailing(t, w, &failingCreates{Store: w.store, n: 3})
	for i, o := range out {
		if ok := i < 2; ok != (o.Err == nil && o.Created && o.Certificate != nil) || !ok && (o.Err == nil || o.Certificate != nil) {
			t.Fatalf("input %d: %+v", i, o)
		}
	}
	entries, err := w.store.AuditEntries(ctx, head.Seq, 100)
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d audit entries, %v; want 2", len(entries), err)
	}
	if _, err := w.reg.RecoverStats(ctx, 0); err != nil {
		t.Fatal(err)
	}
	requireNoDrift(t, w.reg)
	if got := levels(w.tiers(t, registry.StatsQuery{}).ByLevel); got != [5]int64{0, 0, 2, 0, 0} {
		t.Fatalf("levels %v", got)
	}
}

// failingChunk is the real store whose chunk transaction fails at its
// n-th certificate, as when the disk fails half way through a chunk.
type failingChunk struct {
	registry.Store
	n int
}

func (s *failingChunk) CreateCertificateChunk(ctx context.Context, fn func(registry.CertificateChunk) error) error {
	return s.Store.(registry.CertificateChunkCreator).CreateCertificateChunk(ctx, func(tx registry.CertificateChunk) error {
		return fn(&failingChunkTx{CertificateChunk: tx, n: s.n})
	})
}

type failingChunkTx struct {
	registry.CertificateChunk
	n, calls int
}

func (t *failingChunkTx) CreateCertificateAudited(ctx context.Context, prefix string, c *registry.Certificate, e *registry.AuditEntry) (bool, error) {
	if t.calls++; t.calls >= t.n {
		return false, errors.New("disk failed")
	}
	return t.CertificateChunk.CreateCertificateAudited(ctx, prefix, c, e)
}

// TestIssueManyChunkFailure: on a store that writes a chunk in one
// transaction, a store failure half way through it leaves nothing of the
// chunk (no certificate, audit entry or serial) and gives every input the
// error; the chunk issued again gets the serials from 1 on, with no gap.
func TestIssueManyChunkFailure(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	head, ins, out := issueFiveFailing(t, w, &failingChunk{Store: w.store, n: 3})
	for i, o := range out {
		if o.Err == nil || o.Certificate != nil || o.Created {
			t.Fatalf("input %d: %+v, want the store's error", i, o)
		}
	}
	if entries, err := w.store.AuditEntries(ctx, head.Seq, 100); err != nil || len(entries) != 0 {
		t.Fatalf("%d audit entries, %v; want none", len(entries), err)
	}
	if _, err := w.reg.RecoverStats(ctx, 0); err != nil {
		t.Fatal(err)
	}
	requireNoDrift(t, w.reg)
	out, err := w.reg.IssueMany(ctx, w.bj, ins)
	if err != nil {
		t.Fatal(err)
	}
	prefix := registry.NumberPrefix(w.bj.IssuerID, 2012, 3)
	for i, o := range out {
		if o.Err != nil || !o.Created || o.Certificate.Number != registry.FormatNumber(prefix, i+1) {
			t.Fatalf("input %d: %+v, want serial %d", i, o, i+1)
		}
	}
	requireNoDrift(t, w.reg)
}

// TestIssueManyChunkIdentity: within one chunk, an input is judged against
// the certificates the chunk issued before it. The same ID number under
// another name is refused, and stores nothing (the serials of the inputs
// after it follow without a gap), unless the input states a change of
// name, which is audited.
func TestIssueManyChunkIdentity(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	in := func(who int, name string, level registry.Level) registry.IssueInput {
		return registry.IssueInput{HolderName: name, IDNumber: person(who), OccupationCode: "6-18-01-01", Level: level,
			Channel: registry.ChannelSocial, IssuedOn: "2012-01-01"}
	}
	renamed := in(31, registry.DemoName(2), 4)
	renamed.NameChangeReason = "改名"
	ins := []registry.IssueInput{in(30, registry.DemoName(1), 3), in(30, registry.DemoName(2), 4), in(31, registry.DemoName(1), 3),
		renamed, in(32, registry.DemoName(3), 4)}
	head, err := w.store.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.reg.IssueMany(ctx, w.bj, ins)
	if err != nil {
		t.Fatal(err)
	}
	if registry.ErrorCode(out[1].Err) != registry.EIDENTITY || out[1].Certificate != nil {
		t.Fatalf("input 1: %+v, want EIDENTITY", out[1])
	}
	p3, p4 := registry.NumberPrefix(w.bj.IssuerID, 2012, 3), registry.NumberPrefix(w.bj.IssuerID, 2012, 4)
	want := map[int]string{0: registry.FormatNumber(p3, 1), 2: registry.FormatNumber(p3, 2), 3: registry.FormatNumber(p4, 1), 4: registry.FormatNumber(p4, 2)}
	for i, number := range want {
		if o := out[i]; o.Err != nil || !o.Created || o.Certificate.Number != number {
			t.Fatalf("input %d: %+v, want %s", i, o, number)
		}
	}
	entries, err := w.store.AuditEntries(ctx, head.Seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	renames := 0
	for _, e := range entries {
		if e.Event == "holder.name_changed" {
			renames++
			if e.Attrs["number"] != want[3] || e.Attrs["previous_number"] != want[2] {
				t.Errorf("name change entry %v", e.Attrs)
			}
		}
	}
	if len(entries) != 5 || renames != 1 {
		t.Fatalf("%d audit entries (%d name changes), want 4 issuances and 1 name change", len(entries), renames)
	}
	requireNoDrift(t, w.reg)
}
