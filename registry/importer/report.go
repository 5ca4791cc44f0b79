package importer

import (
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/skillreg/skillreg/registry"
)

// ResultHeader is the header of the column the report adds.
const ResultHeader = "结果"

// ResultText is a row result as the report's 结果 column shows it, in
// Chinese.
func ResultText(r RowResult) string {
	switch r.Status {
	case StatusCreated:
		return "已登记 " + r.Number
	case StatusNotCreated:
		return "未登记：文件中有错误行，按“全部或全不”未登记任何记录"
	case StatusExists:
		if r.Kind == KindTraining {
			return "已存在 " + r.Number + "（同一学员同一班级已登记，未重复登记）"
		}
	case StatusValid:
		if r.Kind == KindTraining {
			return "检查通过（试运行，未登记）"
		}
	}
	switch r.Status {
	case StatusIssued:
		return "已签发 " + r.Number
	case StatusExists:
		return "已存在 " + r.Number + "（未重复签发）"
	case StatusValid:
		return "检查通过（试运行，未签发）"
	case StatusNotIssued:
		return "未签发：文件中有错误行，按“全部或全不”未签发任何证书"
	}
	msgs := make([]string, 0, len(r.Errors))
	for _, p := range r.Errors {
		if p.Column != "" {
			msgs = append(msgs, p.Column+"："+p.Message)
		} else {
			msgs = append(msgs, p.Message)
		}
	}
	return "错误：" + strings.Join(msgs, "；")
}

// WriteReport writes the job's report as .xlsx to w: the original file's
// rows, at their original row numbers, with every ID number masked (first
// 6 and last 4 characters, like every other output) and a 结果 (result)
// column after the last: the issued or existing certificate number, or
// what is wrong.
// It streams both the file and the results, so it works for any size. A
// job still running is ECONFLICT.
func (j *Job) WriteReport(w io.Writer) error {
	out, done := j.finishedOutcome()
	if !done {
		return registry.Errorf(registry.ECONFLICT, "the import is still running; the report is ready when it is done")
	}
	results, err := openResults(j)
	if err != nil {
		return err
	}
	defer results.close()
	// The rows as kept when the job ended, ID numbers masked: the upload
	// itself is gone (spool.go).
	rd, err := openMaskedRows(j)
	if err != nil {
		return err
	}
	defer rd.Close()

	f := excelize.NewFile()
	defer f.Close()
	const sheet = "导入结果"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	styles, err := reportStyles(f)
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	resultCol := max(out.Width, 1) + 1
	if err := sw.SetColWidth(resultCol, resultCol, 60); err != nil {
		return err
	}
	dateCol := -1
	var head *header
	next, err := results.next()
	if err != nil {
		return err
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		values := make([]any, resultCol)
		for i, c := range row.Cells {
			values[i] = c
		}
		switch {
		case row.Number == out.HeaderRow:
			head, _ = parseHeader(row)
			if i, ok := head.index["issued_on"]; ok {
				dateCol = i
			}
			values[resultCol-1] = excelize.Cell{StyleID: styles.header, Value: ResultHeader}
		case next != nil && next.Row == row.Number:
			if dateCol >= 0 && dateCol < len(row.Cells) {
				if d, ok := ParseDate(row.Cells[dateCol]); ok {
					values[dateCol] = d // a date cell's serial, shown as a date
				}
			}
			style := styles.ok
			if next.Status == StatusInvalid {
				style = styles.bad
			}
			values[resultCol-1] = excelize.Cell{StyleID: style, Value: ResultText(*next)}
			if next, err = results.next(); err != nil {
				return err
			}
		case len(out.FileErrors) > 0 && row.Number == out.FileErrors[0].Row:
			msgs := make([]string, len(out.FileErrors))
			for i, p := range out.FileErrors {
				msgs[i] = p.Message
			}
			values[resultCol-1] = excelize.Cell{StyleID: styles.bad, Value: "错误：" + strings.Join(msgs, "；")}
		}
		if err := setRow(sw, row.Number, values); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

func setRow(sw *excelize.StreamWriter, n int, values []any) error {
	cell, err := excelize.CoordinatesToCellName(1, n)
	if err != nil {
		return err
	}
	return sw.SetRow(cell, values)
}

type styleIDs struct{ header, ok, bad int }

func reportStyles(f *excelize.File) (styleIDs, error) {
	var s styleIDs
	var err error
	if s.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return s, err
	}
	if s.ok, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "1E7B34"}}); err != nil {
		return s, err
	}
	s.bad, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "B00020"}, Alignment: &excelize.Alignment{WrapText: true}})
	return s, err
}

// resultReader reads a job's results file in order.
type resultReader struct {
	f   io.Closer
	dec *json.Decoder
}

func openResults(j *Job) (*resultReader, error) {
	f, err := openResultsFile(j)
	if err != nil {
		return nil, err
	}
	return &resultReader{f: f, dec: json.NewDecoder(f)}, nil
}

// next returns the next result, or nil after the last.
func (r *resultReader) next() (*RowResult, error) {
	var res RowResult
	err := r.dec.Decode(&res)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &res, nil
}

func (r *resultReader) close() { r.f.Close() }
