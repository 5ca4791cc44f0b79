package web

import (
	"regexp"
	"strings"
	"testing"
)

// TestAccountMessagesUsed: every label the account pages and their scripts
// ask for is in their table with both languages, and every label of the
// table is used.
func TestAccountMessagesUsed(t *testing.T) {
	// row() builds "role." + u.role and "ustatus." + status.
	used := map[string]bool{"role.admin": true, "role.issuer": true, "role.official": true, "ustatus.active": true, "ustatus.disabled": true}
	for _, name := range []string{"templates/users.html", "templates/account.html"} {
		b, err := templateFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\{\{t "([a-z_.]+)"\}\}`).FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	for _, name := range []string{"static/users.js", "static/account.js", "static/staff.js"} {
		b, err := staticFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\bt\("([a-z_.]+)"\s*[,)]`).FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	if len(used) < 40 {
		t.Fatalf("found only %d message ids; is the pattern right?", len(used))
	}
	for id := range used {
		if m, ok := accountMessages[id]; !ok || m.ZH == "" || m.EN == "" {
			t.Errorf("message %q is used but missing or incomplete in the table", id)
		}
	}
	for id := range accountMessages {
		if !used[id] {
			t.Errorf("message %q is in the table but not used", id)
		}
	}
}

// TestAccountPagesRender: both pages carry the CSRF token and the labels,
// and no inline script or style (the CSP forbids them).
func TestAccountPagesRender(t *testing.T) {
	for name, render := range map[string]func(AccountView) ([]byte, error){"users": RenderUsers, "account": RenderAccount} {
		b, err := render(NewAccountView("tok-123", "admin", "u1", "/portal"))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		for _, want := range []string{`<meta name="csrf-token" content="tok-123">`, `"account.title":"修改密码"`, `value="tok-123"`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s page lacks %q", name, want)
			}
		}
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]*[^<\s]+[^<]*</script>`).MatchString(strings.ReplaceAll(page, `<script type="application/json" id="messages">`, "<x>")) || strings.Contains(page, "style=") || strings.Contains(page, "<style") {
			t.Errorf("the %s page has an inline script or style", name)
		}
	}
}
