package importer_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
)

const trainingCSVHeader = "姓名,身份证号,性别,人员类别,职业编码,培训等级,培训类型,课时,开班日期,结业日期,班级编号,是否结业,六个月内就业,补贴金额（元）,补贴对象\n"

func trainingRow(name, id, class string) string {
	return name + "," + id + ",,新成长劳动力,6-18-01-01,四级/中级工,就业技能培训,120,2026-01-05,2026-02-20," + class + ",是,,1200.50,个人\n"
}

func (e *env) trainingRecords(tb testing.TB) []*registry.TrainingRecord {
	tb.Helper()
	list, _, err := e.store.TrainingRecords(context.Background(), registry.TrainingFilter{IssuerID: e.user.IssuerID, PerPage: 100})
	if err != nil {
		tb.Fatal(err)
	}
	return list
}

// TestTrainingImport: a training file through a dry run (nothing
// written), a real run, a re-upload (everything exists), and a bad file
// with all or nothing (nothing written, each bad cell reported with its
// row, column and both messages). The file is GB18030, as Excel in China
// saves CSV.
func TestTrainingImport(t *testing.T) {
	e := newEnv(t)
	good := trainingCSVHeader + trainingRow("张三", idFor(1), "C1") + trainingRow("李四", idFor(2), "C1") + "\n" + trainingRow("王五", idFor(3), "C2")
	gbk, err := simplifiedchinese.GB18030.NewEncoder().String(good)
	if err != nil {
		t.Fatal(err)
	}
	src := e.source(t, "class.csv", []byte(gbk))
	opts := importer.Options{Kind: importer.KindTraining}

	dry := opts
	dry.DryRun = true
	out, rows := e.run(t, src, dry)
	if out.Total != 3 || out.Valid != 3 || out.Encoding != importer.EncodingGB18030 || len(e.trainingRecords(t)) != 0 {
		t.Fatalf("dry run: %+v %+v", out, rows)
	}
	if rows[2].Row != 5 || rows[2].Kind != importer.KindTraining || importer.ResultText(rows[2]) != "检查通过（试运行，未登记）" {
		t.Errorf("dry run rows %+v", rows)
	}
	out, rows = e.run(t, src, opts)
	recs := e.trainingRecords(t)
	if out.Issued != 3 || len(recs) != 3 || rows[0].Status != importer.StatusCreated || !strings.HasPrefix(rows[0].Number, "tr") {
		t.Fatalf("real run: %+v %+v", out, rows)
	}
	for _, r := range recs {
		if r.SubsidyAmountFen != 120050 || r.SubsidyPayee != registry.PayeeTrainee || !r.Completed || r.Employed != nil || r.TargetGroup != registry.GroupNewLabour || r.TargetLevel != 4 {
			t.Errorf("stored %+v", r)
		}
	}
	out, rows = e.run(t, src, opts)
	if out.Skipped != 3 || out.Issued != 0 || len(e.trainingRecords(t)) != 3 || rows[1].Number != recs[1].ID && rows[1].Number != recs[0].ID && rows[1].Number != recs[2].ID {
		t.Fatalf("re-upload: %+v %+v", out, rows)
	}

	bad := trainingCSVHeader +
		trainingRow("赵六", idFor(10), "C3") +
		"钱七," + idFor(11) + ",不详,学生,6-18,九级,休闲,abc,2026-02-30,2026-01-01,C3,也许,,12.345,银行\n" +
		trainingRow("孙八", idFor(10), "C3") + // repeats row 2
		"周九," + idFor(12) + ",,农民工,6-18-01-01,4,创业,10,2026-02-01,2026-01-01,C3,,,,\n" // end before start
	bsrc := e.source(t, "bad.csv", []byte(bad))
	all := opts
	all.AllOrNothing = true
	out, rows = e.run(t, bsrc, all)
	if out.Errors != 3 || out.NotIssued != 1 || len(e.trainingRecords(t)) != 3 {
		t.Fatalf("all or nothing: %+v", out)
	}
	fields := map[string]string{}
	for _, p := range rows[1].Errors {
		if p.Row != 3 || p.Message == "" || p.MessageEN == "" || p.Column == "" {
			t.Errorf("problem %+v", p)
		}
		fields[p.Field] = p.Code
	}
	for f, code := range map[string]string{
		"sex": importer.CodeSex, "target_group": importer.CodeTargetGroup, "occupation_code": importer.CodeOccupationCat,
		"target_level": importer.CodeLevel, "training_type": importer.CodeTrainingType, "hours": importer.CodeHours,
		"start": importer.CodeTrainingDate, "completed": importer.CodeYesNo, "subsidy_amount": importer.CodeAmount, "subsidy_payee": importer.CodePayee,
	} {
		if fields[f] != code {
			t.Errorf("row 3 %s: code %q, want %q (all: %v)", f, fields[f], code, fields)
		}
	}
	if rows[2].Errors[0].Code != importer.CodeDuplicateTrainee || rows[2].Errors[0].Message != "与第 2 行重复（同一身份证号、同一班级）" {
		t.Errorf("row 4 %+v", rows[2].Errors)
	}
	if e := rows[3].Errors; len(e) != 1 || e[0].Field != "end" || e[0].Column != "结业日期" || e[0].Message != "结业日期早于开班日期" || e[0].MessageEN != "end is before start" {
		t.Errorf("row 5 %+v", e)
	}
	if rows[0].Status != importer.StatusNotCreated {
		t.Errorf("row 2 %+v", rows[0])
	}
	// Without all or nothing the good row goes in.
	out, _ = e.run(t, bsrc, opts)
	if out.Issued != 1 || out.Errors != 3 || len(e.trainingRecords(t)) != 4 {
		t.Errorf("plain run: %+v", out)
	}
}

// TestTrainingImportXLSX: the template's own headers, filled in Excel
// style (numbers as numbers, a date as a serial), import.
func TestTrainingImportXLSX(t *testing.T) {
	e := newEnv(t)
	var tpl bytes.Buffer
	if err := importer.WriteTrainingTemplate(&tpl); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&tpl)
	if err != nil {
		t.Fatal(err)
	}
	head, err := f.GetRows(importer.TrainingTemplateSheet)
	if err != nil || len(head) != 1 || len(head[0]) != len(importer.TrainingColumns) || head[0][0] != "姓名" {
		t.Fatalf("template header %v %v", head, err)
	}
	row := []any{"张三", idFor(5), "男", "高中", "13800000000", "农民工", "6-18-01-01", 4, "岗位技能提升培训", 80, 46027, "2026-02-20", "X-1", "否", "", "", "是", "", 800, "培训机构"}
	if err := f.SetSheetRow(importer.TrainingTemplateSheet, "A2", &row); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	src := e.source(t, "class.xlsx", buf.Bytes())
	out, rows := e.run(t, src, importer.Options{Kind: importer.KindTraining})
	if out.Issued != 1 {
		t.Fatalf("%+v %+v", out, rows)
	}
	r := e.trainingRecords(t)[0]
	if r.Start != "2026-01-05" || r.Hours != 80 || r.SubsidyAmountFen != 80000 || r.Employed == nil || !*r.Employed || r.Sex != "male" || r.TrainingType != registry.TrainingUpskilling {
		t.Errorf("stored %+v", r)
	}
}

// TestTrainingBatch: a JSON batch: every bad item reported, all or
// nothing writes nothing, a plain run writes the good ones, a repeat
// finds them.
func TestTrainingBatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	item := func(id, class string) registry.TrainingInput {
		return registry.TrainingInput{Name: "张三", IDNumber: id, TargetGroup: registry.GroupGraduate, OccupationCode: "6-18-01-01",
			TargetLevel: 4, TrainingType: registry.TrainingEmployment, Hours: 40, Start: "2026-01-05", End: "2026-01-30", ClassID: class}
	}
	badItem := item("110105194912310021", "B")
	badItem.Hours = 0
	items := []registry.TrainingInput{item(idFor(1), "B"), badItem, item(idFor(1), "B")}
	rows, c, err := importer.TrainingBatch(ctx, e.reg, e.user, items, importer.Options{AllOrNothing: true})
	if err != nil || c.Errors != 2 || c.NotIssued != 1 || len(e.trainingRecords(t)) != 0 {
		t.Fatalf("all or nothing: %+v %v", c, err)
	}
	got := map[string]bool{}
	for _, p := range rows[1].Errors {
		got[p.Field] = p.Row == 2 && p.Column == p.Field && p.Message != "" && p.MessageEN != ""
	}
	if !got["id_number"] || !got["hours"] || len(got) != 2 {
		t.Errorf("item 2 problems %+v", rows[1].Errors)
	}
	if rows[2].Errors[0].Code != importer.CodeDuplicateTrainee {
		t.Errorf("item 3 %+v", rows[2])
	}
	rows, c, err = importer.TrainingBatch(ctx, e.reg, e.user, items[:1], importer.Options{})
	if err != nil || c.Issued != 1 || rows[0].Status != importer.StatusCreated {
		t.Fatalf("plain: %+v %v", c, err)
	}
	_, c, err = importer.TrainingBatch(ctx, e.reg, e.user, items[:1], importer.Options{DryRun: true})
	if err != nil || c.Skipped != 1 {
		t.Errorf("repeat: %+v %v", c, err)
	}
	many := make([]registry.TrainingInput, importer.MaxTrainingBatch+1)
	if _, _, err := importer.TrainingBatch(ctx, e.reg, e.user, many, importer.Options{}); registry.ErrorCode(err) != registry.EINVALID {
		t.Errorf("too many: %v", err)
	}
	official := &registry.User{ID: "o", Username: "o", Role: registry.RoleOfficial}
	if _, _, err := importer.TrainingBatch(ctx, e.reg, official, items, importer.Options{}); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Errorf("official: %v", err)
	}
}

func TestParseYuan(t *testing.T) {
	for in, want := range map[string]int64{"1200": 120000, "1,200.50": 120050, "¥0.5元": 50, "0": 0, " 3.07 ": 307} {
		if got, ok := importer.ParseYuan(in); !ok || got != want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "-1", "1.234", "abc", "1e3", "1/2", "1000000.01"} {
		if got, ok := importer.ParseYuan(in); ok {
			t.Errorf("ParseYuan(%q) = %d, want refused", in, got)
		}
	}
}
