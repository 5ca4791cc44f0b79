package handlers

import (
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// The JSON of the statistics and plan routes. Each type mirrors one
// result of the statistics code field for field, with its wire names
// here, so that the domain types are free to change shape without
// changing the API.

// statsQueryJSON is the selection a statistics answer is about, as it was
// answered (narrowed to their province for a provincial official).
type statsQueryJSON struct {
	Province   string           `json:"province,omitempty"`
	Occupation string           `json:"occupation,omitempty"`
	Channel    registry.Channel `json:"channel,omitempty"`
	Plan       string           `json:"plan,omitempty"`
}

func toStatsQueryJSON(q registry.StatsQuery) statsQueryJSON {
	return statsQueryJSON{Province: q.Province, Occupation: q.Occupation, Channel: q.Channel, Plan: q.Plan}
}

// planTargetsJSON are a plan's targets, as sent and answered; shares
// are fractions.
type planTargetsJSON struct {
	SkilledWorkers int64   `json:"skilled_workers"`
	Technician     float64 `json:"technician"`
	SeniorWorker   float64 `json:"senior_worker"`
	HighSkilled    float64 `json:"high_skilled"`
}

func toPlanTargetsJSON(t stats.PlanTargets) planTargetsJSON {
	return planTargetsJSON{SkilledWorkers: t.SkilledWorkers, Technician: t.Technician,
		SeniorWorker: t.SeniorWorker, HighSkilled: t.HighSkilled}
}

// targets converts targets an admin sent.
func (t planTargetsJSON) targets() stats.PlanTargets {
	return stats.PlanTargets{SkilledWorkers: t.SkilledWorkers, Technician: t.Technician,
		SeniorWorker: t.SeniorWorker, HighSkilled: t.HighSkilled}
}

// planJSON is a development plan; created_at is absent for the built-in
// plan.
type planJSON struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	EndDate   string          `json:"end_date"`
	Targets   planTargetsJSON `json:"targets"`
	Default   bool            `json:"default"`
	BuiltIn   bool            `json:"built_in"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
}

func toPlanJSON(p *stats.Plan) planJSON {
	return planJSON{ID: p.ID, Name: p.Name, EndDate: p.EndDate, Targets: toPlanTargetsJSON(p.Targets),
		Default: p.Default, BuiltIn: p.BuiltIn, CreatedAt: p.CreatedAt}
}

// optionalPlanJSON converts a plan that may be absent (null).
func optionalPlanJSON(p *stats.Plan) *planJSON {
	if p == nil {
		return nil
	}
	out := toPlanJSON(p)
	return &out
}

// sharesJSON are the high-skill shares of skilled workers.
type sharesJSON struct {
	Technician   float64 `json:"technician"`
	SeniorWorker float64 `json:"senior_worker"`
	HighSkilled  float64 `json:"high_skilled"`
}

// progressJSON is actual / target per target; skilled_workers is null
// where the total target does not apply.
type progressJSON struct {
	SkilledWorkers *float64        `json:"skilled_workers"`
	Technician     float64         `json:"technician"`
	SeniorWorker   float64         `json:"senior_worker"`
	HighSkilled    float64         `json:"high_skilled"`
	Met            progressMetJSON `json:"met"`
}

// progressMetJSON says which targets are met.
type progressMetJSON struct {
	SkilledWorkers *bool `json:"skilled_workers"`
	Technician     bool  `json:"technician"`
	SeniorWorker   bool  `json:"senior_worker"`
	HighSkilled    bool  `json:"high_skilled"`
}

// tierFiguresJSON are the figures of one selection; the per-level maps
// have the keys "1" to "5".
type tierFiguresJSON struct {
	SkilledWorkers      int64                    `json:"skilled_workers"`
	Certificates        int64                    `json:"certificates"`
	RevokedCertificates int64                    `json:"revoked_certificates"`
	ByLevel             map[registry.Level]int64 `json:"by_level"`
	CertificatesByLevel map[registry.Level]int64 `json:"certificates_by_level"`
	Shares              sharesJSON               `json:"shares"`
	Progress            progressJSON             `json:"progress"`
}

func toTierFiguresJSON(f registry.TierFigures) tierFiguresJSON {
	p := f.Progress
	return tierFiguresJSON{
		SkilledWorkers: f.SkilledWorkers, Certificates: f.Certificates, RevokedCertificates: f.RevokedCertificates,
		ByLevel: f.ByLevel, CertificatesByLevel: f.CertificatesByLevel,
		Shares: sharesJSON{Technician: f.Shares.Technician, SeniorWorker: f.Shares.SeniorWorker, HighSkilled: f.Shares.HighSkilled},
		Progress: progressJSON{
			SkilledWorkers: p.SkilledWorkers, Technician: p.Technician, SeniorWorker: p.SeniorWorker, HighSkilled: p.HighSkilled,
			Met: progressMetJSON{SkilledWorkers: p.Met.SkilledWorkers, Technician: p.Met.Technician,
				SeniorWorker: p.Met.SeniorWorker, HighSkilled: p.Met.HighSkilled},
		},
	}
}

// tierStatsJSON is the JSON of GET /api/v1/stats/tiers: the figures, then
// the selection, the plan they are measured against and when they were
// read.
type tierStatsJSON struct {
	tierFiguresJSON
	Query   statsQueryJSON  `json:"query"`
	Targets planTargetsJSON `json:"targets"`
	Plan    *planJSON       `json:"plan"`
	AsOf    time.Time       `json:"as_of"`
}

func toTierStatsJSON(st *registry.TierStats) tierStatsJSON {
	return tierStatsJSON{tierFiguresJSON: toTierFiguresJSON(st.TierFigures), Query: toStatsQueryJSON(st.Query),
		Targets: toPlanTargetsJSON(st.Targets), Plan: optionalPlanJSON(st.Plan), AsOf: st.AsOf}
}

// provinceRowJSON is one province's figures.
type provinceRowJSON struct {
	Province string `json:"province"`
	Name     string `json:"name"`
	tierFiguresJSON
}

// provinceTableJSON is the JSON of GET /api/v1/stats/provinces.
type provinceTableJSON struct {
	Query   statsQueryJSON    `json:"query"`
	Targets planTargetsJSON   `json:"targets"`
	Plan    *planJSON         `json:"plan"`
	AsOf    time.Time         `json:"as_of"`
	Rows    []provinceRowJSON `json:"rows"`
}

func toProvinceTableJSON(t *registry.ProvinceTable) provinceTableJSON {
	out := provinceTableJSON{Query: toStatsQueryJSON(t.Query), Targets: toPlanTargetsJSON(t.Targets),
		Plan: optionalPlanJSON(t.Plan), AsOf: t.AsOf}
	if t.Rows != nil {
		out.Rows = make([]provinceRowJSON, len(t.Rows))
		for i, r := range t.Rows {
			out.Rows[i] = provinceRowJSON{Province: r.Province, Name: r.Name, tierFiguresJSON: toTierFiguresJSON(r.TierFigures)}
		}
	}
	return out
}

// trendRowJSON is one year of the trend.
type trendRowJSON struct {
	Year              int                      `json:"year"`
	Certificates      map[registry.Level]int64 `json:"certificates"`
	CertificatesTotal int64                    `json:"certificates_total"`
	Workers           map[registry.Level]int64 `json:"workers"`
	WorkersTotal      int64                    `json:"workers_total"`
}

// trendResponse is the JSON of GET /api/v1/stats/trend.
type trendResponse struct {
	By    string         `json:"by"`
	Query statsQueryJSON `json:"query"`
	AsOf  time.Time      `json:"as_of"`
	Rows  []trendRowJSON `json:"rows"`
}

func toTrendResponse(tt *registry.TrendTable, rows []registry.TrendRow) trendResponse {
	out := trendResponse{By: "year", Query: toStatsQueryJSON(tt.Query), AsOf: tt.AsOf}
	if rows != nil {
		out.Rows = make([]trendRowJSON, len(rows))
	}
	for i, r := range rows {
		out.Rows[i] = trendRowJSON{Year: r.Year, Certificates: r.Certificates, CertificatesTotal: r.CertificatesTotal,
			Workers: r.Workers, WorkersTotal: r.WorkersTotal}
	}
	return out
}

// trainingPlanJSON is a plan's pre-employment training target.
type trainingPlanJSON struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	PreEmploymentShare float64 `json:"pre_employment_share"`
}

// trainingBucketJSON is the records of one value of a breakdown.
type trainingBucketJSON struct {
	Key       string `json:"key"`
	Name      string `json:"name,omitempty"`
	Records   int    `json:"records"`
	Completed int    `json:"completed"`
	Certified int    `json:"certified"`
}

func toTrainingBucketsJSON(list []stats.TrainingBucket) []trainingBucketJSON {
	if list == nil {
		return nil
	}
	out := make([]trainingBucketJSON, len(list))
	for i, b := range list {
		out[i] = trainingBucketJSON{Key: b.Key, Name: b.Name, Records: b.Records, Completed: b.Completed, Certified: b.Certified}
	}
	return out
}

// rateJSON is a share with the counts it comes from; value is null when
// the denominator is 0.
type rateJSON struct {
	Numerator   int      `json:"numerator"`
	Denominator int      `json:"denominator"`
	Value       *float64 `json:"value"`
}

func toRateJSON(r stats.Rate) rateJSON {
	return rateJSON{Numerator: r.Numerator, Denominator: r.Denominator, Value: r.Value}
}

// trainingStatsJSON is the JSON of GET /api/v1/stats/training.
type trainingStatsJSON struct {
	Province         string               `json:"province,omitempty"`
	Year             string               `json:"year,omitempty"`
	Records          int                  `json:"records"`
	ByTargetGroup    []trainingBucketJSON `json:"by_target_group"`
	ByType           []trainingBucketJSON `json:"by_training_type"`
	ByProvince       []trainingBucketJSON `json:"by_province"`
	ByYear           []trainingBucketJSON `json:"by_year"`
	Completion       rateJSON             `json:"completion_rate"`
	Certification    rateJSON             `json:"certification_rate"`
	PreEmployment    rateJSON             `json:"pre_employment_rate"`
	Plan             trainingPlanJSON     `json:"plan"`
	PreEmploymentMet bool                 `json:"pre_employment_met"`
}

func toTrainingStatsJSON(st *stats.TrainingStats) trainingStatsJSON {
	return trainingStatsJSON{
		Province: st.Province, Year: st.Year, Records: st.Records,
		ByTargetGroup: toTrainingBucketsJSON(st.ByTargetGroup), ByType: toTrainingBucketsJSON(st.ByType),
		ByProvince: toTrainingBucketsJSON(st.ByProvince), ByYear: toTrainingBucketsJSON(st.ByYear),
		Completion: toRateJSON(st.Completion), Certification: toRateJSON(st.Certification),
		PreEmployment:    toRateJSON(st.PreEmployment),
		Plan:             trainingPlanJSON{ID: st.Plan.ID, Name: st.Plan.Name, PreEmploymentShare: st.Plan.PreEmploymentShare},
		PreEmploymentMet: st.PreEmploymentMet,
	}
}
