package handlers_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// official creates an official of province ("" for national) and returns
// their login token.
func (h *harness) official(username, province string) string {
	h.t.Helper()
	h.expect(h.do("POST", "/api/v1/users", h.admin(), map[string]any{"username": username, "password": userPassword, "role": "official", "province": province}), 201)
	return h.login(username, userPassword)
}

// statsFixture is a small registry whose figures are worked out by hand:
//
//	person A (11010519491231002X): level 4 in 北京 (2024), level 2 in 广东
//	  (2025, occupation 4-04-05-05) → one technician, in 广东, category 4
//	person B (440524198001010013): level 3 in 广东 (2025, enterprise)
//	  → one senior worker, in 广东
//	person C (34052419800101001X): level 5 in 北京 (2023), level 1 in 北京
//	  (2025) then revoked → back to level 5, in 北京
//
// National: 3 skilled workers (one per tier 2, 3 and 5), 5 certificates
// of which 1 revoked; technician share 1/3, senior worker 1/3, high
// skilled 2/3. 广东: 2 workers (levels 2, 3), 2 certificates. 北京: 1
// worker (level 5), 3 certificates, 1 revoked.
type statsFixture struct {
	h                                *harness
	bj, gd                           string // issuer tokens
	national, provincial, gdOfficial string // official tokens: national, 北京 (11), 广东 (44)
	issuerToken                      string
}

func newStatsFixture(t *testing.T) *statsFixture {
	h := newHarness(t)
	f := &statsFixture{h: h}
	f.bj = h.issuer("S000111000001", "11", []string{"6-18", "4-04-05"}, 1)
	f.gd = h.issuer("S000244000001", "44", []string{"6-18", "4-04-05"}, 1)
	f.issuerToken = f.bj
	issue := func(tok, id, name, occupation string, level int, channel, day string) string {
		t.Helper()
		c := h.expect(h.do("POST", "/api/v1/certificates", tok, map[string]any{
			"holder_name": name, "id_number": id, "occupation_code": occupation, "level": level, "channel": channel, "issued_on": day,
		}), 201).json(t)
		return c["number"].(string)
	}
	issue(f.bj, "11010519491231002X", "张小三", "6-18-01-01", 4, "social", "2024-03-01")
	issue(f.gd, "11010519491231002X", "张小三", "4-04-05-05", 2, "social", "2025-06-01")
	issue(f.gd, "440524198001010013", "李四", "6-18-01-01", 3, "enterprise", "2025-01-10")
	issue(f.bj, "34052419800101001X", "王五", "6-18-01-01", 5, "school", "2023-05-05")
	top := issue(f.bj, "34052419800101001X", "王五", "6-18-01-01", 1, "social", "2025-02-02")
	h.expect(h.do("POST", "/api/v1/certificates/"+top+"/revoke", f.bj, map[string]string{"reason": "考核成绩录入错误"}), 200)
	f.national = h.official("stats-national", "")
	f.provincial = h.official("stats-beijing", "11")
	f.gdOfficial = h.official("stats-guangdong", "44")
	return f
}

// tiersJSON is the shape of GET /api/v1/stats/tiers.
type tiersJSON struct {
	SkilledWorkers      int64            `json:"skilled_workers"`
	Certificates        int64            `json:"certificates"`
	RevokedCertificates int64            `json:"revoked_certificates"`
	ByLevel             map[string]int64 `json:"by_level"`
	Shares              struct {
		Technician   float64 `json:"technician"`
		SeniorWorker float64 `json:"senior_worker"`
		HighSkilled  float64 `json:"high_skilled"`
	} `json:"shares"`
	Targets struct {
		SkilledWorkers int64   `json:"skilled_workers"`
		Technician     float64 `json:"technician"`
		SeniorWorker   float64 `json:"senior_worker"`
		HighSkilled    float64 `json:"high_skilled"`
	} `json:"targets"`
	Progress struct {
		SkilledWorkers *float64 `json:"skilled_workers"`
		Technician     float64  `json:"technician"`
		SeniorWorker   float64  `json:"senior_worker"`
		HighSkilled    float64  `json:"high_skilled"`
		Met            struct {
			SkilledWorkers *bool `json:"skilled_workers"`
			Technician     bool  `json:"technician"`
			SeniorWorker   bool  `json:"senior_worker"`
			HighSkilled    bool  `json:"high_skilled"`
		} `json:"met"`
	} `json:"progress"`
	Query struct {
		Province string `json:"province"`
	} `json:"query"`
	Plan struct{ ID, Name string } `json:"plan"`
	AsOf string                    `json:"as_of"`
	Rows []provinceJSON            `json:"rows"` // provinces only
}

type provinceJSON struct {
	Province            string           `json:"province"`
	Name                string           `json:"name"`
	SkilledWorkers      int64            `json:"skilled_workers"`
	Certificates        int64            `json:"certificates"`
	RevokedCertificates int64            `json:"revoked_certificates"`
	ByLevel             map[string]int64 `json:"by_level"`
}

type trendJSON struct {
	Year              int              `json:"year"`
	Certificates      map[string]int64 `json:"certificates"`
	CertificatesTotal int64            `json:"certificates_total"`
	Workers           map[string]int64 `json:"workers"`
	WorkersTotal      int64            `json:"workers_total"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return v
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func levels(m map[string]int64) [5]int64 {
	var out [5]int64
	for i := range out {
		out[i] = m[strconv.Itoa(i+1)]
	}
	return out
}

// TestStatsFigures: on the hand-counted registry of statsFixture, every
// route gives the figures worked out on paper: people counted once at
// their highest valid level, in the province of that certificate; a
// revoked top certificate sends its holder back to the next one; the
// filters select by the tier certificate's channel and category.
func TestStatsFigures(t *testing.T) {
	f := newStatsFixture(t)
	h := f.h

	t.Run("national", func(t *testing.T) {
		got := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers", f.national, nil), 200))
		if got.SkilledWorkers != 3 || got.Certificates != 5 || got.RevokedCertificates != 1 {
			t.Errorf("workers %d, certificates %d, revoked %d; want 3, 5, 1", got.SkilledWorkers, got.Certificates, got.RevokedCertificates)
		}
		if l := levels(got.ByLevel); l != [5]int64{0, 1, 1, 0, 1} {
			t.Errorf("by_level %v, want [0 1 1 0 1]", l)
		}
		if !near(got.Shares.Technician, 1.0/3) || !near(got.Shares.SeniorWorker, 1.0/3) || !near(got.Shares.HighSkilled, 2.0/3) {
			t.Errorf("shares %+v, want 1/3, 1/3, 2/3", got.Shares)
		}
		if got.Targets.SkilledWorkers != 110_000_000 || !near(got.Targets.Technician, 0.05) || !near(got.Targets.SeniorWorker, 0.20) || !near(got.Targets.HighSkilled, 0.25) {
			t.Errorf("targets %+v, want the 11th Five-Year Plan's", got.Targets)
		}
		p := got.Progress
		if p.SkilledWorkers == nil || !near(*p.SkilledWorkers, 3.0/110_000_000) || p.Met.SkilledWorkers == nil || *p.Met.SkilledWorkers {
			t.Errorf("total progress %v met %v, want 3/1.1亿, not met", p.SkilledWorkers, p.Met.SkilledWorkers)
		}
		if !near(p.Technician, (1.0/3)/0.05) || !p.Met.Technician || !near(p.SeniorWorker, (1.0/3)/0.20) || !p.Met.SeniorWorker || !p.Met.HighSkilled {
			t.Errorf("progress %+v, want technician 6.67, senior 1.67, all shares met", p)
		}
		if got.AsOf == "" || got.Plan.ID == "" {
			t.Errorf("as_of %q, plan %q: want both", got.AsOf, got.Plan.ID)
		}
	})

	t.Run("one province", func(t *testing.T) {
		gd := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers?province=44", f.national, nil), 200))
		if gd.SkilledWorkers != 2 || gd.Certificates != 2 || levels(gd.ByLevel) != [5]int64{0, 1, 1, 0, 0} {
			t.Errorf("广东: %d workers %v, %d certificates; want 2 [0 1 1 0 0], 2", gd.SkilledWorkers, levels(gd.ByLevel), gd.Certificates)
		}
		if !near(gd.Shares.HighSkilled, 1) || gd.Progress.SkilledWorkers != nil {
			t.Errorf("广东: high-skilled %v (want 1), total progress %v (want null: a national target)", gd.Shares.HighSkilled, gd.Progress.SkilledWorkers)
		}
		bj := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers?province=11", f.national, nil), 200))
		if bj.SkilledWorkers != 1 || bj.Certificates != 3 || bj.RevokedCertificates != 1 || levels(bj.ByLevel) != [5]int64{0, 0, 0, 0, 1} {
			t.Errorf("北京: %d workers %v, %d certificates, %d revoked; want 1 [0 0 0 0 1], 3, 1", bj.SkilledWorkers, levels(bj.ByLevel), bj.Certificates, bj.RevokedCertificates)
		}
	})

	t.Run("filters", func(t *testing.T) {
		for _, c := range []struct {
			query          string
			workers, certs int64
			byLevel        [5]int64
		}{
			{"channel=enterprise", 1, 1, [5]int64{0, 0, 1, 0, 0}},
			{"channel=school", 1, 1, [5]int64{0, 0, 0, 0, 1}},
			{"channel=special", 0, 0, [5]int64{}},
			{"occupation=4", 1, 1, [5]int64{0, 1, 0, 0, 0}},
			{"occupation=6", 2, 4, [5]int64{0, 0, 1, 0, 1}},
			{"occupation=6&province=44", 1, 1, [5]int64{0, 0, 1, 0, 0}},
			{"occupation=2", 0, 0, [5]int64{}},
		} {
			got := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers?"+c.query, f.national, nil), 200))
			if got.SkilledWorkers != c.workers || got.Certificates != c.certs || levels(got.ByLevel) != c.byLevel {
				t.Errorf("?%s: %d workers %v, %d certificates; want %d %v, %d", c.query, got.SkilledWorkers, levels(got.ByLevel), got.Certificates, c.workers, c.byLevel, c.certs)
			}
			if got.Progress.SkilledWorkers != nil {
				t.Errorf("?%s: the national total target is measured on a filtered selection", c.query)
			}
		}
	})

	t.Run("provinces", func(t *testing.T) {
		got := decode[struct {
			Rows    []provinceJSON `json:"rows"`
			Targets map[string]any `json:"targets"`
		}](t, h.expect(h.do("GET", "/api/v1/stats/provinces", f.national, nil), 200))
		if len(got.Rows) != 31 {
			t.Fatalf("%d rows, want one per province (31)", len(got.Rows))
		}
		var workers int64
		for _, r := range got.Rows {
			workers += r.SkilledWorkers
			want := map[string]struct {
				name           string
				workers, certs int64
			}{"11": {"北京市", 1, 3}, "44": {"广东省", 2, 2}}[r.Province]
			if want.name == "" {
				if r.SkilledWorkers != 0 || r.Certificates != 0 || r.Name == "" {
					t.Errorf("province %s %q: %d workers, %d certificates, want a named row of zeros", r.Province, r.Name, r.SkilledWorkers, r.Certificates)
				}
				continue
			}
			if r.Name != want.name || r.SkilledWorkers != want.workers || r.Certificates != want.certs {
				t.Errorf("province %s: %q %d workers %d certificates, want %q %d %d", r.Province, r.Name, r.SkilledWorkers, r.Certificates, want.name, want.workers, want.certs)
			}
		}
		if workers != 3 || got.Targets == nil {
			t.Errorf("the provinces add up to %d workers, want 3 (each person in one province); targets %v", workers, got.Targets)
		}
	})

	t.Run("trend", func(t *testing.T) {
		got := decode[struct {
			By   string      `json:"by"`
			Rows []trendJSON `json:"rows"`
		}](t, h.expect(h.do("GET", "/api/v1/stats/trend?by=year", f.national, nil), 200))
		want := []trendJSON{
			{Year: 2023, CertificatesTotal: 1, WorkersTotal: 1},
			{Year: 2024, CertificatesTotal: 1, WorkersTotal: 0},
			{Year: 2025, CertificatesTotal: 3, WorkersTotal: 2},
		}
		wantCerts := [][5]int64{{0, 0, 0, 0, 1}, {0, 0, 0, 1, 0}, {1, 1, 1, 0, 0}}
		wantWorkers := [][5]int64{{0, 0, 0, 0, 1}, {}, {0, 1, 1, 0, 0}}
		if got.By != "year" || len(got.Rows) != len(want) {
			t.Fatalf("by %q, %d rows %+v; want year, 2023 to 2025", got.By, len(got.Rows), got.Rows)
		}
		for i, w := range want {
			r := got.Rows[i]
			if r.Year != w.Year || r.CertificatesTotal != w.CertificatesTotal || r.WorkersTotal != w.WorkersTotal ||
				levels(r.Certificates) != wantCerts[i] || levels(r.Workers) != wantWorkers[i] {
				t.Errorf("year %d: certificates %d %v, workers %d %v; want %d: %d %v, %d %v", r.Year, r.CertificatesTotal, levels(r.Certificates), r.WorkersTotal, levels(r.Workers),
					w.Year, w.CertificatesTotal, wantCerts[i], w.WorkersTotal, wantWorkers[i])
			}
		}
	})
}

// TestStatsRoles: national officials and the admin read everything; a
// provincial official reads their own province (asked for or not) and is
// refused another; issuer users are refused; anonymous callers must log
// in.
func TestStatsRoles(t *testing.T) {
	f := newStatsFixture(t)
	h := f.h
	admin := h.admin()
	for _, c := range []struct {
		who, token, path string
		status           int
		province         string // query.province of a 200
		workers          int64  // skilled_workers of a 200 tiers answer
	}{
		{"national", f.national, "/api/v1/stats/tiers", 200, "", 3},
		{"national, one province", f.national, "/api/v1/stats/tiers?province=11", 200, "11", 1},
		{"admin", admin, "/api/v1/stats/tiers", 200, "", 3},
		{"admin, one province", admin, "/api/v1/stats/tiers?province=44", 200, "44", 2},
		{"provincial, no province", f.provincial, "/api/v1/stats/tiers", 200, "11", 1},
		{"provincial, own province", f.provincial, "/api/v1/stats/tiers?province=11", 200, "11", 1},
		{"provincial, other province", f.provincial, "/api/v1/stats/tiers?province=44", 403, "", 0},
		{"provincial, other province, CSV", f.provincial, "/api/v1/stats/tiers?province=44&format=csv", 403, "", 0},
		{"provincial, provinces of another", f.provincial, "/api/v1/stats/provinces?province=44", 403, "", 0},
		{"provincial, trend of another", f.provincial, "/api/v1/stats/trend?by=year&province=44", 403, "", 0},
		{"provincial, provinces", f.provincial, "/api/v1/stats/provinces", 200, "11", 0},
		{"provincial, trend", f.provincial, "/api/v1/stats/trend?by=year", 200, "11", 0},
		{"issuer", f.issuerToken, "/api/v1/stats/tiers", 403, "", 0},
		{"issuer, provinces", f.issuerToken, "/api/v1/stats/provinces", 403, "", 0},
		{"issuer, trend", f.issuerToken, "/api/v1/stats/trend", 403, "", 0},
		{"issuer, plans", f.issuerToken, "/api/v1/plans", 403, "", 0},
		{"anonymous", "", "/api/v1/stats/tiers", 401, "", 0},
		{"anonymous, CSV", "", "/api/v1/stats/provinces?format=csv", 401, "", 0},
		{"anonymous, trend", "", "/api/v1/stats/trend", 401, "", 0},
		{"anonymous, plans", "", "/api/v1/plans", 401, "", 0},
		{"provincial, plans", f.provincial, "/api/v1/plans", 200, "", 0},
	} {
		r := h.do("GET", c.path, c.token, nil)
		if r.status != c.status {
			t.Errorf("%s: GET %s = %d, want %d: %s", c.who, c.path, r.status, c.status, r.body)
			continue
		}
		if r.status != 200 {
			if code, _ := r.errorCode(t); code != map[int]string{401: "unauthorized", 403: "forbidden"}[r.status] {
				t.Errorf("%s: error code %q", c.who, code)
			}
			continue
		}
		if strings.Contains(c.path, "/plans") {
			continue
		}
		if strings.Contains(c.path, "/trend") {
			got := decode[struct {
				Query struct{ Province string } `json:"query"`
			}](t, r)
			if got.Query.Province != c.province {
				t.Errorf("%s: query.province %q, want %q", c.who, got.Query.Province, c.province)
			}
			continue
		}
		got := decode[tiersJSON](t, r)
		if got.Query.Province != c.province {
			t.Errorf("%s: query.province %q, want %q", c.who, got.Query.Province, c.province)
		}
		if strings.Contains(c.path, "/tiers") && got.SkilledWorkers != c.workers {
			t.Errorf("%s: %d skilled workers, want %d", c.who, got.SkilledWorkers, c.workers)
		}
		if strings.Contains(c.path, "/provinces") && c.province != "" {
			if len(got.Rows) != 1 || got.Rows[0].Province != c.province {
				t.Errorf("%s: rows %+v, want only province %s", c.who, got.Rows, c.province)
			}
		}
		if cc := r.header.Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("%s: Cache-Control %q", c.who, cc)
		}
	}
}

// readCSV checks the export's wrapping (BOM, type, attachment name) and
// parses it with encoding/csv.
func readCSV(t *testing.T, r response, wantName string) [][]string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	cd := r.header.Get("Content-Disposition")
	if !strings.HasPrefix(cd, `attachment; filename="`+wantName) || !strings.Contains(cd, "filename*=UTF-8''") {
		t.Errorf("Content-Disposition %q, want an attachment named %s…", cd, wantName)
	}
	if _, after, ok := strings.Cut(cd, "filename*=UTF-8''"); ok {
		if name, err := url.PathUnescape(after); err != nil || !strings.HasSuffix(name, ".csv") {
			t.Errorf("the UTF-8 file name %q (%v) is not a .csv name", name, err)
		}
	}
	body, ok := bytes.CutPrefix(r.body, []byte{0xEF, 0xBB, 0xBF})
	if !ok {
		t.Fatalf("the CSV does not start with a UTF-8 BOM: % x", r.body[:min(len(r.body), 8)])
	}
	if !bytes.Contains(body, []byte("\r\n")) {
		t.Errorf("the CSV lines do not end in CRLF")
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, body)
	}
	if len(recs) == 0 {
		t.Fatal("empty CSV")
	}
	return recs
}

// column finds a column by its English key in the bilingual header.
func column(t *testing.T, header []string, key string) int {
	t.Helper()
	for i, h := range header {
		if strings.HasSuffix(h, "("+key+")") {
			return i
		}
	}
	t.Fatalf("no column %q in %q", key, header)
	return -1
}

// TestStatsCSV: each route's ?format=csv is a UTF-8 CSV with a BOM, one
// bilingual header row (Chinese first), one row per record, the same
// figures as the JSON, and an attachment name.
func TestStatsCSV(t *testing.T) {
	f := newStatsFixture(t)
	h := f.h

	tiers := readCSV(t, h.do("GET", "/api/v1/stats/tiers?format=csv", f.national, nil), "skill-tiers-national-")
	if len(tiers) != 2 {
		t.Fatalf("tiers: %d records, want the header and one row", len(tiers))
	}
	head, row := tiers[0], tiers[1]
	if !strings.HasPrefix(head[0], "省份代码") || len(head) != len(row) {
		t.Errorf("tiers header %q (row of %d cells)", head, len(row))
	}
	for key, want := range map[string]string{
		"province_name": "全国", "skilled_workers": "3", "level_2": "1", "level_4": "0",
		"technician_pct": "33.33", "technician_target_pct": "5.00", "technician_met": "是",
		"high_skilled_pct": "66.67", "skilled_workers_target": "110000000",
		"certificates": "5", "revoked_certificates": "1", "occupation": "全部", "channel": "全部",
	} {
		if got := row[column(t, head, key)]; got != want {
			t.Errorf("tiers %s = %q, want %q", key, got, want)
		}
	}

	prov := readCSV(t, h.do("GET", "/api/v1/stats/provinces?format=csv&occupation=6", f.national, nil), "skill-tiers-by-province-national-occupation6-")
	if len(prov) != 32 {
		t.Fatalf("provinces: %d records, want the header and 31 rows", len(prov))
	}
	ph := prov[0]
	found := 0
	for _, r := range prov[1:] {
		switch r[column(t, ph, "province")] {
		case "44":
			found++
			if r[column(t, ph, "province_name")] != "广东省" || r[column(t, ph, "skilled_workers")] != "1" || r[column(t, ph, "level_3")] != "1" ||
				r[column(t, ph, "occupation")] != "6 生产制造及有关人员" || r[column(t, ph, "skilled_workers_target")] != "" {
				t.Errorf("广东 row %q", r)
			}
		case "11":
			found++
			if r[column(t, ph, "skilled_workers")] != "1" || r[column(t, ph, "certificates")] != "3" || r[column(t, ph, "revoked_certificates")] != "1" {
				t.Errorf("北京 row %q", r)
			}
		}
	}
	if found != 2 {
		t.Errorf("the provinces CSV lacks 北京 or 广东")
	}

	// A provincial official's export is their province only, named so.
	own := readCSV(t, h.do("GET", "/api/v1/stats/provinces?format=csv", f.gdOfficial, nil), "skill-tiers-by-province-44-")
	if len(own) != 2 || own[1][0] != "44" {
		t.Errorf("a provincial official's provinces CSV: %q", own)
	}

	trend := readCSV(t, h.do("GET", "/api/v1/stats/trend?by=year&format=csv", f.national, nil), "skill-trend-by-year-national-")
	if len(trend) != 4 {
		t.Fatalf("trend: %d records, want the header and 2023-2025", len(trend))
	}
	th := trend[0]
	if trend[3][column(t, th, "year")] != "2025" || trend[3][column(t, th, "certificates_total")] != "3" || trend[3][column(t, th, "workers_total")] != "2" ||
		trend[3][column(t, th, "certificates_level_1")] != "1" || trend[1][column(t, th, "workers_level_5")] != "1" {
		t.Errorf("trend rows %q", trend[1:])
	}
}

// TestStatsValidation: a bad filter is a 400 naming the parameter, never
// the national figures by accident.
func TestStatsValidation(t *testing.T) {
	h := newHarness(t)
	tok := h.official("validation-official", "")
	for _, c := range []struct {
		path, field string
	}{
		{"/api/v1/stats/tiers?province=99", "province"},
		{"/api/v1/stats/tiers?province=4", "province"},
		{"/api/v1/stats/tiers?province=440000", "province"},
		{"/api/v1/stats/provinces?province=xx", "province"},
		{"/api/v1/stats/tiers?channel=online", "channel"},
		{"/api/v1/stats/trend?channel=SOCIAL", "channel"},
		{"/api/v1/stats/tiers?occupation=9", "occupation"},
		{"/api/v1/stats/tiers?occupation=6-18", "occupation"},
		{"/api/v1/stats/tiers?plan=no-such-plan", "plan"},
		{"/api/v1/stats/provinces?plan=no-such-plan&format=csv", "plan"},
		{"/api/v1/stats/tiers?format=xlsx", "format"},
		{"/api/v1/stats/trend?by=month", "by"},
		{"/api/v1/stats/trend?plan=11th-five-year", "plan"}, // the trend has no targets
		{"/api/v1/stats/tiers?provnce=44", "provnce"},
		{"/api/v1/stats/tiers?province=11&province=44", "province"},
		{"/api/v1/stats/tiers?by=year", "by"},
	} {
		r := h.do("GET", c.path, tok, nil)
		if r.status != 400 {
			t.Errorf("GET %s = %d, want 400: %s", c.path, r.status, r.body)
			continue
		}
		code, field := r.errorCode(t)
		if code != "invalid" || field != c.field {
			t.Errorf("GET %s: code %q field %q, want invalid, %s: %s", c.path, code, field, c.field, r.body)
		}
	}
	// The valid forms of the same parameters.
	for _, p := range []string{
		"/api/v1/stats/tiers?province=44&occupation=6&channel=social&plan=11th-five-year&format=json",
		"/api/v1/stats/trend?by=year&province=11",
		"/api/v1/stats/trend",
		"/api/v1/stats/provinces?province=&channel=",
	} {
		h.expect(h.do("GET", p, tok, nil), 200)
	}
}

// TestPlans: the admin adds a plan; officials list plans; a query with
// ?plan= is measured against that plan's targets, which can turn a met
// target into a missed one.
func TestPlans(t *testing.T) {
	f := newStatsFixture(t)
	h := f.h
	admin := h.admin()
	plan := map[string]any{
		"id": "skills-2030", "name": "技能人才发展规划（示例）", "end_date": "2030-12-31",
		"targets": map[string]any{"skilled_workers": 220_000_000, "technician": 0.1, "senior_worker": 0.4, "high_skilled": 0.5},
	}
	for _, c := range []struct {
		who, token string
		status     int
	}{{"anonymous", "", 401}, {"issuer", f.issuerToken, 403}, {"national official", f.national, 403}, {"provincial official", f.provincial, 403}} {
		if r := h.do("POST", "/api/v1/plans", c.token, plan); r.status != c.status {
			t.Errorf("%s adds a plan: %d, want %d: %s", c.who, r.status, c.status, r.body)
		}
	}
	created := h.expect(h.do("POST", "/api/v1/plans", admin, plan), 201).json(t)
	if created["id"] != "skills-2030" || created["built_in"] != false || created["created_at"] == nil {
		t.Errorf("created %v", created)
	}
	h.expect(h.do("POST", "/api/v1/plans", admin, plan), 409)
	for _, c := range []struct {
		change map[string]any
		field  string
	}{
		{map[string]any{"id": "Bad Id"}, "id"},
		{map[string]any{"id": "p2", "end_date": "2030"}, "end_date"},
		{map[string]any{"id": "p3", "targets": map[string]any{"technician": 5}}, "targets.technician"},
		{map[string]any{"id": "p4", "built_in": true}, "built_in"},
		{map[string]any{"id": "p5", "name": "第一行\n第二行"}, "name"},
	} {
		body := map[string]any{}
		for k, v := range plan {
			body[k] = v
		}
		for k, v := range c.change {
			body[k] = v
		}
		r := h.expect(h.do("POST", "/api/v1/plans", admin, body), 400)
		if _, field := r.errorCode(t); field != c.field {
			t.Errorf("plan %v: field %q, want %q: %s", c.change, field, c.field, r.body)
		}
	}

	list := decode[struct {
		Items []struct {
			ID        string  `json:"id"`
			Default   bool    `json:"default"`
			CreatedAt *string `json:"created_at"`
		} `json:"items"`
	}](t, h.expect(h.do("GET", "/api/v1/plans", f.provincial, nil), 200))
	if len(list.Items) != 2 || list.Items[0].ID != "11th-five-year" || !list.Items[0].Default || list.Items[1].ID != "skills-2030" {
		t.Fatalf("plans %+v, want the built-in default first, then skills-2030", list.Items)
	}
	if list.Items[0].CreatedAt != nil || list.Items[1].CreatedAt == nil {
		t.Errorf("created_at: built-in %v, added %v; want none for the built-in plan", list.Items[0].CreatedAt, list.Items[1].CreatedAt)
	}

	def := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers", f.national, nil), 200))
	other := decode[tiersJSON](t, h.expect(h.do("GET", "/api/v1/stats/tiers?plan=skills-2030", f.national, nil), 200))
	if other.Plan.ID != "skills-2030" || other.Targets.SkilledWorkers != 220_000_000 || !near(other.Targets.SeniorWorker, 0.4) || !near(other.Targets.HighSkilled, 0.5) {
		t.Errorf("?plan=skills-2030: plan %q targets %+v", other.Plan.ID, other.Targets)
	}
	if !def.Progress.Met.SeniorWorker || other.Progress.Met.SeniorWorker || !near(other.Progress.SeniorWorker, (1.0/3)/0.4) {
		t.Errorf("senior workers 1/3: met %v against 20%%, met %v (progress %v) against 40%%; want met, not met, 0.833", def.Progress.Met.SeniorWorker, other.Progress.Met.SeniorWorker, other.Progress.SeniorWorker)
	}
	if !other.Progress.Met.Technician || !other.Progress.Met.HighSkilled {
		t.Errorf("technician 1/3 against 10%% and high-skilled 2/3 against 50%% should be met: %+v", other.Progress.Met)
	}
	if other.SkilledWorkers != def.SkilledWorkers || other.Certificates != def.Certificates {
		t.Errorf("the plan changed the counts: %d/%d vs %d/%d", other.SkilledWorkers, other.Certificates, def.SkilledWorkers, def.Certificates)
	}
	csvRows := readCSV(t, h.do("GET", "/api/v1/stats/tiers?plan=skills-2030&format=csv", f.national, nil), "skill-tiers-national-skills-2030-")
	if got := csvRows[1][column(t, csvRows[0], "senior_worker_target_pct")]; got != "40.00" {
		t.Errorf("CSV senior worker target %q, want 40.00", got)
	}
	if got := csvRows[1][column(t, csvRows[0], "senior_worker_met")]; got != "否" {
		t.Errorf("CSV senior worker met %q, want 否", got)
	}
	if got := csvRows[1][column(t, csvRows[0], "plan")]; got != "技能人才发展规划（示例）" {
		t.Errorf("CSV plan %q", got)
	}
}
