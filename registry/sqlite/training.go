package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// trainingTable is the training_records table as the store reads and
// writes it: every field of registry.TrainingRecord and its column. The
// column list, the INSERT arguments and the scan all come from it.
var trainingTable = []column[registry.TrainingRecord]{
	textColumn("id", func(r *registry.TrainingRecord) *string { return &r.ID }),
	textColumn("issuer_id", func(r *registry.TrainingRecord) *string { return &r.IssuerID }),
	textColumn("province", func(r *registry.TrainingRecord) *string { return &r.Province }),
	textColumn("class_id", func(r *registry.TrainingRecord) *string { return &r.ClassID }),
	textColumn("name", func(r *registry.TrainingRecord) *string { return &r.Name }),
	textColumn("id_masked", func(r *registry.TrainingRecord) *string { return &r.IDMasked }),
	textColumn("id_hash", func(r *registry.TrainingRecord) *string { return &r.IDHash }),
	blobColumn("id_cipher", func(r *registry.TrainingRecord) *[]byte { return &r.IDCipher }),
	textColumn("sex", func(r *registry.TrainingRecord) *string { return &r.Sex }),
	textColumn("education", func(r *registry.TrainingRecord) *string { return &r.Education }),
	textColumn("phone", func(r *registry.TrainingRecord) *string { return &r.Phone }),
	textColumn("target_group", func(r *registry.TrainingRecord) *string { return &r.TargetGroup }),
	textColumn("occupation_code", func(r *registry.TrainingRecord) *string { return &r.OccupationCode }),
	intColumn("target_level", func(r *registry.TrainingRecord) *registry.Level { return &r.TargetLevel }),
	textColumn("training_type", func(r *registry.TrainingRecord) *string { return &r.TrainingType }),
	intColumn("hours", func(r *registry.TrainingRecord) *int { return &r.Hours }),
	textColumn("start", func(r *registry.TrainingRecord) *string { return &r.Start }),
	textColumn("end", func(r *registry.TrainingRecord) *string { return &r.End }),
	boolColumn("completed", func(r *registry.TrainingRecord) *bool { return &r.Completed }),
	textColumn("exam_result", func(r *registry.TrainingRecord) *string { return &r.ExamResult }),
	textColumn("certificate_number", func(r *registry.TrainingRecord) *string { return &r.CertificateNumber }),
	optionalBoolColumn("employed", func(r *registry.TrainingRecord) **bool { return &r.Employed }),
	textColumn("subsidy_category", func(r *registry.TrainingRecord) *string { return &r.SubsidyCategory }),
	intColumn("subsidy_amount_fen", func(r *registry.TrainingRecord) *int64 { return &r.SubsidyAmountFen }),
	textColumn("subsidy_payee", func(r *registry.TrainingRecord) *string { return &r.SubsidyPayee }),
	timeColumn("created_at", func(r *registry.TrainingRecord) *time.Time { return &r.CreatedAt }),
	timeColumn("updated_at", func(r *registry.TrainingRecord) *time.Time { return &r.UpdatedAt }),
}

var (
	// trainingColumns selects every column of trainingTable.
	trainingColumns = columnNames(trainingTable)
	// insertTraining stores a training record unless its ID is stored;
	// its arguments are trainingValues.
	insertTraining = `INSERT INTO training_records (` + trainingColumns + `) VALUES (` + placeholders(trainingTable) + `) ON CONFLICT (id) DO NOTHING`
)

// trainingValues returns the arguments of insertTraining for r.
func trainingValues(r *registry.TrainingRecord) []any { return columnValues(trainingTable, r) }

// CreateTrainingRecord stores r. If a record with r.ID exists, nothing is
// written, r is overwritten with the stored one and created is false.
// EINVALID if r.IssuerID names no stored issuer.
func (s *Store) CreateTrainingRecord(ctx context.Context, r *registry.TrainingRecord) (bool, error) {
	res, err := s.write.ExecContext(ctx, insertTraining, trainingValues(r)...)
	switch {
	case isForeignKey(err):
		return false, registry.FieldError("issuer_id", "no issuer has the id %q", r.IssuerID)
	case err != nil:
		return false, internal(err, "insert training record %s", r.ID)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, internal(err, "insert training record %s", r.ID)
	} else if n == 1 {
		return true, nil
	}
	stored, err := s.trainingRecord(ctx, s.write, r.ID)
	if err != nil {
		return false, err
	}
	*r = *stored
	return false, nil
}

// CreateTrainingRecords stores recs in one transaction (one sync to
// disk): all of them or, on an error, none. A record whose ID exists is
// not written; it is overwritten with the stored one and its created is
// false.
func (s *Store) CreateTrainingRecords(ctx context.Context, recs []*registry.TrainingRecord) ([]bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, internal(err, "begin training records")
	}
	defer rollback(tx)
	stmt, err := tx.PrepareContext(ctx, insertTraining)
	if err != nil {
		return nil, internal(err, "prepare training records")
	}
	defer stmt.Close()
	created := make([]bool, len(recs))
	for i, r := range recs {
		res, err := stmt.ExecContext(ctx, trainingValues(r)...)
		switch {
		case isForeignKey(err):
			return nil, registry.FieldError("issuer_id", "no issuer has the id %q", r.IssuerID)
		case err != nil:
			return nil, internal(err, "insert training record %s", r.ID)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, internal(err, "insert training record %s", r.ID)
		}
		if created[i] = n == 1; !created[i] {
			stored, err := s.trainingRecord(ctx, tx, r.ID)
			if err != nil {
				return nil, err
			}
			*r = *stored
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, internal(err, "commit training records")
	}
	return created, nil
}

func nullBool(b *bool) sql.NullBool {
	if b == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *b, Valid: true}
}

// TrainingRecord returns one record. ENOTFOUND if there is none.
func (s *Store) TrainingRecord(ctx context.Context, id string) (*registry.TrainingRecord, error) {
	return s.trainingRecord(ctx, s.read, id)
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) trainingRecord(ctx context.Context, q rowQuerier, id string) (*registry.TrainingRecord, error) {
	r, err := scanTraining(q.QueryRowContext(ctx, `SELECT `+trainingColumns+` FROM training_records WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "no training record %s", id)
	case err != nil:
		return nil, internal(err, "read training record %s", id)
	}
	return r, nil
}

// TrainingRecords lists records matching f, newest first (ties by ID,
// highest first), with the total number of matches, from one snapshot.
func (s *Store) TrainingRecords(ctx context.Context, f registry.TrainingFilter) ([]*registry.TrainingRecord, int, error) {
	var (
		where []string
		args  []any
	)
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+` = ?`)
			args = append(args, v)
		}
	}
	eq("issuer_id", f.IssuerID)
	eq("province", f.Province)
	eq("class_id", f.ClassID)
	eq("target_group", f.TargetGroup)
	eq("training_type", f.TrainingType)
	if f.Year != "" {
		where = append(where, `start LIKE ? ESCAPE '\'`)
		args = append(args, escapeLike(f.Year)+"-%")
	}
	if f.Query != "" {
		q := escapeLike(f.Query)
		where = append(where, `(name LIKE ? ESCAPE '\' OR class_id LIKE ? ESCAPE '\')`)
		args = append(args, "%"+q+"%", q+"%")
	}
	cond := whereClause(where)
	page, perPage := pageBounds(f.Page, f.PerPage)
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, internal(err, "list training records")
	}
	defer rollback(tx)
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM training_records`+cond, args...).Scan(&total); err != nil {
		return nil, 0, internal(err, "count training records")
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+trainingColumns+` FROM training_records`+cond+
		` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, append(args, perPage, (page-1)*perPage)...)
	if err != nil {
		return nil, 0, internal(err, "list training records")
	}
	defer rows.Close()
	var list []*registry.TrainingRecord
	for rows.Next() {
		r, err := scanTraining(rows)
		if err != nil {
			return nil, 0, internal(err, "list training records")
		}
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, internal(err, "list training records")
	}
	return list, total, nil
}

// UpdateTrainingOutcome writes r's outcome and subsidy fields and
// UpdatedAt if the stored certificate number is still prevCertificate.
// ENOTFOUND, or ECONFLICT when the certificate number changed.
func (s *Store) UpdateTrainingOutcome(ctx context.Context, r *registry.TrainingRecord, prevCertificate string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE training_records SET completed = ?, exam_result = ?, certificate_number = ?,
		employed = ?, subsidy_category = ?, subsidy_amount_fen = ?, subsidy_payee = ?, updated_at = ?
		WHERE id = ? AND certificate_number = ?`,
		r.Completed, r.ExamResult, r.CertificateNumber, nullBool(r.Employed), r.SubsidyCategory, r.SubsidyAmountFen, r.SubsidyPayee,
		formatTime(r.UpdatedAt), r.ID, prevCertificate)
	if err != nil {
		return internal(err, "update training record %s", r.ID)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal(err, "update training record %s", r.ID)
	} else if n == 0 {
		if _, err := s.trainingRecord(ctx, s.write, r.ID); err != nil {
			return err
		}
		return registry.Errorf(registry.ECONFLICT, "training record %s changed meanwhile (a certificate was issued for it); read it again", r.ID)
	}
	return nil
}

// LinkTrainingCertificate sets the certificate number of a record that has
// none or the same one. ENOTFOUND, or ECONFLICT if it has another.
func (s *Store) LinkTrainingCertificate(ctx context.Context, id, number string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE training_records SET certificate_number = ?
		WHERE id = ? AND certificate_number IN ('', ?)`, number, id, number)
	if err != nil {
		return internal(err, "link training record %s", id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal(err, "link training record %s", id)
	} else if n == 1 {
		return nil
	}
	r, err := s.trainingRecord(ctx, s.write, id)
	if err != nil {
		return err
	}
	return registry.Errorf(registry.ECONFLICT, "training record %s already names certificate %s", id, r.CertificateNumber)
}

// TrainingCounts groups the records matching f in one aggregate query.
func (s *Store) TrainingCounts(ctx context.Context, f stats.TrainingCountFilter) ([]stats.TrainingCount, error) {
	var (
		where []string
		args  []any
	)
	if f.Province != "" {
		where = append(where, `province = ?`)
		args = append(args, f.Province)
	}
	if f.Year != "" {
		where = append(where, `start LIKE ? ESCAPE '\'`)
		args = append(args, escapeLike(f.Year)+"-%")
	}
	cond := whereClause(where)
	rows, err := s.read.QueryContext(ctx, `SELECT province, substr(start, 1, 4), target_group, training_type, completed,
		certificate_number <> '', employed, count(*) FROM training_records`+cond+`
		GROUP BY 1, 2, 3, 4, 5, 6, 7`, args...)
	if err != nil {
		return nil, internal(err, "count training records")
	}
	defer rows.Close()
	var out []stats.TrainingCount
	for rows.Next() {
		var c stats.TrainingCount
		var employed sql.NullBool
		if err := rows.Scan(&c.Province, &c.Year, &c.TargetGroup, &c.TrainingType, &c.Completed, &c.Certified, &employed, &c.Records); err != nil {
			return nil, internal(err, "count training records")
		}
		if employed.Valid {
			v := employed.Bool
			c.Employed = &v
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "count training records")
	}
	return out, nil
}

func scanTraining(r scanner) (*registry.TrainingRecord, error) {
	return scanColumns(trainingTable, r)
}
