package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
	"github.com/skillreg/skillreg/verify"
)

const directMaster = "0707070707070707070707070707070707070707070707070707070707070707"

// directDataDir makes a data directory with the given master key, a
// signing key and two issuing organisations, as a server would have.
func directDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte(directMaster+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := openEnv(ctx, dataFlags{dataDir: dir}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.keys().Ensure(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Config{Store: e.store, Vault: e.vault, Logger: slog.New(slog.DiscardHandler)})
	admin := &registry.User{Role: registry.RoleAdmin, Username: "admin"}
	for _, in := range []registry.IssuerInput{
		{Name: "北京鉴定中心", Kind: "S", OrgCode: "0001", Province: "11", Site: "000001", Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 2}},
		{Name: "广东鉴定中心", Kind: "S", OrgCode: "0002", Province: "44", Site: "000001", Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 2}},
	} {
		if _, err := reg.CreateIssuer(ctx, admin, in); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const directCSV = "姓名,身份证号,职业编码,等级,评价类型,发证日期\n" +
	"张三,11010519491231002X,6-18-01-01,2,social,2026-01-05\n" +
	"李四,110105194912310021,6-18-01-01,2,social,2026-01-05\n" +
	"王五,440524198001010013,6-18-01-02,三级/高级工,企业评价,2026-01-05\n"

// certificatesOf lists an organisation's certificates in a data dir.
func certificatesOf(t *testing.T, dir, issuer string) []*registry.Certificate {
	t.Helper()
	e, err := openEnv(context.Background(), dataFlags{dataDir: dir}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	list, _, err := e.store.Certificates(context.Background(), registry.CertificateFilter{IssuerID: issuer, PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestImportDirect: the command imports into a data directory with no
// server, as --issuer: a dry run writes nothing, a run issues the good
// rows, a second run finds them, a registry with two organisations needs
// --issuer and an unknown one is refused; and the certificates are the
// same as those an upload of the same file to a server makes (number,
// holder, hashes, occupation, level, channel, date, external_ref, status),
// the audit trail aside.
func TestImportDirect(t *testing.T) {
	t.Setenv("SKILLREG_MASTER_KEY", "")
	t.Setenv("SKILLREG_DATA", "")
	dir := directDataDir(t)
	file := filepath.Join(t.TempDir(), "class.csv")
	if err := os.WriteFile(file, []byte(directCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "report.xlsx")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no issuer among two", []string{"import", file, "--data", dir}, 2, []string{"choose one with --issuer (S000111000001, S000244000001)"}},
		{"unknown issuer", []string{"import", file, "--data", dir, "--issuer", "S999911000001"}, 2, []string{"no such issuing organisation"}},
		{"dry run", []string{"import", file, "--data", dir, "--issuer", "S000111000001", "--dry-run"}, 1, []string{"rows: 3  issued: 0", "would issue: 2", "第 3 行 身份证号：身份证号校验位不符"}},
		{"run", []string{"import", "--data", dir, "--issuer", "S000111000001", file, "--report", report}, 1, []string{"issued: 2  already existed: 0  errors: 1", "report: " + report}},
		{"again", []string{"import", file, "--data", dir, "--issuer", "S000111000001"}, 1, []string{"issued: 0  already existed: 2  errors: 1"}},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append(tt.args, "--interval", "5ms"), &stdout, &stderr)
		out := stdout.String() + stderr.String()
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d\n%s", tt.name, code, tt.code, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.name, w, out)
			}
		}
		if tt.code == 1 && !strings.Contains(stderr.String(), "[") {
			t.Errorf("%s: no progress bar: %q", tt.name, stderr.String())
		}
	}
	direct := certificatesOf(t, dir, "S000111000001")
	if len(direct) != 2 {
		t.Fatalf("direct import stored %d certificates", len(direct))
	}
	audit, err := os.ReadFile(filepath.Join(dir, "import-audit.jsonl"))
	if err != nil || !strings.Contains(string(audit), `"event":"certificate.issued"`) || !strings.Contains(string(audit), `"actor":"cli`) || strings.Contains(string(audit), "11010519491231002X") {
		t.Errorf("audit log: %v\n%s", err, audit)
	}

	// The same file uploaded to a server over another data dir with the
	// same master key and organisations.
	other := directDataDir(t)
	uploadToServer(t, other, file)
	viaAPI := certificatesOf(t, other, "S000111000001")
	if len(viaAPI) != len(direct) {
		t.Fatalf("API path stored %d, direct %d", len(viaAPI), len(direct))
	}
	for i := range direct {
		a, b := *direct[i], *viaAPI[i]
		for _, c := range []*registry.Certificate{&a, &b} {
			if c.StatusIndex == 0 {
				t.Errorf("certificate %s has no status-list index", c.Number)
			}
			c.HolderIDCipher, c.KeyID, c.CreatedAt = nil, "", time.Time{} // random nonce, own key, clock
			c.StatusIndex = 0                                             // random by design
		}
		if !equalCert(a, b) {
			t.Errorf("certificate %d differs:\n direct %+v\n api    %+v", i, a, b)
		}
	}

	// Training records, directly.
	tfile := filepath.Join(t.TempDir(), "training.csv")
	tcsv := "姓名,身份证号,人员类别,职业编码,培训等级,培训类型,课时,开班日期,结业日期,班级编号\n" +
		"张三,11010519491231002X,新成长劳动力,6-18-01-01,4,就业技能培训,80,2026-01-05,2026-01-30,C1\n"
	if err := os.WriteFile(tfile, []byte(tcsv), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"import", tfile, "--data", dir, "--issuer", "S000244000001", "--kind", "training", "--interval", "5ms"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "rows: 1  registered: 1") {
		t.Fatalf("training: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	e, err := openEnv(context.Background(), dataFlags{dataDir: dir}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	recs, total, err := e.store.TrainingRecords(context.Background(), registry.TrainingFilter{IssuerID: "S000244000001"})
	if err != nil || total != 1 || recs[0].Province != "44" || recs[0].TargetGroup != registry.GroupNewLabour {
		t.Fatalf("training records %d %v", total, err)
	}
}

func equalCert(a, b registry.Certificate) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb) && a.HolderIDHash == b.HolderIDHash
}

// uploadToServer imports file through the HTTP API of a server over dir,
// as a user of S000111000001.
func uploadToServer(t *testing.T, dir, file string) {
	t.Helper()
	ctx := context.Background()
	e, err := openEnv(ctx, dataFlags{dataDir: dir}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	logger := slog.New(slog.DiscardHandler)
	reg := registry.New(registry.Config{Store: e.store, Tokens: verify.NewTokens(e.keys().Source()), Vault: e.vault, Logger: logger})
	admin := &registry.User{Role: registry.RoleAdmin, Username: "admin"}
	if _, err := reg.CreateUser(ctx, admin, registry.UserInput{Username: "centre", Password: "centre-password", Role: registry.RoleIssuer, IssuerID: "S000111000001"}); err != nil {
		t.Fatal(err)
	}
	imports := importer.NewManager(reg, importer.ManagerConfig{Dir: t.TempDir(), Logger: logger})
	defer imports.Close()
	ts := httptest.NewServer(handlers.New(handlers.Config{Registry: reg, JWKS: e.keys().JWKS, QRPNG: verify.QRPNG, LoginKey: e.vault.LoginKey(), Logger: logger, Imports: imports}))
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"centre","password":"centre-password"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	content, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", filepath.Base(file))
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/imports?wait=true", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var job struct {
		Status string
		Issued int
	}
	if err := json.NewDecoder(resp.Body).Decode(&job); err != nil || job.Status != "done" || job.Issued != 2 {
		t.Fatalf("upload: %+v %v", job, err)
	}
}

// TestImportEncodingFlag: `skillreg import` refuses a CSV that reads
// cleanly both as UTF-8 and as GB18030 (学员 D1A7 D4B1 reads ѧԱ) and says
// to use --encoding; with --encoding gb18030 the file is read so, the
// summary shows the names as read, and 学员1 fails the name rule: no
// certificate is signed.
func TestImportEncodingFlag(t *testing.T) {
	t.Setenv("SKILLREG_MASTER_KEY", "")
	t.Setenv("SKILLREG_DATA", "")
	dir := directDataDir(t)
	file := filepath.Join(t.TempDir(), "students.csv")
	data := "holder_name,id_number,occupation_code,level,channel\n\xD1\xA7\xD4\xB1" + "1,11010519491231002X,6-18-01-01,2,social\n"
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"undecidable", nil, 2, []string{"encoding=gb18030", "ѧԱ1", "学员1"}},
		{"bad flag", []string{"--encoding", "latin1"}, 2, []string{"--encoding must be"}},
		{"gb18030", []string{"--encoding", "gb18030"}, 1, []string{"csv, gb18030", "names as read: 学员1", "issued: 0", "姓名不能包含数字"}},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"import", file, "--data", dir, "--issuer", "S000111000001", "--interval", "5ms"}, tt.args...)
		code := run(context.Background(), args, &stdout, &stderr)
		out := stdout.String() + stderr.String()
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d\n%s", tt.name, code, tt.code, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.name, w, out)
			}
		}
	}
	if n := len(certificatesOf(t, dir, "S000111000001")); n != 0 {
		t.Fatalf("%d certificates signed", n)
	}
}
