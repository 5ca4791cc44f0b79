package importer

import (
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the training template.
const (
	TrainingTemplateSheet = "培训记录"
)

// trainingLists are the drop-down lists of the training template.
var trainingLists = map[string][]string{
	"sex":                      {"男", "女"},
	"target_group":             {"城镇登记失业人员", "农民工", "被征地农民", "高校毕业生", "新成长劳动力", "企业职工", "脱贫/低保人员"},
	"target_level":             {"一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工"},
	"training_type":            {"就业技能培训", "岗位技能提升培训", "创业培训"},
	"completed":                {"是", "否"},
	"exam_result":              {"合格", "不合格", "缺考"},
	"employed_within_6_months": {"是", "否"},
	"subsidy_payee":            {"个人", "培训机构", "企业"},
}

// WriteTrainingTemplate writes the training-record import template (.xlsx)
// to w: a data sheet with the Chinese headers (text format where Excel
// would damage a value, date format for the dates, drop-down lists for the
// enumerations) and a notes sheet with every column and a sample row.
func WriteTrainingTemplate(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", TrainingTemplateSheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E2EFDA"}}})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return err
	}
	dateFmt := "yyyy-mm-dd"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	lastRow := strconv.Itoa(templateRows + 1)
	for i, c := range TrainingColumns {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetCellStr(TrainingTemplateSheet, col+"1", c.Header); err != nil {
			return err
		}
		if err := f.SetColWidth(TrainingTemplateSheet, col, col, 16); err != nil {
			return err
		}
		switch c.Field {
		case "id_number", "phone", "occupation_code", "class_id", "certificate_number", "target_level":
			if err := f.SetCellStyle(TrainingTemplateSheet, col+"2", col+lastRow, text); err != nil {
				return err
			}
		case "start", "end":
			if err := f.SetCellStyle(TrainingTemplateSheet, col+"2", col+lastRow, date); err != nil {
				return err
			}
		}
		if list, ok := trainingLists[c.Field]; ok {
			dv := excelize.NewDataValidation(true)
			dv.SetSqref(col + "2:" + col + lastRow)
			if err := dv.SetDropList(list); err != nil {
				return err
			}
			if err := f.AddDataValidation(TrainingTemplateSheet, dv); err != nil {
				return err
			}
		}
		req := "选填"
		if c.Required {
			req = "必填"
		}
		if err := f.AddComment(TrainingTemplateSheet, excelize.Comment{Author: "skillreg", Cell: col + "1", Text: req + "：" + c.Note}); err != nil {
			return err
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(TrainingColumns), 1)
	if err := f.SetCellStyle(TrainingTemplateSheet, "A1", last, bold); err != nil {
		return err
	}
	if err := f.SetPanes(TrainingTemplateSheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if _, err := f.NewSheet(TemplateNotesSheet); err != nil {
		return err
	}
	notes := [][]any{{"列名", "英文列名", "必填", "说明"}}
	head := make([]any, len(TrainingColumns))
	sample := make([]any, len(TrainingColumns))
	for i, c := range TrainingColumns {
		req := "否"
		if c.Required {
			req = "是"
		}
		notes = append(notes, []any{c.Header, c.Field, req, c.Note})
		head[i], sample[i] = c.Header, TrainingSampleRow[i]
	}
	notes = append(notes, []any{}, []any{"示例行（请在“培训记录”表中从第 2 行起填写，每行一名学员；本表不会被导入）："}, head, sample, []any{},
		[]any{"同一学员（身份证号）在同一班级只登记一次：重复上传同一文件不会重复登记。结业、考核、就业和补贴情况之后可在系统中补录。"})
	for i, row := range notes {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(TemplateNotesSheet, cell, &row); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(TemplateNotesSheet, "D", "D", 90); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}
