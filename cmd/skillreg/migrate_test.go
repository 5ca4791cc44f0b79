package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/mongo"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

// migrateCerts is the size of the embedded store TestMigrate copies:
// enough for several batches of --batch migrateBatch and every
// combination of number prefix, signing key and status. A larger store
// adds no case, only time: on the FerretDB test server every batch and
// every lookup by number is a scan of the whole collection.
const migrateCerts = 2_000

// migrateBatch is TestMigrate's --batch: the resumed run's first batch
// holds the quarter already copied and 100 new certificates, the next two
// only new ones, the last is short.
const migrateBatch = migrateCerts * 3 / 10

// TestMigrate builds an embedded store of 2,000 certificates (two
// issuers, several prefixes, two signing keys, a third of them with an
// external_ref, some revoked), pretends an earlier migrate stopped after a
// quarter of them, runs `skillreg migrate`, and checks that it copied
// exactly the rest with equal counts per collection, that a second run
// copies nothing, that every record is equal field by field, that the
// tokens printed before the move still verify through a registry over
// MongoDB with the right status, and that issuing continues the serials.
func TestMigrate(t *testing.T) {
	t.Parallel()
	uri := freshMongoURI(t)
	ctx := context.Background()
	dataDir := memDir(t)
	master, _ := hex.DecodeString(randomHex(t, 32))
	vault, err := registry.NewVault(master)
	if err != nil {
		t.Fatal(err)
	}

	// The embedded store, written directly through the store for speed.
	src, err := sqlite.Open(ctx, filepath.Join(dataDir, "skillreg.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	srcKeys := verify.KeyStore{Store: src, Vault: vault}
	srcReg := registry.New(registry.Config{Store: src, Tokens: verify.NewTokens(srcKeys.Source()), Vault: vault})
	t0 := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	issuers := seedMigrationSource(t, ctx, src, t0)
	start := time.Now()
	var kid string
	for i := range migrateCerts {
		if i%(migrateCerts/2) == 0 { // a key rotation halfway
			k, err := srcKeys.Rotate(ctx, t0.Add(time.Duration(i)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			kid = k.ID
		}
		id := fmt.Sprintf("1101051949%04d%03d", i%10000, i%997)
		id += "X" // the store keeps what it is given; the registry checks the digit
		cipher, err := vault.EncryptID(id)
		if err != nil {
			t.Fatal(err)
		}
		issuer, level, year := issuers[i%2], registry.Level(2+i%3), 2023+(i/2)%2
		c := &registry.Certificate{
			IssuerID: issuer, HolderName: fmt.Sprintf("持证人%05d", i), HolderIDMasked: registry.MaskIDNumber(id),
			HolderIDHash: vault.HashID(id), HolderIDCipher: cipher, OccupationCode: "6-18-01-01", Level: level,
			Channel: registry.ChannelSocial, IssuedOn: fmt.Sprintf("%d-06-01", year), Status: registry.StatusValid,
			KeyID: kid, CreatedAt: t0.Add(time.Duration(i) * time.Millisecond * 1500),
		}
		if i%3 == 0 {
			c.ExternalRef = fmt.Sprintf("batch-%d/row-%d", i/100, i%100)
		}
		if _, err := src.CreateCertificate(ctx, registry.NumberPrefix(issuer, year, level), c); err != nil {
			t.Fatal(err)
		}
		if i%50 == 7 {
			if _, err := src.RevokeCertificate(ctx, c.Number, "考核成绩录入错误", c.CreatedAt.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("embedded store with %d certificates built in %v", migrateCerts, time.Since(start).Round(time.Millisecond))
	// An audit log with a signed checkpoint in the middle.
	recorder := registry.New(registry.Config{Store: src, Vault: vault, Logger: slog.New(slog.DiscardHandler)})
	for i := 0; i < 30; i++ {
		recorder.Record(ctx, "test.event", "migrate-test", "i", i)
		if i == 19 {
			if _, _, err := (&registry.Checkpointer{Store: src, Sign: verify.NewTokens(srcKeys.Source()).SignJSON}).Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	// An earlier run that stopped after a quarter of the certificates.
	dst, err := mongo.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	first, err := src.CertificatesAfter(ctx, "", migrateCerts/4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.ImportCertificates(ctx, first); err != nil {
		t.Fatal(err)
	}

	runs := []struct {
		name       string
		wantCopied map[string]string // the "copied now" column
	}{
		{"resumed run", map[string]string{"issuers": "2", "users": "3", "signing_keys": "2",
			"certificates": fmt.Sprint(migrateCerts - migrateCerts/4), "external_refs": "-", "serials": "-"}},
		{"second run", map[string]string{"issuers": "0", "users": "0", "signing_keys": "0",
			"certificates": "0", "external_refs": "-", "serials": "-"}},
	}
	wantCounts, err := src.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The counters' rebuild on the target is TestMigrateDirections' to
	// check, on fewer certificates: here it would only add minutes of
	// FerretDB writes to a test of the copy itself.
	// Batches of migrateBatch: each batch costs the FerretDB test server
	// a scan of the collection, so the default of 1,000 would only add
	// scans.
	for _, r := range runs {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := run(ctx, []string{"migrate", "--stats=false", "--batch", fmt.Sprint(migrateBatch), "--from", dataDir, "--to", uri}, &stdout, &stderr)
		t.Logf("%s: %v\n%s%s", r.name, time.Since(start).Round(time.Millisecond), stderr.String(), stdout.String())
		if code != 0 {
			t.Fatalf("%s: exit code %d", r.name, code)
		}
		table := countTable(t, stdout.String())
		for kind, want := range r.wantCopied {
			row := table[kind]
			if len(row) != 4 || row[0] != fmt.Sprint(wantCounts[kind]) || row[1] != row[0] || row[3] != "ok" || row[2] != want {
				t.Errorf("%s: %s row %q; want embedded = mongodb = %d, copied %s, ok", r.name, kind, row, wantCounts[kind], want)
			}
		}
		if !strings.Contains(stderr.String(), fmt.Sprintf("certificates: %d/%d (100%%)", migrateCerts, migrateCerts)) {
			t.Errorf("%s: no progress to 100%% on stderr", r.name)
		}
	}

	// Every record equal, field by field.
	all := sameRecords(t, ctx, src, dst, "embedded", "mongodb", migrateCerts/2)
	compare := func(what string, a, b any, errA, errB error) {
		t.Helper()
		sameValue(t, what, "embedded", "mongodb", a, b, errA, errB)
	}
	ss, e1 := src.Serials(ctx)
	ds, e2 := dst.Serials(ctx)
	compare("serials", ss, ds, e1, e2)
	if len(all) != migrateCerts {
		t.Fatalf("walked %d certificates, want %d", len(all), migrateCerts)
	}

	// The audit log came over verbatim: it verifies on the copy, with its
	// checkpoint, to the same head.
	checkCopiedAuditLog(t, ctx, src, dst, vault, 30)

	// Tokens printed before the move verify through a registry over the
	// copy, with the status the copy holds.
	dstReg := registry.New(registry.Config{Store: dst, Tokens: verify.NewTokens(verify.KeyStore{Store: dst, Vault: vault}.Source()), Vault: vault})
	seen := map[string]bool{}
	for _, c := range verifySample(all) {
		tok, err := srcReg.Token(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		res, err := dstReg.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("verify %s: %v", c.Number, err)
		}
		want := registry.VerifyValid
		if c.Status == registry.StatusRevoked {
			want = registry.VerifyRevoked
		}
		if res.Status != want {
			t.Errorf("certificate %s (%s, key %s) verifies as %s (%s) over MongoDB, want %s", c.Number, c.Status, c.KeyID, res.Status, res.Reason, want)
		}
		seen[c.Number[:16]] = true
		seen[c.KeyID] = true
		seen[c.Status] = true
	}
	if len(seen) != 12+2+2 { // 2 issuers x 2 years x 3 levels, 2 keys, 2 statuses
		t.Errorf("the verified sample covers %d prefixes, keys and statuses, want all 16", len(seen))
	}

	// Issuing goes on where the embedded store stopped: the next serial of
	// a prefix, and a migrated external_ref is recognised, not re-issued.
	last := all[len(all)-1]
	prefix := last.Number[:16]
	next := *last
	next.Number, next.ExternalRef, next.Status, next.RevokedAt, next.RevokeReason = "", "", registry.StatusValid, nil, ""
	if created, err := dst.CreateCertificate(ctx, prefix, &next); err != nil || !created || next.Number != registry.FormatNumber(prefix, ss[prefix]+1) {
		t.Errorf("issuing on the copy: %v, %v, number %s; want the next serial %s", created, err, next.Number, registry.FormatNumber(prefix, ss[prefix]+1))
	}
	var withRef *registry.Certificate
	for _, c := range all {
		if c.ExternalRef != "" {
			withRef = c
			break
		}
	}
	again := *withRef
	again.Number, again.HolderName = "", "someone else"
	if created, err := dst.CreateCertificate(ctx, withRef.Number[:16], &again); err != nil || created || again.Number != withRef.Number {
		t.Errorf("re-issuing migrated external_ref %q: %v, %v, number %s; want the migrated %s", withRef.ExternalRef, created, err, again.Number, withRef.Number)
	}
}

// verifySample picks the certificates TestMigrate verifies through a
// registry over the copy: one, chosen at random, of every combination of
// number prefix, signing key and status that the store holds. Not all
// of them: a verification looks the certificate up by number, and the
// FerretDB test server answers that with a scan of the whole collection,
// so all of them would take minutes. Every certificate is still checked,
// field by field against the embedded store.
func verifySample(all []*registry.Certificate) []*registry.Certificate {
	rng := rand.New(rand.NewPCG(1, 2))
	picked := map[string]bool{}
	var sample []*registry.Certificate
	for _, i := range rng.Perm(len(all)) {
		c := all[i]
		if group := c.Number[:16] + " " + c.KeyID + " " + c.Status; !picked[group] {
			picked[group] = true
			sample = append(sample, c)
		}
	}
	return sample
}

// memDir returns a temporary directory in memory (/dev/shm) when there is
// one, else on disk. The embedded store is built with thousands of
// separate durable transactions, each an fsync: on a busy CI disk 10,000
// of them alone took 47 s, and this test is about the copy, not about
// SQLite's durability.
func memDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "skillreg-migrate-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// countTable parses migrate's count check: kind -> [embedded, mongodb,
// copied now, mark].
func countTable(t *testing.T, out string) map[string][]string {
	t.Helper()
	table := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) != 5 {
			t.Fatalf("count check line %q: want 5 columns", line)
		}
		table[f[0]] = f[1:]
	}
	return table
}
