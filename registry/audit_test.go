package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// TestAuditCanonical: the canonical bytes are exactly the documented
// fixed-order JSON, and the hash is their SHA-256.
func TestAuditCanonical(t *testing.T) {
	e := &registry.AuditEntry{
		Seq: 12, Time: time.Date(2026, 11, 28, 22, 51, 28, 123_456_789, time.FixedZone("CST", 8*3600)),
		Event: "certificate.revoked", Actor: "张三",
		Attrs: map[string]string{"reason": `a "b" <c> & d`, "number": "S000111000001263000001", "issuer": "S000111000001"},
		Prev:  registry.AuditGenesis,
	}
	want := `{"seq":12,"time":"2026-11-28T14:51:28.123Z","event":"certificate.revoked","actor":"张三",` +
		`"attrs":{"issuer":"S000111000001","number":"S000111000001263000001","reason":"a \"b\" \u003cc\u003e \u0026 d"},` +
		`"prev":"` + registry.AuditGenesis + `"}`
	if got := string(e.Canonical()); got != want {
		t.Fatalf("canonical bytes\n got %s\nwant %s", got, want)
	}
	sum := sha256.Sum256([]byte(want))
	if e.ComputeHash() != hex.EncodeToString(sum[:]) {
		t.Fatal("hash is not the SHA-256 of the canonical bytes")
	}
	empty := &registry.AuditEntry{Seq: 1, Event: "x", Prev: registry.AuditGenesis}
	if got := string(empty.Canonical()); !strings.Contains(got, `"attrs":{}`) {
		t.Fatalf("no attrs: %s", got)
	}
}

// TestRedactIDNumbers: ID-number-like runs in free text are masked; a
// certificate number, an issuer ID and a 16-digit legacy number are not.
func TestRedactIDNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"持证人 11010519491231002X 冒名":  "持证人 110105********002X 冒名",
		"id=11010519491231002x.":     "id=110105********002x.",
		"old 110105491231002":        "old 110105*****1002",
		"S000111000001263000001":     "S000111000001263000001",
		"legacy 1234567890123456 ok": "legacy 1234567890123456 ok",
		"issuer S000111000001":       "issuer S000111000001",
	} {
		if got := registry.RedactIDNumbers(in); got != want {
			t.Errorf("RedactIDNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAuditLog: issuing, revoking, creating an issuer and a user and
// rotating the key each append one entry, chained and free of ID numbers;
// a checkpoint signs the head; the log verifies.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre) // issuer.created
	if _, err := f.reg.CreateUser(ctx, f.admin, registry.UserInput{Username: "official11", Password: "a-long-password-1", Role: registry.RoleOfficial, Province: "11"}); err != nil {
		t.Fatal(err)
	}
	c, _, err := f.reg.Issue(ctx, u, issueInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Revoke(ctx, u, c.Number, "冒用 11010519491231002X 的身份"); err != nil {
		t.Fatal(err)
	}
	ks := verify.KeyStore{Store: f.store, Vault: f.vault, Audit: func(ctx context.Context, event string, attrs ...any) {
		f.reg.Record(ctx, event, "cli", attrs...)
	}}
	k, err := ks.Rotate(ctx, f.now)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := f.store.AuditEntries(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ event, actor, key, value string }{
		{"issuer.created", "admin", "issuer", "S000111000001"},
		{"user.created", "admin", "user", "official11"},
		{"certificate.issued", u.Username, "number", c.Number},
		{"certificate.revoked", u.Username, "reason", "冒用 110105********002X 的身份"},
		{"key.rotated", "cli", "kid", k.ID},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		e := entries[i]
		if e.Event != w.event || e.Actor != w.actor || e.Attrs[w.key] != w.value || !e.Time.Equal(f.now) {
			t.Errorf("entry %d = %+v, want %s by %s with %s=%s", i+1, e, w.event, w.actor, w.key, w.value)
		}
		if strings.Contains(string(e.Canonical()), "11010519491231002X") {
			t.Errorf("entry %d holds a full ID number", e.Seq)
		}
	}

	tokens := verify.NewTokens(ks.Source())
	cpr := &registry.Checkpointer{Store: f.store, Sign: tokens.SignJSON, Every: 3, Interval: time.Hour, Clock: func() time.Time { return f.now }}
	if due, err := cpr.Due(ctx); err != nil || !due {
		t.Fatalf("Due with no checkpoint = %v, %v", due, err)
	}
	cp, made, err := cpr.Checkpoint(ctx)
	if err != nil || !made || cp.Count != 5 || cp.HeadHash != entries[4].Hash || cp.KeyID != k.ID {
		t.Fatalf("Checkpoint = %+v, %v, %v", cp, made, err)
	}
	if again, made, err := cpr.Checkpoint(ctx); err != nil || made || again.Count != 5 {
		t.Fatalf("second Checkpoint with nothing new = %+v, %v, %v", again, made, err)
	}
	if due, err := cpr.Due(ctx); err != nil || due {
		t.Fatalf("Due right after a checkpoint = %v, %v", due, err)
	}
	f.reg.Record(ctx, "test.event", "cli")
	if due, _ := cpr.Due(ctx); due {
		t.Fatal("due after 1 entry of every 3, before the interval")
	}
	f.now = f.now.Add(2 * time.Hour)
	if due, _ := cpr.Due(ctx); !due {
		t.Fatal("not due after the interval with a new entry")
	}
	latest, err := f.reg.AuditCheckpoint(ctx, 0)
	if err != nil || latest.JWS != cp.JWS {
		t.Fatalf("latest checkpoint = %+v, %v", latest, err)
	}

	check := func(ctx context.Context, jws string) (registry.CheckpointPayload, error) {
		keys, err := ks.PublicKeys(ctx)
		if err != nil {
			return registry.CheckpointPayload{}, err
		}
		return verify.VerifyCheckpoint(keys, jws)
	}
	rep, err := registry.VerifyAuditLog(ctx, f.store, check)
	if err != nil || rep.Problem != nil || rep.Entries != 6 || rep.Checkpoints != 1 {
		t.Fatalf("VerifyAuditLog = %+v (%v), %v", rep, rep.Problem, err)
	}
}

// failingAudit is the real store whose audit appends fail, as when the
// disk fills between an issuance and its entry.
type failingAudit struct{ registry.Store }

func (failingAudit) AppendAudit(context.Context, ...*registry.AuditEntry) error {
	return errors.New("disk full")
}

// TestAuditAppendFailure: when the append fails after the action
// committed, the action stands (the certificate is issued and answers as
// issued), and an ERROR line audit.append_failed carries the event, so
// that nothing is lost silently; no ID number is in any log line.
func TestAuditAppendFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	var logs bytes.Buffer
	ks := verify.KeyStore{Store: f.store, Vault: f.vault}
	reg := registry.New(registry.Config{Store: failingAudit{f.store}, Tokens: verify.NewTokens(ks.Source()), Vault: f.vault,
		Clock: func() time.Time { return f.now }, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	c, created, err := reg.Issue(ctx, u, issueInput(nil))
	if err != nil || !created {
		t.Fatalf("Issue with a failing audit append: %v, %v", created, err)
	}
	if stored, err := f.store.Certificate(ctx, c.Number); err != nil || stored.Number != c.Number {
		t.Fatalf("the certificate is not stored: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"audit.append_failed"`) || !strings.Contains(out, `"level":"ERROR"`) ||
		!strings.Contains(out, `"event":"certificate.issued"`) || !strings.Contains(out, c.Number) || !strings.Contains(out, "disk full") {
		t.Fatalf("no ERROR line carrying the event:\n%s", out)
	}
	if strings.Contains(out, "11010519491231002X") {
		t.Fatalf("a log line holds the full ID number:\n%s", out)
	}
	if err := reg.RecordErr(ctx, "test.event", "cli"); err == nil {
		t.Fatal("RecordErr hid the failure")
	}
}
