package mongo

import (
	"context"
	"errors"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// trainingDoc is a training record as stored; _id is the record's derived
// ID, so the insert itself decides whether a trainee is already in a
// class. Year and Certified repeat what Start and CertificateNumber say,
// for the statistics' $group.
type trainingDoc struct {
	ID                string    `bson:"_id"`
	IssuerID          string    `bson:"issuer_id"`
	Province          string    `bson:"province"`
	ClassID           string    `bson:"class_id"`
	Name              string    `bson:"name"`
	IDMasked          string    `bson:"id_masked"`
	IDHash            string    `bson:"id_hash"`
	IDCipher          []byte    `bson:"id_cipher"`
	Sex               string    `bson:"sex"`
	Education         string    `bson:"education,omitempty"`
	Phone             string    `bson:"phone,omitempty"`
	TargetGroup       string    `bson:"target_group"`
	OccupationCode    string    `bson:"occupation_code"`
	TargetLevel       int       `bson:"target_level"`
	TrainingType      string    `bson:"training_type"`
	Hours             int       `bson:"hours"`
	Start             string    `bson:"start"`
	End               string    `bson:"end"`
	Year              string    `bson:"year"`
	Completed         bool      `bson:"completed"`
	ExamResult        string    `bson:"exam_result"`
	CertificateNumber string    `bson:"certificate_number"`
	Certified         bool      `bson:"certified"`
	Employed          *bool     `bson:"employed"`
	SubsidyCategory   string    `bson:"subsidy_category"`
	SubsidyAmountFen  int64     `bson:"subsidy_amount_fen"`
	SubsidyPayee      string    `bson:"subsidy_payee"`
	CreatedAt         time.Time `bson:"created_at"`
	UpdatedAt         time.Time `bson:"updated_at"`
}

func toTrainingDoc(r *registry.TrainingRecord) *trainingDoc {
	return &trainingDoc{
		ID: r.ID, IssuerID: r.IssuerID, Province: r.Province, ClassID: r.ClassID, Name: r.Name, IDMasked: r.IDMasked,
		IDHash: r.IDHash, IDCipher: nonNil(r.IDCipher), Sex: r.Sex, Education: r.Education, Phone: r.Phone,
		TargetGroup: r.TargetGroup, OccupationCode: r.OccupationCode, TargetLevel: int(r.TargetLevel), TrainingType: r.TrainingType,
		Hours: r.Hours, Start: r.Start, End: r.End, Year: r.Year(), Completed: r.Completed, ExamResult: r.ExamResult,
		CertificateNumber: r.CertificateNumber, Certified: r.CertificateNumber != "", Employed: r.Employed,
		SubsidyCategory: r.SubsidyCategory, SubsidyAmountFen: r.SubsidyAmountFen, SubsidyPayee: r.SubsidyPayee,
		CreatedAt: msTime(r.CreatedAt), UpdatedAt: msTime(r.UpdatedAt),
	}
}

func (d *trainingDoc) record() *registry.TrainingRecord {
	return &registry.TrainingRecord{
		ID: d.ID, IssuerID: d.IssuerID, Province: d.Province, ClassID: d.ClassID, Name: d.Name, IDMasked: d.IDMasked,
		IDHash: d.IDHash, IDCipher: nilIfEmpty(d.IDCipher), Sex: d.Sex, Education: d.Education, Phone: d.Phone,
		TargetGroup: d.TargetGroup, OccupationCode: d.OccupationCode, TargetLevel: registry.Level(d.TargetLevel),
		TrainingType: d.TrainingType, Hours: d.Hours, Start: d.Start, End: d.End, Completed: d.Completed,
		ExamResult: d.ExamResult, CertificateNumber: d.CertificateNumber, Employed: d.Employed,
		SubsidyCategory: d.SubsidyCategory, SubsidyAmountFen: d.SubsidyAmountFen, SubsidyPayee: d.SubsidyPayee,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
}

func (s *Store) training() *mongo.Collection { return s.db.Collection(collTraining) }

// CreateTrainingRecord inserts r with _id = r.ID; a duplicate key means
// the trainee is in the class already: r becomes the stored record and
// created is false. EINVALID if the issuer does not exist.
func (s *Store) CreateTrainingRecord(ctx context.Context, r *registry.TrainingRecord) (bool, error) {
	if _, err := s.Issuer(ctx, r.IssuerID); registry.ErrorCode(err) == registry.ENOTFOUND {
		return false, registry.FieldError("issuer_id", "no issuer has the id %q", r.IssuerID)
	} else if err != nil {
		return false, err
	}
	d := toTrainingDoc(r)
	_, err := s.training().InsertOne(ctx, d)
	switch {
	case mongo.IsDuplicateKeyError(err):
		stored, err := s.TrainingRecord(ctx, r.ID)
		if err != nil {
			return false, err
		}
		*r = *stored
		return false, nil
	case err != nil:
		return false, internal(err, "insert training record %s", r.ID)
	}
	*r = *d.record()
	return true, nil
}

// CreateTrainingRecords inserts recs with one unordered insert; each
// document succeeds or fails on its own, a duplicate _id meaning that the
// trainee is in the class already (that record is read back, created
// false). After an error some of the records may be stored: calling again
// with the same records finds them and writes the rest.
func (s *Store) CreateTrainingRecords(ctx context.Context, recs []*registry.TrainingRecord) ([]bool, error) {
	issuers := map[string]bool{}
	docs := make([]any, len(recs))
	for i, r := range recs {
		if !issuers[r.IssuerID] {
			if _, err := s.Issuer(ctx, r.IssuerID); registry.ErrorCode(err) == registry.ENOTFOUND {
				return nil, registry.FieldError("issuer_id", "no issuer has the id %q", r.IssuerID)
			} else if err != nil {
				return nil, err
			}
			issuers[r.IssuerID] = true
		}
		docs[i] = toTrainingDoc(r)
	}
	created := make([]bool, len(recs))
	for i := range created {
		created[i] = true
	}
	_, err := s.training().InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	switch {
	case errors.As(err, &bwe) && bwe.WriteConcernError == nil:
		for _, we := range bwe.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) || we.Index < 0 || we.Index >= len(recs) {
				return nil, internal(err, "insert training records")
			}
			created[we.Index] = false
		}
	case err != nil:
		return nil, internal(err, "insert training records")
	}
	for i, r := range recs {
		if created[i] {
			*r = *docs[i].(*trainingDoc).record()
			continue
		}
		stored, err := s.TrainingRecord(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		*r = *stored
	}
	return created, nil
}

// TrainingRecord returns one record. ENOTFOUND if there is none.
func (s *Store) TrainingRecord(ctx context.Context, id string) (*registry.TrainingRecord, error) {
	var d trainingDoc
	err := s.training().FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	switch {
	case notFound(err):
		return nil, registry.Errorf(registry.ENOTFOUND, "no training record %s", id)
	case err != nil:
		return nil, internal(err, "read training record %s", id)
	}
	return d.record(), nil
}

// TrainingRecords lists records matching f, newest first (ties by ID,
// highest first), with the total number of matches (two reads).
func (s *Store) TrainingRecords(ctx context.Context, f registry.TrainingFilter) ([]*registry.TrainingRecord, int, error) {
	filter := bson.D{}
	for _, kv := range []struct{ k, v string }{
		{"issuer_id", f.IssuerID}, {"province", f.Province}, {"class_id", f.ClassID},
		{"target_group", f.TargetGroup}, {"training_type", f.TrainingType}, {"year", f.Year},
	} {
		if kv.v != "" {
			filter = append(filter, bson.E{Key: kv.k, Value: kv.v})
		}
	}
	if f.Query != "" {
		q := regexp.QuoteMeta(f.Query)
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "name", Value: bson.Regex{Pattern: q}}},
			bson.D{{Key: "class_id", Value: bson.Regex{Pattern: "^" + q}}},
		}})
	}
	page, perPage := max(f.Page, 1), f.PerPage
	if perPage < 1 {
		perPage = DefaultPerPage
	}
	perPage = min(perPage, MaxPerPage)
	total, err := s.training().CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, internal(err, "count training records")
	}
	cur, err := s.training().Find(ctx, filter, options.Find().SetSort(newestFirst).SetSkip(int64((page-1)*perPage)).SetLimit(int64(perPage)))
	if err != nil {
		return nil, 0, internal(err, "list training records")
	}
	var docs []trainingDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, 0, internal(err, "list training records")
	}
	list := make([]*registry.TrainingRecord, len(docs))
	for i := range docs {
		list[i] = docs[i].record()
	}
	return list, int(total), nil
}

// UpdateTrainingOutcome sets r's outcome and subsidy fields and UpdatedAt
// if the stored certificate number is still prevCertificate. ENOTFOUND,
// or ECONFLICT when the certificate number changed.
func (s *Store) UpdateTrainingOutcome(ctx context.Context, r *registry.TrainingRecord, prevCertificate string) error {
	res, err := s.training().UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "certificate_number", Value: prevCertificate}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "completed", Value: r.Completed}, {Key: "exam_result", Value: r.ExamResult},
		{Key: "certificate_number", Value: r.CertificateNumber}, {Key: "certified", Value: r.CertificateNumber != ""},
		{Key: "employed", Value: r.Employed}, {Key: "subsidy_category", Value: r.SubsidyCategory},
		{Key: "subsidy_amount_fen", Value: r.SubsidyAmountFen}, {Key: "subsidy_payee", Value: r.SubsidyPayee},
		{Key: "updated_at", Value: msTime(r.UpdatedAt)},
	}}})
	if err != nil {
		return internal(err, "update training record %s", r.ID)
	}
	if res.MatchedCount == 0 {
		if _, err := s.TrainingRecord(ctx, r.ID); err != nil {
			return err
		}
		return registry.Errorf(registry.ECONFLICT, "training record %s changed meanwhile (a certificate was issued for it); read it again", r.ID)
	}
	r.UpdatedAt = msTime(r.UpdatedAt)
	return nil
}

// LinkTrainingCertificate sets the certificate number of a record that has
// none or the same one: a conditional single-document update, repeated
// with the same values by a retry. ENOTFOUND, or ECONFLICT if the record
// names another certificate.
func (s *Store) LinkTrainingCertificate(ctx context.Context, id, number string) error {
	res, err := s.training().UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "certificate_number", Value: bson.D{{Key: "$in", Value: bson.A{"", number}}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "certificate_number", Value: number}, {Key: "certified", Value: true}}}})
	if err != nil {
		return internal(err, "link training record %s", id)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	r, err := s.TrainingRecord(ctx, id)
	if err != nil {
		return err
	}
	return registry.Errorf(registry.ECONFLICT, "training record %s already names certificate %s", id, r.CertificateNumber)
}

// TrainingCounts groups the records matching f with one aggregation
// ($match, $group with $sum), which both MongoDB and FerretDB run.
func (s *Store) TrainingCounts(ctx context.Context, f stats.TrainingCountFilter) ([]stats.TrainingCount, error) {
	match := bson.D{}
	if f.Province != "" {
		match = append(match, bson.E{Key: "province", Value: f.Province})
	}
	if f.Year != "" {
		match = append(match, bson.E{Key: "year", Value: f.Year})
	}
	pipeline := mongo.Pipeline{
		{{Key: "$match", Value: match}},
		{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{
				{Key: "p", Value: "$province"}, {Key: "y", Value: "$year"}, {Key: "g", Value: "$target_group"},
				{Key: "t", Value: "$training_type"}, {Key: "c", Value: "$completed"}, {Key: "k", Value: "$certified"},
				{Key: "e", Value: "$employed"},
			}},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
		}}},
	}
	cur, err := s.training().Aggregate(ctx, pipeline)
	if err != nil {
		return nil, internal(err, "count training records")
	}
	var groups []struct {
		ID struct {
			P, Y, G, T string
			C, K       bool
			E          *bool
		} `bson:"_id"`
		N int `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return nil, internal(err, "count training records")
	}
	out := make([]stats.TrainingCount, len(groups))
	for i, g := range groups {
		out[i] = stats.TrainingCount{Province: g.ID.P, Year: g.ID.Y, TargetGroup: g.ID.G, TrainingType: g.ID.T,
			Completed: g.ID.C, Certified: g.ID.K, Employed: g.ID.E, Records: g.N}
	}
	return out, nil
}
