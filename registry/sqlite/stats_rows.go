package sqlite

// The stored forms of the statistics: plans and counter ops are stored
// as JSON in a body column, and a holder's counted certificates as JSON
// in stats_holders.certs. Their keys, and which of them are left out
// when empty, are a stored format: a key changes only with a migration
// of the stored data (TestStatsStoredFormat pins them).

import (
	"encoding/json"
	"time"

	"github.com/skillreg/skillreg/registry/stats"
)

// planRow is the body of a stats_plans row.
type planRow struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	EndDate string         `json:"end_date"`
	Targets planTargetsRow `json:"targets"`
	Default bool           `json:"default"`
	BuiltIn bool           `json:"built_in"`
	// CreatedAt is absent for a plan without a creation time; UpdatePlan
	// carries the stored value over, which is null when it was absent.
	CreatedAt time.Time `json:"created_at,omitzero"`
}

type planTargetsRow struct {
	SkilledWorkers int64   `json:"skilled_workers"`
	Technician     float64 `json:"technician"`
	SeniorWorker   float64 `json:"senior_worker"`
	HighSkilled    float64 `json:"high_skilled"`
}

func toPlanRow(p *stats.Plan) planRow {
	return planRow{
		ID:      p.ID,
		Name:    p.Name,
		EndDate: p.EndDate,
		Targets: planTargetsRow{
			SkilledWorkers: p.Targets.SkilledWorkers,
			Technician:     p.Targets.Technician,
			SeniorWorker:   p.Targets.SeniorWorker,
			HighSkilled:    p.Targets.HighSkilled,
		},
		Default:   p.Default,
		BuiltIn:   p.BuiltIn,
		CreatedAt: p.CreatedAt,
	}
}

func (r *planRow) plan() *stats.Plan {
	return &stats.Plan{
		ID:      r.ID,
		Name:    r.Name,
		EndDate: r.EndDate,
		Targets: stats.PlanTargets{
			SkilledWorkers: r.Targets.SkilledWorkers,
			Technician:     r.Targets.Technician,
			SeniorWorker:   r.Targets.SeniorWorker,
			HighSkilled:    r.Targets.HighSkilled,
		},
		Default:   r.Default,
		BuiltIn:   r.BuiltIn,
		CreatedAt: r.CreatedAt,
	}
}

// encodePlan returns the stored body of p.
func encodePlan(p *stats.Plan) ([]byte, error) {
	return json.Marshal(toPlanRow(p))
}

// decodePlan reads a stored plan body.
func decodePlan(body string) (*stats.Plan, error) {
	var r planRow
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, err
	}
	return r.plan(), nil
}

// opRow is the body of a stats_ops row. A nil Certs or Deltas is stored
// as null and an empty one as [], and each reads back as it was.
type opRow struct {
	ID        string          `json:"id"`
	Hash      string          `json:"hash"`
	From      int64           `json:"from"`
	Certs     []holderCertRow `json:"certs"`
	Deltas    []deltaRow      `json:"deltas"`
	Batch     string          `json:"batch,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

type deltaRow struct {
	Cell string `json:"cell"`
	N    int64  `json:"n"`
}

// holderCertRow is one certificate of a holder's counted state, in an op
// body and in stats_holders.certs.
type holderCertRow struct {
	Number    string `json:"number"`
	Level     int    `json:"level"`
	Province  string `json:"province"`
	Category  string `json:"category"`
	Channel   string `json:"channel"`
	IssuedOn  string `json:"issued_on"`
	CreatedMS int64  `json:"created_ms"`
	Revoked   bool   `json:"revoked"`
}

func toOpRow(op *stats.Op) opRow {
	r := opRow{
		ID:        op.ID,
		Hash:      op.Hash,
		From:      op.From,
		Certs:     toHolderCertRows(op.Certs),
		Batch:     op.Batch,
		CreatedAt: op.CreatedAt,
	}
	if op.Deltas != nil {
		r.Deltas = make([]deltaRow, len(op.Deltas))
		for i, d := range op.Deltas {
			r.Deltas[i] = deltaRow(d)
		}
	}
	return r
}

func (r *opRow) op() *stats.Op {
	op := &stats.Op{
		ID:        r.ID,
		Hash:      r.Hash,
		From:      r.From,
		Certs:     holderCerts(r.Certs),
		Batch:     r.Batch,
		CreatedAt: r.CreatedAt,
	}
	if r.Deltas != nil {
		op.Deltas = make([]stats.Delta, len(r.Deltas))
		for i, d := range r.Deltas {
			op.Deltas[i] = stats.Delta(d)
		}
	}
	return op
}

// encodeOp returns the stored body of op.
func encodeOp(op *stats.Op) ([]byte, error) {
	return json.Marshal(toOpRow(op))
}

// decodeOp reads a stored op body.
func decodeOp(body string) (*stats.Op, error) {
	var r opRow
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, err
	}
	return r.op(), nil
}

// toHolderCertRows converts a holder's certificates, nil to nil.
func toHolderCertRows(certs []stats.HolderCert) []holderCertRow {
	if certs == nil {
		return nil
	}
	out := make([]holderCertRow, len(certs))
	for i, c := range certs {
		out[i] = holderCertRow(c)
	}
	return out
}

// holderCerts converts stored certificates back, nil to nil.
func holderCerts(rows []holderCertRow) []stats.HolderCert {
	if rows == nil {
		return nil
	}
	out := make([]stats.HolderCert, len(rows))
	for i, r := range rows {
		out[i] = stats.HolderCert(r)
	}
	return out
}

// holderRow is a stats_holders row.
type holderRow struct {
	Hash    string
	Version int64
	Certs   []holderCertRow
}

// holderCertsColumn stores a holder's certificates as JSON, sorted by
// number as the holder has them.
var holderCertsColumn = jsonColumn("certs", func(r *holderRow) *[]holderCertRow { return &r.Certs })

var holderTable = []column[holderRow]{
	textColumn("hash", func(r *holderRow) *string { return &r.Hash }),
	intColumn("version", func(r *holderRow) *int64 { return &r.Version }),
	holderCertsColumn,
}

// toHolderRow converts a holder state; no certificates are stored as [].
func toHolderRow(h *stats.Holder) holderRow {
	certs := toHolderCertRows(h.Certs)
	if certs == nil {
		certs = []holderCertRow{}
	}
	return holderRow{Hash: h.Hash, Version: h.Version, Certs: certs}
}

func (r *holderRow) holder() *stats.Holder {
	return &stats.Holder{Hash: r.Hash, Version: r.Version, Certs: holderCerts(r.Certs)}
}

// markTable is stats_marks; a mark has no stored form beyond its columns.
var markTable = []column[stats.Mark]{
	textColumn("id", func(m *stats.Mark) *string { return &m.ID }),
	textColumn("hash", func(m *stats.Mark) *string { return &m.Hash }),
	timeColumn("at", func(m *stats.Mark) *time.Time { return &m.At }),
	boolColumn("done", func(m *stats.Mark) *bool { return &m.Done }),
	timeColumn("done_at", func(m *stats.Mark) *time.Time { return &m.DoneAt }),
}
