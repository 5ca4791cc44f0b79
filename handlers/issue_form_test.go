package handlers_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestIssueNeedsLevel: the issue form in the portal offers no level until
// the clerk chooses one, and its date is a yyyy-mm-dd text field (a
// browser's date input shows the locale's mm/dd/yyyy); the API refuses a
// certificate without a level, naming the field.
func TestIssueNeedsLevel(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	r := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"level": nil})), 400)
	if code, field := r.errorCode(t); code != "invalid" || field != "level" {
		t.Errorf("a certificate without a level: %s on %q, want invalid on level", code, field)
	}
	page := string(h.expect(h.do("GET", "/portal", tok, nil), 200).body)
	sel := regexp.MustCompile(`(?s)<select name="level" id="issue-level"[^>]*>(.*?)</select>`).FindStringSubmatch(page)
	if sel == nil {
		t.Fatal("no level drop-down in the issue form")
	}
	if !strings.HasPrefix(sel[1], `<option value="" selected disabled>`) || strings.Count(sel[1], "selected") != 1 {
		t.Errorf("the level drop-down starts %.80q; want an empty, disabled choice selected", sel[1])
	}
	date := regexp.MustCompile(`<input [^>]*id="issue-date"[^>]*>`).FindString(page)
	if !strings.Contains(date, `type="text"`) || !strings.Contains(date, `pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}"`) || !strings.Contains(date, `placeholder="YYYY-MM-DD"`) {
		t.Errorf("the issue date field is %s; want a YYYY-MM-DD text field", date)
	}
}
