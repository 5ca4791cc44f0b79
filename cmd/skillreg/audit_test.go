package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

// copyDir copies the flat data directory src (database, WAL, master key)
// to a new directory and returns it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// rawDB opens the data directory's SQLite file directly, as an attacker
// with a copy of the file (or write access to it) would.
func rawDB(t *testing.T, dataDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dataDir, "skillreg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec1(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	res, err := db.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n, _ := res.RowsAffected(); n < 1 {
		t.Fatalf("%s changed nothing", q)
	}
}

// runCLIEnv is runCLI with extra environment variables ("NAME=value").
func runCLIEnv(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = childEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running skillreg %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("skillreg %v did not finish within 60 s", args)
	}
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// runAuditVerify runs `skillreg audit verify` on dataDir.
func runAuditVerify(t *testing.T, dataDir string) cliResult {
	t.Helper()
	return runCLI(t, "audit", "verify", "--data", dataDir, "--grace", "0s")
}

// TestAuditVerify: a registry run by the real server (issuer and user
// creation, issuance, revocation, a key rotation with `skillreg keys
// rotate`, checkpoints every few entries) verifies; then, each on its own
// copy of the database file, an edited entry, a deleted entry, a tail
// rewritten with consistent hashes, a truncated tail, and a certificate
// whose issuance entry is missing are each reported at the right seq with
// a non-zero exit.
func TestAuditVerify(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	s := startServer(t, data, "SKILLREG_ADMIN_PASSWORD="+adminPassword,
		"SKILLREG_AUDIT_CHECKPOINT_EVERY=4", "SKILLREG_AUDIT_CHECKPOINT_INTERVAL=1s")
	a := newAPI(t, s.base)
	tok := setupIssuer(a)
	var numbers []string
	for i := 0; i < 6; i++ {
		numbers = append(numbers, issue(a, tok, fmt.Sprintf("audit-%d", i), http.StatusCreated).Number)
		if i == 2 {
			if r := runCLI(t, "keys", "rotate", "--data", data); r.code != 0 {
				t.Fatalf("keys rotate: %d %s", r.code, r.stderr)
			}
		}
	}
	a.call(http.MethodPost, "/api/v1/certificates/"+numbers[1]+"/revoke", tok, map[string]string{"reason": "录入错误"}, http.StatusOK, nil)
	// Wait for a periodic checkpoint (due every second; hangGuard is a
	// hang guard only); the shutdown signs the rest.
	for deadline := time.Now().Add(hangGuard); a.do(http.MethodGet, "/api/v1/audit/checkpoint", "", nil, "application/json").status != http.StatusOK; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no periodic checkpoint within %v", hangGuard)
		}
	}
	if code, _ := s.stop(10 * time.Second); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	ok := runAuditVerify(t, data)
	t.Logf("clean log:\n%s", ok.stdout)
	if ok.code != 0 || !strings.Contains(ok.stdout, "OK") || !strings.Contains(ok.stdout, "certificates: 6 checked") {
		t.Fatalf("clean log: exit %d\n%s%s", ok.code, ok.stdout, ok.stderr)
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(data, "skillreg.db"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := st.AuditEntries(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := st.AuditCheckpoints(ctx, 0, 1000)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]int{}
	for _, e := range entries {
		events[e.Event]++
	}
	for ev, n := range map[string]int{"key.rotated": 2, "user.created": 2, "issuer.created": 1, "certificate.issued": 6, "certificate.revoked": 1} {
		if events[ev] != n {
			t.Errorf("%d %s entries, want %d (all: %v)", events[ev], ev, n, events)
		}
	}
	last := int64(len(entries))
	if len(cps) < 2 || cps[len(cps)-1].Count != last {
		t.Fatalf("checkpoints %d, the last at %v; want several, the last at the head %d", len(cps), cps, last)
	}
	// The issuance of numbers[3], well inside the log and before the
	// final checkpoint.
	var target int64
	for _, e := range entries {
		if e.Event == "certificate.issued" && e.Attrs["number"] == numbers[3] {
			target = e.Seq
		}
	}
	firstCPAtOrAfter := func(seq int64) int64 {
		for _, cp := range cps {
			if cp.Count >= seq {
				return cp.Count
			}
		}
		t.Fatalf("no checkpoint at or after %d", seq)
		return 0
	}

	// An entry changed with its own hash recomputed breaks the next link,
	// unless a checkpoint signed that very entry, which then reports it.
	rehashedWant := fmt.Sprintf("FIRST BAD ENTRY: seq %d: prev does not match", target+1)
	if firstCPAtOrAfter(target) == target {
		rehashedWant = fmt.Sprintf("FIRST BAD ENTRY: seq %d: the hash of entry %d differs", target, target)
	}
	cases := []struct {
		name   string
		tamper func(db *sql.DB)
		want   string
	}{
		{"edited entry", func(db *sql.DB) {
			exec1(t, db, `UPDATE audit_log SET actor = 'someone-else' WHERE seq = ?`, target)
		}, fmt.Sprintf("FIRST BAD ENTRY: seq %d: the stored hash does not match", target)},
		{"edited entry with its hash recomputed", func(db *sql.DB) {
			e := *entries[target-1]
			e.Attrs = map[string]string{"number": "S000111000001262999999", "issuer": issuerID}
			exec1(t, db, `UPDATE audit_log SET attrs = ?, hash = ? WHERE seq = ?`, `{"issuer":"`+issuerID+`","number":"S000111000001262999999"}`, e.ComputeHash(), target)
		}, rehashedWant},
		{"deleted entry", func(db *sql.DB) {
			exec1(t, db, `DELETE FROM audit_log WHERE seq = ?`, target)
		}, fmt.Sprintf("FIRST BAD ENTRY: seq %d: entry %d is missing", target, target)},
		{"tail rewritten consistently", func(db *sql.DB) {
			// Make the issuance entry of numbers[3] name another number and
			// rehash it and everything after it, so that every link holds:
			// only the signed checkpoints know.
			var prev *registry.AuditEntry
			var kept []*registry.AuditEntry
			for _, e := range entries {
				c := *e
				if e.Seq == target {
					c.Attrs = map[string]string{"number": "S000111000001262999999", "issuer": issuerID}
				}
				kept = append(kept, &c)
			}
			exec1(t, db, `DELETE FROM audit_log`)
			for _, e := range kept {
				e.Link(prev)
				prev = e
				attrs, _ := json.Marshal(e.Attrs)
				exec1(t, db, `INSERT INTO audit_log (seq, time, event, actor, attrs, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					e.Seq, e.Time.UTC().Format("2006-01-02T15:04:05.000000000Z"), e.Event, e.Actor, string(attrs), e.Prev, e.Hash)
			}
		}, "the log was rewritten after it"},
		{"truncated tail", func(db *sql.DB) {
			exec1(t, db, `DELETE FROM audit_log WHERE seq >= ?`, last-1)
		}, fmt.Sprintf("FIRST BAD ENTRY: seq %d: entries %d to ", last-1, last-1)},
		{"issuance entry missing", func(db *sql.DB) {
			// A certificate made behind the log's back (or in the window
			// between a commit and its entry).
			exec1(t, db, `INSERT INTO certificates SELECT 'S000111000001262777777', issuer_id, holder_name, holder_id_masked, holder_id_hash,
				holder_id_cipher, occupation_code, level, channel, issued_on, 'smuggled', status, revoked_at, revoke_reason, key_id, created_at, NULL, training_record_id, NULL
				FROM certificates WHERE number = ?`, numbers[0])
		}, "MISSING: 1 certificates have no certificate.issued entry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, data)
			tc.tamper(rawDB(t, dir))
			r := runAuditVerify(t, dir)
			t.Logf("%s", r.stdout)
			if r.code != 1 || !strings.Contains(r.stdout, tc.want) {
				t.Fatalf("exit %d, want 1 with %q; got:\n%s%s", r.code, tc.want, r.stdout, r.stderr)
			}
		})
	}
	// The consistent rewrite shows at the first checkpoint after the
	// removed entry.
	dir := copyDir(t, data)
	cases[3].tamper(rawDB(t, dir))
	want := fmt.Sprintf("FIRST BAD ENTRY: seq %d:", firstCPAtOrAfter(target))
	if r := runAuditVerify(t, dir); !strings.Contains(r.stdout, want) {
		t.Errorf("rewritten tail: want %q, got:\n%s", want, r.stdout)
	}

	// An insider who can write the database plants a public key of their
	// own and re-signs every checkpoint over the rewritten tail: the key's
	// sealed half does not open with the master key, so it is refused.
	dir = copyDir(t, data)
	db := rawDB(t, dir)
	cases[3].tamper(db)
	planted, err := verify.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	exec1(t, db, `INSERT INTO signing_keys (id, algorithm, public, sealed, active, created_at) VALUES (?, 'EdDSA', ?, ?, 0, ?)`,
		planted.ID, []byte(planted.Public), []byte("not sealed by the registry"), "2026-01-01T00:00:00.000000000Z")
	forger, err := verify.NewStaticTokens([]verify.Key{{ID: planted.ID, Public: planted.Public, Private: planted.Private, Active: true}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT count FROM audit_checkpoints`)
	if err != nil {
		t.Fatal(err)
	}
	var counts []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts = append(counts, n)
	}
	rows.Close()
	for _, n := range counts {
		var hash string
		if err := db.QueryRow(`SELECT hash FROM audit_log WHERE seq = ?`, n).Scan(&hash); err != nil {
			continue // beyond the shortened log
		}
		cp := &registry.AuditCheckpoint{Count: n, HeadHash: hash, Time: time.Now()}
		jws, _, err := forger.SignJSON(ctx, map[string]any{"typ": registry.CheckpointType + "+jws"}, cp.Payload())
		if err != nil {
			t.Fatal(err)
		}
		exec1(t, db, `UPDATE audit_checkpoints SET head_hash = ?, key_id = ?, jws = ? WHERE count = ?`, hash, planted.ID, jws, n)
	}
	if r := runAuditVerify(t, dir); r.code != 1 || !strings.Contains(r.stdout, "a planted key?") {
		t.Errorf("re-signed with a planted key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	} else {
		t.Logf("%s", r.stdout)
	}

	// reconcile appends the missing issuance, marked recovered; then the
	// log verifies again.
	dir = copyDir(t, data)
	cases[5].tamper(rawDB(t, dir))
	if r := runCLI(t, "audit", "reconcile", "--data", dir, "--grace", "0s"); r.code != 0 || !strings.Contains(r.stdout, "appended 1 certificate.issued") {
		t.Fatalf("reconcile: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runAuditVerify(t, dir); r.code != 0 {
		t.Fatalf("after reconcile: %d\n%s", r.code, r.stdout)
	}
	var attrs string
	if err := rawDB(t, dir).QueryRow(`SELECT attrs FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&attrs); err != nil || !strings.Contains(attrs, `"recovered":"true"`) {
		t.Errorf("reconciled entry attrs %s, %v", attrs, err)
	}
}

// TestAuditUsage: usage errors exit 2 with a message, before any data
// directory is opened (or made).
func TestAuditUsage(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "none")
	for _, args := range [][]string{{"audit"}, {"audit", "bogus", "--data", missing}, {"audit", "verify", "--data", missing}, {"audit", "verify", "--nope"}} {
		r := runCLI(t, args...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a message", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a usage error made the data directory")
	}
}

// TestAuditVerifyNeverOKWhileSkipping: right after a crash that cut off an
// issuance's entry, `audit verify` with its default grace leaves the recent
// certificates out; it must then say INCOMPLETE and exit 3, never OK.
// --coverage=false is INCOMPLETE too; --grace 0 (no server running)
// checks everything and names the missing entry.
func TestAuditVerifyNeverOKWhileSkipping(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	s := startServer(t, data, "SKILLREG_ADMIN_PASSWORD="+adminPassword)
	a := newAPI(t, s.base)
	tok := setupIssuer(a)
	issue(a, tok, "skip-1", http.StatusCreated)
	last := issue(a, tok, "skip-2", http.StatusCreated)
	s.kill() // no shutdown checkpoint: the tail can be cut as a crash would
	exec1(t, rawDB(t, data), `DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log) AND event = 'certificate.issued' AND attrs LIKE ?`, "%"+last.Number+"%")

	// An hour of grace stands for "the last minute" without racing the
	// clock: both certificates are certainly younger than that.
	for _, args := range [][]string{
		{"audit", "verify", "--data", data, "--grace", "1h"},
		{"audit", "verify", "--data", data, "--coverage=false"},
	} {
		r := runCLI(t, args...)
		if r.code != 3 || !strings.Contains(r.stdout, "INCOMPLETE") || strings.Contains(r.stdout, "\nOK") {
			t.Errorf("%v: exit %d\n%s%s\nwant INCOMPLETE and exit 3", args[2:], r.code, r.stdout, r.stderr)
		}
	}
	r := runAuditVerify(t, data)
	if r.code != 1 || !strings.Contains(r.stdout, "MISSING: 1 certificates") || !strings.Contains(r.stdout, last.Number) {
		t.Errorf("--grace 0s: exit %d\n%s%s\nwant the missing entry named and exit 1", r.code, r.stdout, r.stderr)
	}
}
