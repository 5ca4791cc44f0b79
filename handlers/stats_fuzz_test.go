package handlers

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// FuzzStatsRequest: any query string of a stats route either gives a
// query of known parameters, each at most once, with a known format, or
// an EINVALID error naming a field; it never panics.
func FuzzStatsRequest(f *testing.F) {
	for _, s := range []string{
		"", "province=44", "province=44&occupation=6&channel=social&plan=11th-five-year&format=csv",
		"provnce=44", "province=11&province=44", "format=xlsx", "by=year", "by=month", "%zz", "a=%", ";", "province=%E5%B9%BF",
	} {
		f.Add("tiers", s)
		f.Add("trend", s)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, route, raw string) {
		if _, ok := statsParams[route]; !ok {
			route = "provinces"
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = raw
		c := e.NewContext(req, httptest.NewRecorder())
		q, asCSV, err := statsRequest(c, route)
		if err != nil {
			if registry.ErrorCode(err) != registry.EINVALID || registry.ErrorField(err) == "" {
				t.Fatalf("%q: %v (code %q, field %q)", raw, err, registry.ErrorCode(err), registry.ErrorField(err))
			}
			return
		}
		vals, perr := url.ParseQuery(raw)
		if perr != nil {
			t.Fatalf("accepted a malformed query %q", raw)
		}
		for k, v := range vals {
			if !contains(statsParams[route], k) || len(v) != 1 {
				t.Fatalf("accepted %q: parameter %q (%d values)", raw, k, len(v))
			}
		}
		if asCSV != (strings.TrimSpace(vals.Get("format")) == "csv") {
			t.Fatalf("%q: csv %v", raw, asCSV)
		}
		if q.Province != strings.TrimSpace(vals.Get("province")) || string(q.Channel) != strings.TrimSpace(vals.Get("channel")) {
			t.Fatalf("%q read as %+v", raw, q)
		}
	})
}

// FuzzStatsCSVText: whatever an admin names a plan, the tiers export
// parses as CSV with the same number of cells in every row, and the name
// comes back as written, or behind a quote when Excel would run it as a
// formula.
func FuzzStatsCSVText(f *testing.F) {
	for _, s := range []string{"十一五规划", "=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "a,b", "a\"b", "line\nbreak", "\tx", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			return // plan names are JSON strings: valid UTF-8
		}
		st := &registry.TierStats{
			TierFigures: registry.TierFigures{ByLevel: map[registry.Level]int64{1: 1, 2: 0, 3: 0, 4: 0, 5: 0}},
			Plan:        &stats.Plan{Name: name},
		}
		out := writeTiersCSV(st)
		body, ok := bytes.CutPrefix(out, []byte(csvBOM))
		if !ok {
			t.Fatal("no BOM")
		}
		recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(recs) != 2 || len(recs[0]) != len(recs[1]) {
			t.Fatalf("plan name %q: %d records, %v", name, len(recs), err)
		}
		got := recs[1][len(recs[1])-1]
		want := name
		if name != "" && strings.ContainsRune("=+-@\t\r", rune(name[0])) {
			want = "'" + want
		}
		// The writer ends lines with CRLF, also inside a quoted field,
		// and the reader drops carriage returns: compare without them.
		if strings.ReplaceAll(got, "\r", "") != strings.ReplaceAll(want, "\r", "") {
			t.Fatalf("plan name %q came back as %q, want %q", name, got, want)
		}
	})
}
