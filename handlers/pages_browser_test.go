package handlers_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// emulateMedia makes CSS see the media type ("print", "screen"), or
// stops emulating for "".
func emulateMedia(media string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return chromedp.Void{}, err
	}
}

// The pages of the portal, the login form, the printed certificate and
// the verify page, each in Debian's chromium at a desk's 1280x800 and a
// phone's 390x844, through the real login form and its CSRF token.
// Layout is checked by comparing the boxes the browser laid out, so that
// an overlap or a cut-off text fails a test rather than waiting for
// someone to look at a screenshot.

// viewport is one of the two screens every page is checked at.
type viewport struct {
	name string
	w, h int
	set  chromedp.Action[chromedp.Void]
}

var viewports = []viewport{
	{"1280x800", deskWidth, deskHeight, chromedp.EmulateViewport(deskWidth, deskHeight)},
	{"390x844", phoneWidth, phoneHeight, phone()},
}

// box is an element's border box in page coordinates (CSS pixels).
type box struct {
	X, Y, W, H float64
	// ScrollW and ClientW are the element's scrollWidth and clientWidth:
	// ScrollW > ClientW means its content is wider than it and is cut.
	ScrollW, ClientW float64
	Text             string
}

func (b box) right() float64  { return b.X + b.W }
func (b box) bottom() float64 { return b.Y + b.H }

// overlaps says whether two boxes share more than a hairline.
func (b box) overlaps(o box) bool {
	const eps = 0.5
	return b.X+eps < o.right() && o.X+eps < b.right() && b.Y+eps < o.bottom() && o.Y+eps < b.bottom()
}

// inside says whether b lies within o.
func (b box) inside(o box) bool {
	const eps = 0.5
	return b.X >= o.X-eps && b.Y >= o.Y-eps && b.right() <= o.right()+eps && b.bottom() <= o.bottom()+eps
}

// boxes returns the boxes of the first element matching each selector; a
// selector matching nothing fails the test.
func boxes(t *testing.T, ctx context.Context, sels ...string) map[string]box {
	t.Helper()
	js := fmt.Sprintf(`(() => { const out = {}; for (const s of %s) {
	  const e = document.querySelector(s); if (!e) { continue; }
	  const r = e.getBoundingClientRect();
	  out[s] = {X: r.left + scrollX, Y: r.top + scrollY, W: r.width, H: r.height, ScrollW: e.scrollWidth, ClientW: e.clientWidth, Text: e.textContent.trim()};
	} return out; })()`, jsStrings(sels))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]box](js))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sels {
		if _, ok := got[s]; !ok {
			t.Fatalf("no element %s on the page", s)
		}
	}
	return got
}

func jsStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// clearField empties a form field (chromedp.SetValue refuses "").
func clearField(id string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(document.getElementById(%q).value = "", true)`, id))(ctx, t)
		return chromedp.Void{}, err
	}
}

// do runs actions, failing the test with the console so far.
func do(t *testing.T, ctx context.Context, console func() []string, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v; console: %q", what, err, console())
	}
}

// formLogin opens path, which sends an anonymous browser to the login
// form, and logs in there as username; wait is what shows when the page
// has loaded.
func formLogin(t *testing.T, ctx context.Context, console func() []string, h *harness, path, username, password, wait string) {
	t.Helper()
	do(t, ctx, console, "log in as "+username,
		chromedp.Navigate(h.url+path),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(wait)),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != h.url+path {
		t.Fatalf("after logging in at %s, want %s", loc, path)
	}
}

// TestLoginPageInBrowser: the home page links to the staff login; the
// login form is laid out like the rest of the site (each label above its
// field, the fields as wide as the card) at both sizes; a wrong password
// is answered on the same styled page; the right one lands in the portal.
func TestLoginPageInBrowser(t *testing.T) {
	ctx, console := browser(t)
	h := newHarness(t)
	for i, vp := range viewports {
		do(t, ctx, console, "home at "+vp.name,
			vp.set,
			chromedp.Navigate(h.url+"/"),
			chromedp.WaitVisible(chromedp.ID("staff-login")),
		)
		checkFitsIn(t, ctx, "/ at "+vp.name, vp.w)
		shotAt(t, ctx, "home-"+vp.name+".png", vp.w)
		do(t, ctx, console, "follow the staff link",
			chromedp.Click(chromedp.ID("staff-login")),
			chromedp.WaitVisible(chromedp.ID("login-submit")),
		)
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != h.url+"/login" {
			t.Fatalf("the home page's staff link led to %s", loc)
		}
		checkLoginLayout(t, ctx, vp)
		shotAt(t, ctx, "login-"+vp.name+".png", vp.w)
		if i == 0 {
			checkConsole(t, console()) // before the refused login, which the console reports as a 401
		}

		do(t, ctx, console, "a wrong password",
			chromedp.SendKeys(chromedp.ID("username"), "admin"),
			chromedp.SendKeys(chromedp.ID("password"), "not-the-password"),
			chromedp.Click(chromedp.ID("login-submit")),
			chromedp.WaitVisible(chromedp.ID("login-error")),
		)
		checkLoginLayout(t, ctx, vp)
		shotAt(t, ctx, "login-error-"+vp.name+".png", vp.w)
	}
	do(t, ctx, console, "the right password",
		clearField("password"),
		chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#page-info:not(:empty)")),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != h.url+"/portal" {
		t.Fatalf("after logging in at %s, want /portal", loc)
	}
}

// checkLoginLayout: labels sit above their fields, which fill the card.
func checkLoginLayout(t *testing.T, ctx context.Context, vp viewport) {
	t.Helper()
	b := boxes(t, ctx, `label[for="username"]`, "#username", `label[for="password"]`, "#password", "#login-submit", "form.login")
	form := b["form.login"]
	for _, f := range []string{"username", "password"} {
		label, input := b[`label[for="`+f+`"]`], b["#"+f]
		if label.bottom() > input.Y+0.5 {
			t.Errorf("%s: the %s label (bottom %.0f) is not above its field (top %.0f)", vp.name, f, label.bottom(), input.Y)
		}
		if input.W < 0.9*form.W || input.H < 40 {
			t.Errorf("%s: the %s field is %.0fx%.0f in a %.0f px form; want the form's width and 44 px high", vp.name, f, input.W, input.H, form.W)
		}
	}
	if b["#password"].bottom() > b["#login-submit"].Y {
		t.Errorf("%s: the login button is not below the fields", vp.name)
	}
	checkFitsIn(t, ctx, "/login at "+vp.name, vp.w)
}

// checkFitsIn fails when the page is wider than the screen.
func checkFitsIn(t *testing.T, ctx context.Context, what string, width int) {
	t.Helper()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	if err != nil {
		t.Fatal(err)
	}
	if w > width {
		t.Errorf("%s scrolls sideways: %d px wide on a %d px screen", what, w, width)
	}
}

// longestIssuerName is an organisation name of 100 characters, the most
// the API accepts.
func longestIssuerName() string {
	name := []rune(strings.Repeat("广东省珠江三角洲地区现代制造业职业技能等级认定社会培训评价组织示范基地", 4))[:100]
	return string(name)
}

// mm is a CSS millimetre in CSS pixels.
const mm = 96 / 25.4

// TestPrintLayoutInBrowser: the certificate of an organisation with the
// longest name the API accepts: the name wraps within its box, nothing on
// the page overlaps anything else, the QR code keeps a 25-30 mm box, a
// square of at least 35 mm is left for the seal, and the foot stays on
// the page; on screen and in print media, at both sizes.
func TestPrintLayoutInBrowser(t *testing.T) {
	ctx, console := browser(t)
	h := newHarness(t)
	name := longestIssuerName()
	h.expect(h.do("POST", "/api/v1/issuers", h.admin(), map[string]any{"name": name, "kind": "S", "org_code": "9000", "province": "44", "site": "900001",
		"scope": map[string]any{"occupations": []string{"6-18", "4-04"}, "max_level": 1}}), 201)
	h.expect(h.do("POST", "/api/v1/users", h.admin(), map[string]any{"username": "long-name-clerk", "password": userPassword, "role": "issuer", "issuer_id": "S900044900001"}), 201)
	tok := h.login("long-name-clerk", userPassword)
	// The longest occupation name of the two the test uses, so that the
	// fields are as tall as they get.
	c := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(map[string]any{"holder_name": "欧阳娜娜", "occupation_code": "4-04-05-05", "level": 1, "issued_on": "2026-06-30"})), 201).json(t)
	number := c["number"].(string)

	formLogin(t, ctx, console, h, "/portal", "long-name-clerk", userPassword, "#page-info:not(:empty)")
	do(t, ctx, console, "print ticket",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.print[data-number="%s"]`, number))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#print-link[data-number="%s"]`, number))),
	)
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#print-link"), "href"))
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, console, "print page",
		chromedp.Navigate(h.url+href.Value),
		chromedp.Poll[chromedp.Void](`(() => { const i = document.querySelector(".qr img"); return i && i.complete && i.naturalWidth > 0; })()`),
	)
	for _, media := range []string{"screen", "print"} {
		for _, vp := range viewports {
			do(t, ctx, console, "viewport", vp.set)
			do(t, ctx, console, media+" media", emulateMedia(media))
			what := media + " " + vp.name
			b := boxes(t, ctx, ".certificate", ".frame", "header", ".fields", ".org", ".date", ".seal", ".qr img", ".qr figcaption", ".issuer")
			if !strings.Contains(b[".org"].Text, name) {
				t.Fatalf("%s: the organisation reads %q", what, b[".org"].Text)
			}
			parts := []string{"header", ".fields", ".org", ".date", ".seal", ".qr img", ".qr figcaption"}
			for i, p := range parts {
				if !b[p].inside(b[".frame"]) {
					t.Errorf("%s: %s %+v is not inside the frame %+v", what, p, b[p], b[".frame"])
				}
				for _, q := range parts[i+1:] {
					if b[p].overlaps(b[q]) {
						t.Errorf("%s: %s %+v overlaps %s %+v", what, p, b[p], q, b[q])
					}
				}
			}
			if o := b[".org"]; o.ScrollW > o.ClientW || o.right() > b[".seal"].X {
				t.Errorf("%s: the organisation's name is cut or runs on (scroll width %.0f in %.0f; right %.0f, seal from %.0f)", what, o.ScrollW, o.ClientW, o.right(), b[".seal"].X)
			}
			// Sizes in millimetres, whatever the screen's zoom: the page is
			// 210 mm wide.
			scale := b[".certificate"].W / (210 * mm)
			qr := b[".qr img"].W / scale / mm
			if qr < 25 || qr > 30 || math.Abs(b[".qr img"].W-b[".qr img"].H) > 0.5 {
				t.Errorf("%s: the QR code is %.1f mm wide (%.0fx%.0f px), want a 25-30 mm square", what, qr, b[".qr img"].W, b[".qr img"].H)
			}
			if s := b[".seal"]; s.W/scale/mm < 35 || s.H/scale/mm < 35 {
				t.Errorf("%s: the seal's room is %.1fx%.1f mm, want at least 35 mm square", what, s.W/scale/mm, s.H/scale/mm)
			}
			if media == "screen" {
				checkFitsIn(t, ctx, "the print page at "+vp.name, vp.w)
				shotAt(t, ctx, "print-longest-name-"+vp.name+".png", vp.w)
			}
		}
	}
	do(t, ctx, console, "no media emulation", emulateMedia(""))
	checkConsole(t, console())
}

// TestVerifyPageInBrowser: a valid certificate's page asks the employer
// to compare the holder's name and says when it was checked; once the
// certificate is revoked the page says when it was checked and not to
// rely on it, but no longer asks for the comparison.
func TestVerifyPageInBrowser(t *testing.T) {
	ctx, console := browser(t)
	h := newHarness(t)
	c := issueOne(h)
	checked := regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)
	for _, state := range []string{"valid", "revoked"} {
		if state == "revoked" {
			h.expect(h.do("POST", "/api/v1/certificates/"+c.number+"/revoke", c.issuerToken, map[string]string{"reason": "考核成绩录入错误"}), 200)
		}
		for _, vp := range viewports {
			do(t, ctx, console, state+" at "+vp.name,
				vp.set,
				chromedp.Navigate(h.url+"/v/"+c.token),
				chromedp.WaitVisible(chromedp.ID("checked-at")),
			)
			body := text(t, ctx, "body")
			advice := strings.Contains(body, "请核对持证人姓名")
			if advice != (state == "valid") {
				t.Errorf("%s certificate at %s: name-comparison advice shown %v, want %v", state, vp.name, advice, state == "valid")
			}
			if warned := strings.Contains(body, "不能作为技能等级凭证"); warned != (state == "revoked") {
				t.Errorf("%s certificate at %s: the warning not to rely on it shown %v, want %v", state, vp.name, warned, state == "revoked")
			}
			at := text(t, ctx, "#checked-at")
			iso, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("checked-at"), "datetime"))
			if err != nil {
				t.Fatal(err)
			}
			parsed, perr := time.Parse(time.RFC3339, iso.Value)
			if !checked.MatchString(at) || perr != nil || parsed.Format("2006-01-02 15:04:05") != at || !strings.HasSuffix(iso.Value, "+08:00") {
				t.Errorf("%s at %s: checked at %q (datetime %q, %v), want yyyy-mm-dd hh:mm:ss China time", state, vp.name, at, iso.Value, perr)
			}
			checkFitsIn(t, ctx, "/v/ at "+vp.name, vp.w)
			shotAt(t, ctx, "verify-"+state+"-"+vp.name+".png", vp.w)
		}
	}
	checkConsole(t, console())
}

// trainingClassXLSX is a class on the training template's columns: two
// good trainees and one whose ID number has a wrong check character.
func trainingClassXLSX(t *testing.T) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"姓名", "身份证号", "人员类别", "职业编码", "培训等级", "培训类型", "课时", "开班日期", "结业日期", "班级编号"},
		{"赵一", "440524199003150030", "农民工", "6-18-01-01", "四级/中级工", "就业技能培训", 120, "2026-03-02", "2026-04-30", "2026-车工-03"},
		{"钱二", "34052419800101001X", "被征地农民", "6-18-01-01", "四级/中级工", "就业技能培训", 120, "2026-03-02", "2026-04-30", "2026-车工-03"},
		{"孙三", "110105194912310021", "企业职工", "6-18-01-01", "四级/中级工", "就业技能培训", 120, "2026-03-02", "2026-04-30", "2026-车工-03"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "2026年车工3班.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTrainingInBrowser: an issuer's clerk, through the login form,
// registers a trainee in the form (dates typed as yyyy-mm-dd, the
// occupation picked from the suggestions), uploads a class and reads the
// dry-run report before registering it, filters the list, records the
// trainee's outcome, and issues the certificate from the record (the
// issue form has no level until the clerk chooses one, and the registry
// links the certificate to the record); then the same screens on a phone.
func TestTrainingInBrowser(t *testing.T) {
	ctx, console := browser(t)
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	user := "user-s000111000001"
	do(t, ctx, console, "desk", viewports[0].set)
	formLogin(t, ctx, console, h, "/portal", user, userPassword, "#training-info:not(:empty)")

	// The issue form starts with no level and a yyyy-mm-dd text date.
	form, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
	  const l = document.getElementById('issue-level'), d = document.getElementById('issue-date');
	  return {level: l.value, levelValid: l.checkValidity(), dateType: d.type, placeholder: d.placeholder};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if form["level"] != "" || form["levelValid"] != false || form["dateType"] != "text" || !strings.HasPrefix(form["placeholder"].(string), "YYYY-MM-DD") {
		t.Fatalf("the issue form starts with %v; want no level (so the form is not valid) and a YYYY-MM-DD text date", form)
	}

	// Register one trainee.
	do(t, ctx, console, "register",
		chromedp.SendKeys(chromedp.ID("tr-name"), "张三"),
		chromedp.SendKeys(chromedp.ID("tr-class"), "2026-车工-01"),
		chromedp.SetValue(chromedp.ID("tr-group"), "unemployed"),
		chromedp.SetValue(chromedp.ID("tr-type"), "employment"),
		chromedp.SendKeys(chromedp.ID("tr-occ-search"), "车工"),
		// The suggestions are redrawn as each character arrives: pick from
		// those drawn for the whole text.
		chromedp.WaitVisible(chromedp.CSS(`#tr-occ-list[data-q="车工"] li[data-code="6-18-01-01"]`)),
		chromedp.Click(chromedp.CSS(`#tr-occ-list[data-q="车工"] li[data-code="6-18-01-01"]`)),
		chromedp.SetValue(chromedp.ID("tr-level"), "4"),
		chromedp.SendKeys(chromedp.ID("tr-hours"), "160"),
		chromedp.SendKeys(chromedp.ID("tr-start"), "2026-02-02"),
		chromedp.SendKeys(chromedp.ID("tr-end"), "2026-03-31"),
	)
	shotAt(t, ctx, "training-register-1280x800.png", deskWidth) // before the ID number: no screenshot shows one in full
	do(t, ctx, console, "submit the trainee",
		chromedp.SendKeys(chromedp.ID("tr-id"), "11010519491231002X"),
		chromedp.Click(chromedp.ID("tr-submit")),
		chromedp.WaitVisible(chromedp.CSS("#training-result[data-id]")),
	)
	if got := text(t, ctx, "#training-result"); got != "已登记：张三（班级 2026-车工-01）" {
		t.Fatalf("register result %q", got)
	}
	list := h.expect(h.do("GET", "/api/v1/training-records?class_id=2026-车工-01", tok, nil), 200).json(t)
	items := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("registered: %v", list)
	}
	rec := items[0].(map[string]any)
	if rec["start"] != "2026-02-02" || rec["end"] != "2026-03-31" || rec["target_level"] != float64(4) || rec["hours"] != float64(160) || rec["sex"] != "female" {
		t.Fatalf("registered %v", rec)
	}
	recID := rec["id"].(string)

	// Upload a class: the dry run reports the bad row and registers nothing.
	do(t, ctx, console, "training dry run",
		chromedp.SetUploadFiles(chromedp.ID("timport-file"), []string{trainingClassXLSX(t)}),
		chromedp.Click(chromedp.ID("timport-dry")),
		chromedp.WaitVisible(chromedp.CSS(`#timport-summary[data-dry-run="true"]`)),
		chromedp.WaitVisible(chromedp.ID("timport-errors")),
	)
	if s, rows := text(t, ctx, "#timport-summary"), text(t, ctx, "#timport-error-rows"); s != "共 3 行：可登记 2，已登记 0，已存在 0，未登记 0，错误 1" || !strings.HasPrefix(rows, "4\t身份证号") {
		t.Fatalf("training dry run: %q / %q", s, rows)
	}
	shotAt(t, ctx, "training-dry-run-1280x800.png", deskWidth)
	if n := h.expect(h.do("GET", "/api/v1/training-records", tok, nil), 200).json(t)["total"]; n != float64(1) {
		t.Fatalf("the dry run registered trainees: %v in all", n)
	}
	do(t, ctx, console, "training real run",
		chromedp.Click(chromedp.ID("timport-run")),
		chromedp.WaitVisible(chromedp.CSS(`#timport-summary[data-dry-run="false"]`)),
	)
	if s := text(t, ctx, "#timport-summary"); s != "共 3 行：可登记 0，已登记 2，已存在 0，未登记 0，错误 1" {
		t.Fatalf("training real run: %q", s)
	}

	// Filters: the class, then a target group. The real run reloads the
	// list: wait until that reload is drawn.
	do(t, ctx, console, "filter by class",
		chromedp.WaitReady(chromedp.CSS(`#training-rows[data-state="ready"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#training-rows tr[data-id="%s"]`, recID))),
		chromedp.SendKeys(chromedp.ID("training-class"), "2026-车工-03"),
		chromedp.Click(chromedp.ID("training-search-submit")),
		chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf(`#training-rows tr[data-id="%s"]`, recID))),
	)
	if info := text(t, ctx, "#training-info"); info != "第 1 / 1 页，共 2 条" {
		t.Fatalf("filtered by class: %q", info)
	}
	do(t, ctx, console, "filter by group",
		clearField("training-class"),
		chromedp.SetValue(chromedp.ID("training-group"), "unemployed"),
		chromedp.Click(chromedp.ID("training-search-submit")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#training-rows tr[data-id="%s"]`, recID))),
	)
	if info := text(t, ctx, "#training-info"); info != "第 1 / 1 页，共 1 条" {
		t.Fatalf("filtered by target group: %q", info)
	}
	shotAt(t, ctx, "training-list-1280x800.png", deskWidth)

	// Record the outcome: completed, passed, a subsidy.
	do(t, ctx, console, "outcome",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.outcome[data-id="%s"]`, recID))),
		chromedp.WaitVisible(chromedp.ID("outcome-dialog")),
		chromedp.Click(chromedp.ID("outcome-completed")),
		chromedp.SetValue(chromedp.ID("outcome-exam"), "pass"),
		chromedp.SendKeys(chromedp.ID("outcome-subsidy-category"), "职业培训补贴"),
		chromedp.SendKeys(chromedp.ID("outcome-subsidy-amount"), "1200.5"),
		chromedp.SetValue(chromedp.ID("outcome-payee"), "trainee"),
	)
	shotAt(t, ctx, "training-outcome-1280x800.png", deskWidth)
	do(t, ctx, console, "save the outcome",
		chromedp.Click(chromedp.ID("outcome-save")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`button.issue-from[data-id="%s"]`, recID))),
	)
	got := h.expect(h.do("GET", "/api/v1/training-records/"+recID, tok, nil), 200).json(t)
	if got["completed"] != true || got["exam_result"] != "pass" || got["subsidy_amount_fen"] != float64(120050) || got["subsidy_payee"] != "trainee" {
		t.Fatalf("outcome saved as %v", got)
	}

	// Issue from the record: the form is filled but for the ID number and
	// the channel; the certificate is linked to the record.
	do(t, ctx, console, "issue from the record",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.issue-from[data-id="%s"]`, recID))),
		chromedp.WaitVisible(chromedp.ID("issue-from-training")),
	)
	filled, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`(() => ({name: document.getElementById('issue-name').value,
	  code: document.getElementById('occ-code').value, level: document.getElementById('issue-level').value, record: document.getElementById('issue-training').value}))()`))
	if err != nil {
		t.Fatal(err)
	}
	if filled["name"] != "张三" || filled["code"] != "6-18-01-01" || filled["level"] != "4" || filled["record"] != recID {
		t.Fatalf("the issue form from the record: %v", filled)
	}
	do(t, ctx, console, "issue", chromedp.SendKeys(chromedp.ID("issue-date"), "2026-04-08"))
	shotAt(t, ctx, "issue-from-training-1280x800.png", deskWidth) // before the ID number
	do(t, ctx, console, "submit the issue",
		chromedp.SendKeys(chromedp.ID("issue-id"), "11010519491231002X"),
		chromedp.Click(chromedp.ID("issue-submit")),
		chromedp.WaitVisible(chromedp.CSS("#issue-result[data-number]")),
	)
	num, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#issue-result"), "data-number"))
	if err != nil {
		t.Fatal(err)
	}
	cert := h.expect(h.do("GET", "/api/v1/certificates/"+num.Value, tok, nil), 200).json(t)
	linked := h.expect(h.do("GET", "/api/v1/training-records/"+recID, tok, nil), 200).json(t)
	if cert["issued_on"] != "2026-04-08" || cert["level"] != float64(4) || cert["holder_name"] != "张三" || linked["certificate_number"] != num.Value {
		t.Fatalf("issued from the record: %v %v; the record has certificate %v", cert["issued_on"], cert["level"], linked["certificate_number"])
	}
	do(t, ctx, console, "the record shows its certificate",
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#training-rows tr[data-id="%s"] .outcome').textContent.includes(%q)`, recID, num.Value)),
	)

	// The same screens on a phone.
	do(t, ctx, console, "phone", viewports[1].set, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#training-info:not(:empty)")))
	checkFitsIn(t, ctx, "/portal with training on a phone", phoneWidth)
	for _, part := range []string{"training", "training-new", "training-import"} {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById(%q).scrollIntoView(), true`, part))); err != nil {
			t.Fatal(err)
		}
		b := boxes(t, ctx, "#"+part)
		if b["#"+part].W > phoneWidth {
			t.Errorf("#%s is %.0f px wide on a %d px phone", part, b["#"+part].W, phoneWidth)
		}
	}
	shotAt(t, ctx, "portal-training-390x844.png", phoneWidth)
	do(t, ctx, console, "outcome on a phone",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.outcome[data-id="%s"]`, recID))),
		chromedp.WaitVisible(chromedp.ID("outcome-dialog")),
	)
	if b := boxes(t, ctx, "#outcome-dialog"); b["#outcome-dialog"].W > phoneWidth {
		t.Errorf("the outcome dialog is %.0f px wide on a phone", b["#outcome-dialog"].W)
	}
	shotAt(t, ctx, "training-outcome-390x844.png", phoneWidth)
	checkConsole(t, console())
}

// TestPlansInBrowser: the admin, through the login form, sees the
// built-in plan as the default, adds a plan and makes it the default,
// changes its name and targets, makes the built-in plan the default
// again and deletes the added one; at both sizes.
func TestPlansInBrowser(t *testing.T) {
	ctx, console := browser(t)
	h := newHarness(t)
	do(t, ctx, console, "desk", viewports[0].set)
	formLogin(t, ctx, console, h, "/portal", "admin", adminPassword, `#plan-rows tr[data-plan="11th-five-year"]`)
	if b := text(t, ctx, `#plan-rows tr[data-plan="11th-five-year"]`); !strings.Contains(b, "默认") || !strings.Contains(b, "内置") {
		t.Fatalf("the built-in plan's row: %q", b)
	}
	if h2 := text(t, ctx, "#list h2"); h2 != "全部证书" {
		t.Errorf("the admin's certificate list is headed %q, want 全部证书 (the admin sees every organisation's)", h2)
	}
	do(t, ctx, console, "add a plan",
		chromedp.SendKeys(chromedp.ID("plan-id"), "14th-five-year"),
		chromedp.SendKeys(chromedp.ID("plan-name"), "“十四五”职业技能培训规划 (2021-2025)"),
		chromedp.SendKeys(chromedp.ID("plan-end"), "2025-12-31"),
		chromedp.SendKeys(chromedp.ID("plan-workers"), "200000000"),
		chromedp.SendKeys(chromedp.ID("plan-technician"), "10"),
		chromedp.SendKeys(chromedp.ID("plan-senior"), "20"),
		chromedp.SendKeys(chromedp.ID("plan-high"), "30"),
		chromedp.Click(chromedp.ID("plan-default")),
	)
	shotAt(t, ctx, "plans-new-1280x800.png", deskWidth)
	do(t, ctx, console, "save the plan",
		chromedp.Click(chromedp.ID("plan-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#plan-rows tr.default[data-plan="14th-five-year"]`)),
	)
	plans := decode[plansJSON](t, h.expect(h.do("GET", "/api/v1/plans", h.admin(), nil), 200))
	if p := plans.Items[0]; p.ID != "14th-five-year" || !p.Default || p.Targets.SkilledWorkers != 200_000_000 || p.EndDate != "2025-12-31" {
		t.Fatalf("plans after adding: %+v", plans)
	}

	do(t, ctx, console, "change it",
		chromedp.Click(chromedp.CSS(`button.edit[data-plan="14th-five-year"]`)),
		chromedp.WaitVisible(chromedp.ID("plan-cancel")),
		clearField("plan-name"),
		chromedp.SendKeys(chromedp.ID("plan-name"), "“十四五”职业技能培训规划（修订）"),
		clearField("plan-workers"),
		chromedp.SendKeys(chromedp.ID("plan-workers"), "210000000"),
	)
	shotAt(t, ctx, "plans-edit-1280x800.png", deskWidth)
	do(t, ctx, console, "save the change",
		chromedp.Click(chromedp.ID("plan-submit")),
		chromedp.WaitNotVisible(chromedp.ID("plan-cancel")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#plan-rows tr[data-plan="14th-five-year"]').textContent.includes('修订')`),
	)
	plans = decode[plansJSON](t, h.expect(h.do("GET", "/api/v1/plans", h.admin(), nil), 200))
	if p := plans.Items[0]; p.Name != "“十四五”职业技能培训规划（修订）" || p.Targets.SkilledWorkers != 210_000_000 || !p.Default {
		t.Fatalf("plans after changing: %+v", plans)
	}

	do(t, ctx, console, "choose the built-in plan",
		chromedp.Click(chromedp.CSS(`button.choose[data-plan="11th-five-year"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#plan-rows tr.default[data-plan="11th-five-year"]`)),
	)
	do(t, ctx, console, "phone", viewports[1].set, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#plan-rows tr[data-plan="14th-five-year"]`)))
	checkFitsIn(t, ctx, "/portal with plans on a phone", phoneWidth)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('plans').scrollIntoView(), true`)); err != nil {
		t.Fatal(err)
	}
	shotAt(t, ctx, "plans-390x844.png", phoneWidth)
	do(t, ctx, console, "delete it (two clicks)",
		chromedp.Click(chromedp.CSS(`button.delete[data-plan="14th-five-year"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button.delete[data-armed="true"]`)),
		chromedp.Click(chromedp.CSS(`button.delete[data-plan="14th-five-year"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#plan-rows tr[data-plan="14th-five-year"]`)),
	)
	plans = decode[plansJSON](t, h.expect(h.do("GET", "/api/v1/plans", h.admin(), nil), 200))
	if len(plans.Items) != 1 || plans.Items[0].ID != "11th-five-year" || !plans.Items[0].Default {
		t.Fatalf("plans after deleting: %+v", plans)
	}
	shotAt(t, ctx, "plans-deleted-390x844.png", phoneWidth)
	checkConsole(t, console())
}
