package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/mongo"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/registry/stats"
	"github.com/skillreg/skillreg/verify"
)

// copyableStore is a store that migrate can read from and write into.
type copyableStore interface {
	registry.Store
	registry.Exporter
	registry.Restorer
}

// seedMigrationSource stores the two issuers and three users (admin,
// clerk, provincial official) that both migrate tests copy, and returns
// the issuers' IDs.
func seedMigrationSource(t *testing.T, ctx context.Context, src registry.Store, t0 time.Time) []string {
	t.Helper()
	issuers := []string{"S000111000001", "Y123444000002"}
	for _, id := range issuers {
		is := &registry.Issuer{ID: id, Name: "机构" + id, Kind: id[:1], OrgCode: id[1:5], Province: id[5:7], Site: id[7:],
			Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: registry.Level1}, CreatedAt: t0}
		if err := src.CreateIssuer(ctx, is); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []*registry.User{
		{ID: "u-admin", Username: "admin", PasswordHash: "$2a$x", Role: registry.RoleAdmin, CreatedAt: t0},
		{ID: "u-clerk", Username: "clerk", PasswordHash: "$2a$y", Role: registry.RoleIssuer, IssuerID: issuers[0], CreatedAt: t0},
		{ID: "u-gd", Username: "official-44", PasswordHash: "$2a$z", Role: registry.RoleOfficial, Province: "44", CreatedAt: t0},
	} {
		if err := src.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	return issuers
}

// checkCopiedAuditLog verifies the audit log of dst with its signed
// checkpoint (one, made with the copied keys) and that it has entries
// entries and ends at src's head.
func checkCopiedAuditLog(t *testing.T, ctx context.Context, src, dst registry.Store, vault *registry.Vault, entries int64) {
	t.Helper()
	pub, err := verify.KeyStore{Store: dst, Vault: vault}.PublicKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := registry.VerifyAuditLog(ctx, dst, func(_ context.Context, jws string) (registry.CheckpointPayload, error) {
		return verify.VerifyCheckpoint(pub, jws)
	})
	srcHead, _ := src.AuditHead(ctx)
	if err != nil || rep.Problem != nil || rep.Entries != entries || rep.Checkpoints != 1 || rep.Head.Hash != srcHead.Hash {
		t.Errorf("audit log on the copy: %+v (%v), %v", rep, rep.Problem, err)
	}
}

// sameValue fails the test when a and b (read from the stores named
// nameA and nameB) differ or could not be read.
func sameValue(t *testing.T, what, nameA, nameB string, a, b any, errA, errB error) {
	t.Helper()
	if errA != nil || errB != nil {
		t.Fatalf("%s: %v, %v", what, errA, errB)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s differ:\n%s %+v\n%s %+v", what, nameA, a, nameB, b)
	}
}

// sameRecords compares the issuers, users, signing keys and every
// certificate (read batch at a time) of two stores field by field, and
// returns the source's certificates.
func sameRecords(t *testing.T, ctx context.Context, src, dst migrationSource, nameA, nameB string, batch int) []*registry.Certificate {
	t.Helper()
	same := func(what string, a, b any, errA, errB error) {
		t.Helper()
		sameValue(t, what, nameA, nameB, a, b, errA, errB)
	}
	si, e1 := src.Issuers(ctx)
	di, e2 := dst.Issuers(ctx)
	same("issuers", si, di, e1, e2)
	su, e1 := src.Users(ctx)
	du, e2 := dst.Users(ctx)
	same("users", su, du, e1, e2)
	sk, e1 := src.SigningKeys(ctx)
	dk, e2 := dst.SigningKeys(ctx)
	same("signing keys", sk, dk, e1, e2)
	var all []*registry.Certificate
	for after := ""; ; {
		a, err := src.CertificatesAfter(ctx, after, batch)
		if err != nil {
			t.Fatal(err)
		}
		b, err := dst.CertificatesAfter(ctx, after, batch)
		if len(a) == 0 && len(b) == 0 && err == nil {
			break
		}
		same("certificates after "+after, a, b, nil, err)
		if len(a) == 0 {
			break
		}
		all = append(all, a...)
		after = a[len(a)-1].Number
	}
	return all
}

// migrateEnd is one side of a migration in TestMigrateDirections: the
// --from or --to value and the store it names, opened for the test.
type migrateEnd struct {
	arg   string
	store copyableStore
}

// sortCells orders statistics counters by ID.
func sortCells(cells []stats.Cell) {
	slices.SortFunc(cells, func(a, b stats.Cell) int { return strings.Compare(a.ID(), b.ID()) })
}

// issuersOf returns the issuers of st.
func issuersOf(t *testing.T, st registry.Store) []*registry.Issuer {
	t.Helper()
	list, err := st.Issuers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func embeddedEnd(t *testing.T) migrateEnd {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "skillreg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return migrateEnd{arg: dir, store: st}
}

func mongoEnd(t *testing.T) migrateEnd {
	t.Helper()
	uri := freshMongoURI(t)
	st, err := mongo.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return migrateEnd{arg: uri, store: st}
}

// TestMigrateDirections copies a small registry between every pair of
// store kinds (MongoDB into the embedded store above all, the direction
// TestMigrate does not cover): after an earlier run that stopped a quarter
// of the way, a run copies exactly the rest and a second run nothing;
// every record is equal on both sides; the audit log verifies on the
// copy; tokens verify through a registry over the copy; and the copy
// issues the next serial even where the source's serial counter lagged
// its certificates.
func TestMigrateDirections(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		from, to func(*testing.T) migrateEnd
	}{
		{"mongodb to embedded", mongoEnd, embeddedEnd},
		{"embedded to mongodb", embeddedEnd, mongoEnd},
		{"embedded to embedded", embeddedEnd, embeddedEnd},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testMigrateDirection(t, tc.from(t), tc.to(t))
		})
	}
}

func testMigrateDirection(t *testing.T, from, to migrateEnd) {
	const certs = 120
	ctx := context.Background()
	src, dst := from.store, to.store
	master, _ := hex.DecodeString(randomHex(t, 32))
	vault, err := registry.NewVault(master)
	if err != nil {
		t.Fatal(err)
	}
	srcKeys := verify.KeyStore{Store: src, Vault: vault}
	srcReg := registry.New(registry.Config{Store: src, Tokens: verify.NewTokens(srcKeys.Source()), Vault: vault, Logger: slog.New(slog.DiscardHandler)})

	t0 := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	issuers := seedMigrationSource(t, ctx, src, t0)
	var kid string
	newCert := func(i int) *registry.Certificate {
		id := fmt.Sprintf("1101051949%04d%03dX", i, i%997)
		cipher, err := vault.EncryptID(id)
		if err != nil {
			t.Fatal(err)
		}
		c := &registry.Certificate{
			IssuerID: issuers[i%2], HolderName: fmt.Sprintf("持证人%05d", i), HolderIDMasked: registry.MaskIDNumber(id),
			HolderIDHash: vault.HashID(id), HolderIDCipher: cipher, OccupationCode: "6-18-01-01", Level: registry.Level(2 + i%3),
			Channel: registry.ChannelSocial, IssuedOn: "2024-06-01", Status: registry.StatusValid,
			KeyID: kid, CreatedAt: t0.Add(time.Duration(i) * 1500 * time.Millisecond),
		}
		if i%2 == 0 {
			c.StatusIndex = 1000 + i
		}
		if i%3 == 0 {
			c.ExternalRef = fmt.Sprintf("batch-%d/row-%d", i/10, i%10)
		}
		return c
	}
	for i := range certs {
		if i%(certs/2) == 0 { // a key rotation halfway
			k, err := srcKeys.Rotate(ctx, t0.Add(time.Duration(i)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			kid = k.ID
		}
		c := newCert(i)
		if _, err := src.CreateCertificate(ctx, registry.NumberPrefix(c.IssuerID, 2024, c.Level), c); err != nil {
			t.Fatal(err)
		}
		if i%10 == 7 {
			if _, err := src.RevokeCertificate(ctx, c.Number, "考核成绩录入错误", c.CreatedAt.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Three more certificates of one prefix, written without raising its
	// serial counter: the source's counter now lags its certificates, as
	// MongoDB's hint may after a crash.
	lagPrefix := registry.NumberPrefix(issuers[0], 2024, registry.Level2)
	srcSerials, err := src.Serials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lagging []*registry.Certificate
	for k := 1; k <= 3; k++ {
		c := newCert(certs + k)
		c.IssuerID, c.Level, c.ExternalRef, c.StatusIndex = issuers[0], registry.Level2, "", 0
		c.Number = registry.FormatNumber(lagPrefix, srcSerials[lagPrefix]+k)
		lagging = append(lagging, c)
	}
	if n, err := src.ImportCertificates(ctx, lagging); err != nil || n != len(lagging) {
		t.Fatalf("writing certificates past the serial counter: %d, %v", n, err)
	}
	wantNext := registry.FormatNumber(lagPrefix, srcSerials[lagPrefix]+len(lagging)+1)

	// Training records (one linked to a certificate), API keys (one
	// revoked) and a plan.
	yes := true
	for i := range 5 {
		id := fmt.Sprintf("1101051980%04d%03dX", i, i)
		cipher, err := vault.EncryptID(id)
		if err != nil {
			t.Fatal(err)
		}
		tr := &registry.TrainingRecord{
			ID: registry.TrainingRecordID(issuers[0], "2024-01", vault.HashID(id)), IssuerID: issuers[0], Province: issuers[0][5:7],
			ClassID: "2024-01", Name: fmt.Sprintf("学员%d", i), IDMasked: registry.MaskIDNumber(id), IDHash: vault.HashID(id), IDCipher: cipher,
			Sex: "female", TargetGroup: registry.GroupMigrantWorker, OccupationCode: "6-18-01-01", TargetLevel: registry.Level4,
			TrainingType: registry.TrainingEmployment, Hours: 80, Start: "2024-03-01", End: "2024-04-30",
			CreatedAt: t0.Add(time.Duration(i) * time.Minute), UpdatedAt: t0.Add(time.Duration(i) * time.Minute),
		}
		if i == 0 {
			tr.Completed, tr.ExamResult, tr.Employed, tr.SubsidyAmountFen = true, registry.ExamPass, &yes, 120050
		}
		if created, err := src.CreateTrainingRecord(ctx, tr); err != nil || !created {
			t.Fatalf("training record: %v, %v", created, err)
		}
	}
	revokedAt := t0.Add(48 * time.Hour)
	for i, k := range []*registry.APIKey{
		{ID: "ak_1", Name: "HR 甲", Hash: "hash-1", Hint: "sk_…abcd", RatePerMinute: 100, CreatedBy: "admin", CreatedAt: t0},
		{ID: "ak_2", Name: "HR 乙", Hash: "hash-2", Hint: "sk_…efgh", CreatedBy: "admin", CreatedAt: t0.Add(time.Hour), RevokedAt: &revokedAt},
	} {
		if err := src.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("API key %d: %v", i, err)
		}
	}
	if err := src.CreatePlan(ctx, &stats.Plan{ID: "p-2030", Name: "二〇三〇", EndDate: "2030-12-31", Default: true, CreatedAt: t0,
		Targets: stats.PlanTargets{SkilledWorkers: 250_000_000, Technician: 0.1, SeniorWorker: 0.25, HighSkilled: 0.35}}); err != nil {
		t.Fatal(err)
	}

	for i := range 12 {
		srcReg.Record(ctx, "test.event", "migrate-test", "i", i)
		if i == 7 {
			if _, _, err := (&registry.Checkpointer{Store: src, Sign: verify.NewTokens(srcKeys.Source()).SignJSON}).Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	// An earlier run that copied the issuers and stopped after a quarter
	// of the certificates.
	if _, err := dst.ImportIssuers(ctx, issuersOf(t, src)); err != nil {
		t.Fatal(err)
	}
	total := certs + len(lagging)
	first, err := src.CertificatesAfter(ctx, "", total/4)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := dst.ImportCertificates(ctx, first); err != nil || n != len(first) {
		t.Fatalf("the earlier run: %d, %v", n, err)
	}

	wantCounts, err := src.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		name       string
		flags      []string
		wantCopied map[string]string // the "copied now" column
	}{
		{"resumed run", []string{"--stats=false"}, map[string]string{"issuers": "0", "users": "3", "signing_keys": "2", "certificates": fmt.Sprint(total - len(first)),
			"training_records": "5", "api_keys": "2", "plans": "1"}},
		{"second run", nil, map[string]string{"issuers": "0", "users": "0", "signing_keys": "0", "certificates": "0",
			"training_records": "0", "api_keys": "0", "plans": "0"}},
	} {
		var stdout, stderr bytes.Buffer
		code := run(ctx, append([]string{"migrate", "--from", from.arg, "--to", to.arg, "--batch", "50"}, r.flags...), &stdout, &stderr)
		if code != 0 {
			t.Fatalf("%s: exit code %d\n%s%s", r.name, code, stderr.String(), stdout.String())
		}
		cells, err := dst.AllStatsCells(ctx)
		if built := len(cells) > 0; err != nil || built == (len(r.flags) > 0) {
			t.Errorf("%s with %v: %d statistics counters on the target (%v)", r.name, r.flags, len(cells), err)
		}
		if r.name != "resumed run" {
			continue
		}
		// The old server goes on until it is stopped: a certificate and
		// an API key are revoked, a training record gets its outcome and
		// another its certificate, a user a new password, another is
		// disabled and enabled again, and a plan is changed. The next run
		// brings them over.
		valid := first[0]
		if valid.Status != registry.StatusValid {
			t.Fatalf("the first certificate %s is not valid", valid.Number)
		}
		if _, err := src.RevokeCertificate(ctx, valid.Number, "证书遗失补办", t0.Add(72*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := src.RevokeAPIKey(ctx, "ak_1", t0.Add(73*time.Hour)); err != nil {
			t.Fatal(err)
		}
		trs, err := src.TrainingRecordsAfter(ctx, "", 2)
		if err != nil || len(trs) != 2 {
			t.Fatalf("training records: %v, %v", trs, err)
		}
		if err := src.LinkTrainingCertificate(ctx, trs[1].ID, valid.Number); err != nil {
			t.Fatal(err)
		}
		if _, err := src.SetUserPassword(ctx, "u-clerk", "$2a$new"); err != nil {
			t.Fatal(err)
		}
		for _, disabled := range []bool{true, false} {
			if _, err := src.SetUserDisabled(ctx, "u-gd", disabled); err != nil {
				t.Fatal(err)
			}
		}
		if err := src.UpdatePlan(ctx, &stats.Plan{ID: "p-2030", Name: "二〇三〇 (修订)", EndDate: "2030-06-30",
			Targets: stats.PlanTargets{SkilledWorkers: 260_000_000, Technician: 0.12, SeniorWorker: 0.25, HighSkilled: 0.37}}); err != nil {
			t.Fatal(err)
		}
		outcome := *trs[0]
		outcome.Completed, outcome.ExamResult, outcome.UpdatedAt = true, registry.ExamFail, t0.Add(74*time.Hour)
		if err := src.UpdateTrainingOutcome(ctx, &outcome, outcome.CertificateNumber); err != nil {
			t.Fatal(err)
		}
		table := countTable(t, strings.Split(stdout.String(), "\nthe copied signing keys")[0])
		for _, kind := range migrationKinds {
			row := table[kind]
			if len(row) != 4 || row[0] != fmt.Sprint(wantCounts[kind]) || row[1] != row[0] || row[3] != "ok" {
				t.Errorf("%s: %s row %q; want source = target = %d, ok", r.name, kind, row, wantCounts[kind])
			}
			if want, ok := r.wantCopied[kind]; ok && len(row) == 4 && row[2] != want {
				t.Errorf("%s: %s copied %s, want %s", r.name, kind, row[2], want)
			}
		}
		if !strings.Contains(stderr.String(), fmt.Sprintf("certificates: %d/%d (100%%)", total, total)) {
			t.Errorf("%s: no progress to 100%% on stderr:\n%s", r.name, stderr.String())
		}
	}

	// Every record equal, field by field.
	all := sameRecords(t, ctx, src, dst, "source", "target", 50)
	same := func(what string, a, b any, errA, errB error) {
		t.Helper()
		sameValue(t, what, "source", "target", a, b, errA, errB)
	}
	if len(all) != total {
		t.Fatalf("walked %d certificates, want %d", len(all), total)
	}
	st, e1 := src.TrainingRecordsAfter(ctx, "", 100)
	dt, e2 := dst.TrainingRecordsAfter(ctx, "", 100)
	same("training records", st, dt, e1, e2)
	sa, e1 := src.APIKeys(ctx)
	da, e2 := dst.APIKeys(ctx)
	same("API keys", sa, da, e1, e2)
	sp, e1 := src.Plans(ctx)
	dp, e2 := dst.Plans(ctx)
	same("plans", sp, dp, e1, e2)
	// The target's statistics counters were built from the copied
	// certificates: the same as building the source's.
	if _, err := srcReg.CheckStats(ctx, stats.CheckOptions{Repair: true}); err != nil {
		t.Fatal(err)
	}
	sc, e1 := src.AllStatsCells(ctx)
	dc, e2 := dst.AllStatsCells(ctx)
	sortCells(sc)
	sortCells(dc)
	same("statistics counters", sc, dc, e1, e2)
	if len(sc) == 0 {
		t.Error("no statistics counters on the source after a repair")
	}
	sr, e1 := src.RevokedStatusIndexes(ctx)
	dr, e2 := dst.RevokedStatusIndexes(ctx)
	slices.Sort(sr)
	slices.Sort(dr)
	same("revoked status indexes", sr, dr, e1, e2)

	// The audit log verifies on the copy, with its checkpoint, to the
	// source's head.
	checkCopiedAuditLog(t, ctx, src, dst, vault, 12)

	// Tokens made on the source verify on the copy with the status it
	// holds: a valid and a revoked certificate of each key.
	dstReg := registry.New(registry.Config{Store: dst, Tokens: verify.NewTokens(verify.KeyStore{Store: dst, Vault: vault}.Source()), Vault: vault})
	checked := map[string]bool{}
	for _, c := range all {
		kind := c.KeyID + "/" + c.Status
		if checked[kind] {
			continue
		}
		checked[kind] = true
		tok, err := srcReg.Token(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		res, err := dstReg.Verify(ctx, tok)
		want := registry.VerifyValid
		if c.Status == registry.StatusRevoked {
			want = registry.VerifyRevoked
		}
		if err != nil || res.Status != want {
			t.Errorf("certificate %s (%s) verifies on the copy as %s, %v; want %s", c.Number, kind, res.Status, err, want)
		}
	}
	if len(checked) != 4 {
		t.Errorf("checked tokens of %d key/status pairs, want 4", len(checked))
	}

	// The copy issues past the certificates the source's counter missed.
	next := *all[len(all)-1]
	next.Number, next.ExternalRef, next.StatusIndex, next.Status, next.RevokedAt, next.RevokeReason = "", "", 0, registry.StatusValid, nil, ""
	next.IssuerID, next.Level = issuers[0], registry.Level2
	if created, err := dst.CreateCertificate(ctx, lagPrefix, &next); err != nil || !created || next.Number != wantNext {
		t.Errorf("issuing on the copy: %v, %v, number %s; want %s", created, err, next.Number, wantNext)
	}
}
