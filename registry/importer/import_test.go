package importer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

// env is a registry over a real SQLite file, with one issuer user.
type env struct {
	reg   *registry.Registry
	store *sqlite.Store
	user  *registry.User
	dir   string
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "r.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	vault, err := registry.NewVault(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	ks := verify.KeyStore{Store: st, Vault: vault}
	if _, err := ks.Ensure(ctx, now); err != nil {
		tb.Fatal(err)
	}
	reg := registry.New(registry.Config{Store: st, Tokens: verify.NewTokens(ks.Source()), Vault: vault, Clock: func() time.Time { return now },
		Logger: discardLogger()})
	admin := &registry.User{ID: "admin", Username: "admin", Role: registry.RoleAdmin}
	is, err := reg.CreateIssuer(ctx, admin, registry.IssuerInput{Name: "北京鉴定中心", Kind: "S", OrgCode: "0001", Province: "11", Site: "000001",
		Scope: registry.Scope{Occupations: []string{"6-18", "4-04-05"}, MaxLevel: 2}})
	if err != nil {
		tb.Fatal(err)
	}
	return &env{reg: reg, store: st, dir: dir, user: &registry.User{ID: "u1", Username: "bj-center", Role: registry.RoleIssuer, IssuerID: is.ID}}
}

// source writes content to a file and returns it as a Source.
func (e *env) source(tb testing.TB, name string, content []byte) importer.Source {
	tb.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(content)
	format, err := importer.DetectFormat(name, content)
	if err != nil {
		tb.Fatal(err)
	}
	return importer.Source{Path: path, Format: format, SHA256: hex.EncodeToString(sum[:])}
}

func (e *env) run(tb testing.TB, src importer.Source, opts importer.Options) (importer.Outcome, []importer.RowResult) {
	tb.Helper()
	var rows []importer.RowResult
	out, err := importer.Run(context.Background(), e.reg, e.user, src, opts, func(r importer.RowResult) error {
		rows = append(rows, r)
		return nil
	}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return out, rows
}

func (e *env) certificates(tb testing.TB) int {
	tb.Helper()
	_, total, err := e.store.Certificates(context.Background(), registry.CertificateFilter{IssuerID: e.user.IssuerID, PerPage: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return total
}

const csvHeader = "姓名,身份证号,职业编码,等级,评价类型,发证日期,外部编号\n"

// idFor returns a valid, distinct ID number for i.
func idFor(i int) string {
	s := fmt.Sprintf("110105%s%03d", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/500).Format("20060102"), i%500*2+1)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for k := range 17 {
		sum += int(s[k]-'0') * w[k]
	}
	return s + string("10X98765432"[sum%11])
}

// TestRunModes: one file through a dry run, a real run, and a re-run; then
// the all-or-nothing refusal. The engine-level view of the scenarios the
// handler tests drive over HTTP.
func TestRunModes(t *testing.T) {
	e := newEnv(t)
	good := csvHeader +
		"张三," + idFor(1) + ",6-18-01-01,2,social,2026-01-05,\n" +
		"李四," + idFor(2) + ",6-18-01-02,三级/高级工,企业评价,,R-2\n" +
		"\n" +
		"王五," + idFor(3) + ",4-04-05-05,五级,专项,46027,\n"
	src := e.source(t, "good.csv", []byte(good))

	out, rows := e.run(t, src, importer.Options{DryRun: true})
	if out.Total != 3 || out.Valid != 3 || out.Errors != 0 || e.certificates(t) != 0 || len(rows) != 3 {
		t.Fatalf("dry run: %+v %+v", out, rows)
	}
	if rows[2].Row != 5 || rows[2].Status != importer.StatusValid || rows[0].ExternalRef != src.FileRef()+":2" || rows[1].ExternalRef != "R-2" {
		t.Fatalf("dry run rows: %+v", rows)
	}

	out, rows = e.run(t, src, importer.Options{})
	if out.Issued != 3 || e.certificates(t) != 3 {
		t.Fatalf("real run: %+v", out)
	}
	for _, r := range rows {
		if r.Status != importer.StatusIssued || r.Number == "" {
			t.Fatalf("real run row %+v", r)
		}
	}
	issued := rows

	out, rows = e.run(t, src, importer.Options{})
	if out.Issued != 0 || out.Skipped != 3 || e.certificates(t) != 3 {
		t.Fatalf("re-run: %+v", out)
	}
	for i, r := range rows {
		if r.Status != importer.StatusExists || r.Number != issued[i].Number {
			t.Fatalf("re-run row %+v, want exists %s", r, issued[i].Number)
		}
	}

	// All or nothing: one bad row, nothing issued, every row reported.
	bad := csvHeader +
		"赵六," + idFor(4) + ",6-18-01-01,2,social,,\n" +
		"钱七," + idFor(5) + ",6-18-01-01,1,social,,\n" + // level 1: out of scope
		"张三," + idFor(1) + ",6-18-01-01,2,social,2026-01-05,\n" // exists already
	out, rows = e.run(t, e.source(t, "bad.csv", []byte(bad)), importer.Options{AllOrNothing: true})
	if out.Issued != 0 || out.Errors != 1 || out.NotIssued != 1 || out.Skipped != 1 || e.certificates(t) != 3 {
		t.Fatalf("all or nothing: %+v %+v", out, rows)
	}
	if rows[0].Status != importer.StatusNotIssued || rows[1].Errors[0].Code != importer.CodeOutOfScope || rows[1].Errors[0].Column != "等级" || rows[2].Status != importer.StatusExists {
		t.Fatalf("all or nothing rows: %+v", rows)
	}
	// Fixed, the same rows go in.
	fixed := strings.Replace(bad, ",1,social", ",2,social", 1)
	out, _ = e.run(t, e.source(t, "fixed.csv", []byte(fixed)), importer.Options{AllOrNothing: true})
	if out.Issued != 2 || out.Skipped != 1 || e.certificates(t) != 5 {
		t.Fatalf("fixed all or nothing: %+v", out)
	}
}

// TestRunRefusesNonIssuers: the actor is checked before the file is read.
func TestRunRefusesNonIssuers(t *testing.T) {
	e := newEnv(t)
	src := importer.Source{Path: "/nonexistent", Format: importer.FormatCSV}
	for _, u := range []*registry.User{nil, {Role: registry.RoleAdmin}, {Role: registry.RoleOfficial}} {
		if _, err := importer.Run(context.Background(), e.reg, u, src, importer.Options{}, nil, nil); err == nil {
			t.Errorf("%v may import", u)
		}
	}
}

// TestRunRefConflict: an external_ref the organisation already used for
// another person is refused, not silently mapped to that certificate.
func TestRunRefConflict(t *testing.T) {
	e := newEnv(t)
	if _, _, err := e.reg.Issue(context.Background(), e.user, registry.IssueInput{HolderName: "张三", IDNumber: idFor(1), OccupationCode: "6-18-01-01", Level: 3, Channel: "social", ExternalRef: "R-1"}); err != nil {
		t.Fatal(err)
	}
	out, rows := e.run(t, e.source(t, "a.csv", []byte(csvHeader+"李四,"+idFor(2)+",6-18-01-01,3,social,,R-1\n")), importer.Options{})
	if out.Errors != 1 || rows[0].Errors[0].Code != importer.CodeRefConflict || e.certificates(t) != 1 {
		t.Fatalf("%+v %+v", out, rows)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
