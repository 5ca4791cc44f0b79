package importer

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// FuzzParseTrainingRow: whatever the cells, the training row parser does
// not panic, every problem has a row, a code and both messages, and the
// registry's Check of what it produced does not panic either and names
// only known fields.
func FuzzParseTrainingRow(f *testing.F) {
	f.Add("张小三", "11010519491231002X", "男", "新成长劳动力", "6-18-01-01", "四级/中级工", "就业技能培训", "120", "2026-01-05", "2026-02-20", "C-1", "是", "否", "1200.50", "个人")
	f.Add("", "1.1E+17", "x", "学生", "6-18", "9", "休闲", "abc", "46027", "2026年2月1日", "a;b", "也许", "", "-3", "银行")
	h, _ := trainingSet.parseHeader(Row{Number: 1, Cells: []string{"姓名", "身份证号", "性别", "人员类别", "职业编码", "培训等级", "培训类型", "课时", "开班日期", "结业日期", "班级编号", "是否结业", "六个月内就业", "补贴金额（元）", "补贴对象"}})
	fields := map[string]bool{"subsidy_amount_fen": true}
	for _, c := range TrainingColumns {
		fields[c.Field] = true
	}
	today := time.Date(2026, 3, 1, 0, 0, 0, 0, registry.ChinaTime)
	f.Fuzz(func(t *testing.T, name, id, sex, group, occ, level, typ, hours, start, end, class, completed, employed, amount, payee string) {
		cells := []string{name, id, sex, group, occ, level, typ, hours, start, end, class, completed, employed, amount, payee}
		in, problems := h.ParseTrainingRow(Row{Number: 2, Cells: cells})
		joined := strings.Join(cells, "")
		for _, p := range problems {
			if p.Row != 2 || p.Code == "" || p.Message == "" || p.MessageEN == "" || !fields[p.Field] ||
				strings.Contains(p.Message+p.MessageEN, "%!") && !strings.Contains(joined, "%!") {
				t.Fatalf("bad problem %+v", p)
			}
		}
		_, ps := in.Check(today)
		for _, p := range ps {
			if !fields[p.Field] || p.Message == "" || p.MessageZH == "" {
				t.Fatalf("bad registry problem %+v", p)
			}
		}
		if len(problems) == 0 && len(ps) == 0 {
			if in.Hours < 1 || in.TargetLevel < 1 || in.TargetLevel > 5 || registry.TargetGroupName(in.TargetGroup) == "" {
				t.Fatalf("accepted %+v", in)
			}
		}
	})
}

// FuzzTrainingJSON: a JSON training record (as POST /api/v1/training-records
// sends it) either fails to decode or goes through Check without a panic,
// and an accepted record has a canonical ID number and a valid enum in
// every enumerated field.
func FuzzTrainingJSON(f *testing.F) {
	f.Add([]byte(`{"name":"张小三","id_number":"11010519491231002X","target_group":"new_labour","occupation_code":"6-18-01-01","target_level":4,"training_type":"employment","hours":120,"start":"2026-01-05","end":"2026-02-20","class_id":"C-1","completed":true,"subsidy_amount_fen":120050,"subsidy_payee":"trainee"}`))
	f.Add([]byte(`{"hours":-1,"start":"x","exam_result":"?","certificate_number":" S000111000001263000001 "}`))
	f.Add([]byte(`{"subsidy_amount_fen":9223372036854775807,"employed_within_6_months":false}`))
	today := time.Date(2026, 3, 1, 0, 0, 0, 0, registry.ChinaTime)
	f.Fuzz(func(t *testing.T, data []byte) {
		var in registry.TrainingInput
		if json.Unmarshal(data, &in) != nil {
			return
		}
		id, ps := in.Check(today)
		if len(ps) > 0 {
			return
		}
		if canon, err := registry.NormalizeIDNumber(id); err != nil || canon != id {
			t.Fatalf("accepted ID %q", id)
		}
		if registry.TargetGroupName(in.TargetGroup) == "" || registry.TrainingTypeName(in.TrainingType) == "" || in.Sex != "male" && in.Sex != "female" {
			t.Fatalf("accepted %+v", in)
		}
		if in.SubsidyAmountFen != nil && (*in.SubsidyAmountFen < 0 || *in.SubsidyAmountFen > registry.MaxSubsidyFen) {
			t.Fatalf("accepted amount %d", *in.SubsidyAmountFen)
		}
	})
}
