package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/skillreg/skillreg/registry/refdata"
)

// Target groups of real-name training (实名制培训), as DOMAIN.md lists them.
const (
	GroupUnemployed     = "unemployed"      // 城镇登记失业人员
	GroupMigrantWorker  = "migrant_worker"  // 农民工 / 农村转移劳动力
	GroupLandlessFarmer = "landless_farmer" // 被征地农民
	GroupGraduate       = "graduate"        // 高校毕业生
	GroupNewLabour      = "new_labour"      // 新成长劳动力
	GroupEmployee       = "employee"        // 企业职工
	GroupPovertyRelief  = "poverty_relief"  // 脱贫 / 低保
)

// TargetGroups are the target groups in display order, with their Chinese
// names.
var TargetGroups = []NamedCode{
	{GroupUnemployed, "城镇登记失业人员"},
	{GroupMigrantWorker, "农民工/农村转移劳动力"},
	{GroupLandlessFarmer, "被征地农民"},
	{GroupGraduate, "高校毕业生"},
	{GroupNewLabour, "新成长劳动力"},
	{GroupEmployee, "企业职工"},
	{GroupPovertyRelief, "脱贫/低保人员"},
}

// Training types.
const (
	TrainingEmployment       = "employment"       // 就业技能培训
	TrainingUpskilling       = "upskilling"       // 岗位技能提升培训
	TrainingEntrepreneurship = "entrepreneurship" // 创业培训
)

// TrainingTypes are the training types with their Chinese names.
var TrainingTypes = []NamedCode{
	{TrainingEmployment, "就业技能培训"},
	{TrainingUpskilling, "岗位技能提升培训"},
	{TrainingEntrepreneurship, "创业培训"},
}

// Exam results of a training record's outcome; "" is not examined (yet).
const (
	ExamPass   = "pass"   // 合格
	ExamFail   = "fail"   // 不合格
	ExamAbsent = "absent" // 缺考
)

// Subsidy payees; "" is no subsidy (yet).
const (
	PayeeTrainee     = "trainee"     // 个人
	PayeeInstitution = "institution" // 培训机构
	PayeeEmployer    = "employer"    // 企业
)

// NamedCode is an enumeration value and its Chinese name.
type NamedCode struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func codeName(list []NamedCode, code string) (string, bool) {
	for _, c := range list {
		if c.Code == code {
			return c.Name, true
		}
	}
	return "", false
}

// TargetGroupName returns a target group's Chinese name, or "".
func TargetGroupName(code string) string { n, _ := codeName(TargetGroups, code); return n }

// TrainingTypeName returns a training type's Chinese name, or "".
func TrainingTypeName(code string) string { n, _ := codeName(TrainingTypes, code); return n }

// TrainingRecord is one trainee in one class (实名制培训记录). Like a
// certificate's holder, the trainee's ID number is kept only encrypted and
// as a keyed hash; the record's ID is derived from (issuer, class, hash),
// so a trainee is in a class once and registering them again is a no-op.
// Subsidy amounts are whole fen (分), so that sums are exact.
type TrainingRecord struct {
	ID             string
	IssuerID       string
	Province       string // the issuer's, for officials' scope
	ClassID        string
	Name           string
	IDMasked       string
	IDHash         string `json:"-"`
	IDCipher       []byte `json:"-"`
	Sex            string // male or female
	Education      string
	Phone          string
	TargetGroup    string
	OccupationCode string
	TargetLevel    Level
	TrainingType   string
	Hours          int
	Start          string // YYYY-MM-DD
	End            string // YYYY-MM-DD, not before Start

	Completed         bool
	ExamResult        string
	CertificateNumber string
	// Employed is whether the trainee found a job within 6 months of the
	// end; nil while that is not known.
	Employed *bool

	SubsidyCategory  string
	SubsidyAmountFen int64
	SubsidyPayee     string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Year is the year the course started, which is how records are counted
// by year.
func (t *TrainingRecord) Year() string {
	if len(t.Start) >= 4 {
		return t.Start[:4]
	}
	return ""
}

// TrainingOutcome is the outcome and subsidy part of a record. A nil field
// leaves the stored value alone, so that a PATCH can set one thing.
type TrainingOutcome struct {
	Completed         *bool   `json:"completed,omitempty"`
	ExamResult        *string `json:"exam_result,omitempty"`
	CertificateNumber *string `json:"certificate_number,omitempty"`
	Employed          *bool   `json:"employed_within_6_months,omitempty"`
	SubsidyCategory   *string `json:"subsidy_category,omitempty"`
	SubsidyAmountFen  *int64  `json:"subsidy_amount_fen,omitempty"`
	SubsidyPayee      *string `json:"subsidy_payee,omitempty"`
}

// TrainingInput is what an issuer's user sends to register a trainee.
type TrainingInput struct {
	Name           string `json:"name"`
	IDNumber       string `json:"id_number"`
	Sex            string `json:"sex"` // male/female; empty: read from the ID number
	Education      string `json:"education"`
	Phone          string `json:"phone"`
	TargetGroup    string `json:"target_group"`
	OccupationCode string `json:"occupation_code"`
	TargetLevel    Level  `json:"target_level"`
	TrainingType   string `json:"training_type"`
	Hours          int    `json:"hours"`
	Start          string `json:"start"`
	End            string `json:"end"`
	ClassID        string `json:"class_id"`
	TrainingOutcome
}

// TrainingFilter selects training records for a listing.
type TrainingFilter struct {
	IssuerID     string // "" for all issuers
	Province     string // "" for all provinces
	ClassID      string
	TargetGroup  string
	TrainingType string
	Year         string // YYYY: the course's start year
	Query        string // name substring or class id prefix
	Page         int    // 1-based
	PerPage      int
}

// Problem is one thing wrong with an input, in English and Chinese, for
// inputs that can have many (a training record's fields).
type Problem struct {
	Field     string
	Message   string
	MessageZH string
}

// Limits of a training record's free-text fields.
const (
	MaxClassIDLen   = 64 // bytes
	MaxEducationLen = 20 // characters
	MaxCategoryLen  = 50 // characters
	MaxHours        = 5000
	// MaxSubsidyFen is 1,000,000 yuan: no training subsidy comes near it,
	// so a larger amount is a typing error.
	MaxSubsidyFen = 100_000_000
)

var (
	classIDRe = regexp.MustCompile(`^[\p{L}\p{N}._/#()（）\-]+$`)
	phoneRe   = regexp.MustCompile(`^\+?[0-9][0-9 \-]{4,19}$`)
)

// Check validates and normalises the input and returns the canonical ID
// number and every problem it finds (not just the first), each naming its
// field. today bounds the dates: a course may be registered up to a year
// before it starts, and may be marked completed only once it has ended.
func (in *TrainingInput) Check(today time.Time) (string, []Problem) {
	var ps []Problem
	add := func(field, en, zh string) { ps = append(ps, Problem{Field: field, Message: en, MessageZH: zh}) }
	if name, err := NormalizeName(in.Name); err != nil {
		ne := NameProblem(err)
		add("name", ne.Message, ne.MessageZH)
	} else {
		in.Name = name
	}
	id, err := NormalizeIDNumber(in.IDNumber)
	if err == nil {
		err = BornBy(id, today)
		if err != nil {
			id = ""
		}
	}
	if err != nil {
		add("id_number", ErrorMessage(err), "身份证号无效："+idProblemZH(in.IDNumber, today))
	}
	in.Sex = strings.TrimSpace(in.Sex)
	switch in.Sex {
	case "", "male", "female":
		if id != "" {
			fromID := "female"
			if (id[16]-'0')%2 == 1 {
				fromID = "male"
			}
			if in.Sex == "" {
				in.Sex = fromID
			} else if in.Sex != fromID {
				add("sex", "sex does not match the ID number (its 17th digit is odd for men, even for women)", "性别与身份证号不符（第 17 位奇数为男、偶数为女）")
			}
		}
	default:
		add("sex", `sex must be "male" or "female"`, "性别应为 男 或 女")
	}
	in.Education = strings.TrimSpace(in.Education)
	if utf8.RuneCountInString(in.Education) > MaxEducationLen || strings.ContainsFunc(in.Education, unicode.IsControl) {
		add("education", "education may have at most 20 characters", "文化程度最多 20 个字")
	}
	in.Phone = strings.TrimSpace(in.Phone)
	if in.Phone != "" && !phoneRe.MatchString(in.Phone) {
		add("phone", "a phone number has 5 to 20 digits (spaces, '-' and a leading '+' allowed)", "联系电话应为 5-20 位数字")
	}
	if _, ok := codeName(TargetGroups, in.TargetGroup); !ok {
		add("target_group", "target_group must be one of unemployed, migrant_worker, landless_farmer, graduate, new_labour, employee, poverty_relief",
			"人员类别应为 城镇登记失业人员、农民工、被征地农民、高校毕业生、新成长劳动力、企业职工 或 脱贫/低保人员")
	}
	if _, ok := refdata.LookupOccupation(in.OccupationCode); !ok {
		add("occupation_code", "not an occupation of the 2022 classification (format X-XX-XX-XX, e.g. 6-18-01-01)", "职业编码不在《职业分类大典》（2022 年版）中（格式 X-XX-XX-XX，如 6-18-01-01）")
	}
	if !in.TargetLevel.Valid() {
		add("target_level", "target_level must be 1 (highest) to 5", "培训等级应为 1-5（一级最高）")
	}
	if _, ok := codeName(TrainingTypes, in.TrainingType); !ok {
		add("training_type", "training_type must be employment, upskilling or entrepreneurship", "培训类型应为 就业技能培训、岗位技能提升培训 或 创业培训")
	}
	if in.Hours <= 0 || in.Hours > MaxHours {
		add("hours", "hours must be a whole number from 1 to 5000", "课时应为 1-5000 的整数")
	}
	start, okStart := trainingDate(in.Start)
	end, okEnd := trainingDate(in.End)
	if !okStart {
		add("start", "start must be a date YYYY-MM-DD from 2000 on", "开班日期应为 2000 年以后的日期，格式 YYYY-MM-DD")
	} else if start.After(today.AddDate(1, 0, 0)) {
		add("start", "start may be at most one year ahead", "开班日期最多可提前一年登记")
	}
	if !okEnd {
		add("end", "end must be a date YYYY-MM-DD from 2000 on", "结业日期应为 2000 年以后的日期，格式 YYYY-MM-DD")
	}
	if okStart && okEnd && end.Before(start) {
		add("end", "end is before start", "结业日期早于开班日期")
	}
	in.ClassID = strings.TrimSpace(in.ClassID)
	switch {
	case in.ClassID == "":
		add("class_id", "class_id is required", "班级编号不能为空")
	case len(in.ClassID) > MaxClassIDLen || !classIDRe.MatchString(in.ClassID):
		add("class_id", "class_id has at most 64 bytes of letters, digits and . _ / # ( ) -", "班级编号最多 64 字节，只能包含字母、数字和 . _ / # ( ) -")
	}
	ps = append(ps, in.TrainingOutcome.check(okEnd && !end.After(today))...)
	return id, ps
}

// check validates the outcome fields that are set; ended says whether the
// course is over, which completion needs.
func (o *TrainingOutcome) check(ended bool) []Problem {
	var ps []Problem
	add := func(field, en, zh string) { ps = append(ps, Problem{Field: field, Message: en, MessageZH: zh}) }
	if o.Completed != nil && *o.Completed && !ended {
		add("completed", "a course can be completed only after its end date", "结业日期未到，不能标记为已结业")
	}
	if o.ExamResult != nil {
		switch *o.ExamResult {
		case "", ExamPass, ExamFail, ExamAbsent:
		default:
			add("exam_result", `exam_result must be "pass", "fail", "absent" or empty`, "考核结果应为 合格、不合格、缺考 或留空")
		}
	}
	if o.CertificateNumber != nil {
		n := strings.TrimSpace(*o.CertificateNumber)
		o.CertificateNumber = &n
		if n != "" && !validNumber(n) {
			add("certificate_number", "certificate_number is not a certificate number (22 characters, or a 16-digit legacy number)", "证书编号格式不对（22 位，或旧版 16 位）")
		}
	}
	if o.SubsidyCategory != nil {
		c := strings.TrimSpace(*o.SubsidyCategory)
		o.SubsidyCategory = &c
		if utf8.RuneCountInString(c) > MaxCategoryLen || strings.ContainsFunc(c, unicode.IsControl) {
			add("subsidy_category", "subsidy_category may have at most 50 characters", "补贴类别最多 50 个字")
		}
	}
	if o.SubsidyAmountFen != nil && (*o.SubsidyAmountFen < 0 || *o.SubsidyAmountFen > MaxSubsidyFen) {
		add("subsidy_amount_fen", "subsidy_amount_fen must be 0 to 100000000 fen (1,000,000 yuan)", "补贴金额应在 0 至 100 万元之间")
	}
	if o.SubsidyPayee != nil {
		switch *o.SubsidyPayee {
		case "", PayeeTrainee, PayeeInstitution, PayeeEmployer:
		default:
			add("subsidy_payee", `subsidy_payee must be "trainee", "institution", "employer" or empty`, "补贴对象应为 个人、培训机构、企业 或留空")
		}
	}
	return ps
}

// idProblemZH says in Chinese what is wrong with an ID number, without
// repeating it.
func idProblemZH(s string, today time.Time) string {
	s = strings.TrimSpace(s)
	switch {
	case len(s) != 18 && len(s) != 15:
		return "应为 18 位（旧版 15 位）"
	case !allDigits(s[:len(s)-1]):
		return "除末位可为 X 外应全为数字"
	}
	id, err := NormalizeIDNumber(s)
	switch {
	case err == nil && BornBy(id, today) != nil:
		return "出生日期晚于今天"
	case err == nil:
		return ""
	case !IDAddressPlausible(s):
		return "地址码不在任何省级行政区划之下（如 000000）"
	case len(s) == 18 && idCheckChar(s) == strings.ToUpper(s)[17]:
		return "出生日期不是 1900 年以后的有效日期"
	}
	return "校验位或出生日期不对（GB 11643-1999）"
}

func validNumber(n string) bool {
	_, err := ParseNumber(n)
	return err == nil
}

func trainingDate(s string) (time.Time, bool) {
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), ChinaTime)
	if err != nil || d.Year() < 2000 {
		return time.Time{}, false
	}
	return d, true
}

// problemsError turns a record's problems into one EINVALID error that
// names the first field and lists every message in Chinese and English.
func problemsError(ps []Problem) error {
	zh := make([]string, len(ps))
	en := make([]string, len(ps))
	for i, p := range ps {
		zh[i], en[i] = p.MessageZH, p.Field+": "+p.Message
	}
	return &Error{Code: EINVALID, Field: ps[0].Field, Message: strings.Join(zh, "；") + " · " + strings.Join(en, "; ")}
}

// ProblemsOf returns the problems behind an error from a training-record
// method: every field problem of an EINVALID, or none.
func ProblemsOf(err error) []Problem {
	var te *trainingError
	if errors.As(err, &te) {
		return te.problems
	}
	return nil
}

// trainingError is an EINVALID *Error that also carries every problem.
type trainingError struct {
	err      *Error
	problems []Problem
}

func (e *trainingError) Error() string { return e.err.Error() }
func (e *trainingError) Unwrap() error { return e.err }

func invalidTraining(ps []Problem) error {
	base, _ := problemsError(ps).(*Error)
	return &trainingError{err: base, problems: ps}
}

// TrainingRecordID is the ID of the record of the trainee with ID-number
// hash idHash in class classID of issuer issuerID. It is derived, so that
// registering a trainee twice finds the first record; derived from the
// keyed hash, it reveals nothing about the ID number.
func TrainingRecordID(issuerID, classID, idHash string) string {
	h := sha256.Sum256([]byte(issuerID + "\x00" + classID + "\x00" + idHash))
	return "tr" + hex.EncodeToString(h[:12])
}

func (r *Registry) today() time.Time {
	now := r.now().In(ChinaTime)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, ChinaTime)
}

// prepareTraining makes every check CreateTrainingRecord makes before it
// writes and returns the record it would store.
func (r *Registry) prepareTraining(ctx context.Context, actor *User, in TrainingInput) (*TrainingRecord, error) {
	is, err := r.trainingIssuer(ctx, actor)
	if err != nil {
		return nil, err
	}
	return r.prepareTrainingFor(ctx, is, in)
}

func (r *Registry) trainingIssuer(ctx context.Context, actor *User) (*Issuer, error) {
	if err := requireRole(actor, RoleIssuer); err != nil {
		return nil, err
	}
	return r.store.Issuer(ctx, actor.IssuerID)
}

// prepareTrainingFor checks in for issuer is and returns the record to
// store, its ID number encrypted.
func (r *Registry) prepareTrainingFor(ctx context.Context, is *Issuer, in TrainingInput) (*TrainingRecord, error) {
	id, ps := in.Check(r.today())
	if len(ps) > 0 {
		return nil, invalidTraining(ps)
	}
	now := r.now().UTC()
	hash := r.vault.HashID(id)
	rec := &TrainingRecord{
		ID: TrainingRecordID(is.ID, in.ClassID, hash), IssuerID: is.ID, Province: is.Province, ClassID: in.ClassID,
		Name: in.Name, IDMasked: MaskIDNumber(id), IDHash: hash, Sex: in.Sex, Education: in.Education, Phone: in.Phone,
		TargetGroup: in.TargetGroup, OccupationCode: in.OccupationCode, TargetLevel: in.TargetLevel,
		TrainingType: in.TrainingType, Hours: in.Hours, Start: in.Start, End: in.End,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := r.applyOutcome(ctx, rec, in.TrainingOutcome); err != nil {
		return nil, err
	}
	var err error
	if rec.IDCipher, err = r.vault.EncryptID(id); err != nil {
		return nil, err
	}
	return rec, nil
}

// applyOutcome copies the set outcome fields into rec. A certificate
// number must name a certificate of the same issuer and the same holder.
func (r *Registry) applyOutcome(ctx context.Context, rec *TrainingRecord, o TrainingOutcome) error {
	if o.Completed != nil {
		rec.Completed = *o.Completed
	}
	if o.ExamResult != nil {
		rec.ExamResult = *o.ExamResult
	}
	if o.Employed != nil {
		v := *o.Employed
		rec.Employed = &v
	}
	if o.SubsidyCategory != nil {
		rec.SubsidyCategory = *o.SubsidyCategory
	}
	if o.SubsidyAmountFen != nil {
		rec.SubsidyAmountFen = *o.SubsidyAmountFen
	}
	if o.SubsidyPayee != nil {
		rec.SubsidyPayee = *o.SubsidyPayee
	}
	if o.CertificateNumber != nil && *o.CertificateNumber != rec.CertificateNumber {
		n := *o.CertificateNumber
		if n != "" {
			c, err := r.store.Certificate(ctx, n)
			if ErrorCode(err) == ENOTFOUND || err == nil && (c.IssuerID != rec.IssuerID || c.HolderIDHash != rec.IDHash) {
				return invalidTraining([]Problem{{Field: "certificate_number",
					Message:   "no certificate " + n + " of this organisation for this trainee",
					MessageZH: "本机构没有该学员的证书 " + n}})
			} else if err != nil {
				return err
			}
		}
		rec.CertificateNumber = n
	}
	return nil
}

// CreateTrainingRecord registers a trainee for the actor's organisation.
// Issuer users only. EINVALID lists every bad field (ProblemsOf). The
// record's ID is derived from the class and the trainee, so if the trainee
// is already in the class the stored record is returned with created false
// and nothing is written. Training is not limited to the issuer's
// certification scope: a centre may train for occupations it cannot
// certify.
func (r *Registry) CreateTrainingRecord(ctx context.Context, actor *User, in TrainingInput) (*TrainingRecord, bool, error) {
	rec, err := r.prepareTraining(ctx, actor, in)
	if err != nil {
		return nil, false, err
	}
	created, err := r.store.CreateTrainingRecord(ctx, rec)
	if err != nil {
		return nil, false, err
	}
	if created {
		r.audit(ctx, "training.created", actor, "record", rec.ID, "issuer", rec.IssuerID, "class", rec.ClassID)
	}
	return rec, created, nil
}

// TrainingResult is the outcome of one input of CreateTrainingRecords:
// the stored record and whether this call created it, or the refusal
// (EINVALID with ProblemsOf) of that input alone.
type TrainingResult struct {
	Record  *TrainingRecord
	Created bool
	Err     error
}

// CreateTrainingRecords registers several trainees for the actor's
// organisation: each input is checked as by CreateTrainingRecord, and the
// good ones are written in one store write (one transaction and one disk
// sync on SQLite), which is what makes a class or a spreadsheet fast. The
// results are in input order; the error is for the call as a whole (role,
// store), and then nothing of the call is reported as written.
func (r *Registry) CreateTrainingRecords(ctx context.Context, actor *User, ins []TrainingInput) ([]TrainingResult, error) {
	is, err := r.trainingIssuer(ctx, actor)
	if err != nil {
		return nil, err
	}
	out := make([]TrainingResult, len(ins))
	var recs []*TrainingRecord
	var at []int
	for i, in := range ins {
		rec, err := r.prepareTrainingFor(ctx, is, in)
		switch {
		case ErrorCode(err) == EINVALID:
			out[i].Err = err
			continue
		case err != nil:
			return nil, err
		}
		recs, at = append(recs, rec), append(at, i)
	}
	if len(recs) == 0 {
		return out, nil
	}
	created, err := r.store.CreateTrainingRecords(ctx, recs)
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		out[i].Record, out[i].Created = recs[k], created[k]
		if created[k] {
			r.audit(ctx, "training.created", actor, "record", recs[k].ID, "issuer", recs[k].IssuerID, "class", recs[k].ClassID)
		}
	}
	return out, nil
}

// CheckTrainingRecord runs every check CreateTrainingRecord runs and
// writes nothing: a dry run.
func (r *Registry) CheckTrainingRecord(ctx context.Context, actor *User, in TrainingInput) error {
	_, err := r.prepareTraining(ctx, actor, in)
	return err
}

// ExistingTrainingRecord returns the actor's organisation's record of the
// same trainee in the same class, ENOTFOUND if there is none, EINVALID if
// the ID number is bad.
func (r *Registry) ExistingTrainingRecord(ctx context.Context, actor *User, in TrainingInput) (*TrainingRecord, error) {
	if err := requireRole(actor, RoleIssuer); err != nil {
		return nil, err
	}
	id, err := NormalizeIDNumber(in.IDNumber)
	if err != nil {
		return nil, err
	}
	return r.store.TrainingRecord(ctx, TrainingRecordID(actor.IssuerID, strings.TrimSpace(in.ClassID), r.vault.HashID(id)))
}

// canReadTraining: the admin; the organisation's users; national officials
// and officials of the record's province.
func canReadTraining(actor *User, t *TrainingRecord) bool {
	switch actor.Role {
	case RoleAdmin:
		return true
	case RoleIssuer:
		return actor.IssuerID == t.IssuerID
	case RoleOfficial:
		return actor.Province == "" || actor.Province == t.Province
	}
	return false
}

// forActor hides what an official does not need: officials see masked
// names and phone numbers (they supervise, they do not contact trainees).
func forActor(actor *User, t *TrainingRecord) *TrainingRecord {
	if actor.Role != RoleOfficial {
		return t
	}
	c := *t
	c.Name = MaskName(t.Name)
	if len(c.Phone) > 4 {
		c.Phone = strings.Repeat("*", len(c.Phone)-4) + c.Phone[len(c.Phone)-4:]
	}
	return &c
}

// TrainingRecord returns one record to a user allowed to read it; to
// anyone else it is ENOTFOUND, exactly as a missing one.
func (r *Registry) TrainingRecord(ctx context.Context, actor *User, id string) (*TrainingRecord, error) {
	if actor == nil {
		return nil, Errorf(EUNAUTHORIZED, "login required")
	}
	t, err := r.store.TrainingRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canReadTraining(actor, t) {
		return nil, Errorf(ENOTFOUND, "no training record %s", id)
	}
	return forActor(actor, t), nil
}

// TrainingRecords lists the records the actor may read, newest first: an
// issuer's users their organisation's, a provincial official their
// province's, national officials and the admin all.
func (r *Registry) TrainingRecords(ctx context.Context, actor *User, f TrainingFilter) ([]*TrainingRecord, int, error) {
	if err := requireRole(actor, RoleAdmin, RoleIssuer, RoleOfficial); err != nil {
		return nil, 0, err
	}
	switch actor.Role {
	case RoleIssuer:
		f.IssuerID = actor.IssuerID
	case RoleOfficial:
		if actor.Province != "" {
			f.Province = actor.Province
		}
	}
	if f.TargetGroup != "" && TargetGroupName(f.TargetGroup) == "" {
		return nil, 0, FieldError("target_group", "unknown target_group %q", f.TargetGroup)
	}
	if f.TrainingType != "" && TrainingTypeName(f.TrainingType) == "" {
		return nil, 0, FieldError("training_type", "unknown training_type %q", f.TrainingType)
	}
	if f.Year != "" && (len(f.Year) != 4 || !allDigits(f.Year)) {
		return nil, 0, FieldError("year", "year must have 4 digits")
	}
	if len(f.Query) > 64 || len(f.ClassID) > MaxClassIDLen {
		return nil, 0, FieldError("q", "q and class_id may have at most 64 bytes")
	}
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PerPage < 1 || f.PerPage > 100 {
		f.PerPage = 20
	}
	list, total, err := r.store.TrainingRecords(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	for i, t := range list {
		list[i] = forActor(actor, t)
	}
	return list, total, nil
}

// RecordTrainingOutcome sets the outcome and subsidy fields given in o on
// a record of the actor's organisation (issuer users only; to anyone else
// the record does not exist). EINVALID lists every bad field.
func (r *Registry) RecordTrainingOutcome(ctx context.Context, actor *User, id string, o TrainingOutcome) (*TrainingRecord, error) {
	if err := requireRole(actor, RoleIssuer); err != nil {
		return nil, err
	}
	t, err := r.store.TrainingRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.IssuerID != actor.IssuerID {
		return nil, Errorf(ENOTFOUND, "no training record %s", id)
	}
	end, _ := trainingDate(t.End)
	if ps := o.check(!end.After(r.today())); len(ps) > 0 {
		return nil, invalidTraining(ps)
	}
	prev := t.CertificateNumber
	if err := r.applyOutcome(ctx, t, o); err != nil {
		return nil, err
	}
	t.UpdatedAt = r.now().UTC()
	// Conditional on the certificate number read above, so that a
	// certificate issued meanwhile (which links itself) is not undone.
	if err := r.store.UpdateTrainingOutcome(ctx, t, prev); err != nil {
		return nil, err
	}
	r.audit(ctx, "training.outcome", actor, "record", t.ID, "issuer", t.IssuerID)
	return t, nil
}

// linkTraining checks, before issuing, that the training record named in
// an issue request is the organisation's record of the same holder, and
// has no other certificate yet (a retry of the same issuance, same
// external_ref, may find its own certificate there).
func (r *Registry) linkTraining(ctx context.Context, issuerID, recordID, idHash, externalRef string) error {
	t, err := r.store.TrainingRecord(ctx, recordID)
	switch {
	case ErrorCode(err) == ENOTFOUND || err == nil && t.IssuerID != issuerID:
		return FieldError("training_record_id", "no training record %s of this organisation", recordID)
	case err != nil:
		return err
	case t.IDHash != idHash:
		return FieldError("training_record_id", "training record %s is of another person (the ID numbers differ)", recordID)
	case t.CertificateNumber != "":
		c, err := r.store.Certificate(ctx, t.CertificateNumber)
		if err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		if err != nil || externalRef == "" || c.ExternalRef != externalRef {
			return FieldError("training_record_id", "training record %s already led to certificate %s", recordID, t.CertificateNumber)
		}
	}
	return nil
}
