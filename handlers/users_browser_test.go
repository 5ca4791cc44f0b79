package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestUserScreensInBrowser: the admin, at 1280x800, logs in through the
// form on the way to the user-management page, creates an issuer user,
// disables it (its API token stops working at once), enables it, resets
// its password in the dialog and finally deletes it; the page is checked
// at 390x844. Then an issuer's clerk logs in through the form, opens the
// change-password page from the portal and changes their password: their
// other login ends, the browser's own session goes on. Screenshots at
// each step, through the real login form and CSRF token.
func TestUserScreensInBrowser(t *testing.T) {
	ctx, console := browser(t)
	h := newHarness(t)
	h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	clerk := "user-s000111000001"

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v; console: %q", what, err, console())
		}
	}
	row := func(username string) string { return fmt.Sprintf(`tr[data-username="%s"]`, username) }

	run("log in on the way to the user page",
		chromedp.EmulateViewport(deskWidth, deskHeight),
		chromedp.Navigate(h.url+"/portal/users"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(row(clerk))),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != h.url+"/portal/users" {
		t.Fatalf("after login at %s, want /portal/users", loc)
	}
	if s := text(t, ctx, row("admin")); !strings.Contains(s, "当前账号") || strings.Contains(s, "停用") {
		t.Fatalf("the admin's own row %q: want it marked, with no actions", s)
	}
	shotAt(t, ctx, "users-list-1280x800.png", deskWidth)

	// Create an issuer user for the organisation offered in the form.
	run("create",
		chromedp.SendKeys(chromedp.CSS("#new-username"), "Clerk.Li"),
		chromedp.SendKeys(chromedp.CSS("#new-password"), userPassword),
		chromedp.Click(chromedp.CSS("#create-submit")),
		chromedp.WaitVisible(chromedp.CSS(row("Clerk.Li"))),
	)
	if s := text(t, ctx, "#flash"); s != "已创建用户 Clerk.Li" {
		t.Fatalf("flash after create: %q", s)
	}
	if s := text(t, ctx, row("Clerk.Li")); !strings.Contains(s, "发证机构用户") || !strings.Contains(s, "测试评价机构 S000111000001") || !strings.Contains(s, "正常") {
		t.Fatalf("new row: %q", s)
	}
	tok, status := h.loginToken("clerk.li", userPassword) // any case logs in
	if status != 200 {
		t.Fatalf("the new user's login: %d", status)
	}
	shotAt(t, ctx, "users-created-1280x800.png", deskWidth)

	// Disable: the row says so and the user's token ends at once.
	run("disable",
		chromedp.Click(chromedp.CSS(row("Clerk.Li")+" button.disable")),
		chromedp.WaitVisible(chromedp.CSS(row("Clerk.Li")+`[data-disabled="true"] button.enable`)),
	)
	if r := h.do("GET", "/api/v1/certificates", tok, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("a disabled user's token: %d", r.status)
	}
	shotAt(t, ctx, "users-disabled-1280x800.png", deskWidth)
	run("enable",
		chromedp.Click(chromedp.CSS(row("Clerk.Li")+" button.enable")),
		chromedp.WaitVisible(chromedp.CSS(row("Clerk.Li")+`[data-disabled="false"] button.disable`)),
	)

	// Reset the password in the dialog.
	run("reset dialog",
		chromedp.Click(chromedp.CSS(row("Clerk.Li")+" button.reset")),
		chromedp.WaitVisible(chromedp.CSS("#reset-password")),
		chromedp.SendKeys(chromedp.CSS("#reset-password"), "reset-password-1"),
	)
	shotAt(t, ctx, "users-reset-1280x800.png", deskWidth)
	run("reset",
		chromedp.Click(chromedp.CSS("#reset-confirm")),
		chromedp.WaitNotVisible(chromedp.CSS("#reset-dialog")),
		chromedp.Poll[chromedp.Void](`document.getElementById("flash").textContent.indexOf("已重置") === 0`),
		// The page reloads the list after a reset (the load starts with
		// the message): wait until it is drawn before using its buttons.
		chromedp.WaitReady(chromedp.CSS(`#user-rows[data-state="ready"]`)),
	)
	if _, status := h.loginToken("Clerk.Li", userPassword); status != 401 {
		t.Fatalf("the old password after a reset: %d", status)
	}
	if _, status := h.loginToken("Clerk.Li", "reset-password-1"); status != 200 {
		t.Fatalf("the new password after a reset: %d", status)
	}

	// The filter shows the disabled users only.
	run("disable again and filter",
		chromedp.Click(chromedp.CSS(row("Clerk.Li")+" button.disable")),
		chromedp.WaitVisible(chromedp.CSS(row("Clerk.Li")+`[data-disabled="true"]`)),
		chromedp.SetValue(chromedp.CSS("#filter-status"), "disabled"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("filter-status").dispatchEvent(new Event("change"))`),
		chromedp.WaitNotPresent(chromedp.CSS(row(clerk))),
	)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#user-rows tr").length`)); err != nil || n != 1 {
		t.Fatalf("rows with status=disabled: %d, %v", n, err)
	}
	shotAt(t, ctx, "users-filtered-1280x800.png", deskWidth)

	// Delete in its dialog.
	run("delete",
		chromedp.Click(chromedp.CSS(row("Clerk.Li")+" button.delete")),
		chromedp.WaitVisible(chromedp.CSS("#delete-confirm")),
		chromedp.Click(chromedp.CSS("#delete-confirm")),
		chromedp.WaitNotPresent(chromedp.CSS(row("Clerk.Li"))),
	)
	if _, status := h.loginToken("Clerk.Li", "reset-password-1"); status != 401 {
		t.Fatalf("a deleted user's login: %d", status)
	}

	// The page on a phone.
	run("phone",
		phone(),
		chromedp.SetValue(chromedp.CSS("#filter-status"), ""),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(row(clerk))),
	)
	checkFits(t, ctx, "/portal/users")
	shotAt(t, ctx, "users-390x844.png", phoneWidth)

	// A clerk changes their own password from the portal.
	other, status := h.loginToken(clerk, userPassword)
	if status != 200 {
		t.Fatalf("clerk login: %d", status)
	}
	run("log out, log in as the clerk",
		chromedp.EmulateViewport(deskWidth, deskHeight),
		chromedp.Click(chromedp.CSS(".logout button")),
		// The user page's header also has an #username: wait for the
		// login form's own button.
		chromedp.WaitVisible(chromedp.CSS("#login-submit")),
		chromedp.SendKeys(chromedp.CSS("#username"), clerk),
		chromedp.SendKeys(chromedp.CSS("#password"), userPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#account-link")),
		chromedp.Click(chromedp.CSS("#account-link")),
		chromedp.WaitVisible(chromedp.CSS("#password-form")),
		chromedp.SendKeys(chromedp.CSS("#current-password"), userPassword),
		chromedp.SendKeys(chromedp.CSS("#new-password"), "clerk-password-2"),
		chromedp.SendKeys(chromedp.CSS("#repeat-password"), "clerk-password-2"),
	)
	shotAt(t, ctx, "account-1280x800.png", deskWidth)
	run("change password",
		chromedp.Click(chromedp.CSS("#password-submit")),
		chromedp.Poll[chromedp.Void](`document.getElementById("flash").textContent.indexOf("密码已修改") === 0`),
	)
	shotAt(t, ctx, "account-changed-1280x800.png", deskWidth)
	if r := h.do("GET", "/api/v1/certificates", other, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("the clerk's other token after a password change: %d", r.status)
	}
	if _, status := h.loginToken(clerk, "clerk-password-2"); status != 200 {
		t.Fatalf("the clerk's new password: %d", status)
	}
	// The browser's own session goes on with the new cookie: the portal
	// opens, and the page's logout form, which the script gave the new
	// CSRF token, logs out (a stale token would be refused 403).
	run("session goes on",
		chromedp.Click(chromedp.CSS("#back-link")),
		chromedp.WaitVisible(chromedp.CSS("#page-info:not(:empty)")),
		chromedp.NavigateBack(),
		chromedp.WaitVisible(chromedp.CSS("#password-form")),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != h.url+"/account" {
		t.Fatalf("back at %s, want /account", loc)
	}
	run("the account page on a phone",
		phone(),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#password-form")),
	)
	checkFits(t, ctx, "/account")
	shotAt(t, ctx, "account-390x844.png", phoneWidth)
	run("change back on the phone, then log out from the same page",
		chromedp.SendKeys(chromedp.CSS("#current-password"), "clerk-password-2"),
		chromedp.SendKeys(chromedp.CSS("#new-password"), "clerk-password-3"),
		chromedp.SendKeys(chromedp.CSS("#repeat-password"), "clerk-password-3"),
		chromedp.Click(chromedp.CSS("#password-submit")),
		chromedp.Poll[chromedp.Void](`document.getElementById("flash").textContent.indexOf("密码已修改") === 0`),
		chromedp.Click(chromedp.CSS(".logout button")),
		chromedp.WaitVisible(chromedp.CSS("#login-submit")),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != h.url+"/login" {
		t.Fatalf("after logging out at %s, want /login", loc)
	}
	checkConsole(t, console())
}
