package registry

// Skill-tier statistics for officials: the public read API.
//
// The API the HTTP layer calls, all of it on *Registry:
//
//	TierStats(ctx, actor, StatsQuery) (*TierStats, error)          one set of figures
//	ProvinceStats(ctx, actor, StatsQuery) (*ProvinceTable, error)  one row per province
//	TrendTable(ctx, actor, StatsQuery) (*TrendTable, error)        one row per year, with the query as narrowed
//	TrendStats(ctx, actor, StatsQuery) ([]TrendRow, error)         the rows alone
//	Plans(ctx, actor) ([]*Plan, error)                              the plans, default first
//	CreatePlan(ctx, actor, *Plan) error                             admin only
//	UpdatePlan(ctx, actor, *Plan) error                             admin only; not the built-in plan
//	DeletePlan(ctx, actor, id) error                                admin only; not the built-in plan
//	SetDefaultPlan(ctx, actor, id) error                            admin only
//
// Who may read: the admin and national officials (Province == "") see
// everything; a provincial official sees only their own province: a query
// without a province is narrowed to it, and a query naming another
// province is EFORBIDDEN. Issuer users are EFORBIDDEN. A query field that
// is not valid is EINVALID naming the field ("province", "occupation",
// "channel", "plan").
//
// Counting rules (DOMAIN.md, "Counting: people, not paper"):
//
//   - A skilled worker is one holder (one ID-number hash) with at least one
//     valid certificate, counted once, at the highest valid level, in the
//     province of the issuer of the certificate that gives that level, with
//     that certificate's occupation category, channel and year. On a tie of
//     levels the most recent certificate decides (latest issue date, then
//     latest creation, then highest number).
//   - Certificates (人次) are every certificate ever issued, by its own
//     issue year, level, issuer province, occupation major category and
//     channel. A revoked certificate still counts as issued (it was issued
//     that year; history does not change); revocations are counted
//     separately in RevokedCertificates, so valid certificates are
//     Certificates - RevokedCertificates.
//
// The figures are read from counters kept up to date on every issue and
// revoke (stats_sync.go); a read never scans certificates.

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/skillreg/skillreg/registry/refdata"
)

// StatsQuery selects the certificates and people the figures are about.
// Every field is optional; the zero query is the whole country under the
// default plan.
type StatsQuery struct {
	// Province is a 2-digit province code ("44"); "" for all provinces.
	Province string `json:"province,omitempty"`
	// Occupation is an occupation major category, "1" to "8" (the first
	// digit of an occupation code); "" for all.
	Occupation string `json:"occupation,omitempty"`
	// Channel is an evaluation channel; "" for all.
	Channel Channel `json:"channel,omitempty"`
	// Plan is the ID of the plan whose targets apply; "" for the default.
	Plan string `json:"plan,omitempty"`
}

// Shares are the high-skill shares of skilled workers, as fractions
// (0.05 is 5%).
type Shares struct {
	// Technician is levels 1 and 2 (高级技师 and 技师).
	Technician float64 `json:"technician"`
	// SeniorWorker is level 3 (高级工).
	SeniorWorker float64 `json:"senior_worker"`
	// HighSkilled is levels 1, 2 and 3 (高技能人才).
	HighSkilled float64 `json:"high_skilled"`
}

// Progress is how far the figures are toward a plan's targets: each field
// is actual / target (1 or more means the target is met), and Met says so
// per target.
type Progress struct {
	// SkilledWorkers is skilled workers / the plan's total. It is only
	// given for the unfiltered national figures (nil otherwise): the
	// total target is a national one.
	SkilledWorkers *float64    `json:"skilled_workers"`
	Technician     float64     `json:"technician"`
	SeniorWorker   float64     `json:"senior_worker"`
	HighSkilled    float64     `json:"high_skilled"`
	Met            ProgressMet `json:"met"`
}

// ProgressMet says which targets are met. SkilledWorkers is nil when the
// total target does not apply (see Progress).
type ProgressMet struct {
	SkilledWorkers *bool `json:"skilled_workers"`
	Technician     bool  `json:"technician"`
	SeniorWorker   bool  `json:"senior_worker"`
	HighSkilled    bool  `json:"high_skilled"`
}

// TierFigures are the figures of one selection of the registry.
type TierFigures struct {
	// SkilledWorkers is the number of people with a valid certificate.
	SkilledWorkers int64 `json:"skilled_workers"`
	// Certificates is the number of certificates issued (人次), revoked
	// ones included.
	Certificates int64 `json:"certificates"`
	// RevokedCertificates is how many of Certificates are revoked.
	RevokedCertificates int64 `json:"revoked_certificates"`
	// ByLevel is skilled workers per tier (their highest valid level);
	// every level 1 to 5 is present, zeros included. JSON keys are "1".."5".
	ByLevel map[Level]int64 `json:"by_level"`
	// CertificatesByLevel is Certificates per level of the certificate.
	CertificatesByLevel map[Level]int64 `json:"certificates_by_level"`
	// Shares of the high-skill tiers among SkilledWorkers (0 when there
	// are none).
	Shares Shares `json:"shares"`
	// Progress toward the plan's targets.
	Progress Progress `json:"progress"`
}

// TierStats is the answer to TierStats: the figures, the plan they are
// measured against and when they were read.
type TierStats struct {
	TierFigures
	Query   StatsQuery  `json:"query"`
	Targets PlanTargets `json:"targets"`
	Plan    *Plan       `json:"plan"`
	AsOf    time.Time   `json:"as_of"`
}

// ProvinceRow is one province's figures.
type ProvinceRow struct {
	Province string `json:"province"` // 2-digit code
	Name     string `json:"name"`     // e.g. 广东省; the code again if unknown
	TierFigures
}

// ProvinceTable is the answer to ProvinceStats.
type ProvinceTable struct {
	Query   StatsQuery    `json:"query"`
	Targets PlanTargets   `json:"targets"`
	Plan    *Plan         `json:"plan"`
	AsOf    time.Time     `json:"as_of"`
	Rows    []ProvinceRow `json:"rows"`
}

// TrendRow is one year of the trend.
type TrendRow struct {
	Year int `json:"year"`
	// Certificates issued that year (人次) per level of the certificate;
	// every level 1 to 5 is present.
	Certificates map[Level]int64 `json:"certificates"`
	// CertificatesTotal is the sum of Certificates.
	CertificatesTotal int64 `json:"certificates_total"`
	// Workers is skilled workers counted today whose tier certificate was
	// issued that year, per tier: the people the year added to today's
	// count. Summed over all years it is TierStats.SkilledWorkers.
	Workers map[Level]int64 `json:"workers"`
	// WorkersTotal is the sum of Workers.
	WorkersTotal int64 `json:"workers_total"`
}

// statsLevels are the levels the figures report, highest first.
var statsLevels = []Level{Level1, Level2, Level3, Level4, Level5}

// TierStats returns the figures of the selection q against the targets of
// q.Plan (the default plan when empty). See the file comment for who may
// read what and for the counting rules.
func (r *Registry) TierStats(ctx context.Context, actor *User, q StatsQuery) (*TierStats, error) {
	q, plan, err := r.statsQuery(ctx, actor, q)
	if err != nil {
		return nil, err
	}
	cells, err := r.statsCells(ctx, cellFilter(q, false))
	if err != nil {
		return nil, err
	}
	f := figuresOf(cells, plan, q.Province == "" && q.Occupation == "" && q.Channel == "")
	return &TierStats{TierFigures: f, Query: q, Targets: plan.Targets, Plan: plan, AsOf: r.now().UTC()}, nil
}

// ProvinceStats returns one row per province: all 31 provinces of the
// reference data in code order, zeros included, then any other province
// code that certificates carry. A provincial official gets their own row
// only; q.Province, if set, keeps that one row.
func (r *Registry) ProvinceStats(ctx context.Context, actor *User, q StatsQuery) (*ProvinceTable, error) {
	q, plan, err := r.statsQuery(ctx, actor, q)
	if err != nil {
		return nil, err
	}
	cells, err := r.statsCells(ctx, cellFilter(q, true))
	if err != nil {
		return nil, err
	}
	byProv := map[string][]StatsCell{}
	for _, c := range cells {
		byProv[c.Province] = append(byProv[c.Province], c)
	}
	var codes []string
	if q.Province != "" {
		codes = []string{q.Province}
	} else {
		seen := map[string]bool{}
		for _, p := range refdata.Provinces() {
			codes = append(codes, p.Code[:2])
			seen[p.Code[:2]] = true
		}
		var extra []string
		for p := range byProv {
			if !seen[p] {
				extra = append(extra, p)
			}
		}
		sort.Strings(extra)
		codes = append(codes, extra...)
	}
	t := &ProvinceTable{Query: q, Targets: plan.Targets, Plan: plan, AsOf: r.now().UTC(), Rows: make([]ProvinceRow, 0, len(codes))}
	for _, code := range codes {
		name, ok := refdata.ProvinceName(code)
		if !ok {
			name = code
		}
		t.Rows = append(t.Rows, ProvinceRow{Province: code, Name: name, TierFigures: figuresOf(byProv[code], plan, false)})
	}
	return t, nil
}

// TrendTable is the answer to TrendTable: the rows and the query they
// answer, as narrowed for a provincial official.
type TrendTable struct {
	Query StatsQuery `json:"query"`
	AsOf  time.Time  `json:"as_of"`
	Rows  []TrendRow `json:"rows"`
}

// TrendTable returns one row per year, in year order, from the earliest
// year with a certificate to the latest (years between without any are
// present with zeros), with the query as it was answered. q.Plan is
// checked but plays no part.
func (r *Registry) TrendTable(ctx context.Context, actor *User, q StatsQuery) (*TrendTable, error) {
	q, _, err := r.statsQuery(ctx, actor, q)
	if err != nil {
		return nil, err
	}
	rows, err := r.trendRows(ctx, q)
	if err != nil {
		return nil, err
	}
	return &TrendTable{Query: q, AsOf: r.now().UTC(), Rows: rows}, nil
}

// TrendStats is TrendTable's rows alone.
func (r *Registry) TrendStats(ctx context.Context, actor *User, q StatsQuery) ([]TrendRow, error) {
	t, err := r.TrendTable(ctx, actor, q)
	if err != nil {
		return nil, err
	}
	return t.Rows, nil
}

func (r *Registry) trendRows(ctx context.Context, q StatsQuery) ([]TrendRow, error) {
	f := cellFilter(q, false)
	f.Years = true
	cells, err := r.statsCells(ctx, f)
	if err != nil {
		return nil, err
	}
	byYear := map[int]*TrendRow{}
	first, last := 0, 0
	for _, c := range cells {
		if c.Kind == CellRevoked || c.N == 0 {
			continue
		}
		row := byYear[c.Year]
		if row == nil {
			row = newTrendRow(c.Year)
			byYear[c.Year] = row
			if first == 0 || c.Year < first {
				first = c.Year
			}
			if c.Year > last {
				last = c.Year
			}
		}
		switch c.Kind {
		case CellIssued:
			row.Certificates[c.Level] += c.N
			row.CertificatesTotal += c.N
		case CellWorkers:
			row.Workers[c.Level] += c.N
			row.WorkersTotal += c.N
		}
	}
	rows := []TrendRow{}
	for y := first; first != 0 && y <= last; y++ {
		if row, ok := byYear[y]; ok {
			rows = append(rows, *row)
		} else {
			rows = append(rows, *newTrendRow(y))
		}
	}
	return rows, nil
}

func newTrendRow(year int) *TrendRow {
	row := &TrendRow{Year: year, Certificates: map[Level]int64{}, Workers: map[Level]int64{}}
	for _, l := range statsLevels {
		row.Certificates[l] = 0
		row.Workers[l] = 0
	}
	return row
}

// statsQuery checks the actor's right to read q, narrows q to a provincial
// official's province, validates it and finds its plan.
func (r *Registry) statsQuery(ctx context.Context, actor *User, q StatsQuery) (StatsQuery, *Plan, error) {
	if err := requireRole(actor, RoleAdmin, RoleOfficial); err != nil {
		return q, nil, err
	}
	if actor.Role == RoleOfficial && actor.Province != "" {
		switch q.Province {
		case "":
			q.Province = actor.Province
		case actor.Province:
		default:
			return q, nil, Errorf(EFORBIDDEN, "you may read the statistics of province %s only", actor.Province)
		}
	}
	if q.Province != "" {
		if _, ok := refdata.ProvinceName(q.Province); !ok {
			return q, nil, FieldError("province", "%q is not a 2-digit province code (e.g. 11 北京市, 44 广东省)", q.Province)
		}
	}
	if q.Occupation != "" {
		if len(q.Occupation) != 1 || q.Occupation[0] < '1' || q.Occupation[0] > '8' {
			return q, nil, FieldError("occupation", "occupation must be a major category, 1 to 8 (the first digit of an occupation code)")
		}
	}
	if q.Channel != "" && !q.Channel.Valid() {
		return q, nil, FieldError("channel", `channel must be one of "social", "enterprise", "school", "special"`)
	}
	plan, err := r.plan(ctx, q.Plan)
	if err != nil {
		return q, nil, err
	}
	return q, plan, nil
}

// cellFilter is the counter rollup that answers q: a filter left empty
// reads the "all" rollup of that dimension.
func cellFilter(q StatsQuery, perProvince bool) StatsCellFilter {
	f := StatsCellFilter{Province: CellAll, Category: CellAll, Channel: CellAll, PerProvince: perProvince}
	if q.Province != "" {
		f.Province = q.Province
	}
	if q.Occupation != "" {
		f.Category = q.Occupation
	}
	if q.Channel != "" {
		f.Channel = string(q.Channel)
	}
	return f
}

// figuresOf sums cells (all of one rollup) into figures measured against
// plan. withTotal says whether the plan's total applies.
func figuresOf(cells []StatsCell, plan *Plan, withTotal bool) TierFigures {
	f := TierFigures{ByLevel: map[Level]int64{}, CertificatesByLevel: map[Level]int64{}}
	for _, l := range statsLevels {
		f.ByLevel[l] = 0
		f.CertificatesByLevel[l] = 0
	}
	for _, c := range cells {
		switch c.Kind {
		case CellWorkers:
			f.SkilledWorkers += c.N
			f.ByLevel[c.Level] += c.N
		case CellIssued:
			f.Certificates += c.N
			f.CertificatesByLevel[c.Level] += c.N
		case CellRevoked:
			f.RevokedCertificates += c.N
		}
	}
	if f.SkilledWorkers > 0 {
		sw := float64(f.SkilledWorkers)
		f.Shares.Technician = float64(f.ByLevel[Level1]+f.ByLevel[Level2]) / sw
		f.Shares.SeniorWorker = float64(f.ByLevel[Level3]) / sw
		f.Shares.HighSkilled = float64(f.ByLevel[Level1]+f.ByLevel[Level2]+f.ByLevel[Level3]) / sw
	}
	t := plan.Targets
	ratio := func(actual, target float64) float64 {
		if target <= 0 {
			return 1
		}
		return actual / target
	}
	p := &f.Progress
	p.Technician = ratio(f.Shares.Technician, t.Technician)
	p.SeniorWorker = ratio(f.Shares.SeniorWorker, t.SeniorWorker)
	p.HighSkilled = ratio(f.Shares.HighSkilled, t.HighSkilled)
	p.Met.Technician = p.Technician >= 1
	p.Met.SeniorWorker = p.SeniorWorker >= 1
	p.Met.HighSkilled = p.HighSkilled >= 1
	if withTotal {
		sw := ratio(float64(f.SkilledWorkers), float64(t.SkilledWorkers))
		met := sw >= 1
		p.SkilledWorkers, p.Met.SkilledWorkers = &sw, &met
	}
	return f
}

// yearOf returns the year of a YYYY-MM-DD date, 0 if it has none.
func yearOf(day string) int {
	if len(day) < 4 {
		return 0
	}
	y, err := strconv.Atoi(day[:4])
	if err != nil {
		return 0
	}
	return y
}
