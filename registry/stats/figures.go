package stats

import (
	"context"
	"sort"

	"github.com/skillreg/skillreg/registry/refdata"
)

// Filter selects the certificates and people figures are about, already
// checked by the domain; "" in a field is all of that dimension.
type Filter struct {
	Province string // 2-digit province code
	Category string // occupation major category, "1".."8"
	Channel  string // evaluation channel
}

// Shares are the high-skill shares of skilled workers, as fractions
// (0.05 is 5%).
type Shares struct {
	// Technician is levels 1 and 2 (高级技师 and 技师).
	Technician float64
	// SeniorWorker is level 3 (高级工).
	SeniorWorker float64
	// HighSkilled is levels 1, 2 and 3 (高技能人才).
	HighSkilled float64
}

// Progress is how far the figures are toward a plan's targets: each field
// is actual / target (1 or more means the target is met), and Met says so
// per target.
type Progress struct {
	// SkilledWorkers is skilled workers / the plan's total. It is only
	// given for the unfiltered national figures (nil otherwise): the
	// total target is a national one.
	SkilledWorkers *float64
	Technician     float64
	SeniorWorker   float64
	HighSkilled    float64
	Met            ProgressMet
}

// ProgressMet says which targets are met. SkilledWorkers is nil when the
// total target does not apply (see Progress).
type ProgressMet struct {
	SkilledWorkers *bool
	Technician     bool
	SeniorWorker   bool
	HighSkilled    bool
}

// Figures are the figures of one selection, levels keyed 1 to 5.
type Figures struct {
	SkilledWorkers      int64
	Certificates        int64
	RevokedCertificates int64
	ByLevel             map[int]int64 // skilled workers per tier; every level present
	CertificatesByLevel map[int]int64 // certificates per level; every level present
	Shares              Shares
	Progress            Progress
}

// ProvinceFigures are one province's figures.
type ProvinceFigures struct {
	Province string // 2-digit code
	Name     string // e.g. 广东省; the code again if unknown
	Figures
}

// TrendYear is one year of the trend: certificates issued that year per
// level, and skilled workers counted today whose tier certificate was
// issued that year, per tier.
type TrendYear struct {
	Year         int
	Certificates map[int]int64
	Workers      map[int]int64
}

// Figures returns the figures of the selection f against plan. The
// plan's total target applies to the unfiltered figures only.
func (k *Keeper) Figures(ctx context.Context, f Filter, plan *Plan) (Figures, error) {
	cells, err := k.store.StatsCells(ctx, cellFilter(f, false))
	if err != nil {
		return Figures{}, err
	}
	return figuresOf(cells, plan, f == Filter{}), nil
}

// ProvinceFigures returns one row per province: all 31 provinces of the
// reference data in code order, zeros included, then any other province
// code that certificates carry; with f.Province, that one row.
func (k *Keeper) ProvinceFigures(ctx context.Context, f Filter, plan *Plan) ([]ProvinceFigures, error) {
	cells, err := k.store.StatsCells(ctx, cellFilter(f, true))
	if err != nil {
		return nil, err
	}
	byProv := map[string][]Cell{}
	for _, c := range cells {
		byProv[c.Province] = append(byProv[c.Province], c)
	}
	var codes []string
	if f.Province != "" {
		codes = []string{f.Province}
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
	rows := make([]ProvinceFigures, 0, len(codes))
	for _, code := range codes {
		name, ok := refdata.ProvinceName(code)
		if !ok {
			name = code
		}
		rows = append(rows, ProvinceFigures{Province: code, Name: name, Figures: figuresOf(byProv[code], plan, false)})
	}
	return rows, nil
}

// Trend returns one row per year, in year order, from the earliest year
// with a certificate to the latest (years between without any are
// present with zeros).
func (k *Keeper) Trend(ctx context.Context, f Filter) ([]TrendYear, error) {
	cf := cellFilter(f, false)
	cf.Years = true
	cells, err := k.store.StatsCells(ctx, cf)
	if err != nil {
		return nil, err
	}
	byYear := map[int]*TrendYear{}
	first, last := 0, 0
	for _, c := range cells {
		if c.Kind == CellRevoked || c.N == 0 {
			continue
		}
		row := byYear[c.Year]
		if row == nil {
			row = newTrendYear(c.Year)
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
		case CellWorkers:
			row.Workers[c.Level] += c.N
		}
	}
	rows := []TrendYear{}
	for y := first; first != 0 && y <= last; y++ {
		if row, ok := byYear[y]; ok {
			rows = append(rows, *row)
		} else {
			rows = append(rows, *newTrendYear(y))
		}
	}
	return rows, nil
}

func newTrendYear(year int) *TrendYear {
	row := &TrendYear{Year: year, Certificates: map[int]int64{}, Workers: map[int]int64{}}
	for _, l := range Levels {
		row.Certificates[l] = 0
		row.Workers[l] = 0
	}
	return row
}

// cellFilter is the counter rollup that answers f: a field left empty
// reads the "all" rollup of that dimension.
func cellFilter(f Filter, perProvince bool) CellFilter {
	cf := CellFilter{Province: CellAll, Category: CellAll, Channel: CellAll, PerProvince: perProvince}
	if f.Province != "" {
		cf.Province = f.Province
	}
	if f.Category != "" {
		cf.Category = f.Category
	}
	if f.Channel != "" {
		cf.Channel = f.Channel
	}
	return cf
}

// figuresOf sums cells (all of one rollup) into figures measured against
// plan. withTotal says whether the plan's total applies.
func figuresOf(cells []Cell, plan *Plan, withTotal bool) Figures {
	f := Figures{ByLevel: map[int]int64{}, CertificatesByLevel: map[int]int64{}}
	for _, l := range Levels {
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
		f.Shares.Technician = float64(f.ByLevel[1]+f.ByLevel[2]) / sw
		f.Shares.SeniorWorker = float64(f.ByLevel[3]) / sw
		f.Shares.HighSkilled = float64(f.ByLevel[1]+f.ByLevel[2]+f.ByLevel[3]) / sw
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
