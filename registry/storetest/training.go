package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// Training records (实名制培训).

func newTraining(issuer, class string, n int) *registry.TrainingRecord {
	hash := fmt.Sprintf("hash-%d", n)
	return &registry.TrainingRecord{
		ID: registry.TrainingRecordID(issuer, class, hash), IssuerID: issuer, Province: issuer[5:7], ClassID: class,
		Name: fmt.Sprintf("学员%d", n), IDMasked: "110105********002X", IDHash: hash, IDCipher: []byte{1, 2, byte(n)},
		Sex: "male", Education: "高中", Phone: "13800000000", TargetGroup: registry.GroupMigrantWorker,
		OccupationCode: "6-18-01-01", TargetLevel: registry.Level4, TrainingType: registry.TrainingEmployment,
		Hours: 80, Start: "2024-03-01", End: "2024-04-30", CreatedAt: at(n), UpdatedAt: at(n),
	}
}

func mustTrain(t *testing.T, s registry.Store, r *registry.TrainingRecord) *registry.TrainingRecord {
	t.Helper()
	created, err := s.CreateTrainingRecord(context.Background(), r)
	if err != nil || !created {
		t.Fatalf("CreateTrainingRecord(%s) = %v, %v; want true, nil", r.ID, created, err)
	}
	return r
}

func testTrainingRoundTrip(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	in := newTraining(issuerA, "2024-01", 1)
	yes := true
	in.Employed = &yes
	in.SubsidyAmountFen = 120050
	in.SubsidyCategory, in.SubsidyPayee, in.ExamResult, in.Completed = "职业培训补贴", registry.PayeeTrainee, registry.ExamPass, true
	want := *in
	mustTrain(t, s, in)
	got, err := s.TrainingRecord(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, &want)
	}
	// The same trainee in the same class again: nothing written, the
	// stored record comes back.
	again := newTraining(issuerA, "2024-01", 1)
	again.Name = "别的名字"
	created, err := s.CreateTrainingRecord(ctx, again)
	if err != nil || created || again.Name != want.Name || again.SubsidyAmountFen != 120050 {
		t.Errorf("second create = %v, %v, %+v; want the stored record, not created", created, err, again)
	}
	_, err = s.TrainingRecord(ctx, "tr-missing")
	wantCode(t, "TrainingRecord of a missing id", err, registry.ENOTFOUND)
	bad := newTraining("S999999999999", "c", 2)
	_, err = s.CreateTrainingRecord(ctx, bad)
	wantCode(t, "CreateTrainingRecord of an unknown issuer", err, registry.EINVALID)
}

func testTrainingOutcomeAndLink(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	r := mustTrain(t, s, newTraining(issuerA, "c1", 1))
	no := false
	r.Completed, r.ExamResult, r.Employed, r.SubsidyAmountFen, r.UpdatedAt = true, registry.ExamFail, &no, 500, at(99)
	r.Name = "not written" // only outcome fields are
	if err := s.UpdateTrainingOutcome(ctx, r, ""); err != nil {
		t.Fatal(err)
	}
	got, err := s.TrainingRecord(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Completed || got.ExamResult != registry.ExamFail || got.Employed == nil || *got.Employed || got.SubsidyAmountFen != 500 || !got.UpdatedAt.Equal(at(99)) || got.Name != "学员1" {
		t.Errorf("after UpdateTrainingOutcome: %+v", got)
	}
	missing := newTraining(issuerA, "c1", 2)
	wantCode(t, "UpdateTrainingOutcome of a missing record", s.UpdateTrainingOutcome(ctx, missing, ""), registry.ENOTFOUND)

	const n1, n2 = "S000011000001243000001", "S000011000001243000002"
	if err := s.LinkTrainingCertificate(ctx, r.ID, n1); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkTrainingCertificate(ctx, r.ID, n1); err != nil {
		t.Errorf("linking the same number again: %v", err)
	}
	wantCode(t, "linking another number", s.LinkTrainingCertificate(ctx, r.ID, n2), registry.ECONFLICT)
	wantCode(t, "linking a missing record", s.LinkTrainingCertificate(ctx, missing.ID, n1), registry.ENOTFOUND)
	if got, _ := s.TrainingRecord(ctx, r.ID); got.CertificateNumber != n1 {
		t.Errorf("certificate number %q, want %s", got.CertificateNumber, n1)
	}
	// An outcome read before the link does not undo it.
	stale := *r
	stale.CertificateNumber, stale.ExamResult = "", registry.ExamPass
	wantCode(t, "an outcome update from before the link", s.UpdateTrainingOutcome(ctx, &stale, ""), registry.ECONFLICT)
	fresh, _ := s.TrainingRecord(ctx, r.ID)
	fresh.ExamResult = registry.ExamPass
	if err := s.UpdateTrainingOutcome(ctx, fresh, n1); err != nil {
		t.Errorf("an outcome update after the link: %v", err)
	}
	if got, _ := s.TrainingRecord(ctx, r.ID); got.CertificateNumber != n1 || got.ExamResult != registry.ExamPass {
		t.Errorf("after both: %+v", got)
	}
}

func testTrainingList(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA, issuerB)
	var recs []*registry.TrainingRecord
	add := func(issuer, class string, n int, mod func(*registry.TrainingRecord)) {
		r := newTraining(issuer, class, n)
		if mod != nil {
			mod(r)
		}
		recs = append(recs, mustTrain(t, s, r))
	}
	add(issuerA, "A-1", 0, nil)
	add(issuerA, "A-1", 1, func(r *registry.TrainingRecord) { r.TargetGroup = registry.GroupNewLabour; r.Name = "张三" })
	add(issuerA, "A-2", 2, func(r *registry.TrainingRecord) { r.TrainingType = registry.TrainingUpskilling; r.Start = "2025-01-02" })
	add(issuerA, "B%_", 3, func(r *registry.TrainingRecord) { r.Name = "百分%之百" })
	add(issuerB, "A-1", 4, nil)
	ids := func(idx ...int) []string {
		out := []string{}
		for _, i := range idx {
			out = append(out, recs[i].ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    registry.TrainingFilter
		want []string
	}{
		{"issuer A newest first", registry.TrainingFilter{IssuerID: issuerA}, ids(3, 2, 1, 0)},
		{"all", registry.TrainingFilter{}, ids(4, 3, 2, 1, 0)},
		{"province 44", registry.TrainingFilter{Province: "44"}, ids(4)},
		{"class", registry.TrainingFilter{IssuerID: issuerA, ClassID: "A-1"}, ids(1, 0)},
		{"target group", registry.TrainingFilter{TargetGroup: registry.GroupNewLabour}, ids(1)},
		{"training type", registry.TrainingFilter{TrainingType: registry.TrainingUpskilling}, ids(2)},
		{"year", registry.TrainingFilter{Year: "2025"}, ids(2)},
		{"name substring", registry.TrainingFilter{Query: "三"}, ids(1)},
		{"class prefix", registry.TrainingFilter{IssuerID: issuerA, Query: "A-"}, ids(2, 1, 0)},
		{"wildcards are literal", registry.TrainingFilter{Query: "%"}, ids(3)},
		{"page 2 of 2", registry.TrainingFilter{IssuerID: issuerA, Page: 2, PerPage: 3}, ids(0)},
	} {
		list, total, err := s.TrainingRecords(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := []string{}
		for _, r := range list {
			got = append(got, r.ID)
		}
		wantTotal := len(tc.want)
		if tc.f.Page == 2 {
			wantTotal = 4
		}
		if !reflect.DeepEqual(got, tc.want) || total != wantTotal {
			t.Errorf("%s: got %v (total %d), want %v (total %d)", tc.name, got, total, tc.want, wantTotal)
		}
	}
}

func testTrainingCounts(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA, issuerB)
	yes := true
	for i := range 3 {
		r := newTraining(issuerA, "c", i)
		r.Completed = i < 2
		if i == 0 {
			r.CertificateNumber = "S000011000001243000001"
			r.Employed = &yes
		}
		mustTrain(t, s, r)
	}
	mustTrain(t, s, newTraining(issuerB, "c", 9))
	counts, err := s.TrainingCounts(ctx, stats.TrainingCountFilter{})
	if err != nil {
		t.Fatal(err)
	}
	st := registry.SumTrainingCounts(counts, "", "")
	if st.Records != 4 || st.Completion.Numerator != 2 || st.Certification.Numerator != 1 || len(st.ByProvince) != 2 || st.PreEmployment.Denominator != 0 {
		t.Errorf("all provinces: %+v from %+v", st, counts)
	}
	counts, err = s.TrainingCounts(ctx, stats.TrainingCountFilter{Province: "11", Year: "2024"})
	if err != nil {
		t.Fatal(err)
	}
	total, employed := 0, 0
	for _, c := range counts {
		total += c.Records
		if c.Employed != nil && *c.Employed {
			employed += c.Records
		}
		if c.Province != "11" || c.Year != "2024" {
			t.Errorf("group outside the filter: %+v", c)
		}
	}
	if total != 3 || employed != 1 {
		t.Errorf("province 11: %d records, %d employed; want 3, 1", total, employed)
	}
	counts, err = s.TrainingCounts(ctx, stats.TrainingCountFilter{Year: "2023"})
	if err != nil || len(counts) != 0 {
		t.Errorf("year 2023: %+v, %v; want none", counts, err)
	}
}

func testCertificateTrainingLink(t *testing.T, s registry.Store) {
	seedIssuers(t, s, issuerA)
	c := newCert(issuerA, 1)
	c.TrainingRecordID = "tr0123"
	mustCreate(t, s, c)
	got, err := s.Certificate(context.Background(), c.Number)
	if err != nil || got.TrainingRecordID != "tr0123" {
		t.Errorf("certificate's training record %q, %v; want tr0123", got.TrainingRecordID, err)
	}
}

func testTrainingBatch(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	first := mustTrain(t, s, newTraining(issuerA, "c", 1))
	batch := []*registry.TrainingRecord{newTraining(issuerA, "c", 0), newTraining(issuerA, "c", 1), newTraining(issuerA, "c", 2)}
	batch[1].Name = "不会写入"
	created, err := s.CreateTrainingRecords(ctx, batch)
	if err != nil || !reflect.DeepEqual(created, []bool{true, false, true}) {
		t.Fatalf("CreateTrainingRecords = %v, %v; want [true false true]", created, err)
	}
	if batch[1].Name != first.Name {
		t.Errorf("the existing record came back as %+v", batch[1])
	}
	for _, r := range []*registry.TrainingRecord{batch[0], batch[2]} {
		got, err := s.TrainingRecord(ctx, r.ID)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("stored %+v, %v; want %+v", got, err, r)
		}
	}
	_, total, err := s.TrainingRecords(ctx, registry.TrainingFilter{})
	if err != nil || total != 3 {
		t.Errorf("%d records, %v; want 3", total, err)
	}
	_, err = s.CreateTrainingRecords(ctx, []*registry.TrainingRecord{newTraining("S999999999999", "c", 5)})
	wantCode(t, "a batch with an unknown issuer", err, registry.EINVALID)
}
