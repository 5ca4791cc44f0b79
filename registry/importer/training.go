package importer

import (
	"context"
	"errors"
	"io"
	"math/big"
	"strconv"
	"strings"
	"unicode"

	"github.com/skillreg/skillreg/registry"
)

// Kinds of import, chosen by Options.Kind.
const (
	KindCertificates = "certificates" // the default: issue certificates
	KindTraining     = "training"     // register training records (实名制培训)
)

// Row statuses of a training import.
const (
	StatusCreated    = "created"     // registered by this run
	StatusNotCreated = "not_created" // all or nothing: good, but other rows were bad
)

// MaxTrainingBatch is the most records one JSON batch may hold; larger
// classes go through a spreadsheet import.
const MaxTrainingBatch = 1000

// TrainingColumns are the columns of a training-record import, in
// template order. Field names are registry.TrainingInput's JSON names
// (the amount is in yuan here, 补贴金额（元）, where the JSON has fen).
var TrainingColumns = []Column{
	{"name", "姓名", []string{"学员姓名", "trainee"}, true, "学员姓名，与身份证一致，最多 50 个字"},
	{"id_number", "身份证号", []string{"身份证号码", "公民身份号码", "证件号码", "idnumber", "id_no"}, true, "18 位居民身份证号（旧 15 位亦可）；请将本列设为“文本”格式"},
	{"sex", "性别", []string{"gender"}, false, "男 或 女；留空时按身份证号第 17 位判断"},
	{"education", "文化程度", []string{"学历"}, false, "如 初中、高中、中专、大专、本科，最多 20 个字"},
	{"phone", "联系电话", []string{"手机号", "手机号码", "电话"}, false, "手机或固定电话"},
	{"target_group", "人员类别", []string{"培训对象", "人员类型"}, true, "城镇登记失业人员、农民工、被征地农民、高校毕业生、新成长劳动力、企业职工、脱贫/低保人员"},
	{"occupation_code", "职业编码", []string{"职业代码", "职业（工种）编码", "occupation"}, true, "《职业分类大典》（2022 年版）职业编码，格式 X-XX-XX-XX"},
	{"target_level", "培训等级", []string{"目标等级", "等级", "level"}, true, "1-5，或 一级/高级技师 … 五级/初级工"},
	{"training_type", "培训类型", []string{"培训类别"}, true, "就业技能培训、岗位技能提升培训 或 创业培训"},
	{"hours", "课时", []string{"学时", "培训课时"}, true, "培训课时，1-5000 的整数"},
	{"start", "开班日期", []string{"开始日期", "培训开始日期", "start_date"}, true, "YYYY-MM-DD"},
	{"end", "结业日期", []string{"结束日期", "培训结束日期", "end_date"}, true, "YYYY-MM-DD，不早于开班日期"},
	{"class_id", "班级编号", []string{"班级", "班级号", "期次"}, true, "本机构的班级编号；同一学员在同一班级只登记一次"},
	{"completed", "是否结业", []string{"结业"}, false, "是 或 否（结业日期之后才能填“是”）"},
	{"exam_result", "考核结果", []string{"考试结果", "鉴定结果"}, false, "合格、不合格 或 缺考"},
	{"certificate_number", "证书编号", []string{"certificate"}, false, "已取得的本机构证书编号"},
	{"employed_within_6_months", "六个月内就业", []string{"是否就业", "6个月内就业", "employed"}, false, "是 或 否；尚不知道时留空"},
	{"subsidy_category", "补贴类别", []string{"补贴类型"}, false, "如 职业培训补贴，最多 50 个字"},
	{"subsidy_amount", "补贴金额（元）", []string{"补贴金额", "subsidy_amount_yuan"}, false, "元，最多两位小数，如 1200.50"},
	{"subsidy_payee", "补贴对象", []string{"补贴发放对象"}, false, "个人、培训机构 或 企业"},
}

// TrainingSampleRow is the sample on the training template's notes sheet.
var TrainingSampleRow = []string{"张小三", "11010519491231002X", "男", "高中", "13800000000", "新成长劳动力", "6-18-01-01", "四级/中级工",
	"就业技能培训", "120", "2026-03-02", "2026-04-30", "2026-车工-03", "是", "合格", "", "", "职业培训补贴", "1200.00", "个人"}

// Problem codes of training imports.
const (
	CodeTargetGroup      = "target_group_invalid"
	CodeTrainingType     = "training_type_invalid"
	CodeSex              = "sex_invalid"
	CodeYesNo            = "yes_no_invalid"
	CodeHours            = "hours_invalid"
	CodeAmount           = "amount_invalid"
	CodeExamResult       = "exam_result_invalid"
	CodePayee            = "payee_invalid"
	CodeTrainingDate     = "training_date_invalid"
	CodeDuplicateTrainee = "duplicate_trainee"
	CodeTooManyItems     = "too_many_items"
)

func init() {
	for code, m := range map[string][2]string{
		CodeTargetGroup:      {"人员类别“%s”无法识别：请填 城镇登记失业人员、农民工、被征地农民、高校毕业生、新成长劳动力、企业职工 或 脱贫/低保人员", "target group %q is not recognised: use unemployed, migrant_worker, landless_farmer, graduate, new_labour, employee or poverty_relief (or the Chinese names)"},
		CodeTrainingType:     {"培训类型“%s”无法识别：请填 就业技能培训、岗位技能提升培训 或 创业培训", "training type %q is not recognised: use employment, upskilling or entrepreneurship (or the Chinese names)"},
		CodeSex:              {"性别“%s”无法识别：请填 男 或 女", "sex %q is not recognised: use 男/女 or male/female"},
		CodeYesNo:            {"“%[1]s”应填 是 或 否，而不是“%[2]s”", "%[1]s must be yes or no (是/否), not %[2]q"},
		CodeHours:            {"课时“%s”应为 1-5000 的整数", "hours %q must be a whole number from 1 to 5000"},
		CodeAmount:           {"补贴金额“%s”应为元，最多两位小数，不超过 100 万元", "subsidy amount %q must be yuan with at most 2 decimals, at most 1,000,000"},
		CodeExamResult:       {"考核结果“%s”无法识别：请填 合格、不合格 或 缺考", "exam result %q is not recognised: use pass, fail or absent (合格/不合格/缺考)"},
		CodePayee:            {"补贴对象“%s”无法识别：请填 个人、培训机构 或 企业", "subsidy payee %q is not recognised: use trainee, institution or employer (个人/培训机构/企业)"},
		CodeTrainingDate:     {"“%[1]s”的“%[2]s”不是有效日期，请按 YYYY-MM-DD 填写", "%[1]s: %[2]q is not a date; write YYYY-MM-DD"},
		CodeDuplicateTrainee: {"与第 %d 行重复（同一身份证号、同一班级）", "repeats row %d (same ID number and class)"},
		CodeTooManyItems:     {"一次最多提交 %d 条，请分批或上传表格", "at most %d records per batch; split it or upload a spreadsheet"},
	} {
		messages[code] = m
	}
}

// trainingWords maps the words a clerk writes to the registry's codes.
var (
	targetGroupWords = map[string]string{
		"城镇登记失业人员": registry.GroupUnemployed, "登记失业人员": registry.GroupUnemployed, "失业人员": registry.GroupUnemployed, "下岗失业人员": registry.GroupUnemployed,
		"农民工": registry.GroupMigrantWorker, "农村转移劳动力": registry.GroupMigrantWorker, "农村转移就业劳动者": registry.GroupMigrantWorker, "农民工/农村转移劳动力": registry.GroupMigrantWorker,
		"被征地农民": registry.GroupLandlessFarmer, "失地农民": registry.GroupLandlessFarmer,
		"高校毕业生": registry.GroupGraduate, "毕业生": registry.GroupGraduate,
		"新成长劳动力": registry.GroupNewLabour,
		"企业职工":   registry.GroupEmployee, "职工": registry.GroupEmployee, "在职职工": registry.GroupEmployee,
		"脱贫/低保人员": registry.GroupPovertyRelief, "脱贫/低保": registry.GroupPovertyRelief, "脱贫人口": registry.GroupPovertyRelief,
		"脱贫劳动力": registry.GroupPovertyRelief, "低保人员": registry.GroupPovertyRelief, "低保": registry.GroupPovertyRelief, "贫困劳动力": registry.GroupPovertyRelief,
	}
	trainingTypeWords = map[string]string{
		"就业技能培训": registry.TrainingEmployment, "就业技能": registry.TrainingEmployment,
		"岗位技能提升培训": registry.TrainingUpskilling, "岗位技能提升": registry.TrainingUpskilling, "技能提升": registry.TrainingUpskilling,
		"创业培训": registry.TrainingEntrepreneurship, "创业": registry.TrainingEntrepreneurship,
	}
	sexWords    = map[string]string{"男": "male", "女": "female", "male": "male", "female": "female", "m": "male", "f": "female"}
	yesNoWords  = map[string]bool{"是": true, "否": false, "yes": true, "no": false, "y": true, "n": false, "true": true, "false": false, "1": true, "0": false, "已结业": true, "未结业": false, "已就业": true, "未就业": false}
	examWords   = map[string]string{"合格": registry.ExamPass, "通过": registry.ExamPass, "pass": registry.ExamPass, "不合格": registry.ExamFail, "未通过": registry.ExamFail, "fail": registry.ExamFail, "缺考": registry.ExamAbsent, "absent": registry.ExamAbsent}
	payeeWords  = map[string]string{"个人": registry.PayeeTrainee, "学员": registry.PayeeTrainee, "trainee": registry.PayeeTrainee, "培训机构": registry.PayeeInstitution, "机构": registry.PayeeInstitution, "institution": registry.PayeeInstitution, "企业": registry.PayeeEmployer, "用人单位": registry.PayeeEmployer, "employer": registry.PayeeEmployer}
	trainingSet = newColumnSet(TrainingColumns)
)

// word normalises a cell for a word lookup: no spaces, lower case,
// full-width slash as '/'.
func word(s string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r == '／' || r == '、':
			return '/'
		}
		return r
	}, s))
}

// lookupWord finds s in m, or the code itself ("new_labour").
func lookupWord(m map[string]string, s string) (string, bool) {
	w := word(s)
	if v, ok := m[w]; ok {
		return v, true
	}
	for _, v := range m {
		if v == w {
			return v, true
		}
	}
	return "", false
}

// ParseYuan reads an amount in yuan with at most two decimals ("1200",
// "1,200.50", "¥1200.5元") into fen, exactly (no floating point).
func ParseYuan(s string) (int64, bool) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == ',' || r == '，' || r == '¥' || r == '￥' || r == '元' {
			return -1
		}
		return r
	}, s)
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 || strings.ContainsAny(s, "eE/") {
		return 0, false
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() || !r.Num().IsInt64() || r.Num().Int64() > registry.MaxSubsidyFen {
		return 0, false
	}
	return r.Num().Int64(), true
}

// columnSet is the columns one kind of import understands.
type columnSet struct {
	cols   []Column
	fields map[string]string // header key -> field
}

func newColumnSet(cols []Column) *columnSet {
	m := map[string]string{}
	for _, c := range cols {
		m[headerKey(c.Field)] = c.Field
		m[headerKey(c.Header)] = c.Field
		for _, a := range c.Aliases {
			m[headerKey(a)] = c.Field
		}
	}
	return &columnSet{cols: cols, fields: m}
}

func (cs *columnSet) recognised(cells []string) int {
	n := 0
	for _, c := range cells {
		if _, ok := cs.fields[headerKey(c)]; ok {
			n++
		}
	}
	return n
}

// trainingHeader maps a training file's columns to fields.
type trainingHeader struct{ header }

func (cs *columnSet) parseHeader(row Row) (*trainingHeader, []Problem) {
	h := &trainingHeader{header{row: row.Number, names: append([]string(nil), row.Cells...), index: map[string]int{}}}
	var problems []Problem
	for i, cell := range row.Cells {
		field, ok := cs.fields[headerKey(cell)]
		if !ok {
			continue
		}
		if j, dup := h.index[field]; dup {
			problems = append(problems, newProblem(row.Number, strings.TrimSpace(cell), field, CodeDuplicateColumn, strings.TrimSpace(cell), j+1, i+1))
			continue
		}
		h.index[field] = i
	}
	for _, c := range cs.cols {
		if _, ok := h.index[c.Field]; c.Required && !ok {
			problems = append(problems, newProblem(row.Number, c.Header, c.Field, CodeMissingColumn, c.Header, c.Field))
		}
	}
	return h, problems
}

func (h *trainingHeader) columnName(field string) string {
	if i, ok := h.index[field]; ok {
		if n := strings.TrimSpace(h.names[i]); n != "" {
			return n
		}
	}
	if field == "subsidy_amount_fen" {
		field = "subsidy_amount"
	}
	for _, c := range TrainingColumns {
		if c.Field == field {
			return c.Header
		}
	}
	return field
}

// ParseTrainingRow reads one data row of a training file into a
// TrainingInput and reports what cannot be read (words not recognised,
// numbers and dates that are not); the registry's Check judges the rest.
func (h *trainingHeader) ParseTrainingRow(row Row) (registry.TrainingInput, []Problem) {
	if row.Err != nil {
		return registry.TrainingInput{}, []Problem{newProblem(row.Number, "", "", CodeUnreadable, row.Err)}
	}
	p := &trainingRowParser{h: h, row: row}
	for _, c := range TrainingColumns {
		if c.Required && p.cell(c.Field) == "" {
			p.add(c.Field, CodeRequired, h.columnName(c.Field), c.Field)
		}
	}
	// Problems are reported in the order the fields are read here.
	p.parsePerson()
	p.parseCourse()
	p.parseOutcome()
	return p.in, p.problems
}

// trainingRowParser holds one row being read and the problems found so
// far.
type trainingRowParser struct {
	h        *trainingHeader
	row      Row
	in       registry.TrainingInput
	problems []Problem
}

func (p *trainingRowParser) cell(field string) string { return p.h.cell(p.row, field) }

func (p *trainingRowParser) add(field, code string, args ...any) {
	p.problems = append(p.problems, newProblem(p.row.Number, p.h.columnName(field), field, code, args...))
}

// lookup reads a word of the field's table, reporting code if the word is
// not in it; ok is false for an empty or unknown cell.
func (p *trainingRowParser) lookup(field, code string, words map[string]string) (v string, ok bool) {
	raw := p.cell(field)
	if raw == "" {
		return "", false
	}
	if v, ok := lookupWord(words, raw); ok {
		return v, true
	}
	p.add(field, code, raw)
	return "", false
}

// yesNo reads a yes/no cell: nil when empty or not recognised.
func (p *trainingRowParser) yesNo(field string) *bool {
	raw := p.cell(field)
	if raw == "" {
		return nil
	}
	v, ok := yesNoWords[word(raw)]
	if !ok {
		p.add(field, CodeYesNo, p.h.columnName(field), raw)
		return nil
	}
	return &v
}

// parsePerson reads who is trained: name, ID number, sex, education,
// phone and target group.
func (p *trainingRowParser) parsePerson() {
	p.in.Name = p.cell("name")
	if raw := p.cell("id_number"); raw != "" {
		id, code, args := parseID(raw)
		if code != "" {
			p.add("id_number", code, args...)
		}
		p.in.IDNumber = id
	}
	if raw := p.cell("sex"); raw != "" {
		if v, ok := sexWords[word(raw)]; ok {
			p.in.Sex = v
		} else {
			p.add("sex", CodeSex, raw)
		}
	}
	p.in.Education, p.in.Phone = p.cell("education"), p.cell("phone")
	if v, ok := p.lookup("target_group", CodeTargetGroup, targetGroupWords); ok {
		p.in.TargetGroup = v
	}
}

// parseCourse reads the training itself: occupation, target level, type,
// hours, dates and class.
func (p *trainingRowParser) parseCourse() {
	if raw := p.cell("occupation_code"); raw != "" {
		code, pcode, args := parseOccupation(raw)
		if pcode != "" {
			p.add("occupation_code", pcode, args...)
		}
		p.in.OccupationCode = code
	}
	if raw := p.cell("target_level"); raw != "" {
		lv, ok := ParseLevel(raw)
		if !ok {
			p.add("target_level", CodeLevel, raw)
		}
		p.in.TargetLevel = lv
	}
	if v, ok := p.lookup("training_type", CodeTrainingType, trainingTypeWords); ok {
		p.in.TrainingType = v
	}
	if raw := p.cell("hours"); raw != "" {
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || f != float64(int(f)) || f < 1 || f > registry.MaxHours {
			p.add("hours", CodeHours, raw)
		} else {
			p.in.Hours = int(f)
		}
	}
	for _, f := range []string{"start", "end"} {
		raw := p.cell(f)
		if raw == "" {
			continue
		}
		d, ok := ParseDate(raw)
		if !ok {
			p.add(f, CodeTrainingDate, p.h.columnName(f), raw)
		}
		if f == "start" {
			p.in.Start = d
		} else {
			p.in.End = d
		}
	}
	p.in.ClassID = p.cell("class_id")
}

// parseOutcome reads what came of the training: completion, employment,
// exam, certificate and subsidy.
func (p *trainingRowParser) parseOutcome() {
	p.in.Completed = p.yesNo("completed")
	p.in.Employed = p.yesNo("employed_within_6_months")
	if v, ok := p.lookup("exam_result", CodeExamResult, examWords); ok {
		p.in.ExamResult = &v
	}
	if raw := p.cell("certificate_number"); raw != "" {
		p.in.CertificateNumber = &raw
	}
	if raw := p.cell("subsidy_category"); raw != "" {
		p.in.SubsidyCategory = &raw
	}
	if raw := p.cell("subsidy_amount"); raw != "" {
		if fen, ok := ParseYuan(raw); ok {
			p.in.SubsidyAmountFen = &fen
		} else {
			p.add("subsidy_amount", CodeAmount, raw)
		}
	}
	if v, ok := p.lookup("subsidy_payee", CodePayee, payeeWords); ok {
		p.in.SubsidyPayee = &v
	}
}

// trainingChecker checks and registers the rows (or JSON items) of one
// pass. Rows and items go through the same steps: the file's or batch's
// own problems, repeats inside it, an existing record, the registry's
// checks, and (in modeIssue) the write.
type trainingChecker struct {
	ctx    context.Context
	reg    *registry.Registry
	actor  *registry.User
	column func(field string) string
	seen   *dupIndex // ID number + class -> first row
}

// check takes a row as far as it goes without writing. In modeIssue a
// row that parsed cleanly comes back with toCreate set: the writer
// registers it (the registry makes every check then).
func (c *trainingChecker) check(rowNo int, in registry.TrainingInput, problems []Problem, m mode) (res RowResult, toCreate bool, err error) {
	res, err = c.checkRow(rowNo, in, problems, m)
	return res, res.Status == "" && err == nil, err
}

func (c *trainingChecker) checkRow(rowNo int, in registry.TrainingInput, problems []Problem, m mode) (RowResult, error) {
	res := RowResult{Row: rowNo, Kind: KindTraining}
	bad := map[string]bool{}
	for _, p := range problems {
		bad[p.Field] = true
	}
	if !bad["id_number"] && in.IDNumber != "" && in.ClassID != "" {
		if id, err := registry.NormalizeIDNumber(in.IDNumber); err == nil {
			if first, dup := c.seen.add(id+"\x00"+strings.TrimSpace(in.ClassID), rowNo); dup {
				problems = append(problems, newProblem(rowNo, c.column("id_number"), "id_number", CodeDuplicateTrainee, first))
			}
		}
	}
	if len(problems) == 0 && m == modeIssue {
		return res, nil // to create
	}
	if len(problems) == 0 {
		existing, err := c.reg.ExistingTrainingRecord(c.ctx, c.actor, in)
		switch {
		case err == nil:
			res.Status, res.Number = StatusExists, existing.ID
			return res, nil
		case registry.ErrorCode(err) != registry.ENOTFOUND && registry.ErrorCode(err) != registry.EINVALID:
			return res, err
		}
	}
	// The registry's checks find what the parse could not (dates in order,
	// the ID number's check digit in JSON, ...); a field the parse already
	// faulted is not reported twice.
	err := c.reg.CheckTrainingRecord(c.ctx, c.actor, in)
	if ps := registry.ProblemsOf(err); len(ps) > 0 {
		for _, p := range ps {
			if !bad[p.Field] {
				problems = append(problems, Problem{Row: rowNo, Column: c.column(p.Field), Field: p.Field, Code: CodeInvalid, Message: p.MessageZH, MessageEN: p.Message})
			}
		}
	} else if err != nil {
		return res, err
	}
	if len(problems) > 0 {
		res.Status, res.Errors = StatusInvalid, problems
		return res, nil
	}
	res.Status = StatusValid
	if m == modeWithhold {
		res.Status = StatusNotCreated
	}
	return res, nil
}

// writeChunk is how many rows the writer gathers before it registers
// the clean ones in one store write (one transaction and one sync on
// SQLite), and how often progress and results are passed on.
const writeChunk = 500

// trainingWriter passes row results on in row order, registering the
// rows to create a chunk at a time with Registry.CreateTrainingRecords.
type trainingWriter struct {
	c        *trainingChecker
	counts   *Counts
	emit     func(RowResult) error
	progress func(Counts)
	rows     []RowResult
	ins      []registry.TrainingInput
	at       []int // index in rows of each input
}

func (w *trainingWriter) add(res RowResult, toCreate bool, in registry.TrainingInput) error {
	w.rows = append(w.rows, res)
	if toCreate {
		w.ins, w.at = append(w.ins, in), append(w.at, len(w.rows)-1)
	}
	if len(w.rows) >= writeChunk {
		return w.flush()
	}
	return nil
}

func (w *trainingWriter) flush() error {
	if len(w.ins) > 0 {
		results, err := w.c.reg.CreateTrainingRecords(w.c.ctx, w.c.actor, w.ins)
		if err != nil {
			return err
		}
		for k, i := range w.at {
			res, r := &w.rows[i], results[k]
			switch {
			case r.Err != nil:
				res.Status = StatusInvalid
				for _, p := range registry.ProblemsOf(r.Err) {
					res.Errors = append(res.Errors, Problem{Row: res.Row, Column: w.c.column(p.Field), Field: p.Field, Code: CodeInvalid, Message: p.MessageZH, MessageEN: p.Message})
				}
				if len(res.Errors) == 0 {
					res.Errors = []Problem{newProblem(res.Row, w.c.column(registry.ErrorField(r.Err)), registry.ErrorField(r.Err), CodeInvalid, registry.ErrorMessage(r.Err))}
				}
			case r.Created:
				res.Status, res.Number = StatusCreated, r.Record.ID
			default:
				res.Status, res.Number = StatusExists, r.Record.ID
			}
		}
	}
	for _, res := range w.rows {
		tally(w.counts, res)
		if w.emit != nil {
			if err := w.emit(res); err != nil {
				return err
			}
		}
	}
	if len(w.rows) > 0 && w.progress != nil {
		w.progress(*w.counts)
	}
	w.rows, w.ins, w.at = w.rows[:0], w.ins[:0], w.at[:0]
	return nil
}

func tally(c *Counts, res RowResult) {
	c.Processed++
	switch res.Status {
	case StatusCreated:
		c.Issued++
	case StatusExists:
		c.Skipped++
	case StatusValid:
		c.Valid++
	case StatusNotCreated:
		c.NotIssued++
	case StatusInvalid:
		c.Errors++
	}
}

func checkTrainingActor(actor *registry.User) error {
	if actor == nil {
		return registry.Errorf(registry.EUNAUTHORIZED, "login required")
	}
	if actor.Role != registry.RoleIssuer {
		return registry.Errorf(registry.EFORBIDDEN, "only an issuing organisation's users register training records")
	}
	return nil
}

// TrainingBatch registers a JSON batch of up to MaxTrainingBatch records
// for actor, with the same options and row results as a spreadsheet import
// (Row is the item's 1-based position, Column its field name). With
// AllOrNothing nothing is written unless every item is good. The error is
// for the batch as a whole (role, size, store).
func TrainingBatch(ctx context.Context, reg *registry.Registry, actor *registry.User, items []registry.TrainingInput, opts Options) ([]RowResult, Counts, error) {
	if err := checkTrainingActor(actor); err != nil {
		return nil, Counts{}, err
	}
	if len(items) == 0 {
		return nil, Counts{}, registry.FieldError("items", "the batch is empty")
	}
	if len(items) > MaxTrainingBatch {
		p := newProblem(0, "", "", CodeTooManyItems, MaxTrainingBatch)
		return nil, Counts{}, registry.FieldError("items", "%s · %s", p.Message, p.MessageEN)
	}
	field := func(f string) string { return f }
	pass := func(m mode) ([]RowResult, Counts, error) {
		c := &trainingChecker{ctx: ctx, reg: reg, actor: actor, column: field, seen: newDupIndex()}
		counts := Counts{Phase: PhaseChecking, Total: len(items)}
		out := make([]RowResult, 0, len(items))
		w := &trainingWriter{c: c, counts: &counts, emit: func(r RowResult) error { out = append(out, r); return nil }}
		for i, in := range items {
			res, toCreate, err := c.check(i+1, in, nil, m)
			if err == nil {
				err = w.add(res, toCreate, in)
			}
			if err != nil {
				return nil, counts, err
			}
		}
		if err := w.flush(); err != nil {
			return nil, counts, err
		}
		counts.Phase = PhaseDone
		return out, counts, nil
	}
	final := modeIssue
	switch {
	case opts.DryRun:
		final = modeCheck
	case opts.AllOrNothing:
		_, c, err := pass(modeCheck)
		if err != nil {
			return nil, c, err
		}
		if c.Errors > 0 {
			final = modeWithhold
		}
	}
	return pass(final)
}

// runTraining is Run for a training file: the same phases (count, then
// one pass, or two for all or nothing), one row at a time.
func (r *run) runTraining(opts Options, emit func(RowResult) error) (Outcome, error) {
	out := Outcome{Counts: Counts{Phase: PhaseCounting}}
	r.progress(out.Counts)
	rd, h, problems, err := r.trainingRows()
	if err != nil || problems != nil {
		if rd != nil {
			rd.Close()
		}
		out.FileErrors, out.Phase, out.Errors = problems, PhaseDone, len(problems)
		if h != nil {
			out.HeaderRow = h.row
		}
		r.progress(out.Counts)
		return out, err
	}
	out.HeaderRow, out.Width = h.row, len(h.names)
	if cr, ok := rd.(*CSVReader); ok {
		out.Encoding = cr.Encoding()
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rd.Close()
			return out, err
		}
		out.Width = max(out.Width, len(row.Cells))
		if !row.blank() {
			out.addSample(h.cell(row, "name"))
			out.Total++
			if out.Total > MaxRows {
				rd.Close()
				out.Total, out.Phase, out.Errors = 0, PhaseDone, 1
				out.FileErrors = []Problem{newProblem(row.Number, "", "", CodeTooManyRows, MaxRows)}
				return out, nil
			}
		}
	}
	rd.Close()
	if out.Total == 0 {
		out.Phase = PhaseDone
		r.progress(out.Counts)
		return out, nil
	}
	pass := func(m mode, emit func(RowResult) error) (Counts, error) {
		rd, h, _, err := r.trainingRows()
		if err != nil {
			return out.Counts, err
		}
		if rd == nil {
			return out.Counts, registry.Errorf(registry.ECONFLICT, "the file changed during the import")
		}
		defer rd.Close()
		c := Counts{Phase: PhaseIssuing, Total: out.Total}
		if m != modeIssue {
			c.Phase = PhaseChecking
		}
		chk := &trainingChecker{ctx: r.ctx, reg: r.reg, actor: r.actor, column: h.columnName, seen: newDupIndex()}
		w := &trainingWriter{c: chk, counts: &c, emit: emit, progress: r.progress}
		for {
			if err := r.ctx.Err(); err != nil {
				return c, err
			}
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return c, w.flush()
			}
			if err != nil {
				return c, err
			}
			if row.blank() {
				continue
			}
			in, problems := h.ParseTrainingRow(row)
			res, toCreate, err := chk.check(row.Number, in, problems, m)
			if err == nil {
				err = w.add(res, toCreate, in)
			}
			if err != nil {
				return c, err
			}
		}
	}
	final := modeIssue
	switch {
	case opts.DryRun:
		final = modeCheck
	case opts.AllOrNothing:
		c, err := pass(modeCheck, nil)
		if err != nil {
			return out, err
		}
		if c.Errors > 0 {
			final = modeWithhold
		}
	}
	c, err := pass(final, emit)
	out.Counts = c
	if err == nil {
		out.Phase = PhaseDone
		r.progress(out.Counts)
	}
	return out, err
}

// trainingRows opens the file positioned after its header (found among
// the first rows by its training column names).
func (r *run) trainingRows() (Reader, *trainingHeader, []Problem, error) {
	rd, hdr, first, err := r.openAtHeader(func(row Row) bool { return trainingSet.recognised(row.Cells) >= 3 })
	switch {
	case err != nil:
		return nil, nil, nil, err
	case hdr != nil:
		h, problems := trainingSet.parseHeader(*hdr)
		return rd, h, problems, nil
	case first == nil:
		return nil, nil, []Problem{newProblem(1, "", "", CodeNoHeader)}, nil
	}
	_, problems := trainingSet.parseHeader(*first)
	return nil, nil, problems, nil
}
