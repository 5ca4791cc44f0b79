package stats

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PlanTargets are a plan's targets. Shares are fractions of skilled
// workers (0.05 is 5%).
type PlanTargets struct {
	// SkilledWorkers is the total number of skilled workers aimed at.
	SkilledWorkers int64
	// Technician is the share of levels 1 and 2 (技师 and 高级技师).
	Technician float64
	// SeniorWorker is the share of level 3 (高级工).
	SeniorWorker float64
	// HighSkilled is the share of levels 1 to 3 (高技能人才).
	HighSkilled float64
}

// Plan is a development plan whose targets the statistics are measured
// against. Targets are data: a later plan is added by an admin, never
// written into code.
type Plan struct {
	ID      string // short, URL-safe: [a-z0-9-], 2-40 characters
	Name    string // e.g. 国家"十一五"规划 (2006-2010)
	EndDate string // YYYY-MM-DD, when the targets are due
	Targets PlanTargets
	// Default marks the plan used when a query names none. The default
	// is the most recently created plan marked Default, and the built-in
	// 11th Five-Year Plan when there is none.
	Default   bool
	BuiltIn   bool
	CreatedAt time.Time // zero for the built-in plan
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

// ErrNoPlan is the error of a plan ID that names no plan.
var ErrNoPlan = errors.New("stats: no such plan")

// PlanError is a plan field that is not valid: the field's JSON name
// ("id", "targets.technician", ...) and what is wrong with it.
type PlanError struct {
	Field   string
	Message string
}

func (e *PlanError) Error() string { return e.Field + ": " + e.Message }

func planError(field, format string, args ...any) error {
	return &PlanError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ValidatePlan checks and trims a plan an admin sends; the error is a
// *PlanError.
func ValidatePlan(p *Plan) error {
	p.ID = strings.TrimSpace(p.ID)
	if n := len(p.ID); n < 2 || n > 40 || strings.Trim(p.ID, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return planError("id", "a plan id has 2-40 characters: lower-case letters, digits and '-'")
	}
	p.Name = strings.TrimSpace(p.Name)
	if n := utf8.RuneCountInString(p.Name); n == 0 || n > 200 {
		return planError("name", "a plan needs a name of at most 200 characters")
	}
	if strings.IndexFunc(p.Name, unicode.IsControl) >= 0 {
		return planError("name", "a plan name may not contain control characters (line breaks, tabs)")
	}
	if _, err := time.Parse("2006-01-02", p.EndDate); err != nil {
		return planError("end_date", "end_date must be a date YYYY-MM-DD")
	}
	t := p.Targets
	if t.SkilledWorkers < 0 {
		return planError("targets.skilled_workers", "skilled_workers cannot be negative")
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"technician", t.Technician}, {"senior_worker", t.SeniorWorker}, {"high_skilled", t.HighSkilled}} {
		if !(s.v >= 0 && s.v <= 1) {
			return planError("targets."+s.name, "%s is a share of skilled workers, from 0 to 1 (0.05 is 5%%)", s.name)
		}
	}
	if t.Technician+t.SeniorWorker > t.HighSkilled+1e-9 && t.HighSkilled != 0 {
		return planError("targets.high_skilled", "high_skilled covers levels 1 to 3, so it cannot be below technician + senior_worker")
	}
	return nil
}

// Plans returns the built-in plan and the stored ones, the default first,
// then the others by ID.
func (k *Keeper) Plans(ctx context.Context) ([]*Plan, error) {
	stored, err := k.store.Plans(ctx)
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

// Plan returns the plan with the ID, or the default for "". ErrNoPlan if
// there is no such plan.
func (k *Keeper) Plan(ctx context.Context, id string) (*Plan, error) {
	list, err := k.Plans(ctx)
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
	return nil, ErrNoPlan
}

// CreatePlan stores a new plan, validated by ValidatePlan, created at at.
// The built-in plan's ID is the store's ECONFLICT too, but the domain
// refuses it first.
func (k *Keeper) CreatePlan(ctx context.Context, p *Plan, at time.Time) error {
	if err := ValidatePlan(p); err != nil {
		return err
	}
	p.BuiltIn = false
	p.CreatedAt = at
	return k.store.CreatePlan(ctx, p)
}

// UpdatePlan changes the name, end date and targets of the stored plan
// with p's ID, validated by ValidatePlan; its default mark and creation
// time stay. ErrNoPlan if there is no such stored plan.
func (k *Keeper) UpdatePlan(ctx context.Context, p *Plan) error {
	if err := ValidatePlan(p); err != nil {
		return err
	}
	stored, err := k.store.Plans(ctx)
	if err != nil {
		return err
	}
	var old *Plan
	for _, s := range stored {
		if s.ID == p.ID {
			old = s
		}
	}
	if old == nil {
		return ErrNoPlan
	}
	p.Default, p.CreatedAt, p.BuiltIn = old.Default, old.CreatedAt, false
	return k.store.UpdatePlan(ctx, p)
}

// DeletePlan deletes a stored plan; the store's ENOTFOUND if there is
// none.
func (k *Keeper) DeletePlan(ctx context.Context, id string) error {
	return k.store.DeletePlan(ctx, id)
}

// SetDefaultPlan makes the plan with the ID, the built-in one included,
// the default; the store's ENOTFOUND if there is no such stored plan.
func (k *Keeper) SetDefaultPlan(ctx context.Context, id string) error {
	if id == ElevenFiveYearPlanID {
		id = "" // the built-in plan is the default when no stored plan is marked
	}
	return k.store.SetDefaultPlan(ctx, id)
}

func sortPlans(ps []*Plan) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].ID < ps[j-1].ID; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
