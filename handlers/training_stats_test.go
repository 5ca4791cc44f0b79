package handlers_test

import (
	"encoding/csv"
	"strings"
	"testing"
)

// TestTrainingStatsFormats: the training statistics answer CSV with
// ?format=csv like the other statistics routes (BOM, one bilingual header
// row, an attachment), and an unknown or repeated parameter or another
// format is a 400 naming it.
func TestTrainingStatsFormats(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	h.expect(h.do("POST", "/api/v1/training-records", tok, trainingBody(nil)), 201)
	h.expect(h.do("POST", "/api/v1/training-records", tok, trainingBody(map[string]any{"class_id": "2026-02", "target_group": "migrant_worker"})), 201)
	admin := h.admin()

	r := h.expect(h.do("GET", "/api/v1/stats/training?format=csv&year=2026", admin, nil), 200)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("content type %q: %.200s", ct, r.body)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="training-2026-national-`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	body := string(r.body)
	if !strings.HasPrefix(body, "\ufeff") {
		t.Fatal("no byte-order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 || rows[0][0] != "分组 (breakdown)" || rows[0][3] != "培训人次 (records)" {
		t.Fatalf("header %v", rows[0])
	}
	if rows[1][0] != "total" || rows[1][2] != "全国" || rows[1][3] != "2" {
		t.Fatalf("total row %v", rows[1])
	}
	groups := map[string]bool{}
	for _, row := range rows[2:] {
		if row[0] == "target_group" {
			groups[row[1]] = row[3] == "1"
		}
	}
	if !groups["new_labour"] || !groups["migrant_worker"] {
		t.Errorf("target group rows %v", rows)
	}
	// JSON stays the default.
	if st := h.expect(h.do("GET", "/api/v1/stats/training", admin, nil), 200).json(t); st["records"].(float64) != 2 {
		t.Errorf("JSON %v", st)
	}
	for query, field := range map[string]string{"bogus=1": "bogus", "format=xml": "format", "year=2026&year=2025": "year", "plan=2006-2010": "plan"} {
		code, f := h.expect(h.do("GET", "/api/v1/stats/training?"+query, admin, nil), 400).errorCode(t)
		if code != "invalid" || f != field {
			t.Errorf("?%s: %s %s, want invalid %s", query, code, f, field)
		}
	}
}
