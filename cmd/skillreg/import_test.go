package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

// importServer is an in-process server over SQLite with one issuer user;
// it returns the URL and the user's login token.
func importServer(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	vault, err := registry.NewVault(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ks := verify.KeyStore{Store: st, Vault: vault}
	if _, err := ks.Ensure(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	reg := registry.New(registry.Config{Store: st, Tokens: verify.NewTokens(ks.Source()), Vault: vault, Logger: logger})
	admin := &registry.User{Role: registry.RoleAdmin, Username: "admin"}
	if _, err := reg.CreateIssuer(ctx, admin, registry.IssuerInput{Name: "北京鉴定中心", Kind: "S", OrgCode: "0001", Province: "11", Site: "000001",
		Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateUser(ctx, admin, registry.UserInput{Username: "centre", Password: "centre-password", Role: registry.RoleIssuer, IssuerID: "S000111000001"}); err != nil {
		t.Fatal(err)
	}
	imports := importer.NewManager(reg, importer.ManagerConfig{Dir: dir, Logger: logger})
	t.Cleanup(imports.Close)
	srv := handlers.New(handlers.Config{Registry: reg, JWKS: ks.JWKS, QRPNG: verify.QRPNG, LoginKey: vault.LoginKey(), Logger: logger, Imports: imports})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	resp, err := http.Post(ts.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"centre","password":"centre-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var login struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil || login.Token == "" {
		t.Fatalf("login: %v", err)
	}
	return ts.URL, login.Token
}

// TestImportCommand: the command uploads, follows the job, prints the
// summary and each bad row in both languages, saves the report, and exits
// 1 when rows are bad, 0 when all are in, 2 on usage errors.
func TestImportCommand(t *testing.T) {
	t.Setenv("SKILLREG_TOKEN", "")
	t.Setenv("SKILLREG_SERVER", "")
	url, token := importServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "class.csv")
	csv := "姓名,身份证号,职业编码,等级,评价类型\n" +
		"张三,11010519491231002X,6-18-01-01,2,social\n" +
		"李四,110105194912310021,6-18-01-01,2,social\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report.xlsx")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
	}{
		{"dry run", []string{"import", file, "--server", url, "--token", token, "--dry-run"}, 1,
			[]string{"rows: 2  issued: 0", "would issue: 1", "第 3 行 身份证号：身份证号校验位不符", "(the ID number's check character is wrong"}},
		{"all or nothing", []string{"import", "--all-or-nothing", "--server", url, "--token", token, file}, 1,
			[]string{"issued: 0", "not issued: 1"}},
		{"real run with report", []string{"import", file, "--server=" + url, "--token=" + token, "--report", report}, 1,
			[]string{"issued: 1  already existed: 0  errors: 1", "report: " + report}},
		{"again", []string{"import", file, "--server", url, "--token", token}, 1,
			[]string{"issued: 0  already existed: 1  errors: 1"}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append(tt.args, "--interval", "10ms"), &stdout, &stderr)
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tt.name, code, tt.code, stdout.String(), stderr.String())
		}
		for _, want := range tt.stdout {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("%s: stdout lacks %q:\n%s", tt.name, want, stdout.String())
			}
		}
		if !strings.Contains(stderr.String(), "[") {
			t.Errorf("%s: no progress on stderr: %q", tt.name, stderr.String())
		}
	}
	f, err := excelize.OpenFile(report)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(f.GetSheetList()[0])
	if len(rows) != 3 || rows[0][5] != "结果" || !strings.HasPrefix(rows[1][5], "已签发 S000111000001") {
		t.Fatalf("report %q", rows)
	}

	// The bad row fixed: every row is in, exit 0.
	if err := os.WriteFile(file, []byte(strings.Replace(csv, "110105194912310021", "440524198001010013", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"import", file, "--server", url, "--token", token, "--interval", "10ms"}, &stdout, &stderr); code != 0 {
		t.Fatalf("fixed file: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "issued: 1  already existed: 1  errors: 0") {
		t.Fatalf("fixed file: %s", stdout.String())
	}

	for _, args := range [][]string{
		{"import"},
		{"import", file, "--server", url}, // no token
		{"import", file, "--server", url, "--token", "not-a-token"},     // refused
		{"import", filepath.Join(dir, "missing.csv"), "--token", token}, // no file
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, stderr.String())
		}
	}
}
