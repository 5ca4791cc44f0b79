package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/skillreg/skillreg/registry/importer"
)

// samplePerson is one made-up holder of the sample files: a name, and the
// first 17 characters of an ID number (a real county code, a plausible
// birth date and a sequence number whose parity is the sex); the check
// character is computed.
type samplePerson struct {
	name, id17, sex string
}

var samplePeople = []samplePerson{
	{"张三", "11010519900307123", "男"},
	{"李四", "44010619851120145", "男"},
	{"王芳", "31010419920615028", "女"},
	{"刘伟", "32010219880101317", "男"},
	{"陈静", "51010419950909242", "女"},
}

// idWithCheck appends the GB 11643-1999 check character to 17 digits.
func idWithCheck(id17 string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(id17[i]-'0') * w
	}
	return id17 + string("10X98765432"[sum%11])
}

// cmdSamples runs `skillreg samples [--dir DIR]`: it writes class.xlsx (a
// class of certificates for the walkthrough's issuer S000111000001, whose
// scope is 6-18 up to level 2) and trainees.xlsx (training records of a
// class that ended two weeks ago), with the import templates' headers, for
// trying `skillreg import`. Dates are computed from today, so the files
// always import cleanly.
func cmdSamples(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("samples", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "where to write class.xlsx and trainees.xlsx")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	today := nowUTC()
	var class, trainees []map[string]string
	levels := []string{"二级/技师", "三级/高级工", "四级/中级工", "四级/中级工", "五级/初级工"}
	occupations := []string{"6-18-01-01", "6-18-01-02", "6-18-01-01", "6-18-01-04", "6-18-01-01"}
	groups := []string{"新成长劳动力", "农民工", "城镇登记失业人员", "新成长劳动力", "高校毕业生"}
	employed := []string{"是", "是", "", "否", "是"}
	start, end := today.AddDate(0, 0, -60), today.AddDate(0, 0, -14)
	classID := start.Format("2006") + "-车工-02"
	for i, p := range samplePeople {
		id := idWithCheck(p.id17)
		class = append(class, map[string]string{
			"holder_name": p.name, "id_number": id, "occupation_code": occupations[i], "level": levels[i],
			"channel": "社会化职业技能鉴定", "external_ref": "sample-class-01/" + strconv.Itoa(i+1),
		})
		trainees = append(trainees, map[string]string{
			"name": p.name, "id_number": id, "sex": p.sex, "education": "高中", "phone": "1380000000" + strconv.Itoa(i),
			"target_group": groups[i], "occupation_code": "6-18-01-01", "target_level": "四级/中级工",
			"training_type": "就业技能培训", "hours": "120", "start": start.Format(time.DateOnly), "end": end.Format(time.DateOnly),
			"class_id": classID, "completed": "是", "exam_result": "合格", "employed_within_6_months": employed[i],
			"subsidy_category": "职业培训补贴", "subsidy_amount": "1200.00", "subsidy_payee": "个人",
		})
	}
	for _, f := range []struct {
		name, sheet string
		columns     []importer.Column
		rows        []map[string]string
	}{
		{"class.xlsx", importer.TemplateSheet, importer.Columns, class},
		{"trainees.xlsx", importer.TrainingTemplateSheet, importer.TrainingColumns, trainees},
	} {
		path := filepath.Join(*dir, f.name)
		if err := writeSampleSheet(path, f.sheet, f.columns, f.rows); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fmt.Fprintf(stdout, "wrote %s (%d rows)\n", path, len(f.rows))
	}
	return nil
}

// writeSampleSheet writes one sheet with the columns' Chinese headers and
// rows (values by column field; a column a row does not name stays empty),
// every cell as text (so that ID numbers keep all 18 characters).
func writeSampleSheet(path, sheet string, columns []importer.Column, rows []map[string]string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	for i, c := range columns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(sheet, cell, c.Header); err != nil {
			return err
		}
	}
	fields := map[string]bool{}
	for _, c := range columns {
		fields[c.Field] = true
	}
	for r, row := range rows {
		for field := range row {
			if !fields[field] {
				return fmt.Errorf("the import has no column %q", field)
			}
		}
		for i, c := range columns {
			cell, _ := excelize.CoordinatesToCellName(i+1, r+2)
			if err := f.SetCellStr(sheet, cell, row[c.Field]); err != nil {
				return err
			}
		}
	}
	return f.SaveAs(path)
}
