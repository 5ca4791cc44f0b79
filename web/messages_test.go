package web

import (
	"regexp"
	"strings"
	"testing"
)

// TestMessagesUsed: every message id the portal's template and script
// ask for is in the table, with both languages, and every message of the
// table is used (a label nobody shows is a label nobody maintains).
func TestMessagesUsed(t *testing.T) {
	tpl, err := templateFS.ReadFile("templates/portal.html")
	if err != nil {
		t.Fatal(err)
	}
	js, err := staticFS.ReadFile("static/portal.js")
	if err != nil {
		t.Fatal(err)
	}
	shared, err := staticFS.ReadFile("static/staff.js") // loaded before portal.js
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, shared...)
	used := map[string]bool{"status.valid": true, "status.revoked": true} // t("status." + c.status)
	for _, m := range regexp.MustCompile(`\{\{t "([a-z_.]+)"\}\}`).FindAllStringSubmatch(string(tpl), -1) {
		used[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`\bt\("([a-z_.]+)"\s*[,)]`).FindAllStringSubmatch(string(js), -1) {
		used[m[1]] = true
	}
	if len(used) < 40 {
		t.Fatalf("found only %d message ids; is the pattern right?", len(used))
	}
	for id := range used {
		m, ok := Messages[id]
		if !ok || m.ZH == "" || m.EN == "" {
			t.Errorf("message %q is used but missing or incomplete in the table", id)
		}
	}
	for _, id := range MessageIDs() {
		if !used[id] {
			t.Errorf("message %q is in the table but not used", id)
		}
	}
	if T("no.such.id") != "no.such.id" || T("portal.title") != "证书管理" {
		t.Errorf("T: %q %q", T("no.such.id"), T("portal.title"))
	}
}

// TestPortalRender: the page renders with its CSRF token in the meta tag,
// the message table as JSON for the script, no inline script or style,
// and without the issue and import forms for the admin.
func TestPortalRender(t *testing.T) {
	b, err := RenderPortal(NewPortalView("tok-123", "centre", "北京鉴定中心", true))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{`<meta name="csrf-token" content="tok-123">`, `"portal.title":"证书管理"`, `id="issue-form"`, `id="import-form"`, "北京鉴定中心", `<option value="3">三级/高级工</option>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]*[^<\s]+[^<]*</script>`).MatchString(strings.ReplaceAll(page, `<script type="application/json" id="messages">`, "<x>")) || strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Error("the page has an inline script or style")
	}
	b, err = RenderPortal(NewPortalView("tok", "admin", "", false))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `id="issue-form"`) || strings.Contains(string(b), `id="import-form"`) {
		t.Error("the admin's page has the issue or import form")
	}
}
