package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"golang.org/x/crypto/bcrypt"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// TestMain points the temporary directory, where import jobs keep their
// files until they expire, into one directory removed after the tests, so
// that test runs leave nothing behind, and makes password hashes cheap:
// these tests log in hundreds of times, and bcrypt at the production cost
// would be most of their time.
func TestMain(m *testing.M) {
	registry.PasswordCost = bcrypt.MinCost
	dir, err := os.MkdirTemp("", "skillreg-handlers-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("TMPDIR", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// upload is a request body with its own content type: harness.do sends
// it as is.
type upload struct {
	contentType string
	body        []byte
}

// fileUpload is a multipart form with the spreadsheet in the field "file".
func fileUpload(t testing.TB, name string, content []byte) upload {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("note", "ignored"); err != nil {
		t.Fatal(err)
	}
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return upload{contentType: w.FormDataContentType(), body: buf.Bytes()}
}

const importHeader = "姓名,身份证号,职业编码,等级,评价类型,发证日期,外部编号\n"

// testID returns a valid ID number (GB 11643-1999), distinct for each i.
func testID(i int) string {
	s := fmt.Sprintf("440105%s%03d", time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/500).Format("20060102"), i%500*2+1)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for k := range 17 {
		sum += int(s[k]-'0') * w[k]
	}
	return s + string("10X98765432"[sum%11])
}

// wrongCheck returns id with a wrong check character.
func wrongCheck(id string) string {
	last := "0123456789X"
	i := strings.IndexByte(last, id[17])
	return id[:17] + string(last[(i+1)%len(last)])
}

// importCSV uploads a CSV and waits for the job; it returns the job.
func (h *harness) importFile(token, query, name string, content []byte, status int) map[string]any {
	h.t.Helper()
	r := h.expect(h.do("POST", "/api/v1/imports?wait=true&per_page=1000"+query, token, fileUpload(h.t, name, content)), status)
	job := r.json(h.t)
	if status == 200 && job["status"] != "done" {
		h.t.Fatalf("job not done: %s", r.body)
	}
	return job
}

func rowsOf(t *testing.T, job map[string]any) []map[string]any {
	t.Helper()
	raw, _ := job["rows"].([]any)
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

func num(job map[string]any, key string) int {
	f, _ := job[key].(float64)
	return int(f)
}

func (h *harness) certificateCount(token string) int {
	h.t.Helper()
	return num(h.expect(h.do("GET", "/api/v1/certificates?per_page=1", token, nil), 200).json(h.t), "total")
}

// matrixFile is the file the authorization matrix uploads (a dry run).
func matrixFile() []byte {
	return []byte(importHeader + "张三," + testID(900) + ",6-18-01-01,2,social,,\n")
}

func matrixUpload(t *testing.T) upload { return fileUpload(t, "matrix.csv", matrixFile()) }

// matrixImport makes a finished import of the token's organisation and
// returns its id.
func matrixImport(t *testing.T, h *harness, token string) string {
	t.Helper()
	return h.importFile(token, "&dry_run=true", "matrix.csv", matrixFile(), 200)["id"].(string)
}

// TestImportDryRunErrorKinds: a dry run names every kind of bad row with
// its row number, column and a message in Chinese and English, and writes
// nothing.
func TestImportDryRunErrorKinds(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18", "4-04-05"}, 2)
	file := importHeader +
		"张三," + testID(1) + ",6-18-01-01,2,social,2026-01-05,\n" + // 2: good
		"李四," + wrongCheck(testID(2)) + ",6-18-01-01,2,social,,\n" + // 3
		"王五," + testID(3) + ",6-18-01-77,2,social,,\n" + // 4
		"赵六," + testID(4) + ",6-18-01-01,六级,social,,\n" + // 5
		"钱七," + testID(5) + ",6-18-01-01,2,考试,,\n" + // 6
		"孙八," + testID(6) + ",6-18-01-01,2,social,2026-02-30,\n" + // 7
		"周九," + testID(7) + ",6-18-01-01,1,social,,\n" + // 8: level 1 above scope
		"吴十," + testID(8) + ",2-02-07-11,3,social,,\n" + // 9: occupation outside scope
		"张三," + testID(1) + ",6-18-01-01,二级/技师,社会化鉴定,,\n" + // 10: repeats row 2
		"郑一," + testID(9) + ",6-18-01-01,3,social,,R-1\n" + // 11
		"王二," + testID(10) + ",6-18-01-01,3,social,,R-1\n" + // 12: repeats R-1
		"冯三," + testID(11) + ",6-18-01-01,3,social,2099-01-01,\n" + // 13: future
		"," + testID(12) + ",6-18-01-01,3,social,,\n" // 14: no name
	job := h.importFile(tok, "&dry_run=true", "class.csv", []byte(file), 200)
	if job["dry_run"] != true || num(job, "total") != 13 || num(job, "valid") != 2 || num(job, "errors") != 11 || num(job, "issued") != 0 {
		t.Fatalf("summary: %v", job)
	}
	want := map[int]struct{ code, column string }{
		3:  {"id_check_digit", "身份证号"},
		4:  {"occupation_unknown", "职业编码"},
		5:  {"level_invalid", "等级"},
		6:  {"channel_invalid", "评价类型"},
		7:  {"date_invalid", "发证日期"},
		8:  {"out_of_scope", "等级"},
		9:  {"out_of_scope", "职业编码"},
		10: {"duplicate_in_file", "身份证号"},
		12: {"duplicate_ref", "外部编号"},
		13: {"date_out_of_range", "发证日期"},
		14: {"required", "姓名"},
	}
	rows := rowsOf(t, job)
	if len(rows) != 13 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		n := num(r, "row")
		w, bad := want[n]
		if !bad {
			if r["status"] != "valid" {
				t.Errorf("row %d: %v, want valid", n, r)
			}
			continue
		}
		errs, _ := r["errors"].([]any)
		if r["status"] != "invalid" || len(errs) != 1 {
			t.Errorf("row %d: %v, want one %s", n, r, w.code)
			continue
		}
		e := errs[0].(map[string]any)
		if e["code"] != w.code || e["column"] != w.column || num(e, "row") != n || e["message"] == "" || e["message_en"] == "" {
			t.Errorf("row %d: %v, want %s on %s", n, e, w.code, w.column)
		}
		if msg := e["message"].(string); !strings.ContainsFunc(msg, func(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF }) {
			t.Errorf("row %d: message %q is not Chinese", n, msg)
		}
	}
	if dup := rows[8]["errors"].([]any)[0].(map[string]any)["message"].(string); !strings.Contains(dup, "第 2 行") {
		t.Errorf("duplicate names the first row: %q", dup)
	}
	if h.certificateCount(tok) != 0 {
		t.Fatal("a dry run wrote certificates")
	}
	// Only the bad rows, paginated.
	page := h.expect(h.do("GET", "/api/v1/imports/"+job["id"].(string)+"?only=errors&per_page=5&page=2", tok, nil), 200).json(t)
	if num(page, "rows_total") != 11 || len(rowsOf(t, page)) != 5 || num(rowsOf(t, page)[0], "row") != 8 {
		t.Errorf("errors page 2: %v", page)
	}

	// A file without a required column is refused as a whole.
	noID := "姓名,职业编码,等级,评价类型\n张三,6-18-01-01,2,social\n"
	job = h.importFile(tok, "&dry_run=true", "no-id.csv", []byte(noID), 200)
	fe, _ := job["file_errors"].([]any)
	if len(fe) != 1 || num(job, "errors") != 1 || num(job, "total") != 0 {
		t.Fatalf("missing column: %v", job)
	}
	if e := fe[0].(map[string]any); e["code"] != "missing_column" || e["column"] != "身份证号" || num(e, "row") != 1 || e["message_en"] == "" {
		t.Errorf("missing column: %v", e)
	}
}

// TestImportAllOrNothing: one bad row and nothing is issued; every good
// row says why it was not; fixed, the file goes in whole.
func TestImportAllOrNothing(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	good := importHeader + "张三," + testID(1) + ",6-18-01-01,2,social,,\n" + "李四," + testID(2) + ",6-18-01-02,3,enterprise,,\n"
	bad := good + "王五," + wrongCheck(testID(3)) + ",6-18-01-01,2,social,,\n"
	job := h.importFile(tok, "&all_or_nothing=true", "bad.csv", []byte(bad), 200)
	if num(job, "issued") != 0 || num(job, "errors") != 1 || num(job, "not_issued") != 2 || h.certificateCount(tok) != 0 {
		t.Fatalf("all or nothing with a bad row: %v", job)
	}
	if rows := rowsOf(t, job); rows[0]["status"] != "not_issued" || rows[2]["status"] != "invalid" {
		t.Fatalf("rows: %v", rows)
	}
	// Without all_or_nothing the good rows go in and the bad one is reported.
	job = h.importFile(tok, "", "bad.csv", []byte(bad), 200)
	if num(job, "issued") != 2 || num(job, "errors") != 1 || h.certificateCount(tok) != 2 {
		t.Fatalf("plain run: %v", job)
	}
	job = h.importFile(tok, "&all_or_nothing=true", "good.csv", []byte(good+"王五,"+testID(3)+",6-18-01-01,2,social,,\n"), 200)
	if num(job, "issued") != 1 || num(job, "skipped") != 2 || num(job, "errors") != 0 || h.certificateCount(tok) != 3 {
		t.Fatalf("fixed file: %v", job)
	}
}

// TestImportResumeAndReupload: a partial file, then the full file (as
// after an interrupted upload), issues every row exactly once; uploading
// the full file again issues nothing and reports each row's existing
// certificate.
func TestImportResumeAndReupload(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	var lines []string
	for i := range 6 {
		lines = append(lines, fmt.Sprintf("%s,%s,6-18-01-01,3,social,2026-01-05,", registry.DemoName(i), testID(100+i)))
	}
	partial := importHeader + strings.Join(lines[:3], "\n") + "\n"
	full := importHeader + strings.Join(lines, "\n") + "\n"

	first := h.importFile(tok, "", "part.csv", []byte(partial), 200)
	if num(first, "issued") != 3 {
		t.Fatalf("partial: %v", first)
	}
	second := h.importFile(tok, "", "full.csv", []byte(full), 200)
	if num(second, "issued") != 3 || num(second, "skipped") != 3 || h.certificateCount(tok) != 6 {
		t.Fatalf("full after partial: %v", second)
	}
	numbers := map[int]string{}
	for i, r := range rowsOf(t, second) {
		numbers[num(r, "row")] = r["number"].(string)
		if i < 3 && (r["status"] != "exists" || r["number"] != rowsOf(t, first)[i]["number"]) {
			t.Errorf("row %v: %v, want the partial run's certificate", r["row"], r)
		}
	}
	third := h.importFile(tok, "", "full.csv", []byte(full), 200)
	if num(third, "issued") != 0 || num(third, "skipped") != 6 || h.certificateCount(tok) != 6 {
		t.Fatalf("re-upload: %v", third)
	}
	for _, r := range rowsOf(t, third) {
		if r["status"] != "exists" || r["number"] != numbers[num(r, "row")] {
			t.Errorf("re-upload row %v: %v", r["row"], r)
		}
	}
	// The report says so in the 结果 column.
	rep := h.expect(h.do("GET", "/api/v1/imports/"+third["id"].(string)+"/report.xlsx", tok, nil), 200)
	if rep.header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || !strings.Contains(rep.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("report headers %v", rep.header)
	}
	rows := xlsxRows(t, rep.body)
	if len(rows) != 7 || rows[0][7] != "结果" || !strings.HasPrefix(rows[1][7], "已存在 "+numbers[2]) {
		t.Fatalf("report rows %q", rows)
	}
}

// TestImportGB18030: a CSV saved by Excel in China (GB18030) imports, with
// Chinese levels and channels, and the names come through intact.
func TestImportGB18030(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18", "4-04-05"}, 2)
	text := importHeader +
		"欧阳娜娜," + testID(1) + ",4-04-05-05,三级/高级工,企业技能劳动者评价,2026/1/5,\r\n" +
		"张小三," + testID(2) + ",6-18-01-01,技师,社会化职业技能鉴定,2026年1月6日,\r\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(gb), []byte("欧阳")) {
		t.Fatal("the test file is not GB18030")
	}
	job := h.importFile(tok, "", "gbk.csv", []byte(gb), 200)
	if job["encoding"] != "gb18030" || num(job, "issued") != 2 {
		t.Fatalf("GB18030: %v", job)
	}
	rows := rowsOf(t, job)
	c := h.expect(h.do("GET", "/api/v1/certificates/"+rows[0]["number"].(string), tok, nil), 200).json(t)
	if c["holder_name"] != "欧阳娜娜" || c["level"].(float64) != 3 || c["channel"] != "enterprise" || c["issued_on"] != "2026-01-05" || c["occupation_name"] != "人工智能训练师" {
		t.Fatalf("certificate %v", c)
	}
}

// TestImportTemplateRoundTrip: the template has the Chinese headers and
// notes; filled in (with a real Excel date cell) and uploaded, it issues;
// the report adds 结果 after the last column.
func TestImportTemplateRoundTrip(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	r := h.expect(h.do("GET", "/api/v1/imports/template.xlsx", "", nil), 200)
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	sheets := f.GetSheetList()
	if len(sheets) != 2 || sheets[0] != "证书" {
		t.Fatalf("sheets %v", sheets)
	}
	head, _ := f.GetRows("证书")
	if strings.Join(head[0], ",") != strings.TrimSuffix(importHeader, "\n")+",更名原因" {
		t.Fatalf("headers %q", head[0])
	}
	notes, _ := f.GetRows("填写说明")
	if len(notes) < 10 || !strings.Contains(fmt.Sprint(notes), "11010519491231002X") {
		t.Fatalf("notes %q", notes)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetRow("证书", "A2", &[]any{"张三", testID(1), "6-18-01-01", "二级/技师", "社会化职业技能鉴定", time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), "2026-03期-001"}))
	must(f.SetSheetRow("证书", "A3", &[]any{"李四", testID(2), "6-18-01-02", "五级/初级工", "专项职业技能考核", nil, ""}))
	must(f.SetSheetRow("证书", "A4", &[]any{"王五", wrongCheck(testID(3)), "6-18-01-02", "四级/中级工", "专项职业技能考核", nil, ""}))
	var buf bytes.Buffer
	must(f.Write(&buf))
	job := h.importFile(tok, "", "班级.xlsx", buf.Bytes(), 200)
	if job["format"] != "xlsx" || num(job, "issued") != 2 || num(job, "errors") != 1 {
		t.Fatalf("xlsx import: %v", job)
	}
	rows := rowsOf(t, job)
	c := h.expect(h.do("GET", "/api/v1/certificates/"+rows[0]["number"].(string), tok, nil), 200).json(t)
	if c["issued_on"] != "2026-01-05" || c["external_ref"] != "2026-03期-001" {
		t.Fatalf("certificate %v", c)
	}
	rep := h.expect(h.do("GET", "/api/v1/imports/"+job["id"].(string)+"/report.xlsx", tok, nil), 200)
	if !strings.Contains(rep.header.Get("Content-Disposition"), "filename*=UTF-8''%E5%AF%BC%E5%85%A5%E7%BB%93%E6%9E%9C-%E7%8F%AD%E7%BA%A7.xlsx") {
		t.Errorf("report name %q", rep.header.Get("Content-Disposition"))
	}
	report := xlsxRows(t, rep.body)
	res := len(report[0]) - 1 // the 结果 column follows the template's columns
	if len(report) != 4 || report[0][res] != "结果" || report[1][5] != "2026-01-05" ||
		report[1][res] != "已签发 "+rows[0]["number"].(string) || !strings.HasPrefix(report[3][res], "错误：身份证号：身份证号校验位不符") {
		t.Fatalf("report %q", report)
	}
}

// xlsxRows reads the first sheet of a workbook, padding rows to 9 cells.
func xlsxRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for len(rows[i]) < 9 {
			rows[i] = append(rows[i], "")
		}
	}
	return rows
}

// TestImportJobs: an upload answers 202 with a job to poll; only the
// uploading organisation sees the job; bad uploads are 400 at once.
func TestImportJobs(t *testing.T) {
	h := newHarness(t)
	a := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	b := h.issuer("S000244000001", "44", []string{"6-18"}, 2)
	file := []byte(importHeader + "张三," + testID(1) + ",6-18-01-01,2,social,,\n")
	r := h.expect(h.do("POST", "/api/v1/imports", a, fileUpload(t, "a.csv", file)), 202)
	job := r.json(t)
	id := job["id"].(string)
	if r.header.Get("Location") != "/api/v1/imports/"+id || job["status"] == nil || job["file_name"] != "a.csv" || len(job["sha256"].(string)) != 64 {
		t.Fatalf("202: %v %v", r.header, job)
	}
	deadline := time.Now().Add(2 * time.Minute) // a hang guard only
	for job["status"] == "running" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		job = h.expect(h.do("GET", "/api/v1/imports/"+id, a, nil), 200).json(t)
	}
	if job["status"] != "done" || num(job, "issued") != 1 || num(job, "processed") != 1 || num(job, "total") != 1 || job["phase"] != "done" {
		t.Fatalf("polled: %v", job)
	}
	for _, path := range []string{"/api/v1/imports/" + id, "/api/v1/imports/" + id + "/report.xlsx", "/api/v1/imports/nonexistent"} {
		if code, _ := h.expect(h.do("GET", path, b, nil), 404).errorCode(t); code != "not_found" {
			t.Errorf("%s as another issuer: %s", path, code)
		}
	}

	tests := []struct {
		name  string
		body  any
		query string
		field string
	}{
		{"json body", map[string]string{"file": "x"}, "", "file"},
		{"no file field", upload{contentType: "multipart/form-data; boundary=X", body: []byte("--X\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--X--\r\n")}, "", "file"},
		{"xls", fileUpload(t, "a.xls", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest")), "", "file"},
		{"pdf", fileUpload(t, "a.pdf", []byte("%PDF-1.4")), "", "file"},
		{"empty", fileUpload(t, "a.csv", nil), "", "file"},
		{"bad flag", fileUpload(t, "a.csv", file), "?dry_run=yes", "dry_run"},
	}
	for _, tt := range tests {
		r := h.do("POST", "/api/v1/imports"+tt.query, a, tt.body)
		if code, field := r.errorCode(t); r.status != 400 || code != "invalid" || field != tt.field {
			t.Errorf("%s: %d %s %s: %s", tt.name, r.status, code, field, r.body)
		}
	}
	if h.certificateCount(a) != 1 {
		t.Fatal("a refused upload issued certificates")
	}
	checkNoIDNumber(t, "logs", h.logs.String())
}

// slowReader yields its first part, pauses, then the rest: an upload over
// a slow line.
type slowReader struct {
	parts [][]byte
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	if len(r.parts[0]) == 0 {
		r.parts = r.parts[1:]
		time.Sleep(r.pause)
		return 0, nil
	}
	n := copy(p, r.parts[0])
	r.parts[0] = r.parts[0][n:]
	return n, nil
}

// TestImportOutlastsServerTimeouts: an upload slower than the server's read
// timeout, and a wait longer than its write timeout, still succeed on the
// import route, while another route is cut off as the timeouts intend.
func TestImportOutlastsServerTimeouts(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	vault, err := registry.NewVault(bytes.Repeat([]byte{7}, registry.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Config{Store: h.store, Tokens: h.tokens, Vault: vault, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewUnstartedServer(handlers.New(handlers.Config{Registry: reg, LoginKey: vault.LoginKey(), QRPNG: verify.QRPNG, Logger: slog.New(slog.DiscardHandler)}))
	ts.Config.ReadTimeout = 300 * time.Millisecond
	ts.Config.WriteTimeout = 300 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)

	send := func(path, ctype string, body []byte) (int, error) {
		half := len(body) / 2
		req, err := http.NewRequest("POST", ts.URL+path, &slowReader{parts: [][]byte{append([]byte(nil), body[:half]...), {}, append([]byte(nil), body[half:]...)}, pause: 700 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	up := fileUpload(t, "slow.csv", []byte(importHeader+"张三,"+testID(1)+",6-18-01-01,2,social,,\n"))
	if status, err := send("/api/v1/imports?wait=true", up.contentType, up.body); err != nil || status != 200 {
		t.Fatalf("slow upload: %d %v", status, err)
	}
	body, _ := json.Marshal(certBody(nil))
	if status, err := send("/api/v1/certificates", "application/json", body); err == nil && status < 400 {
		t.Fatalf("a slow body on another route was not cut off (%d): the test proves nothing", status)
	}
}
