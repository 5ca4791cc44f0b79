package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// statsWorld is a registry with issuers in three provinces, all allowed
// every occupation used here up to level 1.
type statsWorld struct {
	*fixture
	bj, gd, sh *registry.User // issuer users in 11 北京, 44 广东, 31 上海
}

func newStatsWorld(t *testing.T) *statsWorld {
	t.Helper()
	f := newFixture(t)
	w := &statsWorld{fixture: f}
	mk := func(prov, org string) *registry.User {
		return f.issuerUser(t, registry.IssuerInput{Name: "鉴定中心" + prov, Kind: "S", OrgCode: org, Province: prov, Site: "000001",
			Scope: registry.Scope{Occupations: []string{"6-18", "4-04", "2-02"}, MaxLevel: 1}})
	}
	w.bj, w.gd, w.sh = mk("11", "0001"), mk("44", "0002"), mk("31", "0003")
	return w
}

// person returns a valid ID number for person i.
func person(i int) string {
	base := fmt.Sprintf("110105198001%02d%03d", 1+i%28, 100+i)
	return base + string(checkChar(base))
}

func checkChar(s string) byte {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * w[i]
	}
	return "10X98765432"[sum%11]
}

func (w *statsWorld) issue(t *testing.T, u *registry.User, who int, level registry.Level, occ string, ch registry.Channel, on string) *registry.Certificate {
	t.Helper()
	c, _, err := w.reg.Issue(context.Background(), u, registry.IssueInput{HolderName: "测试人", IDNumber: person(who),
		OccupationCode: occ, Level: level, Channel: ch, IssuedOn: on})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return c
}

func (w *statsWorld) tiers(t *testing.T, q registry.StatsQuery) *registry.TierStats {
	t.Helper()
	ts, err := w.reg.TierStats(context.Background(), w.admin, q)
	if err != nil {
		t.Fatalf("TierStats: %v", err)
	}
	return ts
}

// levels returns by_level as a 5-element array, level 1 first.
func levels(m map[registry.Level]int64) [5]int64 {
	var a [5]int64
	for l := 1; l <= 5; l++ {
		a[l-1] = m[registry.Level(l)]
	}
	return a
}

// requireNoDrift runs stats check and fails on any difference.
func requireNoDrift(t *testing.T, r *registry.Registry) {
	t.Helper()
	res, err := r.CheckStats(context.Background(), stats.CheckOptions{})
	if err != nil {
		t.Fatalf("CheckStats: %v", err)
	}
	if res.Drift() || res.Busy {
		t.Fatalf("drift: %d holders, cells %v, busy %v", res.HolderDiffs, res.CellDiffs, res.Busy)
	}
}

func TestStatsHigherCertificateMovesPersonUp(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	w.issue(t, w.bj, 1, 4, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
	ts := w.tiers(t, registry.StatsQuery{})
	if ts.SkilledWorkers != 1 || levels(ts.ByLevel) != [5]int64{0, 0, 0, 1, 0} || ts.Certificates != 1 {
		t.Fatalf("after level 4: %d workers %v, %d certificates", ts.SkilledWorkers, ts.ByLevel, ts.Certificates)
	}
	w.issue(t, w.gd, 1, 2, "6-18-01-01", registry.ChannelEnterprise, "2012-05-01")
	ts = w.tiers(t, registry.StatsQuery{})
	if ts.SkilledWorkers != 1 || levels(ts.ByLevel) != [5]int64{0, 1, 0, 0, 0} || ts.Certificates != 2 {
		t.Fatalf("after level 2: %d workers %v, %d certificates", ts.SkilledWorkers, ts.ByLevel, ts.Certificates)
	}
	// The person moved to the province, channel and year of the level-2 certificate.
	if got := w.tiers(t, registry.StatsQuery{Province: "44"}); got.SkilledWorkers != 1 || got.Certificates != 1 {
		t.Fatalf("广东: %d workers %d certificates", got.SkilledWorkers, got.Certificates)
	}
	if got := w.tiers(t, registry.StatsQuery{Province: "11"}); got.SkilledWorkers != 0 || got.Certificates != 1 {
		t.Fatalf("北京: %d workers %d certificates", got.SkilledWorkers, got.Certificates)
	}
	if got := w.tiers(t, registry.StatsQuery{Channel: registry.ChannelSocial}); got.SkilledWorkers != 0 {
		t.Fatalf("social channel keeps the worker: %d", got.SkilledWorkers)
	}
	// A lower certificate later changes nothing about the tier.
	w.issue(t, w.sh, 1, 5, "6-18-01-01", registry.ChannelSocial, "2014-05-01")
	ts = w.tiers(t, registry.StatsQuery{})
	if levels(ts.ByLevel) != [5]int64{0, 1, 0, 0, 0} || ts.Certificates != 3 {
		t.Fatalf("after a lower one: %v %d", ts.ByLevel, ts.Certificates)
	}
	if ts.Shares.Technician != 1 || ts.Shares.HighSkilled != 1 || ts.Shares.SeniorWorker != 0 {
		t.Fatalf("shares %+v", ts.Shares)
	}
	requireNoDrift(t, w.reg)
}

func TestStatsRevokeTopCertificate(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	low := w.issue(t, w.bj, 1, 4, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
	mid := w.issue(t, w.sh, 1, 3, "4-04-05-05", registry.ChannelSchool, "2011-05-01")
	top := w.issue(t, w.gd, 1, 1, "6-18-01-01", registry.ChannelEnterprise, "2012-05-01")
	if ts := w.tiers(t, registry.StatsQuery{}); levels(ts.ByLevel) != [5]int64{1, 0, 0, 0, 0} {
		t.Fatalf("before: %v", ts.ByLevel)
	}
	if _, err := w.reg.Revoke(ctx, w.gd, top.Number, "作弊"); err != nil {
		t.Fatal(err)
	}
	ts := w.tiers(t, registry.StatsQuery{})
	if ts.SkilledWorkers != 1 || levels(ts.ByLevel) != [5]int64{0, 0, 1, 0, 0} {
		t.Fatalf("after revoking the top one: %d %v", ts.SkilledWorkers, ts.ByLevel)
	}
	if ts.Certificates != 3 || ts.RevokedCertificates != 1 {
		t.Fatalf("revoked still count as issued: %d issued %d revoked", ts.Certificates, ts.RevokedCertificates)
	}
	if got := w.tiers(t, registry.StatsQuery{Province: "31", Occupation: "4", Channel: registry.ChannelSchool}); got.SkilledWorkers != 1 {
		t.Fatalf("the worker is now in 上海, category 4, school: %d", got.SkilledWorkers)
	}
	// Revoking a certificate below the tier moves nobody.
	if _, err := w.reg.Revoke(ctx, w.bj, low.Number, "错发"); err != nil {
		t.Fatal(err)
	}
	if ts := w.tiers(t, registry.StatsQuery{}); levels(ts.ByLevel) != [5]int64{0, 0, 1, 0, 0} {
		t.Fatalf("after revoking a lower one: %v", ts.ByLevel)
	}
	// Revoking the last valid certificate takes the person out.
	if _, err := w.reg.Revoke(ctx, w.sh, mid.Number, "错发"); err != nil {
		t.Fatal(err)
	}
	ts = w.tiers(t, registry.StatsQuery{})
	if ts.SkilledWorkers != 0 || levels(ts.ByLevel) != [5]int64{} || ts.Certificates != 3 || ts.RevokedCertificates != 3 {
		t.Fatalf("after revoking all: %d %v %d/%d", ts.SkilledWorkers, ts.ByLevel, ts.Certificates, ts.RevokedCertificates)
	}
	requireNoDrift(t, w.reg)
}

func TestStatsTieMostRecentDecides(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	w.issue(t, w.gd, 7, 3, "6-18-01-01", registry.ChannelSocial, "2015-01-01")
	recent := w.issue(t, w.bj, 7, 3, "6-18-01-01", registry.ChannelSocial, "2016-01-01")
	// An older date issued later does not win: "most recent" is the issue date.
	w.issue(t, w.sh, 7, 3, "6-18-01-01", registry.ChannelSocial, "2014-01-01")
	rows, err := w.reg.ProvinceStats(ctx, w.admin, registry.StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rows.Rows {
		got[r.Province] = r.SkilledWorkers
	}
	if got["11"] != 1 || got["44"] != 0 || got["31"] != 0 {
		t.Fatalf("tie: 北京 %d 广东 %d 上海 %d", got["11"], got["44"], got["31"])
	}
	trend, err := w.reg.TrendStats(ctx, w.admin, registry.StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range trend {
		want := int64(0)
		if row.Year == 2016 {
			want = 1
		}
		if row.WorkersTotal != want || row.CertificatesTotal != map[bool]int64{true: 1, false: 0}[row.Year >= 2014 && row.Year <= 2016] {
			t.Fatalf("trend %d: %+v", row.Year, row)
		}
	}
	if len(trend) != 3 || trend[0].Year != 2014 {
		t.Fatalf("trend years %+v", trend)
	}
	// Revoking the most recent moves the person to the next most recent.
	if _, err := w.reg.Revoke(ctx, w.bj, recent.Number, "错发"); err != nil {
		t.Fatal(err)
	}
	if ts := w.tiers(t, registry.StatsQuery{Province: "44"}); ts.SkilledWorkers != 1 {
		t.Fatalf("after revoking the tie winner, 广东 has %d", ts.SkilledWorkers)
	}
	requireNoDrift(t, w.reg)
}

func TestStatsPersonTimesAndProvinces(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	// Three people, six certificates, three provinces.
	w.issue(t, w.bj, 1, 5, "6-18-01-01", registry.ChannelSocial, "2008-03-01")
	w.issue(t, w.bj, 1, 4, "6-18-01-01", registry.ChannelSocial, "2009-03-01")
	w.issue(t, w.gd, 2, 3, "4-04-05-05", registry.ChannelEnterprise, "2009-06-01")
	w.issue(t, w.gd, 2, 3, "2-02-07-11", registry.ChannelSpecial, "2009-07-01")
	w.issue(t, w.sh, 3, 2, "6-18-01-01", registry.ChannelSchool, "2010-01-01")
	w.issue(t, w.sh, 3, 5, "6-18-01-01", registry.ChannelSchool, "2010-02-01")

	ts := w.tiers(t, registry.StatsQuery{})
	if ts.SkilledWorkers != 3 || ts.Certificates != 6 || levels(ts.ByLevel) != [5]int64{0, 1, 1, 1, 0} ||
		levels(ts.CertificatesByLevel) != [5]int64{0, 1, 2, 1, 2} {
		t.Fatalf("national: %d workers %d certs %v %v", ts.SkilledWorkers, ts.Certificates, ts.ByLevel, ts.CertificatesByLevel)
	}
	if p := ts.Progress.SkilledWorkers; p == nil || *p != 3.0/110_000_000 {
		t.Fatalf("progress toward 1.1亿: %v", p)
	}
	// Person 2's tie at level 3 goes to the later (special channel, category 2) one.
	if got := w.tiers(t, registry.StatsQuery{Occupation: "2"}); got.SkilledWorkers != 1 || got.Certificates != 1 {
		t.Fatalf("category 2: %d %d", got.SkilledWorkers, got.Certificates)
	}
	if got := w.tiers(t, registry.StatsQuery{Occupation: "4"}); got.SkilledWorkers != 0 || got.Certificates != 1 {
		t.Fatalf("category 4: %d %d", got.SkilledWorkers, got.Certificates)
	}
	if got := w.tiers(t, registry.StatsQuery{Province: "44", Channel: registry.ChannelSpecial}); got.SkilledWorkers != 1 || got.Progress.SkilledWorkers != nil {
		t.Fatalf("广东 special: %+v", got.TierFigures)
	}
	table, err := w.reg.ProvinceStats(ctx, w.admin, registry.StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Rows) != 31 {
		t.Fatalf("%d province rows, want all 31", len(table.Rows))
	}
	byProv := map[string]registry.ProvinceRow{}
	var sum int64
	for _, r := range table.Rows {
		byProv[r.Province] = r
		sum += r.SkilledWorkers
	}
	if sum != 3 || byProv["11"].Certificates != 2 || byProv["44"].Certificates != 2 || byProv["31"].Certificates != 2 ||
		byProv["11"].Name != "北京市" || byProv["65"].SkilledWorkers != 0 {
		t.Fatalf("province rows: sum %d, 北京 %+v", sum, byProv["11"])
	}
	trend, err := w.reg.TrendStats(ctx, w.admin, registry.StatsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][2]int64{2008: {1, 0}, 2009: {3, 2}, 2010: {2, 1}} // certificates, workers
	if len(trend) != 3 {
		t.Fatalf("trend %+v", trend)
	}
	for _, row := range trend {
		if got := [2]int64{row.CertificatesTotal, row.WorkersTotal}; got != want[row.Year] {
			t.Fatalf("trend %d: %v, want %v", row.Year, got, want[row.Year])
		}
	}
	requireNoDrift(t, w.reg)
}

func TestStatsRoles(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	w.issue(t, w.bj, 1, 3, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
	w.issue(t, w.gd, 2, 3, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
	national := &registry.User{ID: "n", Username: "n", Role: registry.RoleOfficial}
	beijing := &registry.User{ID: "b", Username: "b", Role: registry.RoleOfficial, Province: "11"}

	tests := []struct {
		name    string
		actor   *registry.User
		q       registry.StatsQuery
		code    string
		field   string
		workers int64
	}{
		{"national official sees all", national, registry.StatsQuery{}, "", "", 2},
		{"admin sees a province", w.admin, registry.StatsQuery{Province: "44"}, "", "", 1},
		{"provincial official defaults to own", beijing, registry.StatsQuery{}, "", "", 1},
		{"provincial official own province", beijing, registry.StatsQuery{Province: "11"}, "", "", 1},
		{"provincial official other province", beijing, registry.StatsQuery{Province: "44"}, registry.EFORBIDDEN, "", 0},
		{"issuer", w.bj, registry.StatsQuery{}, registry.EFORBIDDEN, "", 0},
		{"anonymous", nil, registry.StatsQuery{}, registry.EUNAUTHORIZED, "", 0},
		{"bad province", national, registry.StatsQuery{Province: "99"}, registry.EINVALID, "province", 0},
		{"bad occupation", national, registry.StatsQuery{Occupation: "6-18"}, registry.EINVALID, "occupation", 0},
		{"bad channel", national, registry.StatsQuery{Channel: "tv"}, registry.EINVALID, "channel", 0},
		{"unknown plan", national, registry.StatsQuery{Plan: "nope"}, registry.EINVALID, "plan", 0},
	}
	for _, tt := range tests {
		ts, err := w.reg.TierStats(ctx, tt.actor, tt.q)
		if registry.ErrorCode(err) != tt.code || registry.ErrorField(err) != tt.field {
			t.Errorf("%s: TierStats %v, want %q on %q", tt.name, err, tt.code, tt.field)
			continue
		}
		if err == nil && ts.SkilledWorkers != tt.workers {
			t.Errorf("%s: %d workers, want %d", tt.name, ts.SkilledWorkers, tt.workers)
		}
		_, perr := w.reg.ProvinceStats(ctx, tt.actor, tt.q)
		_, terr := w.reg.TrendStats(ctx, tt.actor, tt.q)
		if registry.ErrorCode(perr) != tt.code || registry.ErrorCode(terr) != tt.code {
			t.Errorf("%s: ProvinceStats %v, TrendStats %v, want %q", tt.name, perr, terr, tt.code)
		}
	}
	rows, err := w.reg.ProvinceStats(ctx, beijing, registry.StatsQuery{})
	if err != nil || len(rows.Rows) != 1 || rows.Rows[0].Province != "11" {
		t.Fatalf("provincial official's table: %v %+v", err, rows)
	}
}

func TestStatsPlans(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	national := &registry.User{ID: "n", Username: "n", Role: registry.RoleOfficial}
	plans, err := w.reg.Plans(ctx, national)
	if err != nil || len(plans) != 1 || plans[0].ID != stats.ElevenFiveYearPlanID || !plans[0].Default ||
		plans[0].Targets != (stats.PlanTargets{SkilledWorkers: 110_000_000, Technician: 0.05, SeniorWorker: 0.2, HighSkilled: 0.25}) {
		t.Fatalf("built-in plan: %v %+v", err, plans)
	}
	later := &stats.Plan{ID: "14th-five-year", Name: "“十四五”职业技能培训规划", EndDate: "2025-12-31",
		Targets: stats.PlanTargets{SkilledWorkers: 200_000_000, Technician: 0.1, SeniorWorker: 0.233, HighSkilled: 1.0 / 3}}
	if err := w.reg.CreatePlan(ctx, national, later); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Fatalf("official creates a plan: %v", err)
	}
	bad := *later
	bad.Targets.HighSkilled = 1.5
	if err := w.reg.CreatePlan(ctx, w.admin, &bad); registry.ErrorField(err) != "targets.high_skilled" {
		t.Fatalf("share above 1: %v", err)
	}
	if err := w.reg.CreatePlan(ctx, w.admin, later); err != nil {
		t.Fatal(err)
	}
	if err := w.reg.CreatePlan(ctx, w.admin, later); registry.ErrorCode(err) != registry.ECONFLICT {
		t.Fatalf("same id twice: %v", err)
	}
	if ts := w.tiers(t, registry.StatsQuery{}); ts.Plan.ID != stats.ElevenFiveYearPlanID {
		t.Fatalf("default changed without asking: %s", ts.Plan.ID)
	}
	if ts := w.tiers(t, registry.StatsQuery{Plan: "14th-five-year"}); ts.Targets.HighSkilled != 1.0/3 {
		t.Fatalf("plan param: %+v", ts.Targets)
	}
	newer := &stats.Plan{ID: "2030", Name: "2030 目标", EndDate: "2030-12-31", Default: true,
		Targets: stats.PlanTargets{SkilledWorkers: 250_000_000, Technician: 0.1, SeniorWorker: 0.25, HighSkilled: 0.35}}
	if err := w.reg.CreatePlan(ctx, w.admin, newer); err != nil {
		t.Fatal(err)
	}
	if ts := w.tiers(t, registry.StatsQuery{}); ts.Plan.ID != "2030" {
		t.Fatalf("new default: %s", ts.Plan.ID)
	}
	plans, _ = w.reg.Plans(ctx, w.admin)
	if len(plans) != 3 || plans[0].ID != "2030" || plans[1].Default || plans[2].Default {
		t.Fatalf("plans %+v", plans)
	}
}

// TestStatsPlanChanges: the admin changes a plan (its default mark and
// creation time stay), chooses the default among stored plans and the
// built-in one, and deletes a plan, the default included; the built-in
// plan cannot be changed or deleted; officials can do none of it.
func TestStatsPlanChanges(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	national := &registry.User{ID: "n", Username: "n", Role: registry.RoleOfficial}
	p := &stats.Plan{ID: "14th-five-year", Name: "“十四五”职业技能培训规划", EndDate: "2025-12-31", Default: true,
		Targets: stats.PlanTargets{SkilledWorkers: 200_000_000, Technician: 0.1, SeniorWorker: 0.2, HighSkilled: 0.3}}
	if err := w.reg.CreatePlan(ctx, w.admin, p); err != nil {
		t.Fatal(err)
	}
	created := p.CreatedAt

	change := &stats.Plan{ID: "14th-five-year", Name: "“十四五”规划（修订）", EndDate: "2026-06-30",
		Targets: stats.PlanTargets{SkilledWorkers: 210_000_000, Technician: 0.1, SeniorWorker: 0.2, HighSkilled: 0.3}}
	if err := w.reg.UpdatePlan(ctx, national, change); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Fatalf("an official changes a plan: %v", err)
	}
	bad := *change
	bad.EndDate = "2026-13-01"
	if err := w.reg.UpdatePlan(ctx, w.admin, &bad); registry.ErrorField(err) != "end_date" {
		t.Fatalf("a bad end date: %v", err)
	}
	builtIn := *change
	builtIn.ID = stats.ElevenFiveYearPlanID
	if err := w.reg.UpdatePlan(ctx, w.admin, &builtIn); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Fatalf("changing the built-in plan: %v", err)
	}
	missing := *change
	missing.ID = "nope"
	if err := w.reg.UpdatePlan(ctx, w.admin, &missing); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Fatalf("changing a missing plan: %v", err)
	}
	if err := w.reg.UpdatePlan(ctx, w.admin, change); err != nil {
		t.Fatal(err)
	}
	if ts := w.tiers(t, registry.StatsQuery{}); ts.Plan.ID != "14th-five-year" || ts.Plan.Name != "“十四五”规划（修订）" ||
		ts.Targets.SkilledWorkers != 210_000_000 || !ts.Plan.CreatedAt.Equal(created) {
		t.Fatalf("after the change the default is %+v", ts.Plan)
	}

	if err := w.reg.SetDefaultPlan(ctx, national, stats.ElevenFiveYearPlanID); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Fatalf("an official chooses the default: %v", err)
	}
	if err := w.reg.SetDefaultPlan(ctx, w.admin, stats.ElevenFiveYearPlanID); err != nil {
		t.Fatal(err)
	}
	if ts := w.tiers(t, registry.StatsQuery{}); ts.Plan.ID != stats.ElevenFiveYearPlanID {
		t.Fatalf("after choosing the built-in plan the default is %s", ts.Plan.ID)
	}
	if err := w.reg.SetDefaultPlan(ctx, w.admin, "nope"); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Fatalf("choosing a missing plan: %v", err)
	}
	if err := w.reg.SetDefaultPlan(ctx, w.admin, "14th-five-year"); err != nil {
		t.Fatal(err)
	}

	if err := w.reg.DeletePlan(ctx, w.admin, stats.ElevenFiveYearPlanID); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Fatalf("deleting the built-in plan: %v", err)
	}
	if err := w.reg.DeletePlan(ctx, national, "14th-five-year"); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Fatalf("an official deletes a plan: %v", err)
	}
	if err := w.reg.DeletePlan(ctx, w.admin, "14th-five-year"); err != nil {
		t.Fatal(err)
	}
	if err := w.reg.DeletePlan(ctx, w.admin, "14th-five-year"); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Fatalf("deleting twice: %v", err)
	}
	plans, err := w.reg.Plans(ctx, w.admin)
	if err != nil || len(plans) != 1 || plans[0].ID != stats.ElevenFiveYearPlanID || !plans[0].Default {
		t.Fatalf("after deleting the default: %v %+v", err, plans)
	}
}

// TestStatsCrashAtEveryStep fails the counter upkeep at each step in
// turn, during an issuance and during a revocation, as if the process
// died there; recovery then brings the counters back and stats check
// finds no drift.
func TestStatsCrashAtEveryStep(t *testing.T) {
	t.Parallel()
	steps := []string{"mark", "op", "verify", "apply", "holder", "delete", "release", "done"}
	for _, step := range steps {
		for _, during := range []string{"issue", "revoke"} {
			t.Run(step+"/"+during, func(t *testing.T) {
				t.Parallel()
				w := newStatsWorld(t)
				ctx := context.Background()
				first := w.issue(t, w.bj, 1, 3, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
				w.issue(t, w.gd, 2, 4, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
				crash := errors.New("crash at " + step)
				registry.SetStatsFault(w.reg, func(s string) error {
					if s == step {
						return crash
					}
					return nil
				})
				var err error
				if during == "issue" {
					_, _, err = w.reg.Issue(ctx, w.gd, registry.IssueInput{HolderName: "测试人", IDNumber: person(1),
						OccupationCode: "6-18-01-01", Level: 1, Channel: registry.ChannelEnterprise, IssuedOn: "2012-01-01"})
				} else {
					_, err = w.reg.Revoke(ctx, w.bj, first.Number, "错发")
				}
				// Only a failure before the write fails the call.
				if (step == "mark") != (err != nil) {
					t.Fatalf("%s during %s: call error %v", step, during, err)
				}
				registry.SetStatsFault(w.reg, nil)
				if _, err := w.reg.RecoverStats(ctx, 0); err != nil {
					t.Fatal(err)
				}
				requireNoDrift(t, w.reg)
				want := [5]int64{1, 0, 0, 1, 0} // issue: person 1 at level 1
				if during == "revoke" {
					want = [5]int64{0, 0, 0, 1, 0} // revoke: person 1 out
				}
				if step == "mark" {
					want = [5]int64{0, 0, 1, 1, 0} // nothing happened
				}
				if got := levels(w.tiers(t, registry.StatsQuery{}).ByLevel); got != want {
					t.Fatalf("after recovery: %v, want %v", got, want)
				}
			})
		}
	}
}

// TestStatsCrashTwice fails a step, then fails recovery at each later
// step too, before a clean recovery: the steps are idempotent however
// often they are repeated.
func TestStatsCrashTwice(t *testing.T) {
	t.Parallel()
	steps := []string{"verify", "apply", "holder", "delete", "release"}
	for i, first := range steps {
		for _, second := range steps[i:] {
			t.Run(first+"/"+second, func(t *testing.T) {
				t.Parallel()
				w := newStatsWorld(t)
				ctx := context.Background()
				w.issue(t, w.bj, 1, 3, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
				registry.SetStatsFault(w.reg, func(s string) error {
					if s == first {
						return errors.New("crash")
					}
					return nil
				})
				w.issue(t, w.gd, 1, 2, "6-18-01-01", registry.ChannelSocial, "2011-05-01")
				registry.SetStatsFault(w.reg, func(s string) error {
					if s == second {
						return errors.New("crash in recovery")
					}
					return nil
				})
				w.reg.RecoverStats(ctx, 0) // fails at second, or before it
				registry.SetStatsFault(w.reg, nil)
				if _, err := w.reg.RecoverStats(ctx, 0); err != nil {
					t.Fatal(err)
				}
				requireNoDrift(t, w.reg)
				if got := levels(w.tiers(t, registry.StatsQuery{}).ByLevel); got != [5]int64{0, 1, 0, 0, 0} {
					t.Fatalf("after recovery: %v", got)
				}
			})
		}
	}
}

// TestStatsCheckGraceFinishesAbandonedAtOnce: an issuance whose counter
// upkeep died a moment ago leaves a mark or an op younger than the lease.
// A check told that no writer is running (a negative Grace) finishes it
// at once instead of waiting for the lease, and then finds no drift.
func TestStatsCheckGraceFinishesAbandonedAtOnce(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"op", "apply", "done"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			w := newStatsWorld(t)
			ctx := context.Background()
			w.issue(t, w.bj, 1, 3, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
			registry.SetStatsFault(w.reg, func(s string) error {
				if s == step {
					return errors.New("crash at " + step)
				}
				return nil
			})
			w.issue(t, w.gd, 2, 2, "6-18-01-01", registry.ChannelSocial, "2011-05-01")
			registry.SetStatsFault(w.reg, nil)
			res, err := w.reg.CheckStats(ctx, stats.CheckOptions{Grace: -1, Passes: 1})
			if err != nil {
				t.Fatal(err)
			}
			if res.Recovered == 0 || res.Drift() || res.Busy {
				t.Fatalf("check with no grace after a crash at %s: %+v; want the update finished, no drift, not busy", step, res)
			}
			if got := levels(w.tiers(t, registry.StatsQuery{}).ByLevel); got != [5]int64{0, 1, 1, 0, 0} {
				t.Fatalf("after the check: %v", got)
			}
		})
	}
}

func TestStatsCheckRepairsDrift(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	w.issue(t, w.bj, 1, 3, "6-18-01-01", registry.ChannelSocial, "2010-05-01")
	w.issue(t, w.gd, 2, 2, "4-04-05-05", registry.ChannelSchool, "2011-05-01")
	// Damage: a counter bumped outside any op, and a holder state lost.
	cell := stats.Cell{Kind: stats.CellWorkers, Province: "11", Category: "6", Channel: "social", Level: 3, Year: 2010}.ID()
	if err := w.store.ApplyStatsDeltas(ctx, "vandal", []stats.Delta{{Cell: cell, N: 5}}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.ReleaseStatsMarker(ctx, "vandal"); err != nil {
		t.Fatal(err)
	}
	res, err := w.reg.CheckStats(ctx, stats.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.CellDiffs) != 1 || res.CellDiffs[0].Cell.ID() != cell || res.CellDiffs[0].Records != 1 || res.CellDiffs[0].Cell.N != 6 || res.Repaired {
		t.Fatalf("check: %+v", res)
	}
	if res.Holders != 2 || res.Certificates != 2 {
		t.Fatalf("walked %d holders %d certificates", res.Holders, res.Certificates)
	}
	res, err = w.reg.CheckStats(ctx, stats.CheckOptions{Repair: true})
	if err != nil || !res.Repaired || len(res.CellDiffs) != 1 {
		t.Fatalf("repair: %v %+v", err, res)
	}
	requireNoDrift(t, w.reg)
	if ts := w.tiers(t, registry.StatsQuery{}); ts.SkilledWorkers != 2 {
		t.Fatalf("after repair: %d workers", ts.SkilledWorkers)
	}
}

// TestStatsConcurrentWritesAndCheck: issuances and revocations for the
// same few people run at once, from several goroutines, while stats check
// --repair runs beside them: the check reports no drift for writes in
// flight, and afterwards the counters match the certificates exactly and
// the figures are what the records say, so the check's repair did not
// clobber a concurrent increment.
func TestStatsConcurrentWritesAndCheck(t *testing.T) {
	t.Parallel()
	w := newStatsWorld(t)
	ctx := context.Background()
	users := []*registry.User{w.bj, w.gd, w.sh}
	done := make(chan error, 8)
	for g := 0; g < 6; g++ {
		go func() {
			for i := 0; i < 8; i++ {
				u := users[(g+i)%3]
				c, _, err := w.reg.Issue(ctx, u, registry.IssueInput{HolderName: "测试人", IDNumber: person(i % 4),
					OccupationCode: "6-18-01-01", Level: registry.Level(1 + (g+i)%5), Channel: registry.ChannelSocial,
					IssuedOn: fmt.Sprintf("20%02d-01-01", 10+i)})
				if err != nil {
					done <- err
					return
				}
				if i%3 == 0 {
					if _, err := w.reg.Revoke(ctx, u, c.Number, "错发"); err != nil {
						done <- err
						return
					}
				}
			}
			done <- nil
		}()
	}
	checks := make(chan error, 1)
	go func() {
		for i := 0; i < 3; i++ {
			res, err := w.reg.CheckStats(ctx, stats.CheckOptions{Repair: true, Passes: 1})
			if err != nil {
				checks <- err
				return
			}
			// Writes in flight are unconfirmed, never reported as drift.
			if res.HolderDiffs != 0 || len(res.CellDiffs) != 0 {
				checks <- fmt.Errorf("false drift while writing: %d holders, %v", res.HolderDiffs, res.CellDiffs)
				return
			}
		}
		checks <- nil
	}()
	for g := 0; g < 6; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := <-checks; err != nil {
		t.Fatal(err)
	}
	requireNoDrift(t, w.reg)
	ts := w.tiers(t, registry.StatsQuery{})
	if ts.Certificates != 48 || ts.RevokedCertificates != 18 || ts.SkilledWorkers != 4 {
		t.Fatalf("figures: %d certificates, %d revoked, %d workers", ts.Certificates, ts.RevokedCertificates, ts.SkilledWorkers)
	}
}
