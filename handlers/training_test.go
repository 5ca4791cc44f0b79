package handlers_test

import (
	"strings"
	"testing"
)

// trainingBody is a good training record of the test ID number.
func trainingBody(overrides map[string]any) map[string]any {
	b := map[string]any{
		"name": "张小三", "id_number": idNumber, "target_group": "new_labour", "occupation_code": "6-18-01-01",
		"target_level": 4, "training_type": "employment", "hours": 120, "start": "2026-01-05", "end": "2026-01-30", "class_id": "2026-01",
	}
	for k, v := range overrides {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// TestTrainingAPI: create (201, then 200 for the same trainee and class),
// every bad field listed in one 400, the list and its filters, the
// outcome, a certificate naming the record, a JSON batch with all or
// nothing, a spreadsheet batch, and the statistics; no response carries
// the full ID number.
func TestTrainingAPI(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	rec := h.expect(h.do("POST", "/api/v1/training-records", tok, trainingBody(nil)), 201).json(t)
	id := rec["id"].(string)
	if rec["id_number_masked"] != "110105********002X" || rec["target_group_name"] != "新成长劳动力" || rec["occupation_name"] != "车工" || rec["sex"] != "female" {
		t.Errorf("created %v", rec)
	}
	h.expect(h.do("POST", "/api/v1/training-records", tok, trainingBody(nil)), 200)

	bad := h.expect(h.do("POST", "/api/v1/training-records", tok, trainingBody(map[string]any{"hours": 0, "target_group": "x", "end": "2025-01-01"})), 400).json(t)
	e := bad["error"].(map[string]any)
	problems := e["problems"].([]any)
	if e["code"] != "invalid" || len(problems) != 3 || !strings.Contains(e["message"].(string), "课时") {
		t.Errorf("bad record: %v", bad)
	}
	h.expect(h.do("POST", "/api/v1/training-records", tok, map[string]any{"name": "x", "surprise": 1}), 400)

	list := h.expect(h.do("GET", "/api/v1/training-records?class_id=2026-01&target_group=new_labour&year=2026&q=张", tok, nil), 200).json(t)
	if list["total"].(float64) != 1 {
		t.Errorf("list %v", list)
	}
	h.expect(h.do("GET", "/api/v1/training-records?target_group=nobody", tok, nil), 400)

	out := h.expect(h.do("PATCH", "/api/v1/training-records/"+id+"/outcome", tok, map[string]any{"completed": true, "exam_result": "pass", "employed_within_6_months": true, "subsidy_amount_fen": 120000, "subsidy_payee": "trainee"}), 200).json(t)
	if out["completed"] != true || out["subsidy_amount_fen"].(float64) != 120000 || out["employed_within_6_months"] != true {
		t.Errorf("outcome %v", out)
	}
	cert := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"level": 4, "training_record_id": id})), 201).json(t)
	got := h.expect(h.do("GET", "/api/v1/training-records/"+id, tok, nil), 200).json(t)
	if got["certificate_number"] != cert["number"] {
		t.Errorf("record names %v, want %v", got["certificate_number"], cert["number"])
	}

	batch := []any{trainingBody(map[string]any{"class_id": "B", "id_number": "440524198001010013"}), trainingBody(map[string]any{"class_id": "B", "hours": -1})}
	res := h.expect(h.do("POST", "/api/v1/training-records/batch?all_or_nothing=true", tok, batch), 200).json(t)
	if res["errors"].(float64) != 1 || res["not_issued"].(float64) != 1 || res["issued"].(float64) != 0 {
		t.Errorf("all or nothing: %v", res)
	}
	res = h.expect(h.do("POST", "/api/v1/training-records/batch", tok, batch[:1]), 200).json(t)
	if res["issued"].(float64) != 1 {
		t.Errorf("batch: %v", res)
	}
	h.expect(h.do("POST", "/api/v1/training-records/batch", tok, `{"not":"an array"}`), 400)

	csv := "姓名,身份证号,人员类别,职业编码,培训等级,培训类型,课时,开班日期,结业日期,班级编号\n" +
		"李四,34052419800101001X,农民工,6-18-01-01,4,就业技能培训,80,2026-01-05,2026-01-30,C\n"
	job := h.expect(h.do("POST", "/api/v1/training-records/batch?wait=true", tok, fileUpload(t, "class.csv", []byte(csv))), 200).json(t)
	if job["kind"] != "training" || job["issued"].(float64) != 1 || job["status"] != "done" {
		t.Errorf("spreadsheet batch: %v", job)
	}
	tpl := h.expect(h.do("GET", "/api/v1/imports/template.xlsx?kind=training", "", nil), 200)
	if !strings.Contains(tpl.header.Get("Content-Disposition"), "filename*=UTF-8''") || len(tpl.body) < 1000 {
		t.Errorf("template: %v", tpl.header)
	}
	h.expect(h.do("GET", "/api/v1/imports/template.xlsx?kind=nothing", "", nil), 400)

	h.expect(h.do("POST", "/api/v1/users", h.admin(), map[string]any{"username": "official11", "password": userPassword, "role": "official", "province": "11"}), 201)
	off := h.login("official11", userPassword)
	st := h.expect(h.do("GET", "/api/v1/stats/training?year=2026", off, nil), 200).json(t)
	if st["records"].(float64) != 3 || st["province"] != "11" {
		t.Errorf("stats %v", st)
	}
	pre := st["pre_employment_rate"].(map[string]any)
	if pre["numerator"].(float64) != 1 || pre["denominator"].(float64) != 1 || st["pre_employment_met"] != true {
		t.Errorf("pre-employment %v", pre)
	}
	offRec := h.expect(h.do("GET", "/api/v1/training-records/"+id, off, nil), 200).json(t)
	if offRec["name"] != "张*三" {
		t.Errorf("an official sees the name %v", offRec["name"])
	}
	h.expect(h.do("GET", "/api/v1/stats/training?province=44", off, nil), 403)
	if strings.Contains(h.bodies.String(), idNumber) || strings.Contains(h.bodies.String(), "440524198001010013") {
		t.Error("a response carries a full ID number")
	}
}
