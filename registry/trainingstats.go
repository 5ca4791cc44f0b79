package registry

import (
	"context"

	"github.com/skillreg/skillreg/registry/stats"
)

// TrainingStatsFor computes the training figures an official or the admin
// may see: a provincial official their province only, others any province
// or all ("" ). year "" is all years. The figures are summed in
// registry/stats (Keeper.TrainingStats).
func (r *Registry) TrainingStatsFor(ctx context.Context, actor *User, province, year string) (*stats.TrainingStats, error) {
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
	return r.stats.TrainingStats(ctx, province, year, trainingLabels())
}

// SumTrainingCounts adds up grouped counts into the statistics, with the
// domain's target groups and training types.
func SumTrainingCounts(counts []stats.TrainingCount, province, year string) *stats.TrainingStats {
	return stats.SumTrainingCounts(counts, province, year, trainingLabels())
}

// trainingLabels are the target groups and training types as the
// statistics name them.
func trainingLabels() stats.TrainingLabels {
	l := stats.TrainingLabels{NewLabour: GroupNewLabour}
	for _, g := range TargetGroups {
		l.Groups = append(l.Groups, stats.Label{Code: g.Code, Name: g.Name})
	}
	for _, t := range TrainingTypes {
		l.Types = append(l.Types, stats.Label{Code: t.Code, Name: t.Name})
	}
	return l
}
