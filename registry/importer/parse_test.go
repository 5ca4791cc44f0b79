package importer

import (
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want registry.Level
	}{
		{"1", 1}, {"5", 5}, {" 3 ", 3}, {"2.0", 2}, {"２", 2},
		{"一级", 1}, {"五级", 5}, {"高级技师", 1}, {"技师", 2}, {"高级工", 3}, {"中级工", 4}, {"初级工", 5},
		{"二级/技师", 2}, {"三级（高级工）", 3}, {"四级 / 中级工", 4}, {"1级", 1}, {"高级", 3}, {"初级", 5},
		{"0", 0}, {"6", 0}, {"", 0}, {"三级/技师", 0}, {"特级技师", 0}, {"2.5", 0}, {"level 2", 0}, {"/", 0},
	}
	for _, tt := range tests {
		got, ok := ParseLevel(tt.in)
		if got != tt.want || ok != (tt.want != 0) {
			t.Errorf("ParseLevel(%q) = %d, %v; want %d", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseChannel(t *testing.T) {
	tests := []struct {
		in   string
		want registry.Channel
	}{
		{"social", registry.ChannelSocial}, {"Enterprise", registry.ChannelEnterprise}, {"SCHOOL", registry.ChannelSchool}, {"special", registry.ChannelSpecial},
		{"社会化职业技能鉴定", registry.ChannelSocial}, {"企业技能劳动者评价", registry.ChannelEnterprise},
		{"职业院校资格认证", registry.ChannelSchool}, {"专项职业技能考核", registry.ChannelSpecial}, {"专项职业能力考核", registry.ChannelSpecial},
		{"社会化鉴定", registry.ChannelSocial}, {"企业评价", registry.ChannelEnterprise}, {"院校认证", registry.ChannelSchool}, {"专项", registry.ChannelSpecial},
		{"", ""}, {"考试", ""}, {"企业专项", ""}, {"other", ""},
	}
	for _, tt := range tests {
		got, ok := ParseChannel(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("ParseChannel(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-01-05", "2026-01-05"}, {"2026/1/5", "2026-01-05"}, {"2026.01.05", "2026-01-05"},
		{"2026年1月5日", "2026-01-05"}, {"20260105", "2026-01-05"}, {"2026-01-05 00:00:00", "2026-01-05"},
		{"2026-01-05T08:00:00Z", "2026-01-05"},
		{"46027", "2026-01-05"},   // an Excel date cell's serial
		{"46027.5", "2026-01-05"}, // with a time of day
		{"36526", "2000-01-01"},
		{"2026-02-30", ""}, {"2026-13-01", ""}, {"26-01-05", ""}, {"1234", ""}, {"20261305", ""},
		{"", ""}, {"明天", ""}, {"2026-01", ""}, {"NaN", ""}, {"1e9", ""},
	}
	for _, tt := range tests {
		got, ok := ParseDate(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("ParseDate(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct{ in, want, code string }{
		{"11010519491231002X", "11010519491231002X", ""},
		{"11010519491231002x", "11010519491231002X", ""},
		{" 110105 19491231 002X ", "11010519491231002X", ""},
		{"１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", ""},
		{"110105491231002", "11010519491231002X", ""},
		{"440524198001010013", "440524198001010013", ""},
		{"110105194912310021", "", CodeIDCheckDigit},
		{"1101051949123100", "", CodeIDLength},
		{"11010519491231002Y", "", CodeIDFormat},
		{"1101051949A231002X", "", CodeIDFormat},
		{"1.10105194912310E+17", "", CodeIDExcelNumber},
		{"110105194913310021", "", CodeIDBirthDate}, // month 13, check character right
	}
	for _, tt := range tests {
		got, code, _ := parseID(tt.in)
		if code != tt.code || tt.code == "" && got != tt.want {
			t.Errorf("parseID(%q) = %q, %q; want %q, %q", tt.in, got, code, tt.want, tt.code)
		}
	}
}

func TestParseOccupation(t *testing.T) {
	tests := []struct{ in, want, code string }{
		{"6-18-01-01", "6-18-01-01", ""},
		{"６－１８－０１－０１", "6-18-01-01", ""},
		{"6-18", "", CodeOccupationCat},
		{"6-18-01-77", "", CodeOccupation},
		{"61801", "", CodeOccupationFormat},
		{"车工", "", CodeOccupationFormat},
	}
	for _, tt := range tests {
		got, code, _ := parseOccupation(tt.in)
		if code != tt.code || tt.code == "" && got != tt.want {
			t.Errorf("parseOccupation(%q) = %q, %q; want %q, %q", tt.in, got, code, tt.want, tt.code)
		}
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name  string
		cells []string
		codes []string // problem codes, in order
		idCol int      // index of id_number, -1 when absent
	}{
		{"template", []string{"姓名", "身份证号", "职业编码", "等级", "评价类型", "发证日期", "外部编号"}, nil, 1},
		{"english", []string{"holder_name", "ID_Number", "occupation_code", "level", "channel"}, nil, 1},
		{"marks and notes", []string{"\ufeff姓名*", " 公民身份号码（必填）", "职业编码(X-XX-XX-XX)", "技能等级", "评价类型", "备注"}, nil, 1},
		{"missing two", []string{"姓名", "职业编码", "等级"}, []string{CodeMissingColumn, CodeMissingColumn}, -1},
		{"twice", []string{"姓名", "身份证号", "身份证号码", "职业编码", "等级", "评价类型"}, []string{CodeDuplicateColumn}, 1},
	}
	for _, tt := range tests {
		h, problems := parseHeader(Row{Number: 1, Cells: tt.cells})
		var codes []string
		for _, p := range problems {
			codes = append(codes, p.Code)
			if p.Row != 1 || p.Message == "" || p.MessageEN == "" || p.Column == "" {
				t.Errorf("%s: problem %+v lacks row, column or a message", tt.name, p)
			}
		}
		if strings.Join(codes, ",") != strings.Join(tt.codes, ",") {
			t.Errorf("%s: problems %v, want %v", tt.name, codes, tt.codes)
		}
		if i, ok := h.index["id_number"]; tt.idCol >= 0 && (!ok || i != tt.idCol) || tt.idCol < 0 && ok {
			t.Errorf("%s: id_number at %d (%v), want %d", tt.name, i, ok, tt.idCol)
		}
	}
	_, problems := parseHeader(Row{Number: 3, Cells: []string{"姓名", "职业编码", "等级", "评价类型"}})
	if len(problems) != 1 || problems[0].Column != "身份证号" || !strings.Contains(problems[0].Message, "身份证号") || !strings.Contains(problems[0].MessageEN, "id_number") || problems[0].Row != 3 {
		t.Errorf("missing 身份证号: %+v", problems)
	}
}

// TestParseRow: each kind of cell problem is found, named by the file's own
// column header, in both languages, and a good row becomes the IssueInput
// the registry expects.
func TestParseRow(t *testing.T) {
	h, _ := parseHeader(Row{Number: 1, Cells: []string{"姓名", "身份证号", "职业编码", "等级", "评价类型", "发证日期", "外部编号"}})
	good := []string{" 张小三 ", "11010519491231002x", "6-18-01-01", "二级/技师", "社会化鉴定", "46027", ""}
	p, problems := h.parseRow(Row{Number: 7, Cells: good}, "file-abc")
	want := registry.IssueInput{HolderName: "张小三", IDNumber: "11010519491231002X", OccupationCode: "6-18-01-01", Level: 2, Channel: registry.ChannelSocial, IssuedOn: "2026-01-05", ExternalRef: "file-abc:7"}
	if len(problems) != 0 || p.in != want || !p.derivedRef || p.id != "11010519491231002X" {
		t.Fatalf("good row: %+v %+v", p, problems)
	}
	with := func(i int, v string) []string {
		c := append([]string(nil), good...)
		c[i] = v
		return c
	}
	tests := []struct {
		name   string
		cells  []string
		code   string
		column string
	}{
		{"no name", with(0, " "), CodeRequired, "姓名"},
		{"long name", with(0, strings.Repeat("张", 51)), CodeTooLong, "姓名"},
		{"star in name", with(0, "张*"), CodeNameInvalid, "姓名"},
		{"digit in name", with(0, "学员1"), CodeNameInvalid, "姓名"},
		{"Cyrillic and Armenian name", with(0, "ѧԱ"), CodeNameInvalid, "姓名"},
		{"zero-width name", with(0, "\u200b\u200c\u200d"), CodeNameInvalid, "姓名"},
		{"region 000000", with(1, "000000198001010013"), CodeIDRegion, "身份证号"},
		{"check digit", with(1, "110105194912310021"), CodeIDCheckDigit, "身份证号"},
		{"excel number", with(1, "1.10105194912310E+17"), CodeIDExcelNumber, "身份证号"},
		{"unknown occupation", with(2, "6-18-01-77"), CodeOccupation, "职业编码"},
		{"category", with(2, "6-18-01"), CodeOccupationCat, "职业编码"},
		{"level", with(3, "六级"), CodeLevel, "等级"},
		{"channel", with(4, "考试"), CodeChannel, "评价类型"},
		{"date", with(5, "2026-02-30"), CodeDate, "发证日期"},
		{"long ref", with(6, strings.Repeat("r", 129)), CodeTooLong, "外部编号"},
		{"short row", good[:4], CodeRequired, "评价类型"},
	}
	for _, tt := range tests {
		_, problems := h.parseRow(Row{Number: 9, Cells: tt.cells}, "file-abc")
		if len(problems) != 1 || problems[0].Code != tt.code || problems[0].Column != tt.column || problems[0].Row != 9 {
			t.Errorf("%s: %+v, want one %s on %s", tt.name, problems, tt.code, tt.column)
			continue
		}
		if problems[0].Message == "" || problems[0].MessageEN == "" || strings.Contains(problems[0].Message+problems[0].MessageEN, "%!") {
			t.Errorf("%s: bad messages %q / %q", tt.name, problems[0].Message, problems[0].MessageEN)
		}
	}
	_, problems = h.parseRow(Row{Number: 4, Err: errTest}, "file-abc")
	if len(problems) != 1 || problems[0].Code != CodeUnreadable {
		t.Errorf("unreadable row: %+v", problems)
	}
}

// TestMessages: every code has both texts, and none mis-formats with the
// arguments it is used with.
func TestMessages(t *testing.T) {
	for code, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("%s lacks a message", code)
		}
	}
	p := newProblem(2, "姓名", "holder_name", CodeTooLong, "姓名", "holder_name", 50)
	if p.Message != "“姓名”过长，最多 50 个字符" || p.MessageEN != "holder_name is too long: at most 50 characters" {
		t.Errorf("too long: %q / %q", p.Message, p.MessageEN)
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("bare \" in non-quoted field")
