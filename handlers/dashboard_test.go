package handlers_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
)

// loadDemo fills the harness's store with stats-core's synthetic
// population (Registry.LoadDemo, what `skillreg demo` runs): people in all
// 31 provinces at levels distributed like the 2004 census, some with two
// or three certificates, some revoked, issued from 2005 to today. The seed
// makes every run see the same registry.
func loadDemo(t *testing.T, h *harness, reg *registry.Registry, certificates int) *registry.DemoResult {
	t.Helper()
	ctx := context.Background()
	admin, err := reg.Authenticate(ctx, "admin", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := h.tokens.ActiveKeyID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := reg.LoadDemo(ctx, admin, registry.DemoOptions{Certificates: certificates, Seed: 2026, KeyID: kid})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo data: %d certificates, %d people, %d revoked", res.Certificates, res.People, res.Revoked)
	return res
}

// checkDashboardConsole is checkConsole, stricter: on the dashboard any
// warning fails too (ECharts warns, for example, when it draws into a
// box without a size).
func checkDashboardConsole(t *testing.T, msgs []string) {
	t.Helper()
	checkConsole(t, msgs)
	for _, m := range msgs {
		if strings.HasPrefix(m, "warning") {
			t.Errorf("browser console: %s", m)
		}
	}
}

// dashboardState is what the page shows, read from its DOM.
type dashboardState struct {
	Workers        string   `json:"workers"`        // data-value of the workers card
	WorkersText    string   `json:"workersText"`    // its text
	Technician     string   `json:"technician"`     // data-value: the share as the API gave it
	TechnicianText string   `json:"technicianText"` // e.g. 4.25%
	Senior         string   `json:"senior"`
	High           string   `json:"high"`
	Certificates   string   `json:"certificates"`
	Status         []string `json:"status"` // data-status of the four cards
	Rows           []string `json:"rows"`   // data-province of the table rows, in order
	SortValues     []string `json:"sortValues"`
	Canvases       []int    `json:"canvases"` // non-transparent pixels per chart
	Location       string   `json:"location"`
	Scope          string   `json:"scope"` // the line under the heading
}

const readDashboard = `(() => {
  const v = id => document.getElementById(id).getAttribute('data-value');
  const t = id => document.getElementById(id).textContent.trim();
  const paint = id => {
    const c = document.querySelector('#' + id + ' canvas');
    if (!c || !c.width || !c.height) { return 0; }
    // Read a copy, once: reading the chart's own canvas makes Chromium
    // warn about repeated readbacks.
    const copy = document.createElement('canvas');
    copy.width = c.width; copy.height = c.height;
    const g = copy.getContext('2d', {willReadFrequently: true});
    g.drawImage(c, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) { n++; } }
    return n;
  };
  return {
    workers: v('kpi-workers-value'), workersText: t('kpi-workers-value'),
    technician: v('kpi-technician-value'), technicianText: t('kpi-technician-value'),
    senior: v('kpi-senior-value'), high: v('kpi-high-value'),
    certificates: v('meta-certificates'),
    status: ['workers', 'technician', 'senior', 'high'].map(k => document.getElementById('kpi-' + k).getAttribute('data-status')),
    rows: [...document.querySelectorAll('#province-rows tr')].map(tr => tr.getAttribute('data-province')),
    sortValues: [...document.querySelectorAll('#province-rows tr td:nth-of-type(1)')].map(td => td.getAttribute('data-value')),
    canvases: ['chart-levels', 'chart-trend', 'chart-provinces'].map(paint),
    location: location.pathname + location.search,
    scope: t('dash-scope'),
  };
})()`

func readState(t *testing.T, ctx context.Context) dashboardState {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[dashboardState](readDashboard))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitReady waits until the page has drawn the figures of its gen-th load.
func waitReady(t *testing.T, ctx context.Context, gen int, console func() []string) {
	t.Helper()
	sel := fmt.Sprintf(`#dashboard[data-state="ready"][data-gen="%d"]`, gen)
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(sel))); err != nil {
		errText, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('dash-error').textContent`))
		t.Fatalf("the dashboard never became ready (load %d): %v; error box %q; console %q", gen, err, errText, console())
	}
}

// checkHeadline compares the page's headline figures with the API's.
func checkHeadline(t *testing.T, what string, s dashboardState, api tiersJSON) {
	t.Helper()
	if s.Workers != strconv.FormatInt(api.SkilledWorkers, 10) || strings.ReplaceAll(s.WorkersText, ",", "") != strconv.FormatInt(api.SkilledWorkers, 10) {
		t.Errorf("%s: the page shows %q (%q) skilled workers, the API %d", what, s.WorkersText, s.Workers, api.SkilledWorkers)
	}
	for _, c := range []struct {
		name, shown string
		api         float64
	}{{"technician", s.Technician, api.Shares.Technician}, {"senior worker", s.Senior, api.Shares.SeniorWorker}, {"high-skilled", s.High, api.Shares.HighSkilled}} {
		got, err := strconv.ParseFloat(c.shown, 64)
		if err != nil || got != c.api {
			t.Errorf("%s: the page's %s share is %q, the API's %v", what, c.name, c.shown, c.api)
		}
	}
	if want := fmt.Sprintf("%.2f%%", api.Shares.Technician*100); s.TechnicianText != want {
		t.Errorf("%s: technician share reads %q, want %q", what, s.TechnicianText, want)
	}
	if s.Certificates != strconv.FormatInt(api.Certificates, 10) {
		t.Errorf("%s: the page shows %s certificates, the API %d", what, s.Certificates, api.Certificates)
	}
	status := func(met bool) string {
		if api.SkilledWorkers == 0 {
			return "na"
		}
		if met {
			return "ok"
		}
		return "bad"
	}
	workers := "na"
	if api.Progress.Met.SkilledWorkers != nil {
		workers = map[bool]string{true: "ok", false: "bad"}[*api.Progress.Met.SkilledWorkers]
	}
	want := []string{workers, status(api.Progress.Met.Technician), status(api.Progress.Met.SeniorWorker), status(api.Progress.Met.HighSkilled)}
	if strings.Join(s.Status, ",") != strings.Join(want, ",") {
		t.Errorf("%s: card colours %v, want %v from the API's met flags", what, s.Status, want)
	}
	for i, n := range s.Canvases {
		if n < 500 {
			t.Errorf("%s: chart %d is blank (%d painted pixels)", what, i, n)
		}
	}
}

// loginInBrowser opens /dashboard, is sent to the login form, logs in and
// waits for the dashboard's first load.
func loginInBrowser(t *testing.T, ctx context.Context, h *harness, username string, console func() []string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(h.url+"/dashboard"),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
	); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if loc != h.url+"/login?next=%2Fdashboard" {
		t.Errorf("an anonymous browser at /dashboard is at %s, want the login form coming back to /dashboard", loc)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), userPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitReady(chromedp.ID("dashboard")),
	); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, 1, console)
}

// TestDashboardInBrowser: in Debian's chromium, a national official logs
// in through the form, sees the dashboard drawn (three non-blank charts)
// with the API's figures, sorts the province table, filters a province
// and sees the figures change, and downloads a CSV; a provincial official
// then sees their province only. No console errors, no CSP violations.
func TestDashboardInBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (apt-get install chromium, or set SKILLREG_CHROMIUM): skipping the browser test")
	}
	var reg *registry.Registry
	h := newHarness(t, func(c *handlers.Config) { reg = c.Registry })
	loadDemo(t, h, reg, 3000)
	national := h.official("dash-national", "")
	provincial := h.official("dash-guangdong", "44")
	ctx, console := browser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}

	loginInBrowser(t, ctx, h, "dash-national", console)
	apiNational := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers", national, nil), 200))
	if apiNational.SkilledWorkers < 2000 {
		t.Fatalf("the seed made only %d skilled workers", apiNational.SkilledWorkers)
	}
	s := readState(t, ctx)
	checkHeadline(t, "national", s, apiNational)
	if len(s.Rows) != 31 || s.Location != "/dashboard" {
		t.Errorf("national: %d table rows at %s, want 31 at /dashboard", len(s.Rows), s.Location)
	}
	checkProgressText(t, ctx, apiNational)
	if asOf := text(t, ctx, "#meta-asof"); !regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}（北京时间）$`).MatchString(asOf) {
		t.Errorf("the figures' time reads %q, want YYYY-MM-DD hh:mm:ss（北京时间）", asOf)
	}
	checkPlanReadable(t, ctx, "national at 1280", true)
	shotAt(t, ctx, "dashboard-national-1280.png", 1280)

	// Sorting: the first click on 技能劳动者 sorts descending, the second
	// ascending.
	for _, dir := range []string{"descending", "ascending"} {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#province-table button[data-key="skilled_workers"]`))); err != nil {
			t.Fatal(err)
		}
		s = readState(t, ctx)
		var vals []int
		for _, v := range s.SortValues {
			n, _ := strconv.Atoi(v)
			vals = append(vals, n)
		}
		for i := 1; i < len(vals); i++ {
			if dir == "descending" && vals[i] > vals[i-1] || dir == "ascending" && vals[i] < vals[i-1] {
				t.Fatalf("after sorting %s the column reads %v", dir, vals)
			}
		}
		if vals[0] == vals[len(vals)-1] {
			t.Fatalf("the column is flat (%v): the sort proves nothing", vals)
		}
		aria, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#province-table button[data-key="skilled_workers"]').parentElement.getAttribute('aria-sort')`))
		if err != nil || aria != dir {
			t.Errorf("aria-sort %q (%v), want %s", aria, err, dir)
		}
	}

	// Hovering a chart shows its tooltip (drawn on the canvas, so the CSP
	// has nothing to block).
	box, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(() => { const r = document.getElementById('chart-levels').getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, box["x"]+box["w"]/2+box["w"]*0.2, box["y"]+box["h"]*0.45)); err != nil {
		t.Fatal(err)
	}

	// The province filter: 广东 only.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const s = document.getElementById('f-province'); s.value = '44'; s.dispatchEvent(new Event('change')); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, 2, console)
	apiGD := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers?province=44", national, nil), 200))
	s = readState(t, ctx)
	checkHeadline(t, "广东 filter", s, apiGD)
	if apiGD.SkilledWorkers == apiNational.SkilledWorkers || s.Workers == strconv.FormatInt(apiNational.SkilledWorkers, 10) {
		t.Errorf("the province filter did not change the figures: %s", s.Workers)
	}
	if strings.Join(s.Rows, ",") != "44" || s.Location != "/dashboard?province=44" || s.Scope != "广东省" {
		t.Errorf("广东 filter: rows %v at %s, scope %q; want only 44 at /dashboard?province=44, 广东省", s.Rows, s.Location, s.Scope)
	}
	// The table marks each share against its target, in words and colour.
	mark, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const td = document.querySelector('#province-rows tr[data-province="44"] td:nth-of-type(7)'); return td.className + '|' + td.textContent; })()`))
	if err != nil {
		t.Fatal(err)
	}
	wantMark := map[bool]string{true: "num ok|" + s.TechnicianText + " ✓", false: "num bad|" + s.TechnicianText + " ✗"}[apiGD.Progress.Met.Technician]
	if mark != wantMark {
		t.Errorf("广东's technician share in the table: %q, want %q", mark, wantMark)
	}
	// The CSV link follows the filter and downloads with the session.
	csvCheck, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(async () => {
	  const a = document.getElementById('csv-provinces');
	  const r = await fetch(a.href, {credentials: 'same-origin'});
	  const b = new Uint8Array(await r.arrayBuffer());
	  return {href: a.getAttribute('href'), status: r.status, bom: b[0] === 0xEF && b[1] === 0xBB && b[2] === 0xBF,
	    disposition: r.headers.get('Content-Disposition'), lines: new TextDecoder().decode(b).trim().split('\r\n').length};
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if csvCheck["href"] != "/api/v1/stats/provinces?province=44&format=csv" || csvCheck["status"] != float64(200) || csvCheck["bom"] != true ||
		!strings.HasPrefix(fmt.Sprint(csvCheck["disposition"]), "attachment;") || csvCheck["lines"] != float64(2) {
		t.Errorf("CSV download from the page: %v", csvCheck)
	}
	shotAt(t, ctx, "dashboard-guangdong-filter-1280.png", 1280)

	// Log out; log in as the 广东 official, on a phone.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form.logout button`)),
		chromedp.WaitVisible(chromedp.ID("login-submit")),
		phone(),
	); err != nil {
		t.Fatal(err)
	}
	loginInBrowser(t, ctx, h, "dash-guangdong", console)
	apiOwn := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers", provincial, nil), 200))
	if apiOwn.SkilledWorkers != apiGD.SkilledWorkers || apiOwn.Query.Province != "44" {
		t.Fatalf("the 广东 official's API figures (%d, province %q) differ from the national view of 广东 (%d)", apiOwn.SkilledWorkers, apiOwn.Query.Province, apiGD.SkilledWorkers)
	}
	s = readState(t, ctx)
	checkHeadline(t, "广东 official", s, apiOwn)
	fixed, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => { const s = document.getElementById('f-province'); return {value: s.value, disabled: s.disabled, options: s.options.length}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if fixed["value"] != "44" || fixed["disabled"] != true || fixed["options"] != float64(1) {
		t.Errorf("the 广东 official's province filter: %v, want fixed to 44", fixed)
	}
	if strings.Join(s.Rows, ",") != "44" {
		t.Errorf("the 广东 official's table has rows %v, want only 44", s.Rows)
	}
	checkFits(t, ctx, "/dashboard on a phone")
	checkPlanReadable(t, ctx, "广东 official at 390", false)
	// On a phone the headline figures come first: the first card is on
	// the first screen, above the filters.
	b := boxes(t, ctx, "#kpi-workers", "#kpi-technician", "#filters")
	if b["#kpi-workers"].Y > b["#filters"].Y || b["#kpi-technician"].Y > b["#filters"].Y || b["#kpi-workers"].bottom() > phoneHeight {
		t.Errorf("on a phone the cards (first at %.0f-%.0f) do not come first: the filters start at %.0f on an %d px screen",
			b["#kpi-workers"].Y, b["#kpi-workers"].bottom(), b["#filters"].Y, phoneHeight)
	}
	shotAt(t, ctx, "dashboard-guangdong-official-390.png", phoneWidth)
	checkDashboardConsole(t, console())

	// The page's session cannot read another province (this refusal logs
	// a console error, so it comes after the console check).
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/stats/tiers?province=11', {credentials: 'same-origin'}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || status != http.StatusForbidden {
		t.Errorf("the 广东 official's page reading 北京: %d (%v), want 403", status, err)
	}

	// The console check can fail: an inline style attribute, which the
	// CSP blocks, shows up in the messages it reads.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.insertAdjacentHTML('beforeend', '<p style="color:red">canary</p>'), true`)); err != nil {
		t.Fatal(err)
	}
	for {
		if strings.Contains(strings.ToLower(strings.Join(console(), "\n")), "content security policy") {
			break
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(50*time.Millisecond)); err != nil {
			t.Fatalf("a blocked inline style never reached the console messages the test checks: %v; %q", err, console())
		}
	}
}

// TestDashboardPage: the page route without a browser: anonymous callers
// are sent to the login form, issuers get a 403 page, officials get the
// page with their province fixed, and the page has no inline script or
// style for the CSP to block.
func TestDashboardPage(t *testing.T) {
	h := newHarness(t)
	issuer := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	jar, _ := cookiejar.New(nil)
	noFollow := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(h.url + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fdashboard" {
		t.Errorf("anonymous /dashboard: %d to %q, want 303 to the login form", resp.StatusCode, resp.Header.Get("Location"))
	}
	h.expect(h.do("GET", "/dashboard", issuer, nil), 403)

	page := h.expect(h.do("GET", "/dashboard", h.official("page-guangdong", "44"), nil), 200)
	body := string(page.body)
	for _, want := range []string{`data-province="44"`, `<option value="44" selected>广东省</option>`, `/static/vendor/echarts.min.js`, `/static/dashboard.js`, `name="csrf"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the 广东 official's page lacks %s", want)
		}
	}
	if strings.Contains(body, `<option value="11"`) {
		t.Errorf("the 广东 official's page offers other provinces")
	}
	national := string(h.expect(h.do("GET", "/dashboard", h.official("page-national", ""), nil), 200).body)
	if strings.Count(national, "<option value=\"") < 31+8+4 {
		t.Errorf("the national page lacks the filter choices")
	}
	for _, b := range []string{body, national} {
		if strings.Contains(b, "style=") || strings.Contains(b, "<style") || strings.Contains(b, "<script>") || strings.Contains(b, "onclick") {
			t.Errorf("the page has inline style or script, which the CSP blocks")
		}
	}
	for _, asset := range []string{"/static/dashboard.js", "/static/dashboard.css", "/static/vendor/echarts.min.js"} {
		h.expect(h.do("GET", asset, "", nil), 200)
	}
}

// checkProgressText: the total's progress reads with at least two
// significant figures, as the API's ratio rounds (3,000 of 110 million is
// 0.0027%, not 0.0%).
func checkProgressText(t *testing.T, ctx context.Context, api tiersJSON) {
	t.Helper()
	if api.Progress.SkilledWorkers == nil {
		t.Fatal("the national figures have no progress toward the total")
	}
	p := *api.Progress.SkilledWorkers * 100
	digits := max(1, 1-int(math.Floor(math.Log10(p))))
	want := fmt.Sprintf("完成目标的 %.*f%%", digits, p)
	got := text(t, ctx, "#kpi-workers-status")
	if !strings.HasSuffix(got, want) {
		t.Errorf("the total's progress reads %q, want it to end %q (the API's %v)", got, want, p/100)
	}
	shown := strings.TrimSuffix(got[strings.LastIndex(got, " ")+1:], "%")
	if v, err := strconv.ParseFloat(shown, 64); err != nil || v == 0 || math.Abs(v-p)/p > 0.05 {
		t.Errorf("the total's progress %q is not the API's %.4g%% to two significant figures", shown, p)
	}
}

// checkPlanReadable: the chosen plan's whole name can be read: at a desk
// in the drop-down itself, on a phone (where it cannot fit) under it,
// wrapped, never cut.
func checkPlanReadable(t *testing.T, ctx context.Context, what string, inSelect bool) {
	t.Helper()
	m, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
	  const s = document.getElementById('f-plan'), cs = getComputedStyle(s), n = document.getElementById('f-plan-name');
	  const g = document.createElement('canvas').getContext('2d');
	  g.font = cs.font;
	  const text = s.options[s.selectedIndex].text;
	  return {text: text, need: g.measureText(text).width + parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight) + 24, have: s.clientWidth,
	    name: n.textContent, nameScroll: n.scrollWidth, nameClient: n.clientWidth, nameVisible: n.getClientRects().length > 0};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	const builtIn = "劳动和社会保障事业发展“十一五”规划 (2006-2010)"
	if !strings.Contains(m["text"].(string), builtIn) {
		t.Errorf("%s: the plan drop-down shows %q, want the default plan's whole name", what, m["text"])
	}
	if inSelect && m["need"].(float64) > m["have"].(float64) {
		t.Errorf("%s: the plan drop-down cuts %q: it needs %.0f px and has %.0f", what, m["text"], m["need"], m["have"])
	}
	if !inSelect && (!strings.Contains(m["name"].(string), builtIn) || m["nameVisible"] != true || m["nameScroll"].(float64) > m["nameClient"].(float64)) {
		t.Errorf("%s: the plan's name under the drop-down is %v; want the whole name, visible", what, m)
	}
}
