package importer

import (
	"fmt"
	"strings"

	"github.com/skillreg/skillreg/registry"
)

// Problem is one thing wrong with a row (or, on row 1 or the header row,
// with the file): where it is, a code for programs, and a message in
// Chinese for the clerk and in English for everyone else.
type Problem struct {
	Row       int    `json:"row"`
	Column    string `json:"column,omitempty"` // the header as written in the file
	Field     string `json:"field,omitempty"`  // the canonical field, e.g. id_number
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageEN string `json:"message_en"`
}

// Problem codes.
const (
	CodeNoHeader         = "no_header"           // the file has no header row
	CodeMissingColumn    = "missing_column"      // a required column is absent
	CodeDuplicateColumn  = "duplicate_column"    // two headers name one field
	CodeTooManyRows      = "too_many_rows"       // more than MaxRows data rows
	CodeUnreadable       = "unreadable_row"      // the row could not be read
	CodeRequired         = "required"            // a required cell is empty
	CodeTooLong          = "too_long"            // a cell is longer than its field allows
	CodeNameInvalid      = "name_invalid"        // the name breaks the name rule (registry.NormalizeName)
	CodeIDLength         = "id_length"           // an ID number of the wrong length
	CodeIDFormat         = "id_format"           // letters where digits belong
	CodeIDCheckDigit     = "id_check_digit"      // GB 11643-1999 check character wrong
	CodeIDBirthDate      = "id_birth_date"       // the birth date in the ID is not a date from 1900 on
	CodeIDRegion         = "id_region"           // the address code is under no province (000000, 99...)
	CodeIDExcelNumber    = "id_excel_number"     // Excel turned the ID into a rounded number
	CodeOccupationFormat = "occupation_format"   // not X-XX-XX-XX
	CodeOccupationCat    = "occupation_category" // a category, not an occupation
	CodeOccupation       = "occupation_unknown"  // not in the 2022 classification
	CodeLevel            = "level_invalid"
	CodeChannel          = "channel_invalid"
	CodeDate             = "date_invalid"        // not a date
	CodeDateRange        = "date_out_of_range"   // in the future or before 2000
	CodeOutOfScope       = "out_of_scope"        // the issuer may not certify it
	CodeDuplicateInFile  = "duplicate_in_file"   // same ID, occupation and level as an earlier row
	CodeDuplicateRef     = "duplicate_ref"       // same external_ref as an earlier row
	CodeRefConflict      = "external_ref_in_use" // the external_ref names another person's certificate
	CodeIdentityConflict = "identity_conflict"   // the ID number is registered under another name
	CodeIdentityInFile   = "identity_in_file"    // an earlier row has the same ID number under another name
	CodeInvalid          = "invalid"             // any other rule of the registry
)

// messages holds each code's Chinese and English text; both are formatted
// with the same arguments.
var messages = map[string][2]string{
	CodeNoHeader:         {"文件为空或没有表头行", "the file is empty or has no header row"},
	CodeMissingColumn:    {"缺少必填列“%s”（也可用英文列名 %s）", "the required column %q (or %q) is missing"},
	CodeDuplicateColumn:  {"“%s”列出现了两次（第 %d 列和第 %d 列）", "the column %q appears twice (columns %d and %d)"},
	CodeTooManyRows:      {"数据行超过 %d 行，请拆分为多个文件", "more than %d data rows; split the file"},
	CodeUnreadable:       {"无法读取该行：%v", "the row cannot be read: %v"},
	CodeRequired:         {"“%[1]s”不能为空", "%[2]s is required"},
	CodeTooLong:          {"“%[1]s”过长，最多 %[3]d 个字符", "%[2]s is too long: at most %[3]d characters"},
	CodeNameInvalid:      {"姓名不符合姓名规则：%[1]s", "the name is not accepted: %[2]s"},
	CodeIDLength:         {"身份证号应为 18 位（旧证 15 位），实为 %d 位", "an ID number has 18 characters (15 for the old format), not %d"},
	CodeIDFormat:         {"身份证号除最后一位可为 X 外应全为数字", "an ID number is all digits, except that the last may be X"},
	CodeIDCheckDigit:     {"身份证号校验位不符（GB 11643-1999），请核对号码", "the ID number's check character is wrong (GB 11643-1999); check the number"},
	CodeIDBirthDate:      {"身份证号中的出生日期不是 1900 年以后的有效日期", "the birth date in the ID number is not a valid date from 1900 on"},
	CodeIDRegion:         {"身份证号的地址码（前 6 位）不在任何省级行政区划之下（如 000000）", "the address code of the ID number (its first 6 digits) is under no province (such as 000000)"},
	CodeIDExcelNumber:    {"身份证号被 Excel 存成了数字，末几位已丢失；请把该列设为“文本”格式后重新录入", "Excel stored the ID number as a number and lost its last digits; format the column as Text and type the numbers again"},
	CodeOccupationFormat: {"职业编码格式应为 X-XX-XX-XX，如 6-18-01-01", "an occupation code has the form X-XX-XX-XX, e.g. 6-18-01-01"},
	CodeOccupationCat:    {"%s 是职业类别（%s），请填写具体职业的编码（X-XX-XX-XX）", "%s is a category (%s), not an occupation; give the occupation's code X-XX-XX-XX"},
	CodeOccupation:       {"职业编码 %s 不在《职业分类大典》（2022 年版）中", "%s is not an occupation of the 2022 classification"},
	CodeLevel:            {"等级“%s”无法识别：请填 1-5，或 一级/高级技师、二级/技师、三级/高级工、四级/中级工、五级/初级工", "level %q is not recognised: use 1 to 5 or the Chinese level names"},
	CodeChannel:          {"评价类型“%s”无法识别：请填 社会化职业技能鉴定、企业技能劳动者评价、职业院校资格认证 或 专项职业技能考核", "channel %q is not recognised: use social, enterprise, school or special (or the Chinese names)"},
	CodeDate:             {"发证日期“%s”不是有效日期，请按 YYYY-MM-DD 填写", "issue date %q is not a date; write YYYY-MM-DD"},
	CodeDateRange:        {"发证日期 %s 不能晚于今天，也不能早于 2000 年", "the issue date %s cannot be in the future or before 2000"},
	CodeOutOfScope:       {"超出本机构的评价范围：可评价 %[3]s，最高 %[4]s；本行为 %[1]s %[2]s", "outside the organisation's scope: it may certify %[3]s up to %[4]s, not %[1]s at %[2]s"},
	CodeDuplicateInFile:  {"与第 %d 行重复（同一身份证号、职业和等级）", "repeats row %d (same ID number, occupation and level)"},
	CodeDuplicateRef:     {"外部编号与第 %d 行重复", "the external_ref repeats row %d"},
	CodeRefConflict:      {"外部编号“%s”已用于另一张证书（%s），请换一个编号", "external_ref %q already names another certificate (%s); use another"},
	CodeIdentityConflict: {"该身份证号已有以“%s”登记的有效证书；如持证人确已更名，请在“更名原因”列说明", "the ID number already holds a valid certificate under the name %s; if the holder changed their name, say so in the name_change_reason column"},
	CodeIdentityInFile:   {"与第 %d 行身份证号相同但姓名不同", "same ID number as row %d under another name"},
	CodeInvalid:          {"不符合登记规则（%s）", "refused by the registry: %s"},
}

func newProblem(row int, column, field, code string, args ...any) Problem {
	m := messages[code]
	return Problem{Row: row, Column: column, Field: field, Code: code,
		Message: fmt.Sprintf(m[0], args...), MessageEN: fmt.Sprintf(m[1], args...)}
}

// problemFromError turns a registry error about a row into a Problem. Only
// EINVALID and EFORBIDDEN are about the row; the caller stops on anything
// else.
func (c *checker) problemFromError(row int, in *registry.IssueInput, err error) Problem {
	field := registry.ErrorField(err)
	msg := registry.ErrorMessage(err)
	column := c.head.columnName(field)
	switch {
	case registry.ErrorCode(err) == registry.EFORBIDDEN && c.issuer != nil:
		sc := c.issuer.Scope
		field := "occupation_code"
		if in.Level < sc.MaxLevel {
			field = "level"
		}
		return newProblem(row, c.head.columnName(field), field, CodeOutOfScope,
			in.OccupationCode, in.Level.Name(), strings.Join(sc.Occupations, "、"), sc.MaxLevel.Name())
	case field == "issued_on":
		return newProblem(row, column, field, CodeDateRange, in.IssuedOn)
	case registry.ErrorCode(err) == registry.EIDENTITY:
		masked, _ := registry.IdentityConflictName(err)
		return newProblem(row, column, field, CodeIdentityConflict, masked)
	case field == "holder_name":
		return newProblem(row, column, field, CodeNameInvalid, msg, msg)
	}
	return newProblem(row, column, field, CodeInvalid, msg)
}
