package importer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/refdata"
)

// Column describes one column an import understands: its canonical field
// name (as in registry.IssueInput's JSON), the Chinese header the template
// uses, the other headers accepted for it, and a note for the template.
type Column struct {
	Field    string
	Header   string
	Aliases  []string
	Required bool
	Note     string
}

// Columns are the columns of an import file, in template order.
var Columns = []Column{
	{"holder_name", "姓名", []string{"持证人姓名", "name"}, true, "持证人姓名，与身份证一致，最多 50 个字"},
	{"id_number", "身份证号", []string{"身份证号码", "公民身份号码", "证件号码", "idnumber", "id_no"}, true, "18 位居民身份证号（旧 15 位亦可），末位 X 大小写均可；请将本列设为“文本”格式，否则 Excel 会丢失末几位"},
	{"occupation_code", "职业编码", []string{"职业代码", "职业（工种）编码", "occupation"}, true, "《职业分类大典》（2022 年版）职业编码，格式 X-XX-XX-XX，如 6-18-01-01（车工）"},
	{"level", "等级", []string{"技能等级", "职业技能等级"}, true, "1-5，或 一级/高级技师、二级/技师、三级/高级工、四级/中级工、五级/初级工（1 为最高）"},
	{"channel", "评价类型", []string{"评价方式", "评价渠道"}, true, "社会化职业技能鉴定、企业技能劳动者评价、职业院校资格认证、专项职业技能考核（或 social、enterprise、school、special）"},
	{"issued_on", "发证日期", []string{"issue_date", "date"}, false, "YYYY-MM-DD，或 Excel 日期；留空为导入当天"},
	{"external_ref", "外部编号", []string{"ref"}, false, "本机构系统中的编号（可选，最多 128 字节）；同一编号只发一次证。留空时按文件内容和行号生成"},
	{"name_change_reason", "更名原因", []string{"改名原因"}, false, "仅当该身份证号已以另一姓名持证、持证人确已更名时填写（如“2025 年户籍更名”），会记入审计日志；其他情况留空"},
}

// MaxRows is the most data rows one file may have: the duplicate index
// costs about 45 bytes a key (a row has one, two with a given
// external_ref), so it stays under 100 MB at this size.
const MaxRows = 1_000_000

// header is the mapping of a file's columns to fields.
type header struct {
	row   int            // the header's row number
	names []string       // headers as written
	index map[string]int // field -> cell index
}

// headerKey normalises a header for matching: no spaces (ASCII or
// full-width), no required-marks (*, ＊, （必填）), no trailing
// explanation in brackets, lower case.
func headerKey(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	for _, cut := range []string{"（", "(", "["} {
		if i := strings.Index(s, cut); i > 0 {
			s = s[:i]
		}
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '*' || r == '＊' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
	return s
}

var headerFields = func() map[string]string {
	m := map[string]string{}
	for _, c := range Columns {
		m[headerKey(c.Field)] = c.Field
		m[headerKey(c.Header)] = c.Field
		for _, a := range c.Aliases {
			m[headerKey(a)] = c.Field
		}
	}
	return m
}()

// recognised counts the cells of a row that name a known column.
func recognised(cells []string) int {
	n := 0
	for _, c := range cells {
		if _, ok := headerFields[headerKey(c)]; ok {
			n++
		}
	}
	return n
}

// parseHeader maps the header row's cells to fields. Unknown headers are
// ignored (they come back unchanged in the report). A missing required
// column or a field named twice is a Problem on the header row.
func parseHeader(row Row) (*header, []Problem) {
	h := &header{row: row.Number, names: append([]string(nil), row.Cells...), index: map[string]int{}}
	var problems []Problem
	for i, cell := range row.Cells {
		field, ok := headerFields[headerKey(cell)]
		if !ok {
			continue
		}
		if j, dup := h.index[field]; dup {
			problems = append(problems, newProblem(row.Number, strings.TrimSpace(cell), field, CodeDuplicateColumn, strings.TrimSpace(cell), j+1, i+1))
			continue
		}
		h.index[field] = i
	}
	for _, c := range Columns {
		if _, ok := h.index[c.Field]; c.Required && !ok {
			problems = append(problems, newProblem(row.Number, c.Header, c.Field, CodeMissingColumn, c.Header, c.Field))
		}
	}
	return h, problems
}

// columnName returns the header the file uses for field, or the template's
// header when the file has no such column.
func (h *header) columnName(field string) string {
	if i, ok := h.index[field]; ok {
		if n := strings.TrimSpace(h.names[i]); n != "" {
			return n
		}
	}
	for _, c := range Columns {
		if c.Field == field {
			return c.Header
		}
	}
	return field
}

func (h *header) cell(row Row, field string) string {
	i, ok := h.index[field]
	if !ok || i >= len(row.Cells) {
		return ""
	}
	return strings.TrimFunc(row.Cells[i], unicode.IsSpace)
}

// parsed is a row turned into an issue request, with what the checks after
// parsing need: the canonical ID number and whether the external_ref was
// derived rather than given.
type parsed struct {
	in         registry.IssueInput
	id         string
	derivedRef bool
}

// parseRow reads one data row into an IssueInput and reports every problem
// it can find without the registry. fileRef prefixes derived
// external_refs.
func (h *header) parseRow(row Row, fileRef string) (parsed, []Problem) {
	var p parsed
	var problems []Problem
	add := func(field, code string, args ...any) {
		problems = append(problems, newProblem(row.Number, h.columnName(field), field, code, args...))
	}
	if row.Err != nil {
		problems = append(problems, newProblem(row.Number, "", "", CodeUnreadable, row.Err))
		return p, problems
	}
	required := func(field string) (string, bool) {
		v := h.cell(row, field)
		if v == "" {
			add(field, CodeRequired, h.columnName(field), field)
			return "", false
		}
		return v, true
	}

	if name, ok := required("holder_name"); ok {
		if utf8.RuneCountInString(name) > registry.MaxNameRunes {
			add("holder_name", CodeTooLong, h.columnName("holder_name"), "holder_name", registry.MaxNameRunes)
		} else if norm, err := registry.NormalizeName(name); err != nil {
			ne := registry.NameProblem(err)
			add("holder_name", CodeNameInvalid, ne.MessageZH, ne.Message)
		} else {
			name = norm
		}
		p.in.HolderName = name
	}
	if raw, ok := required("id_number"); ok {
		id, code, args := parseID(raw)
		if code != "" {
			add("id_number", code, args...)
		}
		p.id, p.in.IDNumber = id, id
	}
	if raw, ok := required("occupation_code"); ok {
		code, pcode, args := parseOccupation(raw)
		if pcode != "" {
			add("occupation_code", pcode, args...)
		}
		p.in.OccupationCode = code
	}
	if raw, ok := required("level"); ok {
		lv, ok := ParseLevel(raw)
		if !ok {
			add("level", CodeLevel, raw)
		}
		p.in.Level = lv
	}
	if raw, ok := required("channel"); ok {
		ch, ok := ParseChannel(raw)
		if !ok {
			add("channel", CodeChannel, raw)
		}
		p.in.Channel = ch
	}
	if raw := h.cell(row, "issued_on"); raw != "" {
		d, ok := ParseDate(raw)
		if !ok {
			add("issued_on", CodeDate, raw)
		}
		p.in.IssuedOn = d
	}
	p.in.NameChangeReason = h.cell(row, "name_change_reason")
	p.in.ExternalRef = h.cell(row, "external_ref")
	switch {
	case len(p.in.ExternalRef) > 128:
		add("external_ref", CodeTooLong, h.columnName("external_ref"), "external_ref", 128)
	case p.in.ExternalRef == "":
		p.in.ExternalRef = fmt.Sprintf("%s:%d", fileRef, row.Number)
		p.derivedRef = true
	}
	return p, problems
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// parseID checks an ID number cell and returns the canonical number, or a
// problem code with its arguments. It gives the clerk the precise reason
// (length, letters, check character, address code, birth date, Excel's
// rounding), where registry.NormalizeIDNumber, which has the last word,
// says less. A birth date after the issue date is the registry's check.
func parseID(raw string) (string, string, []any) {
	s := strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == 'Ｘ' || r == 'ｘ':
			return 'X'
		}
		return r
	}, raw)
	if strings.ContainsAny(s, "Ee.") && strings.Trim(s, "0123456789.Ee+") == "" && len(s) < 30 {
		return s, CodeIDExcelNumber, nil
	}
	switch len(s) {
	case 15, 18:
	default:
		return s, CodeIDLength, []any{utf8.RuneCountInString(s)}
	}
	digits := s
	if len(s) == 18 {
		digits = s[:17]
	}
	if strings.Trim(digits, "0123456789") != "" || len(s) == 18 && strings.IndexByte("0123456789Xx", s[17]) < 0 {
		return s, CodeIDFormat, nil
	}
	if len(s) == 18 {
		sum := 0
		for i := range 17 {
			sum += int(s[i]-'0') * idWeights[i]
		}
		if want := "10X98765432"[sum%11]; want != s[17] && !(want == 'X' && s[17] == 'x') {
			return s, CodeIDCheckDigit, nil
		}
	}
	if !registry.IDAddressPlausible(s) {
		return s, CodeIDRegion, nil
	}
	id, err := registry.NormalizeIDNumber(s)
	if err != nil {
		return s, CodeIDBirthDate, nil
	}
	return id, "", nil
}

// parseOccupation accepts an occupation code, tolerating full-width digits
// and dashes, and says what is wrong with one that is not an occupation.
func parseOccupation(raw string) (string, string, []any) {
	s := strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == '－' || r == '—' || r == '–' || r == '‐':
			return '-'
		}
		return r
	}, raw)
	if _, ok := refdata.LookupOccupation(s); ok {
		return s, "", nil
	}
	if c, ok := refdata.LookupCategory(s); ok {
		return s, CodeOccupationCat, []any{s, c.Name}
	}
	parts := strings.Split(s, "-")
	if len(parts) != 4 || len(parts[0]) != 1 || len(parts[1]) != 2 || len(parts[2]) != 2 || len(parts[3]) != 2 || strings.Trim(strings.Join(parts, ""), "0123456789") != "" {
		return s, CodeOccupationFormat, nil
	}
	return s, CodeOccupation, []any{s}
}

var levelWords = map[string]registry.Level{
	"一级": 1, "高级技师": 1, "二级": 2, "技师": 2, "三级": 3, "高级工": 3, "高级": 3,
	"四级": 4, "中级工": 4, "中级": 4, "五级": 5, "初级工": 5, "初级": 5,
	"1级": 1, "2级": 2, "3级": 3, "4级": 4, "5级": 5,
	"1": 1, "2": 2, "3": 3, "4": 4, "5": 5,
}

// ParseLevel reads a level written as 1-5, 一级..五级, 高级技师, 技师, 高级工,
// 中级工, 初级工 (or the old 职业资格 names 高级, 中级, 初级), or a
// combination such as "二级/技师" or "三级（高级工）" whose parts agree.
func ParseLevel(s string) (registry.Level, bool) {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case strings.ContainsRune("/／、(（)）", r):
			return '/'
		}
		return r
	}, s)
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int(f)) && !strings.ContainsAny(s, "/") {
		s = strconv.Itoa(int(f)) // a number cell: "2" or "2.0"
	}
	var lv registry.Level
	for _, part := range strings.Split(s, "/") {
		if part == "" {
			continue
		}
		l, ok := levelWords[part]
		if !ok || lv != 0 && l != lv {
			return 0, false
		}
		lv = l
	}
	return lv, lv != 0
}

var channelWords = map[string]registry.Channel{
	"social": registry.ChannelSocial, "enterprise": registry.ChannelEnterprise,
	"school": registry.ChannelSchool, "special": registry.ChannelSpecial,
	"社会化职业技能鉴定": registry.ChannelSocial, "企业技能劳动者评价": registry.ChannelEnterprise,
	"职业院校资格认证": registry.ChannelSchool, "专项职业技能考核": registry.ChannelSpecial,
	"专项职业能力考核": registry.ChannelSpecial,
}

// channelHints are the short forms: a value naming exactly one of them is
// that channel ("社会化鉴定", "企业评价", "院校认证", "专项考核").
var channelHints = []struct {
	words []string
	ch    registry.Channel
}{
	{[]string{"社会化", "社会评价", "鉴定"}, registry.ChannelSocial},
	{[]string{"企业"}, registry.ChannelEnterprise},
	{[]string{"院校", "学校"}, registry.ChannelSchool},
	{[]string{"专项"}, registry.ChannelSpecial},
}

// ParseChannel reads an evaluation channel: social, enterprise, school,
// special, the Chinese names of the plan, or a short form that names only
// one of them.
func ParseChannel(s string) (registry.Channel, bool) {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s))
	if ch, ok := channelWords[s]; ok {
		return ch, true
	}
	var found registry.Channel
	for _, h := range channelHints {
		for _, w := range h.words {
			if strings.Contains(s, w) {
				if found != "" && found != h.ch {
					return "", false
				}
				found = h.ch
			}
		}
	}
	return found, found != ""
}

// Excel serial day numbers accepted as dates: 2000-01-01 to 2099-12-31.
// 8-digit numbers (20260105) lie above this range, so the two never clash.
const (
	minSerial = 36526
	maxSerial = 73050
)

var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// ParseDate reads an issue date and returns it as YYYY-MM-DD: YYYY-MM-DD,
// YYYY/M/D, YYYY.M.D, YYYY年M月D日, YYYYMMDD, an ISO date-time, or an Excel
// date serial (what a date cell holds). Whether the date is allowed (not
// in the future, not before 2000) is the registry's rule.
func ParseDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i] // a time of day after the date
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "-/") {
		switch {
		case f >= minSerial && f < maxSerial+1:
			return excelEpoch.AddDate(0, 0, int(f)).Format("2006-01-02"), true
		case len(s) == 8 && strings.Trim(s, "0123456789") == "":
			return ymd(s[:4], s[4:6], s[6:])
		}
		return "", false
	}
	s = strings.TrimSuffix(s, "日")
	parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("-/.年月", r) })
	if len(parts) != 3 {
		return "", false
	}
	return ymd(parts[0], parts[1], parts[2])
}

func ymd(ys, ms, ds string) (string, bool) {
	y, err1 := strconv.Atoi(ys)
	m, err2 := strconv.Atoi(ms)
	d, err3 := strconv.Atoi(ds)
	if err1 != nil || err2 != nil || err3 != nil || len(ys) != 4 || len(ms) > 2 || len(ds) > 2 {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return "", false
	}
	return t.Format("2006-01-02"), true
}
