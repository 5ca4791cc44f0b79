package stats

// Training statistics: person-times (人次) of training records, summed
// from the store's grouped counts. doc.go says why they are not kept in
// counters as the certificates' figures are.

import (
	"context"
	"sort"
)

// TrainingCountFilter selects the records TrainingCounts groups.
type TrainingCountFilter struct {
	Province string // "" for all
	Year     string // "" for all
}

// TrainingCount is one group of records with the same province, start
// year, target group, training type, completion, certification and
// employment.
type TrainingCount struct {
	Province     string
	Year         string
	TargetGroup  string
	TrainingType string
	Completed    bool
	Certified    bool  // has a certificate number
	Employed     *bool // nil: not known
	Records      int
}

// TrainingCountStore groups the training records for the statistics.
type TrainingCountStore interface {
	// TrainingCounts groups the records matching f by province, start
	// year, target group, training type, completed, certified and employed.
	TrainingCounts(ctx context.Context, f TrainingCountFilter) ([]TrainingCount, error)
}

// Label is a code with its Chinese name.
type Label struct {
	Code string
	Name string
}

// TrainingLabels are the domain's target groups and training types, in
// display order, and the code of the group whose pre-employment share the
// plan measures (新成长劳动力).
type TrainingLabels struct {
	Groups    []Label
	Types     []Label
	NewLabour string
}

// TrainingPlan is a plan's target for pre-employment training. Targets are
// data, versioned by plan, never constants in the code that computes.
type TrainingPlan struct {
	ID   string
	Name string
	// PreEmploymentShare is the share of 新成长劳动力 to be trained before
	// employment (劳动预备制度).
	PreEmploymentShare float64
}

// TrainingPlans are the known plans, newest last. The 11th Five-Year Plan
// (section 四(二)2) asks for 90% and more.
var TrainingPlans = []TrainingPlan{
	{ID: "2006-2010", Name: "劳动和社会保障事业发展“十一五”规划", PreEmploymentShare: 0.90},
}

// TrainingBucket is the records of one value of a breakdown.
type TrainingBucket struct {
	Key       string
	Name      string
	Records   int
	Completed int
	Certified int
}

// Rate is a share with the counts it comes from; Value is nil when the
// denominator is 0.
type Rate struct {
	Numerator   int
	Denominator int
	Value       *float64
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
	Province      string
	Year          string
	Records       int
	ByTargetGroup []TrainingBucket
	ByType        []TrainingBucket
	ByProvince    []TrainingBucket
	ByYear        []TrainingBucket
	// Completion is completed records / all records.
	Completion Rate
	// Certification is records with a certificate number / completed
	// records.
	Certification Rate
	// PreEmployment is, among new_labour records whose trainee is known to
	// have found a job (employed_within_6_months true), the share whose
	// course was completed: those were trained before taking the job.
	// New labour employed without any training is not in the registry, so
	// this is the share among the trainees the registry knows, not among
	// all new labour.
	PreEmployment Rate
	Plan          TrainingPlan
	// PreEmploymentMet reports whether PreEmployment reaches the plan's
	// share (false when there is nothing to measure).
	PreEmploymentMet bool
}

// TrainingStats returns the training figures of the records of a province
// ("" for all) and start year ("" for all), both checked by the domain:
// the store groups the records in one aggregate query and the groups are
// added up here.
func (k *Keeper) TrainingStats(ctx context.Context, province, year string, labels TrainingLabels) (*TrainingStats, error) {
	counts, err := k.store.TrainingCounts(ctx, TrainingCountFilter{Province: province, Year: year})
	if err != nil {
		return nil, err
	}
	return SumTrainingCounts(counts, province, year, labels), nil
}

// SumTrainingCounts adds up grouped counts into the statistics: one
// bucket per target group and training type of labels (zeros included, in
// their order), per province and per year (those with records, in code
// order).
func SumTrainingCounts(counts []TrainingCount, province, year string, labels TrainingLabels) *TrainingStats {
	st := &TrainingStats{Province: province, Year: year, Plan: TrainingPlans[len(TrainingPlans)-1]}
	groups, types, provinces, years := map[string]*TrainingBucket{}, map[string]*TrainingBucket{}, map[string]*TrainingBucket{}, map[string]*TrainingBucket{}
	for _, g := range labels.Groups {
		groups[g.Code] = &TrainingBucket{Key: g.Code, Name: g.Name}
	}
	for _, t := range labels.Types {
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
		if c.TargetGroup == labels.NewLabour && c.Employed != nil && *c.Employed {
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
	for _, g := range labels.Groups {
		st.ByTargetGroup = append(st.ByTargetGroup, *groups[g.Code])
	}
	for _, t := range labels.Types {
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
