package handlers_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

const deskWidth, deskHeight = 1280, 800

// classXLSX is a small class as a clerk fills the template: two good rows
// and one whose ID number has a wrong check digit.
func classXLSX(t *testing.T) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"姓名", "身份证号", "职业编码", "等级", "评价类型", "外部编号"},
		{"赵一", "440524198001010013", "6-18-01-01", "三级/高级工", "社会化职业技能鉴定", "class-9/1"},
		{"钱二", "34052419800101001X", "6-18-01-02", 4, "社会化职业技能鉴定", "class-9/2"},
		{"孙三", "110105194912310021", "6-18-01-01", 3, "社会化职业技能鉴定", "class-9/3"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "2026年第9期.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// TestPortalInBrowser: an issuer's clerk, on a 1280x800 screen, logs in
// through the form, issues a certificate picking the occupation from the
// suggestions typed into the picker, uploads a small .xlsx, reads the
// dry-run report (one bad row), runs the import for real, prints a
// certificate (the print page's QR image is loaded), and revokes one with
// a reason; then the portal is checked at 390x844. Screenshots at each
// step.
func TestPortalInBrowser(t *testing.T) {
	ctx, console := browser(t)
	h := newHarness(t)
	h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	user := "user-s000111000001"

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v; console: %q", what, err, console())
		}
	}
	run("log in",
		chromedp.EmulateViewport(deskWidth, deskHeight),
		chromedp.Navigate(h.url+"/portal"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), userPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#issue-form")),
		chromedp.WaitVisible(chromedp.CSS("#page-info:not(:empty)")),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != h.url+"/portal" {
		t.Fatalf("after login at %s, want /portal", loc)
	}
	shotAt(t, ctx, "portal-login-1280x800.png", deskWidth)

	// Issue one: type part of an occupation's name, pick the suggestion.
	// The ID number is typed after the screenshot, which never shows one.
	// The suggestions are redrawn as each character arrives: wait for
	// those drawn for the whole text before picking one.
	run("issue",
		chromedp.SendKeys(chromedp.CSS("#issue-name"), "王小明"),
		chromedp.SendKeys(chromedp.CSS("#occ-search"), "车工"),
		chromedp.WaitVisible(chromedp.CSS(`#occ-list[data-q="车工"] li[data-code="6-18-01-01"]`)),
	)
	shotAt(t, ctx, "portal-occupation-picker-1280x800.png", deskWidth)
	run("pick and submit",
		chromedp.Click(chromedp.CSS(`#occ-list[data-q="车工"] li[data-code="6-18-01-01"]`)),
		chromedp.SendKeys(chromedp.CSS("#issue-id"), "11010519491231002X"),
		chromedp.SetValue(chromedp.CSS("#issue-level"), "3"),
		chromedp.Click(chromedp.CSS("#issue-submit")),
		chromedp.WaitVisible(chromedp.CSS("#issue-result[data-number]")),
	)
	issued := text(t, ctx, "#issue-result")
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#issue-result"), "data-number"))
	number := attr.Value
	if err != nil || !strings.HasPrefix(issued, "已签发证书 S000111000001263") || !strings.HasSuffix(issued, number) {
		t.Fatalf("issue result %q (%q, %v)", issued, number, err)
	}
	got := h.expect(h.do("GET", "/api/v1/certificates/"+number, h.login(user, userPassword), nil), 200).json(t)
	if got["occupation_code"] != "6-18-01-01" || got["level"].(float64) != 3 || got["holder_name"] != "王小明" {
		t.Fatalf("issued %v", got)
	}

	// Upload a class: the dry run reports the bad row and writes nothing.
	run("dry run",
		chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{classXLSX(t)}),
		chromedp.Click(chromedp.CSS("#import-dry")),
		chromedp.WaitVisible(chromedp.CSS(`#import-summary[data-dry-run="true"]`)),
		chromedp.WaitVisible(chromedp.CSS("#import-errors")),
	)
	summary := text(t, ctx, "#import-summary")
	report := text(t, ctx, "#import-error-rows")
	if summary != "共 3 行：可签发 2，已签发 0，已存在 0，未签发 0，错误 1" || !strings.HasPrefix(report, "4\t身份证号\t身份证号校验位不符") || !strings.Contains(report, "check character is wrong") {
		t.Fatalf("dry run: %q / %q", summary, report)
	}
	shotAt(t, ctx, "portal-dry-run-1280x800.png", deskWidth)
	run("real run",
		chromedp.Click(chromedp.CSS("#import-run")),
		chromedp.WaitVisible(chromedp.CSS(`#import-summary[data-dry-run="false"]`)),
	)
	if s := text(t, ctx, "#import-summary"); s != "共 3 行：可签发 0，已签发 2，已存在 0，未签发 0，错误 1" {
		t.Fatalf("real run: %q", s)
	}
	list := h.expect(h.do("GET", "/api/v1/certificates?q=赵一", h.login(user, userPassword), nil), 200).json(t)
	if list["total"].(float64) != 1 {
		t.Fatalf("imported: %v", list)
	}
	imported := list["items"].([]any)[0].(map[string]any)["number"].(string)
	run("list shows the imports",
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-number="%s"]`, imported))),
	)
	shotAt(t, ctx, "portal-imported-1280x800.png", deskWidth)

	// Search by name, then print the issued certificate.
	run("search",
		chromedp.SendKeys(chromedp.CSS("#search-q"), "王小明"),
		chromedp.Click(chromedp.CSS("#search-submit")),
		chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf(`tr[data-number="%s"]`, imported))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.print[data-number="%s"]`, number))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#print-link[data-number="%s"]`, number))),
	)
	hrefAttr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#print-link"), "href"))
	href := hrefAttr.Value
	if err != nil || !strings.Contains(href, "/certificates/"+number+"/print?ticket=") {
		t.Fatalf("print link %q %v", href, err)
	}
	run("print page",
		chromedp.Navigate(h.url+href),
		chromedp.WaitVisible(chromedp.CSS(".qr img")),
		chromedp.Poll[chromedp.Void](`(() => { const i = document.querySelector(".qr img"); return i && i.complete && i.naturalWidth > 0; })()`),
	)
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector(".qr img").naturalWidth`))
	if err != nil || w <= 0 {
		t.Fatalf("QR image naturalWidth %d, %v", w, err)
	}
	if body := text(t, ctx, "body"); !strings.Contains(body, number) || !strings.Contains(body, "王小明") || strings.Contains(body, "11010519491231002X") {
		t.Fatalf("print page text: %q", body)
	}
	shotAt(t, ctx, "print-1280x800.png", deskWidth)

	// Revoke the imported certificate with a reason.
	run("revoke",
		chromedp.Navigate(h.url+"/portal"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`button.revoke[data-number="%s"]`, imported))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.revoke[data-number="%s"]`, imported))),
		chromedp.WaitVisible(chromedp.CSS("#revoke-reason")),
		chromedp.SendKeys(chromedp.CSS("#revoke-reason"), "考核成绩录入错误"),
	)
	shotAt(t, ctx, "portal-revoke-1280x800.png", deskWidth)
	run("confirm revoke",
		chromedp.Click(chromedp.CSS("#revoke-confirm")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-number="%s"] .st-revoked`, imported))),
	)
	rev := h.expect(h.do("GET", "/api/v1/certificates/"+imported, h.login(user, userPassword), nil), 200).json(t)
	if rev["status"] != "revoked" || rev["revoke_reason"] != "考核成绩录入错误" {
		t.Fatalf("revoked: %v", rev)
	}

	// The same portal on a phone.
	run("phone",
		phone(),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#page-info:not(:empty)")),
	)
	checkFits(t, ctx, "/portal")
	shotAt(t, ctx, "portal-390x844.png", phoneWidth)
	checkConsole(t, console())
}
