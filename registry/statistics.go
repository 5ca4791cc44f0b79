package registry

// Skill-tier statistics for officials: the domain's side. The counting,
// the counters' upkeep, the check and the plans live in registry/stats;
// here the domain decides who may read what, checks the query, converts
// certificates to what the counters count (holderCertOf) and calls the
// stats keeper around every certificate write (Issue, Revoke, IssueMany).
//
// The API the HTTP layer calls, all of it on *Registry:
//
//	TierStats(ctx, actor, StatsQuery) (*TierStats, error)          one set of figures
//	ProvinceStats(ctx, actor, StatsQuery) (*ProvinceTable, error)  one row per province
//	TrendTable(ctx, actor, StatsQuery) (*TrendTable, error)        one row per year, with the query as narrowed
//	TrendStats(ctx, actor, StatsQuery) ([]TrendRow, error)         the rows alone
//	Plans(ctx, actor) ([]*stats.Plan, error)                        the plans, default first
//	CreatePlan(ctx, actor, *stats.Plan) error                       admin only
//	UpdatePlan(ctx, actor, *stats.Plan) error                       admin only; not the built-in plan
//	DeletePlan(ctx, actor, id) error                                admin only; not the built-in plan
//	SetDefaultPlan(ctx, actor, id) error                            admin only
//
// Who may read: the admin and national officials (Province == "") see
// everything; a provincial official sees only their own province: a query
// without a province is narrowed to it, and a query naming another
// province is EFORBIDDEN. Issuer users are EFORBIDDEN. A query field that
// is not valid is EINVALID naming the field ("province", "occupation",
// "channel", "plan"). The counting rules are in registry/stats (doc.go).

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry/refdata"
	"github.com/skillreg/skillreg/registry/stats"
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
	Shares stats.Shares `json:"shares"`
	// Progress toward the plan's targets.
	Progress stats.Progress `json:"progress"`
}

// TierStats is the answer to TierStats: the figures, the plan they are
// measured against and when they were read.
type TierStats struct {
	TierFigures
	Query   StatsQuery        `json:"query"`
	Targets stats.PlanTargets `json:"targets"`
	Plan    *stats.Plan       `json:"plan"`
	AsOf    time.Time         `json:"as_of"`
}

// ProvinceRow is one province's figures.
type ProvinceRow struct {
	Province string `json:"province"` // 2-digit code
	Name     string `json:"name"`     // e.g. 广东省; the code again if unknown
	TierFigures
}

// ProvinceTable is the answer to ProvinceStats.
type ProvinceTable struct {
	Query   StatsQuery        `json:"query"`
	Targets stats.PlanTargets `json:"targets"`
	Plan    *stats.Plan       `json:"plan"`
	AsOf    time.Time         `json:"as_of"`
	Rows    []ProvinceRow     `json:"rows"`
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

// TrendTable is the answer to TrendTable: the rows and the query they
// answer, as narrowed for a provincial official.
type TrendTable struct {
	Query StatsQuery `json:"query"`
	AsOf  time.Time  `json:"as_of"`
	Rows  []TrendRow `json:"rows"`
}

// TierStats returns the figures of the selection q against the targets of
// q.Plan (the default plan when empty). See the file comment for who may
// read what.
func (r *Registry) TierStats(ctx context.Context, actor *User, q StatsQuery) (*TierStats, error) {
	q, plan, err := r.statsQuery(ctx, actor, q)
	if err != nil {
		return nil, err
	}
	f, err := r.stats.Figures(ctx, statsFilter(q), plan)
	if err != nil {
		return nil, err
	}
	return &TierStats{TierFigures: tierFigures(f), Query: q, Targets: plan.Targets, Plan: plan, AsOf: r.now().UTC()}, nil
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
	rows, err := r.stats.ProvinceFigures(ctx, statsFilter(q), plan)
	if err != nil {
		return nil, err
	}
	t := &ProvinceTable{Query: q, Targets: plan.Targets, Plan: plan, AsOf: r.now().UTC(), Rows: make([]ProvinceRow, 0, len(rows))}
	for _, row := range rows {
		t.Rows = append(t.Rows, ProvinceRow{Province: row.Province, Name: row.Name, TierFigures: tierFigures(row.Figures)})
	}
	return t, nil
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
	years, err := r.stats.Trend(ctx, statsFilter(q))
	if err != nil {
		return nil, err
	}
	rows := make([]TrendRow, 0, len(years))
	for _, y := range years {
		row := TrendRow{Year: y.Year, Certificates: levelMap(y.Certificates), Workers: levelMap(y.Workers)}
		for _, n := range y.Certificates {
			row.CertificatesTotal += n
		}
		for _, n := range y.Workers {
			row.WorkersTotal += n
		}
		rows = append(rows, row)
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

// statsQuery checks the actor's right to read q, narrows q to a provincial
// official's province, validates it and finds its plan.
func (r *Registry) statsQuery(ctx context.Context, actor *User, q StatsQuery) (StatsQuery, *stats.Plan, error) {
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
	plan, err := r.stats.Plan(ctx, q.Plan)
	if errors.Is(err, stats.ErrNoPlan) {
		return q, nil, FieldError("plan", "there is no plan %q", q.Plan)
	}
	if err != nil {
		return q, nil, err
	}
	return q, plan, nil
}

// statsFilter is the selection of a checked query.
func statsFilter(q StatsQuery) stats.Filter {
	return stats.Filter{Province: q.Province, Category: q.Occupation, Channel: string(q.Channel)}
}

func tierFigures(f stats.Figures) TierFigures {
	return TierFigures{SkilledWorkers: f.SkilledWorkers, Certificates: f.Certificates, RevokedCertificates: f.RevokedCertificates,
		ByLevel: levelMap(f.ByLevel), CertificatesByLevel: levelMap(f.CertificatesByLevel), Shares: f.Shares, Progress: f.Progress}
}

func levelMap(m map[int]int64) map[Level]int64 {
	out := make(map[Level]int64, len(m))
	for l, n := range m {
		out[Level(l)] = n
	}
	return out
}

// Plans returns every plan, the default first, then the others by ID.
// Admin and officials.
func (r *Registry) Plans(ctx context.Context, actor *User) ([]*stats.Plan, error) {
	if err := requireRole(actor, RoleAdmin, RoleOfficial); err != nil {
		return nil, err
	}
	return r.stats.Plans(ctx)
}

// CreatePlan stores a new plan. Admin only. EINVALID for bad fields,
// ECONFLICT if the ID is taken (the built-in plan's included). With
// p.Default the new plan becomes the default.
func (r *Registry) CreatePlan(ctx context.Context, actor *User, p *stats.Plan) error {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return err
	}
	if err := planErr(stats.ValidatePlan(p)); err != nil {
		return err
	}
	if p.ID == stats.ElevenFiveYearPlanID {
		return Errorf(ECONFLICT, "plan %s is built in", p.ID)
	}
	if err := planErr(r.stats.CreatePlan(ctx, p, r.now().UTC())); err != nil {
		return err
	}
	r.audit(ctx, "plan.created", actor, "plan", p.ID, "default", p.Default)
	return nil
}

// UpdatePlan changes the name, end date and targets of the stored plan
// with p's ID; its default mark and creation time stay. Admin only.
// EINVALID for bad fields, EFORBIDDEN for the built-in plan (its targets
// are the 11th Five-Year Plan's, which do not change), ENOTFOUND if there
// is no such plan.
func (r *Registry) UpdatePlan(ctx context.Context, actor *User, p *stats.Plan) error {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return err
	}
	if strings.TrimSpace(p.ID) == stats.ElevenFiveYearPlanID {
		return Errorf(EFORBIDDEN, "plan %s is built in and cannot be changed; add a plan instead", stats.ElevenFiveYearPlanID)
	}
	err := r.stats.UpdatePlan(ctx, p)
	if errors.Is(err, stats.ErrNoPlan) {
		return Errorf(ENOTFOUND, "no plan %s", p.ID)
	}
	if err := planErr(err); err != nil {
		return err
	}
	r.audit(ctx, "plan.updated", actor, "plan", p.ID)
	return nil
}

// DeletePlan deletes a stored plan. Admin only. EFORBIDDEN for the
// built-in plan, ENOTFOUND if there is no such plan. When the default
// is deleted, the rule of Plan.Default picks the next one.
func (r *Registry) DeletePlan(ctx context.Context, actor *User, id string) error {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return err
	}
	if id == stats.ElevenFiveYearPlanID {
		return Errorf(EFORBIDDEN, "plan %s is built in and cannot be deleted", stats.ElevenFiveYearPlanID)
	}
	if err := r.stats.DeletePlan(ctx, id); err != nil {
		return err
	}
	r.audit(ctx, "plan.deleted", actor, "plan", id)
	return nil
}

// SetDefaultPlan makes the plan with the ID, the built-in one included,
// the one statistics are measured against when a query names none. Admin
// only. ENOTFOUND if there is no such plan.
func (r *Registry) SetDefaultPlan(ctx context.Context, actor *User, id string) error {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return err
	}
	if id == "" {
		return Errorf(ENOTFOUND, "no plan %q", id)
	}
	if err := r.stats.SetDefaultPlan(ctx, id); err != nil {
		return err
	}
	r.audit(ctx, "plan.default", actor, "plan", id)
	return nil
}

// planErr turns a plan's invalid field into EINVALID naming the field.
func planErr(err error) error {
	var pe *stats.PlanError
	if errors.As(err, &pe) {
		return FieldError(pe.Field, "%s", pe.Message)
	}
	return err
}

// CheckStats recomputes every counter and every holder's counted state
// from the certificates and compares (stats.Keeper.Check).
func (r *Registry) CheckStats(ctx context.Context, opts stats.CheckOptions) (*stats.CheckResult, error) {
	return r.stats.Check(ctx, opts)
}

// RecoverStats finishes the counter upkeep that writers left unfinished
// for longer than olderThan (stats.Keeper.Recover).
func (r *Registry) RecoverStats(ctx context.Context, olderThan time.Duration) (int, error) {
	return r.stats.Recover(ctx, olderThan)
}

// RunStatsRecovery calls RecoverStats with stats.Lease every interval
// until ctx ends, logging what it did. `skillreg serve` runs it.
func (r *Registry) RunStatsRecovery(ctx context.Context, every time.Duration) {
	r.stats.RunRecovery(ctx, every)
}
