package registry

import (
	"context"
	"sort"
)

// TrainingPlan is a plan's target for pre-employment training. Targets are
// data, versioned by plan, never constants in the code that computes.
type TrainingPlan struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// PreEmploymentShare is the share of 新成长劳动力 to be trained before
	// employment (劳动预备制度).
	PreEmploymentShare float64 `json:"pre_employment_share"`
}

// TrainingPlans are the known plans, newest last. The 11th Five-Year Plan
// (section 四(二)2) asks for 90% and more.
var TrainingPlans = []TrainingPlan{
	{ID: "2006-2010", Name: "劳动和社会保障事业发展“十一五”规划", PreEmploymentShare: 0.90},
}

// TrainingBucket is the records of one value of a breakdown.
type TrainingBucket struct {
	Key       string `json:"key"`
	Name      string `json:"name,omitempty"`
	Records   int    `json:"records"`
	Completed int    `json:"completed"`
	Certified int    `json:"certified"`
}

// Rate is a share with the counts it comes from; Value is nil when the
// denominator is 0.
type Rate struct {
	Numerator   int      `json:"numerator"`
	Denominator int      `json:"denominator"`
	Value       *float64 `json:"value"`
}

func rate(n, d int) Rate {
	r := Rate{Numerator: n, Denominator: d}
	if d > 0 {
		v := float64(n) / float64(d)
		r.Value = &v
	}
	return r
}

// TrainingStats are the training figures for officials. Records are
// counted as person-times (人次): a trainee in two classes counts twice.
// Year is the course's start year.
type TrainingStats struct {
	Province      string           `json:"province,omitempty"`
	Year          string           `json:"year,omitempty"`
	Records       int              `json:"records"`
	ByTargetGroup []TrainingBucket `json:"by_target_group"`
	ByType        []TrainingBucket `json:"by_training_type"`
	ByProvince    []TrainingBucket `json:"by_province"`
	ByYear        []TrainingBucket `json:"by_year"`
	// Completion is completed records / all records.
	Completion Rate `json:"completion_rate"`
	// Certification is records with a certificate number / completed
	// records.
	Certification Rate `json:"certification_rate"`
	// PreEmployment is, among new_labour records whose trainee is known to
	// have found a job (employed_within_6_months true), the share whose
	// course was completed: those were trained before taking the job.
	// New labour employed without any training is not in the registry, so
	// this is the share among the trainees the registry knows, not among
	// all new labour.
	PreEmployment Rate         `json:"pre_employment_rate"`
	Plan          TrainingPlan `json:"plan"`
	// PreEmploymentMet reports whether PreEmployment reaches the plan's
	// share (false when there is nothing to measure).
	PreEmploymentMet bool `json:"pre_employment_met"`
}

// TrainingStatsFor computes the training figures an official or the admin
// may see: a provincial official their province only, others any province
// or all ("" ). year "" is all years. The store groups the records in one
// aggregate query (TrainingCounts); this method adds the groups up.
func (r *Registry) TrainingStatsFor(ctx context.Context, actor *User, province, year string) (*TrainingStats, error) {
	if err := requireRole(actor, RoleAdmin, RoleOfficial); err != nil {
		return nil, err
	}
	if actor.Role == RoleOfficial && actor.Province != "" {
		if province != "" && province != actor.Province {
			return nil, Errorf(EFORBIDDEN, "you may see the statistics of province %s only", actor.Province)
		}
		province = actor.Province
	}
	if province != "" && (len(province) != 2 || !allDigits(province)) {
		return nil, FieldError("province", "province must be a 2-digit province code")
	}
	if year != "" && (len(year) != 4 || !allDigits(year)) {
		return nil, FieldError("year", "year must have 4 digits")
	}
	counts, err := r.store.TrainingCounts(ctx, TrainingCountFilter{Province: province, Year: year})
	if err != nil {
		return nil, err
	}
	return SumTrainingCounts(counts, province, year), nil
}

// SumTrainingCounts adds up grouped counts into the statistics.
func SumTrainingCounts(counts []TrainingCount, province, year string) *TrainingStats {
	st := &TrainingStats{Province: province, Year: year, Plan: TrainingPlans[len(TrainingPlans)-1]}
	groups, types, provinces, years := map[string]*TrainingBucket{}, map[string]*TrainingBucket{}, map[string]*TrainingBucket{}, map[string]*TrainingBucket{}
	for _, g := range TargetGroups {
		groups[g.Code] = &TrainingBucket{Key: g.Code, Name: g.Name}
	}
	for _, t := range TrainingTypes {
		types[t.Code] = &TrainingBucket{Key: t.Code, Name: t.Name}
	}
	bucket := func(m map[string]*TrainingBucket, key string, c TrainingCount) {
		b, ok := m[key]
		if !ok {
			b = &TrainingBucket{Key: key}
			m[key] = b
		}
		b.Records += c.Records
		if c.Completed {
			b.Completed += c.Records
		}
		if c.Certified {
			b.Certified += c.Records
		}
	}
	var completed, certified, nlEmployed, nlTrained int
	for _, c := range counts {
		st.Records += c.Records
		bucket(groups, c.TargetGroup, c)
		bucket(types, c.TrainingType, c)
		bucket(provinces, c.Province, c)
		bucket(years, c.Year, c)
		if c.Completed {
			completed += c.Records
			if c.Certified {
				certified += c.Records
			}
		}
		if c.TargetGroup == GroupNewLabour && c.Employed != nil && *c.Employed {
			nlEmployed += c.Records
			if c.Completed {
				nlTrained += c.Records
			}
		}
	}
	st.Completion = rate(completed, st.Records)
	st.Certification = rate(certified, completed)
	st.PreEmployment = rate(nlTrained, nlEmployed)
	st.PreEmploymentMet = st.PreEmployment.Value != nil && *st.PreEmployment.Value >= st.Plan.PreEmploymentShare
	for _, g := range TargetGroups {
		st.ByTargetGroup = append(st.ByTargetGroup, *groups[g.Code])
	}
	for _, t := range TrainingTypes {
		st.ByType = append(st.ByType, *types[t.Code])
	}
	st.ByProvince = sorted(provinces)
	st.ByYear = sorted(years)
	return st
}

func sorted(m map[string]*TrainingBucket) []TrainingBucket {
	out := make([]TrainingBucket, 0, len(m))
	for _, b := range m {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
