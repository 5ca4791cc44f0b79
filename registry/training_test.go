package registry_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// Clock of the fixture: 2026-03-01 (China time).

func trainingInput(over func(*registry.TrainingInput)) registry.TrainingInput {
	in := registry.TrainingInput{
		Name: "张小三", IDNumber: "11010519491231002X", Education: "高中", Phone: "13800000000",
		TargetGroup: registry.GroupMigrantWorker, OccupationCode: "6-18-01-01", TargetLevel: 4,
		TrainingType: registry.TrainingEmployment, Hours: 120, Start: "2026-01-05", End: "2026-02-20", ClassID: "2026-车工-01",
	}
	if over != nil {
		over(&in)
	}
	return in
}

func ptr[T any](v T) *T { return &v }

// TestTrainingValidation: each bad field gives an EINVALID naming it, with
// a Chinese and an English message, and nothing is written.
func TestTrainingValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	for _, tc := range []struct {
		field string
		over  func(*registry.TrainingInput)
	}{
		{"name", func(in *registry.TrainingInput) { in.Name = " " }},
		{"name", func(in *registry.TrainingInput) { in.Name = "张*" }},
		{"id_number", func(in *registry.TrainingInput) { in.IDNumber = "110105194912310021" }},
		{"sex", func(in *registry.TrainingInput) { in.Sex = "male" }}, // the ID's 17th digit is even: a woman
		{"sex", func(in *registry.TrainingInput) { in.Sex = "x" }},
		{"education", func(in *registry.TrainingInput) { in.Education = strings.Repeat("学", 21) }},
		{"phone", func(in *registry.TrainingInput) { in.Phone = "call me" }},
		{"target_group", func(in *registry.TrainingInput) { in.TargetGroup = "student" }},
		{"target_group", func(in *registry.TrainingInput) { in.TargetGroup = "" }},
		{"occupation_code", func(in *registry.TrainingInput) { in.OccupationCode = "6-18" }},
		{"target_level", func(in *registry.TrainingInput) { in.TargetLevel = 6 }},
		{"training_type", func(in *registry.TrainingInput) { in.TrainingType = "leisure" }},
		{"hours", func(in *registry.TrainingInput) { in.Hours = 0 }},
		{"hours", func(in *registry.TrainingInput) { in.Hours = -3 }},
		{"start", func(in *registry.TrainingInput) { in.Start = "2026-13-01" }},
		{"start", func(in *registry.TrainingInput) { in.Start = "1999-12-31" }},
		{"start", func(in *registry.TrainingInput) { in.Start, in.End = "2027-06-01", "2027-07-01" }},
		{"end", func(in *registry.TrainingInput) { in.End = "2026-01-04" }},
		{"end", func(in *registry.TrainingInput) { in.End = "" }},
		{"class_id", func(in *registry.TrainingInput) { in.ClassID = "" }},
		{"class_id", func(in *registry.TrainingInput) { in.ClassID = "a;b" }},
		{"completed", func(in *registry.TrainingInput) { in.End = "2026-03-10"; in.Completed = ptr(true) }},
		{"exam_result", func(in *registry.TrainingInput) { in.ExamResult = ptr("good") }},
		{"certificate_number", func(in *registry.TrainingInput) { in.CertificateNumber = ptr("12345") }},
		{"certificate_number", func(in *registry.TrainingInput) { in.CertificateNumber = ptr("S000111000001263000009") }}, // not stored
		{"subsidy_category", func(in *registry.TrainingInput) { in.SubsidyCategory = ptr(strings.Repeat("补", 51)) }},
		{"subsidy_amount_fen", func(in *registry.TrainingInput) { in.SubsidyAmountFen = ptr(int64(-1)) }},
		{"subsidy_amount_fen", func(in *registry.TrainingInput) { in.SubsidyAmountFen = ptr(int64(registry.MaxSubsidyFen + 1)) }},
		{"subsidy_payee", func(in *registry.TrainingInput) { in.SubsidyPayee = ptr("bank") }},
	} {
		_, _, err := f.reg.CreateTrainingRecord(ctx, u, trainingInput(tc.over))
		ps := registry.ProblemsOf(err)
		if registry.ErrorCode(err) != registry.EINVALID || len(ps) != 1 || ps[0].Field != tc.field || ps[0].MessageZH == "" || ps[0].Message == "" {
			t.Errorf("%s: %v (problems %+v), want one EINVALID problem on %s", tc.field, err, ps, tc.field)
		}
		if strings.Contains(registry.ErrorMessage(err), "11010519491231002") {
			t.Errorf("%s: the message repeats the ID number: %v", tc.field, err)
		}
	}
	// Every problem at once, not just the first.
	_, _, err := f.reg.CreateTrainingRecord(ctx, u, registry.TrainingInput{})
	if ps := registry.ProblemsOf(err); len(ps) < 9 {
		t.Errorf("an empty input gives %d problems: %+v", len(ps), ps)
	}
	list, total, err := f.reg.TrainingRecords(ctx, u, registry.TrainingFilter{})
	if err != nil || total != 0 || len(list) != 0 {
		t.Fatalf("something was written: %d %v", total, err)
	}
}

// TestTrainingCreate: a good record is stored with the ID number only
// masked, hashed and encrypted; the same trainee in the same class again
// is the same record; sex comes from the ID number; an issuer may train
// outside its certification scope.
func TestTrainingCreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	rec, created, err := f.reg.CreateTrainingRecord(ctx, u, trainingInput(func(in *registry.TrainingInput) {
		in.OccupationCode = "4-01-02-01" // outside the centre's certification scope
		in.Completed, in.ExamResult, in.Employed = ptr(true), ptr(registry.ExamPass), ptr(false)
		in.SubsidyCategory, in.SubsidyAmountFen, in.SubsidyPayee = ptr("职业培训补贴"), ptr(int64(120050)), ptr(registry.PayeeTrainee)
	}))
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if rec.IDMasked != "110105********002X" || rec.Sex != "female" || rec.Province != "11" || rec.SubsidyAmountFen != 120050 || !rec.Completed || *rec.Employed {
		t.Errorf("record %+v", rec)
	}
	if id, err := f.vault.DecryptID(rec.IDCipher); err != nil || id != "11010519491231002X" || rec.IDHash != f.vault.HashID(id) {
		t.Errorf("cipher/hash: %q %v", id, err)
	}
	again, created, err := f.reg.CreateTrainingRecord(ctx, u, trainingInput(func(in *registry.TrainingInput) { in.Name = "别名"; in.IDNumber = "11010519491231002x" }))
	if err != nil || created || again.ID != rec.ID || again.Name != "张小三" {
		t.Errorf("second registration: %v %v %+v", created, err, again)
	}
	other, created, err := f.reg.CreateTrainingRecord(ctx, u, trainingInput(func(in *registry.TrainingInput) { in.ClassID = "2026-车工-02" }))
	if err != nil || !created || other.ID == rec.ID {
		t.Errorf("another class: %v %v", created, err)
	}
}

// TestTrainingScope: issuers see their own records, officials their
// province's (names and phones masked), national officials and the admin
// all; only the organisation's users write.
func TestTrainingScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.issuerUser(t, centre)
	b := f.issuerUser(t, registry.IssuerInput{Name: "广东中心", Kind: "S", OrgCode: "0002", Province: "44", Site: "000001", Scope: centre.Scope})
	recA, _, err := f.reg.CreateTrainingRecord(ctx, a, trainingInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.reg.CreateTrainingRecord(ctx, b, trainingInput(func(in *registry.TrainingInput) { in.IDNumber = "440524198001010013" })); err != nil {
		t.Fatal(err)
	}
	off11 := &registry.User{ID: "o11", Username: "o11", Role: registry.RoleOfficial, Province: "11"}
	off44 := &registry.User{ID: "o44", Username: "o44", Role: registry.RoleOfficial, Province: "44"}
	national := &registry.User{ID: "on", Username: "on", Role: registry.RoleOfficial}
	for _, tc := range []struct {
		actor *registry.User
		total int
		get   string // ErrorCode of reading recA
	}{
		{a, 1, ""}, {b, 1, registry.ENOTFOUND}, {off11, 1, ""}, {off44, 1, registry.ENOTFOUND}, {national, 2, ""}, {f.admin, 2, ""},
	} {
		_, total, err := f.reg.TrainingRecords(ctx, tc.actor, registry.TrainingFilter{})
		if err != nil || total != tc.total {
			t.Errorf("%s lists %d (%v), want %d", tc.actor.Username, total, err, tc.total)
		}
		got, err := f.reg.TrainingRecord(ctx, tc.actor, recA.ID)
		if registry.ErrorCode(err) != tc.get {
			t.Errorf("%s reads record A: %v, want %q", tc.actor.Username, err, tc.get)
		}
		if err == nil && tc.actor.Role == registry.RoleOfficial && (got.Name != "张*三" || got.Phone != "*******0000") {
			t.Errorf("an official sees %q %q, want masked", got.Name, got.Phone)
		}
	}
	if _, _, err := f.reg.TrainingRecords(ctx, nil, registry.TrainingFilter{}); registry.ErrorCode(err) != registry.EUNAUTHORIZED {
		t.Errorf("anonymous list: %v", err)
	}
	for _, actor := range []*registry.User{off11, national, f.admin} {
		if _, _, err := f.reg.CreateTrainingRecord(ctx, actor, trainingInput(nil)); registry.ErrorCode(err) != registry.EFORBIDDEN {
			t.Errorf("%s creates: %v, want forbidden", actor.Username, err)
		}
		if _, err := f.reg.RecordTrainingOutcome(ctx, actor, recA.ID, registry.TrainingOutcome{Completed: ptr(true)}); registry.ErrorCode(err) != registry.EFORBIDDEN {
			t.Errorf("%s records an outcome: %v, want forbidden", actor.Username, err)
		}
	}
	if _, err := f.reg.RecordTrainingOutcome(ctx, b, recA.ID, registry.TrainingOutcome{Completed: ptr(true)}); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Errorf("another issuer records an outcome: %v, want not found", err)
	}
	rec, err := f.reg.RecordTrainingOutcome(ctx, a, recA.ID, registry.TrainingOutcome{Completed: ptr(true), Employed: ptr(true), SubsidyAmountFen: ptr(int64(99))})
	if err != nil || !rec.Completed || rec.Employed == nil || !*rec.Employed || rec.SubsidyAmountFen != 99 || rec.ExamResult != "" {
		t.Errorf("outcome: %+v %v", rec, err)
	}
	if _, err := f.reg.TrainingStatsFor(ctx, off11, "44", ""); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Errorf("a provincial official asks for another province: %v", err)
	}
	for _, actor := range []*registry.User{a, nil} {
		if _, err := f.reg.TrainingStatsFor(ctx, actor, "", ""); err == nil {
			t.Errorf("%v reads statistics", actor)
		}
	}
}

// TestCertificateFromTraining: a certificate naming a training record of
// the same organisation and holder sets the record's certificate number;
// another holder's or another organisation's record is refused before
// anything is written; a retry with the same external_ref completes the
// link; a second certificate for the record is refused.
func TestCertificateFromTraining(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.issuerUser(t, centre)
	b := f.issuerUser(t, registry.IssuerInput{Name: "广东中心", Kind: "S", OrgCode: "0002", Province: "44", Site: "000001", Scope: centre.Scope})
	rec, _, err := f.reg.CreateTrainingRecord(ctx, a, trainingInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	recB, _, err := f.reg.CreateTrainingRecord(ctx, b, trainingInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]registry.IssueInput{
		"another holder":       issueInput(func(in *registry.IssueInput) { in.IDNumber = "440524198001010013"; in.TrainingRecordID = rec.ID }),
		"another organisation": issueInput(func(in *registry.IssueInput) { in.TrainingRecordID = recB.ID }),
		"no such record":       issueInput(func(in *registry.IssueInput) { in.TrainingRecordID = "tr000" }),
	} {
		if _, _, err := f.reg.Issue(ctx, a, in); registry.ErrorField(err) != "training_record_id" {
			t.Errorf("%s: %v, want an error on training_record_id", name, err)
		}
	}
	if _, total, _ := f.reg.Certificates(ctx, a, registry.CertificateFilter{}); total != 0 {
		t.Fatalf("a refused issuance wrote %d certificates", total)
	}
	in := issueInput(func(in *registry.IssueInput) { in.TrainingRecordID = rec.ID; in.ExternalRef = "class-1/1" })
	c, created, err := f.reg.Issue(ctx, a, in)
	if err != nil || !created || c.TrainingRecordID != rec.ID {
		t.Fatalf("issue: %v %v %+v", created, err, c)
	}
	got, err := f.reg.TrainingRecord(ctx, a, rec.ID)
	if err != nil || got.CertificateNumber != c.Number {
		t.Fatalf("record's certificate %q, want %s (%v)", got.CertificateNumber, c.Number, err)
	}
	stored, err := f.reg.Certificate(ctx, a, c.Number)
	if err != nil || stored.TrainingRecordID != rec.ID {
		t.Errorf("stored certificate names %q", stored.TrainingRecordID)
	}
	again, created, err := f.reg.Issue(ctx, a, in)
	if err != nil || created || again.Number != c.Number {
		t.Errorf("retry: %v %v", created, err)
	}
	_, _, err = f.reg.Issue(ctx, a, issueInput(func(in *registry.IssueInput) { in.TrainingRecordID = rec.ID; in.Level = 2 }))
	if registry.ErrorField(err) != "training_record_id" {
		t.Errorf("a second certificate for the record: %v", err)
	}
	// Recording the certificate number by hand checks it the same way.
	other, _, err := f.reg.Issue(ctx, a, issueInput(func(in *registry.IssueInput) { in.IDNumber = "440524198001010013" }))
	if err != nil {
		t.Fatal(err)
	}
	rec2, _, err := f.reg.CreateTrainingRecord(ctx, a, trainingInput(func(in *registry.TrainingInput) { in.ClassID = "c2" }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.reg.RecordTrainingOutcome(ctx, a, rec2.ID, registry.TrainingOutcome{CertificateNumber: ptr(other.Number)})
	if ps := registry.ProblemsOf(err); len(ps) != 1 || ps[0].Field != "certificate_number" {
		t.Errorf("another holder's certificate by hand: %v", err)
	}
	if r, err := f.reg.RecordTrainingOutcome(ctx, a, rec2.ID, registry.TrainingOutcome{CertificateNumber: ptr(c.Number)}); err != nil || r.CertificateNumber != c.Number {
		t.Errorf("own certificate by hand: %v", err)
	}
}

// TestTrainingStats: the figures on a small known dataset.
func TestTrainingStats(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.issuerUser(t, centre)
	b := f.issuerUser(t, registry.IssuerInput{Name: "广东中心", Kind: "S", OrgCode: "0002", Province: "44", Site: "000001", Scope: centre.Scope})
	ids := []string{"11010519491231002X", "440524198001010013", "34052419800101001X", "110105194912310011", "110105194912310038"}
	for i, id := range ids {
		if _, err := registry.NormalizeIDNumber(id); err != nil {
			t.Fatalf("test ID %d: %v", i, err)
		}
	}
	type row struct {
		actor     *registry.User
		id        string
		group     string
		typ       string
		start     string
		completed bool
		employed  *bool
	}
	rows := []row{
		// Beijing, 2025: four new labour trainees.
		{a, ids[0], registry.GroupNewLabour, registry.TrainingEmployment, "2025-03-01", true, ptr(true)},
		{a, ids[1], registry.GroupNewLabour, registry.TrainingEmployment, "2025-03-01", true, ptr(true)},
		{a, ids[2], registry.GroupNewLabour, registry.TrainingEmployment, "2025-03-01", false, ptr(true)},
		{a, ids[3], registry.GroupNewLabour, registry.TrainingEmployment, "2025-03-01", true, nil},
		// Beijing 2026 and Guangdong 2025: others.
		{a, ids[4], registry.GroupEmployee, registry.TrainingUpskilling, "2026-01-05", true, nil},
		{b, ids[0], registry.GroupUnemployed, registry.TrainingEntrepreneurship, "2025-05-01", false, ptr(false)},
	}
	var first *registry.TrainingRecord
	for i, r := range rows {
		rec, _, err := f.reg.CreateTrainingRecord(ctx, r.actor, trainingInput(func(in *registry.TrainingInput) {
			in.IDNumber, in.TargetGroup, in.TrainingType, in.Start, in.End = r.id, r.group, r.typ, r.start, r.start
			in.Completed, in.Employed = ptr(r.completed), r.employed
		}))
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if i == 0 {
			first = rec
		}
	}
	// One certificate, from the first record.
	if _, _, err := f.reg.Issue(ctx, a, issueInput(func(in *registry.IssueInput) { in.IDNumber = ids[0]; in.TrainingRecordID = first.ID })); err != nil {
		t.Fatal(err)
	}
	national := &registry.User{ID: "on", Username: "on", Role: registry.RoleOfficial}
	st, err := f.reg.TrainingStatsFor(ctx, national, "", "")
	if err != nil {
		t.Fatal(err)
	}
	value := func(r stats.Rate) float64 {
		if r.Value == nil {
			return -1
		}
		return *r.Value
	}
	if st.Records != 6 || st.Completion.Numerator != 4 || st.Completion.Denominator != 6 ||
		st.Certification.Numerator != 1 || st.Certification.Denominator != 4 {
		t.Errorf("national: records %d, completion %+v, certification %+v", st.Records, st.Completion, st.Certification)
	}
	// New labour known to be employed: 3; of them completed: 2.
	if st.PreEmployment.Numerator != 2 || st.PreEmployment.Denominator != 3 || st.PreEmploymentMet || st.Plan.PreEmploymentShare != 0.9 {
		t.Errorf("pre-employment %+v met %v plan %+v", st.PreEmployment, st.PreEmploymentMet, st.Plan)
	}
	bucket := func(list []stats.TrainingBucket, key string) stats.TrainingBucket {
		i := slices.IndexFunc(list, func(b stats.TrainingBucket) bool { return b.Key == key })
		if i < 0 {
			return stats.TrainingBucket{}
		}
		return list[i]
	}
	if b := bucket(st.ByTargetGroup, registry.GroupNewLabour); b.Records != 4 || b.Completed != 3 || b.Certified != 1 || b.Name != "新成长劳动力" {
		t.Errorf("new labour bucket %+v", b)
	}
	if len(st.ByTargetGroup) != 7 || len(st.ByType) != 3 {
		t.Errorf("every group and type is listed, even empty: %d %d", len(st.ByTargetGroup), len(st.ByType))
	}
	if bucket(st.ByProvince, "11").Records != 5 || bucket(st.ByProvince, "44").Records != 1 || bucket(st.ByYear, "2025").Records != 5 || bucket(st.ByYear, "2026").Records != 1 {
		t.Errorf("by province %+v by year %+v", st.ByProvince, st.ByYear)
	}
	if bucket(st.ByType, registry.TrainingEntrepreneurship).Records != 1 {
		t.Errorf("by type %+v", st.ByType)
	}
	off11 := &registry.User{ID: "o11", Username: "o11", Role: registry.RoleOfficial, Province: "11"}
	st, err = f.reg.TrainingStatsFor(ctx, off11, "", "2025")
	if err != nil || st.Records != 4 || st.Province != "11" || value(st.Completion) != 0.75 {
		t.Errorf("province 11, 2025: %+v %v", st, err)
	}
	st, err = f.reg.TrainingStatsFor(ctx, f.admin, "44", "2026")
	if err != nil || st.Records != 0 || st.Completion.Value != nil {
		t.Errorf("province 44, 2026: %+v %v", st, err)
	}
	// Reaching the plan: the third new labour trainee completes.
	st2 := registry.SumTrainingCounts([]stats.TrainingCount{
		{TargetGroup: registry.GroupNewLabour, Completed: true, Employed: ptr(true), Records: 9},
		{TargetGroup: registry.GroupNewLabour, Completed: false, Employed: ptr(true), Records: 1},
	}, "", "")
	if !st2.PreEmploymentMet || value(st2.PreEmployment) != 0.9 {
		t.Errorf("9 of 10: %+v met %v", st2.PreEmployment, st2.PreEmploymentMet)
	}
}
