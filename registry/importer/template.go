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
var SampleRow = []string{"张小三", "11010519491231002X", "6-18-01-01", "二级/技师", "社会化职业技能鉴定", "2026-01-05", "2026-03期-012", ""}

// templateRows is how many rows of the data sheet get the text format,
// the date format and the drop-down lists.
const templateRows = 5000

// certificateTemplate is the certificate import template.
var certificateTemplate = templateSpec{
	sheet: TemplateSheet, color: "DDEBF7", columns: Columns, sample: SampleRow, width: 12,
	widths: map[string]float64{"id_number": 34, "channel": 34, "external_ref": 30},
	text:   []string{"id_number", "occupation_code", "external_ref", "level"},
	dates:  []string{"issued_on"},
	lists: map[string][]string{
		"level":   {"一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工"},
		"channel": {"社会化职业技能鉴定", "企业技能劳动者评价", "职业院校资格认证", "专项职业技能考核"},
	},
	sampleIntro: "示例行（请在“证书”表中从第 2 行起填写，每行一张证书；本表不会被导入）：",
	footer: []string{
		"同一文件重复上传不会重复发证：有“外部编号”的行按编号识别，没有的按文件内容和行号识别；同一人同一职业同一等级已有有效证书的行也会跳过。",
		"建议先“试运行”检查，结果表的“结果”列会逐行说明问题。",
	},
}

// WriteTemplate writes the import template (.xlsx) to w: a data sheet with
// the Chinese headers (ID numbers formatted as text, so that Excel keeps
// all 18 digits; drop-down lists for level and channel) and a notes sheet
// that explains every column and shows a sample row.
func WriteTemplate(w io.Writer) error { return writeTemplate(w, certificateTemplate) }

// templateSpec describes one import template: its data sheet's name,
// header colour and columns, the columns Excel must keep as text or
// format as dates, the drop-down lists, and the notes sheet's sample row
// and closing remarks.
type templateSpec struct {
	sheet, color string
	columns      []Column
	sample       []string
	width        float64            // of a column
	widths       map[string]float64 // of the columns of these fields, instead
	text, dates  []string           // fields
	lists        map[string][]string
	sampleIntro  string
	footer       []string
}

// writeTemplate writes the template spec describes as .xlsx to w.
func writeTemplate(w io.Writer, spec templateSpec) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", spec.sheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{spec.color}}})
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
	styles := map[string]int{}
	for _, field := range spec.text {
		styles[field] = text
	}
	for _, field := range spec.dates {
		styles[field] = date
	}
	lastRow := strconv.Itoa(templateRows + 1)
	for i, c := range spec.columns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetCellStr(spec.sheet, col+"1", c.Header); err != nil {
			return err
		}
		width, ok := spec.widths[c.Field]
		if !ok {
			width = spec.width
		}
		if err := f.SetColWidth(spec.sheet, col, col, width); err != nil {
			return err
		}
		if style, ok := styles[c.Field]; ok {
			if err := f.SetCellStyle(spec.sheet, col+"2", col+lastRow, style); err != nil {
				return err
			}
		}
		if list, ok := spec.lists[c.Field]; ok {
			dv := excelize.NewDataValidation(true)
			dv.SetSqref(col + "2:" + col + lastRow)
			if err := dv.SetDropList(list); err != nil {
				return err
			}
			if err := f.AddDataValidation(spec.sheet, dv); err != nil {
				return err
			}
		}
		req := "选填"
		if c.Required {
			req = "必填"
		}
		if err := f.AddComment(spec.sheet, excelize.Comment{Author: "skillreg", Cell: col + "1", Text: req + "：" + c.Note}); err != nil {
			return err
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(spec.columns), 1)
	if err := f.SetCellStyle(spec.sheet, "A1", last, bold); err != nil {
		return err
	}
	if err := f.SetPanes(spec.sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}

	if _, err := f.NewSheet(TemplateNotesSheet); err != nil {
		return err
	}
	notes := [][]any{{"列名", "英文列名", "必填", "说明"}}
	head := make([]any, len(spec.columns))
	sample := make([]any, len(spec.columns))
	for i, c := range spec.columns {
		req := "否"
		if c.Required {
			req = "是"
		}
		notes = append(notes, []any{c.Header, c.Field, req, c.Note})
		head[i], sample[i] = c.Header, spec.sample[i]
	}
	notes = append(notes, []any{}, []any{spec.sampleIntro}, head, sample, []any{})
	for _, line := range spec.footer {
		notes = append(notes, []any{line})
	}
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
