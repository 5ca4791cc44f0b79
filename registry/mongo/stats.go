package mongo

// The statistics counters: the single-document primitives of
// the protocol in registry/stats/sync.go. No write here spans documents.
// A counter is {_id: cell ID, kind, province, category, channel, level,
// year, n, pending: [marker...]}; applying a delta is one update that
// matches only if the marker is not in pending, and increments n and
// pushes the marker together, so a repeat counts nothing. (That relies on
// MongoDB's atomic single-document update; FerretDB v1, the test server,
// runs updates as a read and a write, so there concurrent increments of
// one counter can be lost, which `skillreg stats check` would report.)

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// Collections of the statistics.
const (
	collStatsCells   = "stats_cells"
	collStatsOps     = "stats_ops"
	collStatsHolders = "stats_holders"
	collStatsMarks   = "stats_marks"
	collStatsPlans   = "stats_plans"
)

func (s *Store) statsColl(name string) *mongo.Collection {
	return s.db.Collection(name, options.Collection().SetReadConcern(readconcern.Local()))
}

type cellDoc struct {
	ID       string   `bson:"_id"`
	Kind     string   `bson:"kind"`
	Province string   `bson:"province"`
	Category string   `bson:"category"`
	Channel  string   `bson:"channel"`
	Level    int      `bson:"level"`
	Year     int      `bson:"year"`
	N        int64    `bson:"n"`
	Pending  []string `bson:"pending"`
}

func (d *cellDoc) cell() stats.Cell {
	return stats.Cell{Kind: d.Kind, Province: d.Province, Category: d.Category, Channel: d.Channel,
		Level: d.Level, Year: d.Year, N: d.N}
}

// StatsCells returns the non-zero counters of one rollup.
func (s *Store) StatsCells(ctx context.Context, f stats.CellFilter) ([]stats.Cell, error) {
	filter := bson.D{{Key: "category", Value: f.Category}, {Key: "channel", Value: f.Channel}}
	if f.Years {
		filter = append(filter, bson.E{Key: "year", Value: bson.D{{Key: "$ne", Value: stats.CellAllYears}}})
	} else {
		filter = append(filter, bson.E{Key: "year", Value: stats.CellAllYears})
	}
	if f.PerProvince {
		filter = append(filter, bson.E{Key: "province", Value: bson.D{{Key: "$ne", Value: stats.CellAll}}})
	} else {
		filter = append(filter, bson.E{Key: "province", Value: f.Province})
	}
	return s.findCells(ctx, filter)
}

// AllStatsCells returns every non-zero counter, in ID order.
func (s *Store) AllStatsCells(ctx context.Context) ([]stats.Cell, error) {
	return s.findCells(ctx, bson.D{})
}

func (s *Store) findCells(ctx context.Context, filter bson.D) ([]stats.Cell, error) {
	cur, err := s.statsColl(collStatsCells).Find(ctx, filter, options.Find().
		SetProjection(bson.D{{Key: "pending", Value: 0}}).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, internal(err, "read counters")
	}
	var docs []cellDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "read counters")
	}
	out := make([]stats.Cell, 0, len(docs))
	for i := range docs {
		if docs[i].N != 0 {
			out = append(out, docs[i].cell())
		}
	}
	return out, nil
}

// holderCertDoc is the stored form of a stats.HolderCert, inside op
// and holder documents.
type holderCertDoc struct {
	Number    string `bson:"number"`
	Level     int    `bson:"level"`
	Province  string `bson:"province"`
	Category  string `bson:"category"`
	Channel   string `bson:"channel"`
	IssuedOn  string `bson:"issued_on"`
	CreatedMS int64  `bson:"created_ms"`
	Revoked   bool   `bson:"revoked"`
}

// certDocs converts certificates to their stored form; nil stays nil.
func certDocs(certs []stats.HolderCert) []holderCertDoc {
	if certs == nil {
		return nil
	}
	out := make([]holderCertDoc, len(certs))
	for i, c := range certs {
		out[i] = holderCertDoc(c)
	}
	return out
}

// certsOf converts stored certificates back; nil stays nil.
func certsOf(docs []holderCertDoc) []stats.HolderCert {
	if docs == nil {
		return nil
	}
	out := make([]stats.HolderCert, len(docs))
	for i, d := range docs {
		out[i] = stats.HolderCert(d)
	}
	return out
}

// deltaDoc is the stored form of a stats.Delta, inside op
// documents.
type deltaDoc struct {
	Cell string `bson:"cell"`
	N    int64  `bson:"n"`
}

// deltaDocs converts deltas to their stored form; nil stays nil.
func deltaDocs(deltas []stats.Delta) []deltaDoc {
	if deltas == nil {
		return nil
	}
	out := make([]deltaDoc, len(deltas))
	for i, d := range deltas {
		out[i] = deltaDoc(d)
	}
	return out
}

// deltasOf converts stored deltas back; nil stays nil.
func deltasOf(docs []deltaDoc) []stats.Delta {
	if docs == nil {
		return nil
	}
	out := make([]stats.Delta, len(docs))
	for i, d := range docs {
		out[i] = stats.Delta(d)
	}
	return out
}

type opDoc struct {
	ID        string          `bson:"_id"`
	Hash      string          `bson:"hash"`
	From      int64           `bson:"from"`
	Certs     []holderCertDoc `bson:"certs"`
	Deltas    []deltaDoc      `bson:"deltas"`
	Batch     string          `bson:"batch"`
	CreatedAt time.Time       `bson:"created_at"`
}

// CreateStatsOps stores each op unless one with its ID is stored (one
// unordered insert; the unique _id decides) and reports which it stored.
func (s *Store) CreateStatsOps(ctx context.Context, ops []*stats.Op) ([]bool, error) {
	docs := make([]any, len(ops))
	for i, op := range ops {
		docs[i] = &opDoc{ID: op.ID, Hash: op.Hash, From: op.From, Certs: certDocs(nonNilCerts(op.Certs)), Deltas: deltaDocs(op.Deltas),
			Batch: op.Batch, CreatedAt: msTime(op.CreatedAt)}
	}
	dups, err := insertNew(ctx, s.statsColl(collStatsOps), docs)
	if err != nil {
		return nil, internal(err, "store counter ops")
	}
	created := make([]bool, len(ops))
	for i := range created {
		created[i] = true
	}
	for _, i := range dups {
		created[i] = false
	}
	return created, nil
}

func nonNilCerts(c []stats.HolderCert) []stats.HolderCert {
	if c == nil {
		return []stats.HolderCert{}
	}
	return c
}

// StatsOps returns every stored op, oldest first.
func (s *Store) StatsOps(ctx context.Context) ([]*stats.Op, error) {
	cur, err := s.statsColl(collStatsOps).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, internal(err, "list counter ops")
	}
	var docs []opDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list counter ops")
	}
	out := make([]*stats.Op, 0, len(docs))
	for _, d := range docs {
		out = append(out, &stats.Op{ID: d.ID, Hash: d.Hash, From: d.From, Certs: certsOf(d.Certs), Deltas: deltasOf(d.Deltas),
			Batch: d.Batch, CreatedAt: d.CreatedAt.UTC()})
	}
	return out, nil
}

// DeleteStatsOps deletes the ops with the given IDs.
func (s *Store) DeleteStatsOps(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		if _, err := s.statsColl(collStatsOps).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: chunk}}}}); err != nil {
			return internal(err, "delete counter ops")
		}
	}
	return nil
}

// ApplyStatsDeltas applies each delta with one conditional update per
// counter, {_id, pending != marker} -> $inc n, $push marker, after
// creating the missing counters at 0 (an unordered insert whose duplicate
// _ids are the counters that exist). A counter that holds the marker is
// not matched, so a repeat counts nothing. The updates are sent one by
// one, not as a bulk write: FerretDB, the test server, runs a bulk
// update in time quadratic in its length (measured: 100 updates 2.7 s, 10
// single ones 80 ms).
func (s *Store) ApplyStatsDeltas(ctx context.Context, marker string, deltas []stats.Delta) error {
	coll := s.statsColl(collStatsCells)
	for start := 0; start < len(deltas); start += 1000 {
		chunk := deltas[start:min(start+1000, len(deltas))]
		docs := make([]any, 0, len(chunk))
		for _, d := range chunk {
			c, err := stats.ParseCellID(d.Cell)
			if err != nil {
				return err
			}
			docs = append(docs, &cellDoc{ID: d.Cell, Kind: c.Kind, Province: c.Province, Category: c.Category, Channel: c.Channel,
				Level: int(c.Level), Year: c.Year, Pending: []string{}})
		}
		if _, err := insertNew(ctx, coll, docs); err != nil {
			return internal(err, "create counters")
		}
		for _, d := range chunk {
			_, err := coll.UpdateOne(ctx, applyFilter(d.Cell, marker), bson.D{
				{Key: "$inc", Value: bson.D{{Key: "n", Value: d.N}}},
				{Key: "$push", Value: bson.D{{Key: "pending", Value: marker}}},
			})
			if err != nil {
				return internal(err, "apply counter delta to %s", d.Cell)
			}
		}
	}
	return nil
}

func applyFilter(cell, marker string) bson.D {
	return bson.D{{Key: "_id", Value: cell}, {Key: "pending", Value: bson.D{{Key: "$ne", Value: marker}}}}
}

// StatsPendingMarkers returns every marker a pending list holds.
func (s *Store) StatsPendingMarkers(ctx context.Context) ([]string, error) {
	res := s.statsColl(collStatsCells).Distinct(ctx, "pending", bson.D{})
	var out []string
	if err := res.Decode(&out); err != nil {
		return nil, internal(err, "list pending markers")
	}
	return out, nil
}

// ReleaseStatsMarker removes marker from every pending list.
func (s *Store) ReleaseStatsMarker(ctx context.Context, marker string) error {
	_, err := s.statsColl(collStatsCells).UpdateMany(ctx, bson.D{{Key: "pending", Value: marker}},
		bson.D{{Key: "$pull", Value: bson.D{{Key: "pending", Value: marker}}}})
	if err != nil {
		return internal(err, "release a counter marker")
	}
	return nil
}

type holderDoc struct {
	Hash    string          `bson:"_id"`
	Version int64           `bson:"version"`
	Certs   []holderCertDoc `bson:"certs"`
}

// StatsHolders returns the counted state of each holder, in the order
// asked; a holder never counted has Version 0.
func (s *Store) StatsHolders(ctx context.Context, hashes []string) ([]*stats.Holder, error) {
	found := make(map[string]*stats.Holder, len(hashes))
	for start := 0; start < len(hashes); start += 1000 {
		chunk := hashes[start:min(start+1000, len(hashes))]
		list, err := s.findHolders(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: chunk}}}}, options.Find())
		if err != nil {
			return nil, err
		}
		for _, h := range list {
			found[h.Hash] = h
		}
	}
	return stats.HoldersInOrder(hashes, found), nil
}

// StatsHoldersAfter returns up to limit holder states whose hashes sort
// after the given one, in hash order.
func (s *Store) StatsHoldersAfter(ctx context.Context, after string, limit int) ([]*stats.Holder, error) {
	return s.findHolders(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

func (s *Store) findHolders(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]*stats.Holder, error) {
	cur, err := s.statsColl(collStatsHolders).Find(ctx, filter, opts)
	if err != nil {
		return nil, internal(err, "read holder states")
	}
	var docs []holderDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "read holder states")
	}
	out := make([]*stats.Holder, 0, len(docs))
	for _, d := range docs {
		certs := certsOf(d.Certs)
		if len(certs) == 0 {
			certs = nil
		}
		out = append(out, &stats.Holder{Hash: d.Hash, Version: d.Version, Certs: certs})
	}
	return out, nil
}

// SetStatsHolders stores each state whose stored version is its
// Version-1 and skips the others: version 1 is an insert (a taken _id
// means someone stored it first), later versions a conditional update.
func (s *Store) SetStatsHolders(ctx context.Context, hs []*stats.Holder) error {
	coll := s.statsColl(collStatsHolders)
	var inserts []any
	var updates []*stats.Holder
	for _, h := range hs {
		if h.Version == 1 {
			inserts = append(inserts, &holderDoc{Hash: h.Hash, Version: 1, Certs: certDocs(nonNilCerts(h.Certs))})
		} else {
			updates = append(updates, h)
		}
	}
	for start := 0; start < len(inserts); start += 1000 {
		if _, err := insertNew(ctx, coll, inserts[start:min(start+1000, len(inserts))]); err != nil {
			return internal(err, "store holder states")
		}
	}
	// One by one: see ApplyStatsDeltas about bulk updates on FerretDB.
	for _, h := range updates {
		_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: h.Hash}, {Key: "version", Value: h.Version - 1}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: h.Version}, {Key: "certs", Value: certDocs(nonNilCerts(h.Certs))}}}})
		if err != nil {
			return internal(err, "store holder state")
		}
	}
	return nil
}

// CertificatesInHolderOrder returns up to limit certificates of the
// holders whose hashes sort after the given one, ordered by hash (on the
// holder index); the last holder may be cut off.
func (s *Store) CertificatesInHolderOrder(ctx context.Context, after string, limit int) ([]*registry.Certificate, error) {
	list, err := s.findCertificates(ctx, s.certsLocal, bson.D{{Key: "holder_id_hash", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "holder_id_hash", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, internal(err, "list certificates by holder")
	}
	return list, nil
}

type markDoc struct {
	ID     string    `bson:"_id"`
	Hash   string    `bson:"hash"`
	At     time.Time `bson:"at"`
	Done   bool      `bson:"done"`
	DoneAt time.Time `bson:"done_at"`
}

// PutStatsMarks stores each mark, replacing a mark with its ID: one
// single-document upsert each, in order.
func (s *Store) PutStatsMarks(ctx context.Context, ms ...*stats.Mark) error {
	for _, m := range ms {
		_, err := s.statsColl(collStatsMarks).ReplaceOne(ctx, bson.D{{Key: "_id", Value: m.ID}},
			&markDoc{ID: m.ID, Hash: m.Hash, At: msTime(m.At), Done: m.Done, DoneAt: msTime(m.DoneAt)},
			options.Replace().SetUpsert(true))
		if err != nil {
			return internal(err, "store a counter mark")
		}
	}
	return nil
}

// StatsMarks returns the marks that are not done, or were made or done at
// or after since.
func (s *Store) StatsMarks(ctx context.Context, since time.Time) ([]*stats.Mark, error) {
	cur, err := s.statsColl(collStatsMarks).Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "done", Value: false}},
		bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: since}}}},
		bson.D{{Key: "done_at", Value: bson.D{{Key: "$gte", Value: since}}}},
	}}}, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, internal(err, "list counter marks")
	}
	var docs []markDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list counter marks")
	}
	out := make([]*stats.Mark, 0, len(docs))
	for _, d := range docs {
		out = append(out, &stats.Mark{ID: d.ID, Hash: d.Hash, At: d.At.UTC(), Done: d.Done, DoneAt: d.DoneAt.UTC()})
	}
	return out, nil
}

// DeleteStatsMarks deletes the done marks made before the given time.
func (s *Store) DeleteStatsMarks(ctx context.Context, before time.Time) error {
	_, err := s.statsColl(collStatsMarks).DeleteMany(ctx, bson.D{{Key: "done", Value: true}, {Key: "at", Value: bson.D{{Key: "$lt", Value: before}}}})
	if err != nil {
		return internal(err, "delete old counter marks")
	}
	return nil
}

type planDoc struct {
	ID        string         `bson:"_id"`
	Name      string         `bson:"name"`
	EndDate   string         `bson:"end_date"`
	Targets   planTargetsDoc `bson:"targets"`
	Default   bool           `bson:"default"`
	CreatedAt time.Time      `bson:"created_at"`
}

// planTargetsDoc is a plan's targets as stored; the keys are the field
// names the driver gave them by default when stats.PlanTargets was
// stored as it is.
type planTargetsDoc struct {
	SkilledWorkers int64   `bson:"skilledworkers"`
	Technician     float64 `bson:"technician"`
	SeniorWorker   float64 `bson:"seniorworker"`
	HighSkilled    float64 `bson:"highskilled"`
}

func toPlanTargetsDoc(t stats.PlanTargets) planTargetsDoc {
	return planTargetsDoc{SkilledWorkers: t.SkilledWorkers, Technician: t.Technician, SeniorWorker: t.SeniorWorker, HighSkilled: t.HighSkilled}
}

func (d planTargetsDoc) targets() stats.PlanTargets {
	return stats.PlanTargets{SkilledWorkers: d.SkilledWorkers, Technician: d.Technician, SeniorWorker: d.SeniorWorker, HighSkilled: d.HighSkilled}
}

// CreatePlan stores a plan. ECONFLICT if its ID is taken.
func (s *Store) CreatePlan(ctx context.Context, p *stats.Plan) error {
	_, err := s.statsColl(collStatsPlans).InsertOne(ctx, &planDoc{ID: p.ID, Name: p.Name, EndDate: p.EndDate, Targets: toPlanTargetsDoc(p.Targets),
		Default: p.Default, CreatedAt: msTime(p.CreatedAt)})
	switch {
	case mongo.IsDuplicateKeyError(err):
		return registry.Errorf(registry.ECONFLICT, "there is already a plan %s", p.ID)
	case err != nil:
		return internal(err, "store plan %s", p.ID)
	}
	p.CreatedAt = msTime(p.CreatedAt)
	return nil
}

// Plans returns the stored plans by ID.
func (s *Store) Plans(ctx context.Context) ([]*stats.Plan, error) {
	cur, err := s.statsColl(collStatsPlans).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, internal(err, "list plans")
	}
	var docs []planDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list plans")
	}
	out := make([]*stats.Plan, 0, len(docs))
	for _, d := range docs {
		out = append(out, &stats.Plan{ID: d.ID, Name: d.Name, EndDate: d.EndDate, Targets: d.Targets.targets(), Default: d.Default, CreatedAt: d.CreatedAt.UTC()})
	}
	return out, nil
}

// UpdatePlan replaces the stored plan with p's ID (its name, end date,
// targets and default mark; the creation time stays). ENOTFOUND if there
// is none.
func (s *Store) UpdatePlan(ctx context.Context, p *stats.Plan) error {
	res, err := s.statsColl(collStatsPlans).UpdateOne(ctx, bson.D{{Key: "_id", Value: p.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "name", Value: p.Name}, {Key: "end_date", Value: p.EndDate}, {Key: "targets", Value: toPlanTargetsDoc(p.Targets)}, {Key: "default", Value: p.Default},
	}}})
	if err != nil {
		return internal(err, "update plan %s", p.ID)
	}
	if res.MatchedCount == 0 {
		return registry.Errorf(registry.ENOTFOUND, "no plan %s", p.ID)
	}
	return nil
}

// DeletePlan deletes the stored plan with the ID. ENOTFOUND if there is
// none.
func (s *Store) DeletePlan(ctx context.Context, id string) error {
	res, err := s.statsColl(collStatsPlans).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return internal(err, "delete plan %s", id)
	}
	if res.DeletedCount == 0 {
		return registry.Errorf(registry.ENOTFOUND, "no plan %s", id)
	}
	return nil
}

// SetDefaultPlan marks the stored plan with the ID as the default and
// every other stored plan as not; "" unmarks them all. ENOTFOUND if there
// is no stored plan with a non-empty ID. The plan is marked before the
// others are unmarked: in between, two plans are marked and the registry
// takes the most recently created one, never none.
func (s *Store) SetDefaultPlan(ctx context.Context, id string) error {
	coll := s.statsColl(collStatsPlans)
	if id != "" {
		res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "default", Value: true}}}})
		if err != nil {
			return internal(err, "set default plan %s", id)
		}
		if res.MatchedCount == 0 {
			return registry.Errorf(registry.ENOTFOUND, "no plan %s", id)
		}
	}
	_, err := coll.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$ne", Value: id}}}, {Key: "default", Value: true}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "default", Value: false}}}})
	if err != nil {
		return internal(err, "set default plan %s", id)
	}
	return nil
}
