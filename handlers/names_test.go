package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// withCheck completes 17 digits of an ID number with their GB 11643-1999
// check character.
func withCheck(s17 string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for k := range 17 {
		sum += int(s17[k]-'0') * w[k]
	}
	return s17 + string("10X98765432"[sum%11])
}

// errorOf returns the code, field and message of an error answer.
func errorOf(t *testing.T, r response) (code, field, message string) {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	message, _ = e["message"].(string)
	return code, field, message
}

// TestImportEncodingDecidedFromWholeFile: a GB18030 CSV with an English
// header whose names' bytes are also valid UTF-8 (学员 is D1A7 D4B1, which
// UTF-8 reads as ѧԱ) is never signed as ѧԱ1. With the digit, neither
// reading is a name, so the upload is refused until encoding= says which
// it is, and then the row fails the name rule; without the digit only the
// GB18030 reading is a name, so that is the reading, and the dry run shows
// it.
func TestImportEncodingDecidedFromWholeFile(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	const header = "holder_name,id_number,occupation_code,level,channel\n"
	digit := []byte(header + "\xD1\xA7\xD4\xB1" + "1," + testID(1) + ",6-18-01-01,3,social\n")
	plain := []byte(header + "\xD1\xA7\xD4\xB1," + testID(1) + ",6-18-01-01,3,social\n")

	for _, q := range []string{"", "&dry_run=true", "&kind=training"} {
		r := h.expect(h.do("POST", "/api/v1/imports?wait=true"+q, tok, fileUpload(t, "students.csv", digit)), 400)
		code, field, msg := errorOf(t, r)
		if code != "invalid" || field != "encoding" || !strings.Contains(msg, "encoding=gb18030") || !strings.Contains(msg, "ѧԱ1") || !strings.Contains(msg, "学员1") {
			t.Errorf("upload%s: %s %s %q; want invalid on encoding naming both readings and the parameter", q, code, field, msg)
		}
	}
	h.expect(h.do("POST", "/api/v1/imports?wait=true&encoding=latin1", tok, fileUpload(t, "students.csv", digit)), 400)

	// Told GB18030, the file is read so, and 学员1 fails the name rule.
	job := h.importFile(tok, "&encoding=gb18030", "students.csv", digit, 200)
	rows := rowsOf(t, job)
	if job["encoding"] != "gb18030" || num(job, "issued") != 0 || len(rows) != 1 || rows[0]["status"] != "invalid" {
		t.Fatalf("encoding=gb18030: %v", job)
	}
	if e := rows[0]["errors"].([]any)[0].(map[string]any); e["code"] != "name_invalid" || e["field"] != "holder_name" {
		t.Errorf("encoding=gb18030: row error %v, want name_invalid on holder_name", e)
	}
	// Told UTF-8, ѧԱ1 fails it too.
	job = h.importFile(tok, "&encoding=utf-8", "students.csv", digit, 200)
	if num(job, "issued") != 0 || num(job, "errors") != 1 {
		t.Fatalf("encoding=utf-8: %v", job)
	}

	// Without the digit: GB18030, shown in the dry run, then signed as 学员.
	job = h.importFile(tok, "&dry_run=true", "students.csv", plain, 200)
	names, _ := job["sample_names"].([]any)
	if job["encoding"] != "gb18030" || num(job, "valid") != 1 || len(names) != 1 || names[0] != "学员" {
		t.Fatalf("dry run of 学员: encoding %v, valid %d, sample names %v", job["encoding"], num(job, "valid"), job["sample_names"])
	}
	job = h.importFile(tok, "", "students.csv", plain, 200)
	if num(job, "issued") != 1 {
		t.Fatalf("import of 学员: %v", job)
	}
	list := h.expect(h.do("GET", "/api/v1/certificates", tok, nil), 200)
	if !strings.Contains(string(list.body), `"holder_name":"学员"`) || strings.Contains(string(list.body), "ѧ") {
		t.Errorf("certificates: %s; want one for 学员 and none for ѧԱ", list.body)
	}
}

// TestNameRuleAtEveryEntry: names that are not names are refused with 400
// on the name field when a certificate is issued, a training record is
// registered or a row is imported; minority and foreign names pass, with
// look-alike separator dots stored as U+00B7.
func TestNameRuleAtEveryEntry(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	bad := []string{"ѧԱ1", "\u200b\u200c\u200d", "\u3164", "\u202e三张abc", "\ufeff张三", "张三2", "Иван", "张 三", "张\ue000"}
	for i, name := range bad {
		r := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": name, "id_number": testID(10 + i)})), 400)
		if code, field, msg := errorOf(t, r); code != "invalid" || field != "holder_name" || msg == "" {
			t.Errorf("issue to %q: %s on %q %q, want invalid on holder_name", name, code, field, msg)
		}
		r = h.expect(h.do("POST", "/api/v1/training-records", tok, trainingBody(map[string]any{"name": name, "id_number": testID(10 + i)})), 400)
		if _, field, _ := errorOf(t, r); field != "name" {
			t.Errorf("training record for %q: field %q, want name", name, field)
		}
	}
	var file strings.Builder
	file.WriteString(importHeader)
	for i, name := range bad {
		fmt.Fprintf(&file, "%s,%s,6-18-01-01,2,social,,\n", name, testID(30+i))
	}
	job := h.importFile(tok, "", "names.csv", []byte(file.String()), 200)
	if num(job, "issued") != 0 || num(job, "errors") != len(bad) {
		t.Errorf("import of bad names: issued %d, errors %d; want 0 and %d", num(job, "issued"), num(job, "errors"), len(bad))
	}
	for _, row := range rowsOf(t, job) {
		if e := row["errors"].([]any)[0].(map[string]any); e["field"] != "holder_name" || e["code"] != "name_invalid" {
			t.Errorf("row %v: error %v, want name_invalid on holder_name", row["row"], e)
		}
	}
	if n := h.certificateCount(tok); n != 0 {
		t.Fatalf("%d certificates issued to bad names", n)
	}

	for i, tt := range []struct{ in, stored string }{
		{"阿依古丽・买买提", "阿依古丽·买买提"},
		{"𠀀𪚥", "𠀀𪚥"},
		{"Jean-Pierre O'Brien", "Jean-Pierre O'Brien"},
		{"ئابدۇرېھىم", "ئابدۇرېھىم"},
	} {
		c := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": tt.in, "id_number": testID(60 + i)})), 201).json(t)
		if c["holder_name"] != tt.stored {
			t.Errorf("issue to %q: stored %q, want %q", tt.in, c["holder_name"], tt.stored)
		}
	}
}

// TestIDNumbersThatCouldExist: a right check character is not enough. A
// birth date after the issue date (2030) or an address code under no
// province (000000) is refused with 400 on id_number, at issue and for a
// training record; a county code missing from today's list is accepted.
func TestIDNumbersThatCouldExist(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	born2030 := withCheck("11010520300101001")
	region0 := withCheck("00000019800101001")
	for _, tt := range []struct {
		name string
		body map[string]any
	}{
		{"born 2030", certBody(map[string]any{"id_number": born2030})},
		{"region 000000", certBody(map[string]any{"id_number": region0})},
		{"province 99", certBody(map[string]any{"id_number": withCheck("99010519800101001")})},
		{"born 1899", certBody(map[string]any{"id_number": withCheck("11010518991231001")})},
		{"born after the issue date", certBody(map[string]any{"id_number": withCheck("11010520260301001"), "issued_on": "2026-02-01"})},
	} {
		r := h.expect(h.do("POST", "/api/v1/certificates", tok, tt.body), 400)
		code, field, msg := errorOf(t, r)
		if code != "invalid" || field != "id_number" || strings.Contains(msg, tt.body["id_number"].(string)) {
			t.Errorf("%s: %s on %q %q; want invalid on id_number, without the number", tt.name, code, field, msg)
		}
	}
	for _, id := range []string{born2030, region0} {
		r := h.expect(h.do("POST", "/api/v1/training-records", tok, trainingBody(map[string]any{"id_number": id})), 400)
		if _, field, _ := errorOf(t, r); field != "id_number" {
			t.Errorf("training record: field %q, want id_number", field)
		}
	}
	job := h.importFile(tok, "&dry_run=true", "ids.csv", []byte(importHeader+"张三,"+born2030+",6-18-01-01,2,social,,\n李四,"+region0+",6-18-01-01,2,social,,\n"), 200)
	if num(job, "errors") != 2 {
		t.Errorf("import dry run: %d errors, want 2", num(job, "errors"))
	}
	// 110199 is no county of 北京 today: accepted all the same.
	h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"id_number": withCheck("11019919800101001")})), 201)
}

// TestIdentityConflict: one ID number, one name. Issuing to a number that
// holds a valid certificate under another name is 409 identity_conflict
// naming the masked name; a stated name change is accepted and audited;
// each certificate's number+name lookup vouches for the name on that
// certificate only; statistics count one person; an import dry run
// reports such rows, and two rows of one file with one ID number under two
// names.
func TestIdentityConflict(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	other := h.issuer("S000244000001", "44", []string{"6-18"}, 2)
	first := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": "陈小明", "level": 3})), 201).json(t)["number"].(string)

	for _, issuer := range []string{tok, other} {
		r := h.expect(h.do("POST", "/api/v1/certificates", issuer, certBody(map[string]any{"holder_name": "刘芳"})), 409)
		code, field, msg := errorOf(t, r)
		if code != "identity_conflict" || field != "holder_name" || !strings.Contains(msg, "陈*明") || strings.Contains(msg, "陈小明") || strings.Contains(msg, idNumber) {
			t.Errorf("second name: %s on %q %q; want identity_conflict naming 陈*明 only", code, field, msg)
		}
	}
	second := h.expect(h.do("POST", "/api/v1/certificates", other, certBody(map[string]any{"holder_name": "刘芳", "name_change_reason": "2026 年 3 月户籍更名"})), 201).json(t)["number"].(string)
	// The name is now 刘芳: the old name needs a reason in its turn.
	h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": "陈小明", "level": 4})), 409)
	h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": "刘芳", "level": 4})), 201)

	entries, err := h.store.AuditEntries(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, e := range entries {
		if e.Event == "holder.name_changed" {
			changed++
			if e.Attrs["number"] != second || e.Attrs["previous_number"] != first || e.Attrs["previous_name"] != "陈*明" || e.Attrs["name"] != "刘*" || e.Attrs["reason"] == "" {
				t.Errorf("audit entry %v", e.Attrs)
			}
		}
		for _, v := range e.Attrs {
			if strings.Contains(v, idNumber) || strings.Contains(v, "陈小明") {
				t.Errorf("audit entry %s carries a full ID number or name: %v", e.Event, e.Attrs)
			}
		}
	}
	if changed != 1 {
		t.Errorf("%d holder.name_changed entries, want 1", changed)
	}

	for _, tt := range []struct{ number, name, want string }{
		{first, "陈小明", "valid"},
		{first, "刘芳", "not_found"},
		{second, "刘芳", "valid"},
		{second, "陈小明", "not_found"},
	} {
		got := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"number": tt.number, "name": tt.name}), 200).json(t)["status"]
		if got != tt.want {
			t.Errorf("lookup %s with %s: %v, want %s", tt.number, tt.name, got, tt.want)
		}
	}
	tiers := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers", h.official("identity-national", ""), nil), 200))
	if tiers.SkilledWorkers != 1 || tiers.Certificates != 3 {
		t.Errorf("statistics: %d workers, %d certificates; want 1 person with 3", tiers.SkilledWorkers, tiers.Certificates)
	}

	file := importHeader +
		"陈小明," + idNumber + ",6-18-01-01,5,social,,\n" + // row 2: the former name
		"王芳," + testID(50) + ",6-18-01-01,2,social,,\n" + // row 3
		"王芬," + testID(50) + ",6-18-01-01,3,social,,\n" // row 4: row 3's number, another name
	job := h.importFile(tok, "&dry_run=true", "identity.csv", []byte(file), 200)
	rows := rowsOf(t, job)
	want := map[float64]string{2: "identity_conflict", 3: "", 4: "identity_in_file"}
	for _, row := range rows {
		code := ""
		if errs, _ := row["errors"].([]any); len(errs) > 0 {
			code = errs[0].(map[string]any)["code"].(string)
			if msg := errs[0].(map[string]any)["message"].(string); strings.Contains(msg, "陈小明") || strings.Contains(msg, idNumber) {
				t.Errorf("row %v: message %q repeats a full name or ID number", row["row"], msg)
			}
		}
		if code != want[row["row"].(float64)] {
			t.Errorf("row %v: %q, want %q (%v)", row["row"], code, want[row["row"].(float64)], row)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("dry run rows: %v", rows)
	}
	// The occupation and level of 陈小明's certificate under the current
	// name: that certificate is not this row's, so the row is not
	// "exists" but would issue under 刘芳.
	job = h.importFile(tok, "&dry_run=true", "renamed.csv", []byte(importHeader+"刘芳,"+idNumber+",6-18-01-01,3,social,,\n"), 200)
	if rows := rowsOf(t, job); len(rows) != 1 || rows[0]["status"] != "valid" {
		t.Errorf("row under the new name at the old certificate's level: %v, want valid", rows)
	}
}
