package importer

import (
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the template.
const (
	TemplateSheet      = "证书"
	TemplateNotesSheet = "填写说明"
)

// SampleRow is the example the template's notes sheet shows, one value per
// entry of Columns. It sits on the notes sheet, not under the headers, so
// that a template uploaded unchanged issues nothing.
var SampleRow = []string{"张小三", "11010519491231002X", "6-18-01-01", "二级/技师", "社会化职业技能鉴定", "2026-01-05", "2026-03期-012"}

// templateRows is how many rows of the data sheet get the text format,
// the date format and the drop-down lists.
const templateRows = 5000

// WriteTemplate writes the import template (.xlsx) to w: a data sheet with
// the Chinese headers (ID numbers formatted as text, so that Excel keeps
// all 18 digits; drop-down lists for level and channel) and a notes sheet
// that explains every column and shows a sample row.
func WriteTemplate(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", TemplateSheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return err
	}
	dateFmt := "yyyy-mm-dd"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	last, _ := excelize.CoordinatesToCellName(len(Columns), 1)
	for i, c := range Columns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		cell := col + "1"
		if err := f.SetCellStr(TemplateSheet, cell, c.Header); err != nil {
			return err
		}
		if err := f.SetColWidth(TemplateSheet, col, col, map[string]float64{"id_number": 22, "channel": 22, "external_ref": 18}[c.Field]+12); err != nil {
			return err
		}
		rng := col + "2:" + col + strconv.Itoa(templateRows+1)
		switch c.Field {
		case "id_number", "occupation_code", "external_ref", "level":
			if err := f.SetCellStyle(TemplateSheet, col+"2", col+strconv.Itoa(templateRows+1), text); err != nil {
				return err
			}
		case "issued_on":
			if err := f.SetCellStyle(TemplateSheet, col+"2", col+strconv.Itoa(templateRows+1), date); err != nil {
				return err
			}
		}
		var list []string
		switch c.Field {
		case "level":
			list = []string{"一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工"}
		case "channel":
			list = []string{"社会化职业技能鉴定", "企业技能劳动者评价", "职业院校资格认证", "专项职业技能考核"}
		}
		if list != nil {
			dv := excelize.NewDataValidation(true)
			dv.SetSqref(rng)
			if err := dv.SetDropList(list); err != nil {
				return err
			}
			if err := f.AddDataValidation(TemplateSheet, dv); err != nil {
				return err
			}
		}
		req := "选填"
		if c.Required {
			req = "必填"
		}
		if err := f.AddComment(TemplateSheet, excelize.Comment{Author: "skillreg", Cell: cell, Text: req + "：" + c.Note}); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(TemplateSheet, "A1", last, bold); err != nil {
		return err
	}
	if err := f.SetPanes(TemplateSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}

	if _, err := f.NewSheet(TemplateNotesSheet); err != nil {
		return err
	}
	notes := [][]any{
		{"列名", "英文列名", "必填", "说明"},
	}
	for _, c := range Columns {
		req := "否"
		if c.Required {
			req = "是"
		}
		notes = append(notes, []any{c.Header, c.Field, req, c.Note})
	}
	notes = append(notes, []any{}, []any{"示例行（请在“证书”表中从第 2 行起填写，每行一张证书；本表不会被导入）："})
	head := make([]any, len(Columns))
	sample := make([]any, len(Columns))
	for i, c := range Columns {
		head[i] = c.Header
		sample[i] = SampleRow[i]
	}
	notes = append(notes, head, sample, []any{},
		[]any{"同一文件重复上传不会重复发证：有“外部编号”的行按编号识别，没有的按文件内容和行号识别；同一人同一职业同一等级已有有效证书的行也会跳过。"},
		[]any{"建议先“试运行”检查，结果表的“结果”列会逐行说明问题。"})
	for i, row := range notes {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(TemplateNotesSheet, cell, &row); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(TemplateNotesSheet, "A1", "D1", bold); err != nil {
		return err
	}
	if err := f.SetColWidth(TemplateNotesSheet, "A", "C", 16); err != nil {
		return err
	}
	if err := f.SetColWidth(TemplateNotesSheet, "D", "D", 90); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}
