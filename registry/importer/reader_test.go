package importer

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/skillreg/skillreg/registry"
)

func readAll(t *testing.T, r Reader) []Row {
	t.Helper()
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}

func gb18030(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(b)
}

func TestCSVReader(t *testing.T) {
	const text = "姓名,身份证号\r\n张三,11010519491231002X\r\n\r\n\"李\n四\",440524198001010013\r\n欧阳娜娜,34052419800101001X\r\n"
	tests := []struct {
		name string
		data []byte
		enc  string
	}{
		{"utf-8", []byte(text), EncodingUTF8},
		{"utf-8 with BOM", append([]byte("\xEF\xBB\xBF"), text...), EncodingUTF8},
		{"gb18030", gb18030(t, text), EncodingGB18030},
		{"tab separated", []byte(strings.ReplaceAll(text, ",", "\t")), EncodingUTF8},
	}
	for _, tt := range tests {
		r, err := NewCSVReader(bytes.NewReader(tt.data))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if r.Encoding() != tt.enc {
			t.Errorf("%s: encoding %s, want %s", tt.name, r.Encoding(), tt.enc)
		}
		rows := readAll(t, r)
		// Row numbers are what a spreadsheet shows: the blank line is row
		// 3, and the quoted line break keeps 李四 on one row (4).
		want := []Row{
			{Number: 1, Cells: []string{"姓名", "身份证号"}},
			{Number: 2, Cells: []string{"张三", "11010519491231002X"}},
			{Number: 4, Cells: []string{"李\n四", "440524198001010013"}},
			{Number: 5, Cells: []string{"欧阳娜娜", "34052419800101001X"}},
		}
		if len(rows) != len(want) {
			t.Fatalf("%s: rows %+v", tt.name, rows)
		}
		for i := range want {
			if rows[i].Number != want[i].Number || strings.Join(rows[i].Cells, "|") != strings.Join(want[i].Cells, "|") {
				t.Errorf("%s: row %d = %+v, want %+v", tt.name, i, rows[i], want[i])
			}
		}
	}
}

// TestCSVReaderBadQuote: a quoting error spoils one row, not the file.
func TestCSVReaderBadQuote(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader("姓名,身份证号\n张\"三\",1\n李四,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, r)
	if len(rows) != 3 || rows[1].Number != 2 || rows[1].Err == nil || rows[2].Number != 3 || rows[2].Cells[0] != "李四" {
		t.Fatalf("rows %+v", rows)
	}
}

func TestCSVReaderRefusesUTF16(t *testing.T) {
	if _, err := NewCSVReader(bytes.NewReader([]byte("\xFF\xFEa\x00"))); registry.ErrorCode(err) != registry.EINVALID {
		t.Fatalf("UTF-16: %v", err)
	}
}

// TestScanTextChunks: a character split across the 64 KiB read boundary
// is still valid UTF-8 or GB18030; a stray byte anywhere is not.
func TestScanTextChunks(t *testing.T) {
	for pad := 0; pad < 4; pad++ {
		s := strings.Repeat("a", 64<<10-1-pad) + strings.Repeat("张", 3)
		if sc, err := scanText(strings.NewReader(s)); !sc.utf8 || sc.ascii || err != nil {
			t.Errorf("pad %d: %+v %v", pad, sc, err)
		}
		if sc, _ := scanText(strings.NewReader(s[:len(s)-1])); sc.utf8 {
			t.Errorf("pad %d: truncated character accepted", pad)
		}
		g := gb18030(t, strings.Repeat("a", 64<<10-1-pad)+"张三𠀀")
		if sc, _ := scanText(bytes.NewReader(g)); !sc.gb18030 || sc.utf8 {
			t.Errorf("pad %d: GB18030 across the boundary: %+v", pad, sc)
		}
		if sc, _ := scanText(bytes.NewReader(g[:len(g)-1])); sc.gb18030 {
			t.Errorf("pad %d: truncated GB18030 sequence accepted", pad)
		}
	}
	if sc, _ := scanText(bytes.NewReader(gb18030(t, "张三"))); sc.utf8 {
		t.Error("GB18030 taken for UTF-8")
	}
	if sc, _ := scanText(bytes.NewReader([]byte("a\x80b"))); sc.gb18030 || sc.utf8 {
		t.Errorf("0x80 alone accepted: %+v", sc)
	}
}

// Exact bytes of a GB18030 file with an English header: 学员 is D1A7 D4B1,
// which is also valid UTF-8 and reads as the Cyrillic and Armenian ѧԱ.
var (
	gbStudentDigit = []byte("holder_name,id_number,occupation_code,level,channel\n\xD1\xA7\xD4\xB1" + "1,11010519491231002X,6-18-01-01,3,social\n")
	gbStudent      = []byte("holder_name,id_number,occupation_code,level,channel\n\xD1\xA7\xD4\xB1,11010519491231002X,6-18-01-01,3,social\n")
)

func TestDecideEncoding(t *testing.T) {
	utf8Names := []byte("姓名,身份证号\n张小三,11010519491231002X\n")
	tests := []struct {
		name    string
		data    []byte
		want    string // encoding, or "" for a refusal
		field   string // the refusal's field
		wantMsg string
	}{
		{"ascii", []byte("holder_name,id_number\nJohn Smith,1\n"), EncodingUTF8, "", ""},
		{"utf-8", utf8Names, EncodingUTF8, "", ""},
		{"utf-8 with BOM", append([]byte("\xEF\xBB\xBF"), utf8Names...), EncodingUTF8, "", ""},
		{"gb18030", gb18030(t, "姓名,身份证号\n张小三,11010519491231002X\n"), EncodingGB18030, "", ""},
		// Both readings clean, both names fail the rule (a digit): refused.
		{"学员1 as GB18030 and ѧԱ1 as UTF-8", gbStudentDigit, "", "encoding", "encoding=gb18030"},
		// Both clean; only the GB18030 reading is a plausible name.
		{"学员 as GB18030 and ѧԱ as UTF-8", gbStudent, EncodingGB18030, "", ""},
		// UTF-8 whose every run of Chinese is an even number of bytes
		// also reads as GB18030 (张三 as 寮犱笁): both readings are names.
		{"两字 names both ways", []byte("holder_name,id_number\n张三,11010519491231002X\n"), "", "encoding", "encoding=utf-8"},
		{"neither", []byte("holder_name\n\xFF\xFF\n"), "", "file", "neither"},
		// Both clean, but only the UTF-8 reading has the header: UTF-8,
		// and the digit in the names is the rows' problem.
		{"Chinese header found only as UTF-8", []byte("姓名,身份证号\n学员0,1\n"), EncodingUTF8, "", ""},
	}
	for _, tt := range tests {
		got, err := DecideEncoding(bytes.NewReader(tt.data), "")
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("%s: DecideEncoding = %q, %v; want %q", tt.name, got, err, tt.want)
			}
			continue
		}
		if err == nil || registry.ErrorCode(err) != registry.EINVALID || registry.ErrorField(err) != tt.field || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("%s: DecideEncoding = %q, %v; want EINVALID on %s mentioning %q", tt.name, got, err, tt.field, tt.wantMsg)
		}
	}
	// Told the encoding, the file must be valid in it, and is read so.
	for _, tt := range []struct {
		data        []byte
		want, wants string
		ok          bool
	}{
		{gbStudentDigit, EncodingGB18030, "学员1", true},
		{gbStudentDigit, EncodingUTF8, "ѧԱ1", true},
		{gb18030(t, "姓名\n张小三\n"), EncodingUTF8, "", false},
		{[]byte("姓名\n张\xFF\n"), EncodingGB18030, "", false},
	} {
		got, err := DecideEncoding(bytes.NewReader(tt.data), tt.want)
		if !tt.ok {
			if err == nil || registry.ErrorField(err) != "encoding" {
				t.Errorf("forced %s on invalid text: %q, %v; want an error on encoding", tt.want, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Fatalf("forced %s: %q, %v", tt.want, got, err)
		}
		r, err := OpenSource(writeTemp(t, tt.data, tt.want))
		if err != nil {
			t.Fatal(err)
		}
		r.Next()
		row, _ := r.Next()
		r.Close()
		if len(row.Cells) == 0 || row.Cells[0] != tt.wants {
			t.Errorf("forced %s: row %q, want the name %q", tt.want, row.Cells, tt.wants)
		}
	}
	for in, want := range map[string]string{"": "", "UTF-8": EncodingUTF8, "utf8": EncodingUTF8, "GBK": EncodingGB18030, "gb18030": EncodingGB18030} {
		if got, err := ParseEncoding(in); err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseEncoding("latin1"); registry.ErrorField(err) != "encoding" {
		t.Errorf("ParseEncoding(latin1) = %v", err)
	}
}

func writeTemp(t *testing.T, data []byte, enc string) Source {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.csv")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return Source{Path: path, Format: FormatCSV, Encoding: enc}
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name string
		head string
		want Format
		ok   bool
	}{
		{"a.xlsx", "PK\x03\x04rest", FormatXLSX, true},
		{"A.XLSX", "PK\x03\x04", FormatXLSX, true},
		{"a.csv", "姓名,身份证号", FormatCSV, true},
		{"a.txt", "a\tb", FormatCSV, true},
		{"a.csv", "PK\x03\x04", "", false},
		{"a.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "", false},
		{"a.csv", "\xFF\xFEa\x00", "", false},
		{"a.xlsx", "姓名", "", false},
		{"a.pdf", "%PDF", "", false},
	}
	for _, tt := range tests {
		got, err := DetectFormat(tt.name, []byte(tt.head))
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("DetectFormat(%q, %q) = %q, %v", tt.name, tt.head, got, err)
		}
		if err != nil && (registry.ErrorCode(err) != registry.EINVALID || registry.ErrorField(err) != "file") {
			t.Errorf("DetectFormat(%q): error %v is not EINVALID on file", tt.name, err)
		}
	}
}

// TestXLSXReader: rows keep Excel's numbers across gaps, a date cell comes
// back as its serial (which ParseDate reads), and a number-typed ID cell
// comes back as the rounded number Excel stored.
func TestXLSXReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.xlsx")
	f := excelize.NewFile()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "身份证号", "发证日期"}))
	must(f.SetSheetRow("Sheet1", "A2", &[]any{"张三", "11010519491231002X", "2026-01-05"}))
	must(f.SetSheetRow("Sheet1", "A4", &[]any{"李四", 110105194912310021.0}))
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	must(err)
	must(f.SetCellValue("Sheet1", "C4", 46027))
	must(f.SetCellStyle("Sheet1", "C4", "C4", dateStyle))
	must(f.SaveAs(path))
	must(f.Close())

	r, err := Open(path, FormatXLSX)
	must(err)
	defer r.Close()
	rows := readAll(t, r)
	if len(rows) != 4 || rows[1].Number != 2 || rows[2].Number != 3 || len(rows[2].Cells) != 0 || rows[3].Number != 4 {
		t.Fatalf("rows %+v", rows)
	}
	if d, ok := ParseDate(rows[3].Cells[2]); !ok || d != "2026-01-05" {
		t.Errorf("date cell %q -> %q", rows[3].Cells[2], d)
	}
	if _, code, _ := parseID(rows[3].Cells[1]); code != CodeIDExcelNumber && code != CodeIDCheckDigit {
		t.Errorf("number-typed ID %q gave %q", rows[3].Cells[1], code)
	}
}

// FuzzReadCSV: any bytes either fail to open with EINVALID or read as rows
// with rising numbers and bounded cells; every row parses without panic,
// and a row the parser accepts is one the registry's own checks accept.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("姓名,身份证号,职业编码,等级,评价类型,发证日期,外部编号\n张三,11010519491231002X,6-18-01-01,2,social,2026-01-05,\n"))
	f.Add([]byte("\xEF\xBB\xBF姓名,身份证号\n\"a\n\",b\n\n,\n"))
	f.Add(gb18030(f, "姓名,身份证号,职业编码,等级,评价类型\n欧阳娜娜,34052419800101001X,4-04-05-05,三级/高级工,企业评价\n"))
	f.Add([]byte("a\tb\n\"x\"y,z\n"))
	f.Add([]byte("\xFF\xFE"))
	h, _ := parseHeader(Row{Number: 1, Cells: []string{"姓名", "身份证号", "职业编码", "等级", "评价类型", "发证日期", "外部编号"}})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewCSVReader(bytes.NewReader(data))
		if err != nil {
			if registry.ErrorCode(err) != registry.EINVALID {
				t.Fatalf("open: %v", err)
			}
			return
		}
		last := 0
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("next: %v", err)
			}
			if row.Number <= last {
				t.Fatalf("row %d after %d", row.Number, last)
			}
			last = row.Number
			for _, c := range row.Cells {
				if len(c) > maxCellBytes+1 {
					t.Fatalf("cell of %d bytes", len(c))
				}
			}
			if r.Encoding() == EncodingUTF8 {
				for _, c := range row.Cells {
					if !utf8.ValidString(c) {
						t.Fatalf("invalid UTF-8 cell %q from a file taken as UTF-8", c)
					}
				}
			}
			p, problems := h.parseRow(row, "file-0")
			if len(problems) == 0 {
				checkAccepted(t, p)
			}
		}
	})
}

// FuzzParseRow: whatever the cells, parseRow does not panic, every problem
// has both messages and a row, and an accepted row passes the registry's
// own field rules.
func FuzzParseRow(f *testing.F) {
	f.Add("张小三", "11010519491231002X", "6-18-01-01", "二级/技师", "社会化职业技能鉴定", "2026-01-05", "")
	f.Add("", "1.1E+17", "6-18", "六级", "x", "46027", "ref")
	f.Add("欧阳**", "110105491231002", "６－１８－０１－０１", "2.0", "Social", "2026年1月5日", strings.Repeat("r", 200))
	h, _ := parseHeader(Row{Number: 1, Cells: []string{"姓名", "身份证号", "职业编码", "等级", "评价类型", "发证日期", "外部编号"}})
	f.Fuzz(func(t *testing.T, name, id, occ, level, channel, date, ref string) {
		p, problems := h.parseRow(Row{Number: 2, Cells: []string{name, id, occ, level, channel, date, ref}}, "file-0")
		inputs := name + id + occ + level + channel + date + ref
		for _, pr := range problems {
			if pr.Row != 2 || pr.Message == "" || pr.MessageEN == "" || pr.Code == "" || strings.Contains(pr.Message+pr.MessageEN, "%!") && !strings.Contains(inputs, "%!") {
				t.Fatalf("bad problem %+v", pr)
			}
		}
		if len(problems) == 0 {
			checkAccepted(t, p)
		}
	})
}

func checkAccepted(t *testing.T, p parsed) {
	t.Helper()
	id, err := registry.NormalizeIDNumber(p.in.IDNumber)
	if err != nil || id != p.id {
		t.Fatalf("accepted ID %q: %v", p.in.IDNumber, err)
	}
	if !p.in.Level.Valid() || !p.in.Channel.Valid() || p.in.HolderName == "" || p.in.ExternalRef == "" || len(p.in.ExternalRef) > 128 {
		t.Fatalf("accepted %+v", p.in)
	}
	if _, err := parseOccupationCheck(p.in.OccupationCode); err != nil {
		t.Fatal(err)
	}
	if p.in.IssuedOn != "" {
		if d, ok := ParseDate(p.in.IssuedOn); !ok || d != p.in.IssuedOn {
			t.Fatalf("accepted date %q", p.in.IssuedOn)
		}
	}
}

func parseOccupationCheck(code string) (string, error) {
	if c, pcode, _ := parseOccupation(code); pcode != "" || c != code {
		return "", errors.New("accepted occupation " + code + " is not canonical")
	}
	return code, nil
}
