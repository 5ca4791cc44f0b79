package registry

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PlanTargets are a plan's targets. Shares are fractions of skilled
// workers (0.05 is 5%).
type PlanTargets struct {
	// SkilledWorkers is the total number of skilled workers aimed at.
	SkilledWorkers int64 `json:"skilled_workers"`
	// Technician is the share of levels 1 and 2 (技师 and 高级技师).
	Technician float64 `json:"technician"`
	// SeniorWorker is the share of level 3 (高级工).
	SeniorWorker float64 `json:"senior_worker"`
	// HighSkilled is the share of levels 1 to 3 (高技能人才).
	HighSkilled float64 `json:"high_skilled"`
}

// Plan is a development plan whose targets the statistics are measured
// against. Targets are data: a later plan is added by an admin, never
// written into code.
type Plan struct {
	ID      string      `json:"id"`       // short, URL-safe: [a-z0-9-], 2-40 characters
	Name    string      `json:"name"`     // e.g. 国家"十一五"规划 (2006-2010)
	EndDate string      `json:"end_date"` // YYYY-MM-DD, when the targets are due
	Targets PlanTargets `json:"targets"`
	// Default marks the plan used when a query names none. The default
	// is the most recently created plan marked Default, and the built-in
	// 11th Five-Year Plan when there is none.
	Default   bool      `json:"default"`
	BuiltIn   bool      `json:"built_in"`
	CreatedAt time.Time `json:"created_at,omitzero"` // absent for the built-in plan
}

// ElevenFiveYearPlanID is the ID of the built-in plan.
const ElevenFiveYearPlanID = "11th-five-year"

// elevenFiveYearPlan returns the built-in plan: the targets of the 11th
// Five-Year Plan for labour and social security (2006-2010), section
// 四(二)2 of seed/labour-security-11th-five-year-plan.txt.
func elevenFiveYearPlan() *Plan {
	return &Plan{
		ID:      ElevenFiveYearPlanID,
		Name:    "劳动和社会保障事业发展“十一五”规划 (2006-2010)",
		EndDate: "2010-12-31",
		Targets: PlanTargets{SkilledWorkers: 110_000_000, Technician: 0.05, SeniorWorker: 0.20, HighSkilled: 0.25},
		Default: true,
		BuiltIn: true,
	}
}

// validate checks a plan an admin sends.
func (p *Plan) validate() error {
	p.ID = strings.TrimSpace(p.ID)
	if n := len(p.ID); n < 2 || n > 40 || strings.Trim(p.ID, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return FieldError("id", "a plan id has 2-40 characters: lower-case letters, digits and '-'")
	}
	p.Name = strings.TrimSpace(p.Name)
	if n := utf8.RuneCountInString(p.Name); n == 0 || n > 200 {
		return FieldError("name", "a plan needs a name of at most 200 characters")
	}
	if strings.IndexFunc(p.Name, unicode.IsControl) >= 0 {
		return FieldError("name", "a plan name may not contain control characters (line breaks, tabs)")
	}
	if _, err := time.Parse("2006-01-02", p.EndDate); err != nil {
		return FieldError("end_date", "end_date must be a date YYYY-MM-DD")
	}
	t := p.Targets
	if t.SkilledWorkers < 0 {
		return FieldError("targets.skilled_workers", "skilled_workers cannot be negative")
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"technician", t.Technician}, {"senior_worker", t.SeniorWorker}, {"high_skilled", t.HighSkilled}} {
		if !(s.v >= 0 && s.v <= 1) {
			return FieldError("targets."+s.name, "%s is a share of skilled workers, from 0 to 1 (0.05 is 5%%)", s.name)
		}
	}
	if t.Technician+t.SeniorWorker > t.HighSkilled+1e-9 && t.HighSkilled != 0 {
		return FieldError("targets.high_skilled", "high_skilled covers levels 1 to 3, so it cannot be below technician + senior_worker")
	}
	return nil
}

// Plans returns every plan, the default first, then the others by ID.
// Admin and officials.
func (r *Registry) Plans(ctx context.Context, actor *User) ([]*Plan, error) {
	if err := requireRole(actor, RoleAdmin, RoleOfficial); err != nil {
		return nil, err
	}
	return r.plans(ctx)
}

// CreatePlan stores a new plan. Admin only. EINVALID for bad fields,
// ECONFLICT if the ID is taken (the built-in plan's included). With
// p.Default the new plan becomes the default.
func (r *Registry) CreatePlan(ctx context.Context, actor *User, p *Plan) error {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return err
	}
	if p.ID == ElevenFiveYearPlanID {
		return Errorf(ECONFLICT, "plan %s is built in", p.ID)
	}
	p.BuiltIn = false
	p.CreatedAt = r.now().UTC()
	if err := r.storePlan(ctx, p); err != nil {
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
func (r *Registry) UpdatePlan(ctx context.Context, actor *User, p *Plan) error {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return err
	}
	if strings.TrimSpace(p.ID) == ElevenFiveYearPlanID {
		return Errorf(EFORBIDDEN, "plan %s is built in and cannot be changed; add a plan instead", ElevenFiveYearPlanID)
	}
	if err := p.validate(); err != nil {
		return err
	}
	old, err := r.storedPlan(ctx, p.ID)
	if err != nil {
		return err
	}
	p.Default, p.CreatedAt, p.BuiltIn = old.Default, old.CreatedAt, false
	if err := r.store.UpdatePlan(ctx, p); err != nil {
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
	if id == ElevenFiveYearPlanID {
		return Errorf(EFORBIDDEN, "plan %s is built in and cannot be deleted", ElevenFiveYearPlanID)
	}
	if err := r.store.DeletePlan(ctx, id); err != nil {
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
	stored := id
	if id == ElevenFiveYearPlanID {
		stored = "" // the built-in plan is the default when no stored plan is marked
	} else if id == "" {
		return Errorf(ENOTFOUND, "no plan %q", id)
	}
	if err := r.store.SetDefaultPlan(ctx, stored); err != nil {
		return err
	}
	r.audit(ctx, "plan.default", actor, "plan", id)
	return nil
}

// storedPlan returns the stored plan with the ID; ENOTFOUND if none.
func (r *Registry) storedPlan(ctx context.Context, id string) (*Plan, error) {
	list, err := r.storedPlans(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.ID == id {
			return p, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "no plan %s", id)
}

// plan returns the plan with the ID, or the default for "". EINVALID
// naming the field "plan" if there is no such plan.
func (r *Registry) plan(ctx context.Context, id string) (*Plan, error) {
	list, err := r.plans(ctx)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return list[0], nil
	}
	for _, p := range list {
		if p.ID == id {
			return p, nil
		}
	}
	return nil, FieldError("plan", "there is no plan %q", id)
}

// plans returns the built-in plan and the stored ones, the default first.
func (r *Registry) plans(ctx context.Context) ([]*Plan, error) {
	stored, err := r.storedPlans(ctx)
	if err != nil {
		return nil, err
	}
	builtIn := elevenFiveYearPlan()
	all := append([]*Plan{builtIn}, stored...)
	var def *Plan
	for _, p := range stored {
		if p.Default && (def == nil || p.CreatedAt.After(def.CreatedAt) || (p.CreatedAt.Equal(def.CreatedAt) && p.ID > def.ID)) {
			def = p
		}
	}
	if def == nil {
		def = builtIn
	}
	out := []*Plan{def}
	rest := []*Plan{}
	for _, p := range all {
		if p != def {
			p.Default = false
			rest = append(rest, p)
		}
	}
	sortPlans(rest)
	return append(out, rest...), nil
}

func sortPlans(ps []*Plan) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].ID < ps[j-1].ID; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func (r *Registry) storePlan(ctx context.Context, p *Plan) error {
	return r.store.CreatePlan(ctx, p)
}

func (r *Registry) storedPlans(ctx context.Context) ([]*Plan, error) {
	return r.store.Plans(ctx)
}
