package handlers

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/refdata"
	"github.com/skillreg/skillreg/registry/stats"
)

// The CSV exports are for Excel as officials in China use it: UTF-8 with
// a byte-order mark (without it Excel reads the file as GBK and garbles
// every Chinese character), CRLF line ends, and ONE header row whose
// cells are bilingual, "技能劳动者 (skilled_workers)": Chinese first for
// the people who read it, the English key in brackets for scripts. One
// header row rather than a second, English one, so that Excel's filters
// and sorting, and every CSV reader, see data from the second row on.
// Shares are percentages with two decimals (5.00 is 5%); counts are whole
// numbers without separators.

const csvBOM = "\ufeff"

func newCSV() (*bytes.Buffer, *csv.Writer) {
	var buf bytes.Buffer
	buf.WriteString(csvBOM)
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	return &buf, w
}

func finishCSV(buf *bytes.Buffer, w *csv.Writer) []byte {
	w.Flush() // writes to a bytes.Buffer cannot fail
	return buf.Bytes()
}

func col(zh, en string) string { return zh + " (" + en + ")" }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pct formats a fraction as a percentage with two decimals.
func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) }

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

// textCell keeps a free-text cell (a plan's name, typed by an admin) from
// being run as a formula by Excel: a leading =, +, -, @, tab or CR gets a
// quote in front (OWASP's advice for CSV injection).
func textCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// provinceLabel is a province's Chinese name, or its code when the
// reference data does not know it.
func provinceLabel(code string) string {
	if n, ok := refdata.ProvinceName(code); ok {
		return n
	}
	return code
}

// occupationLabel is "6 生产制造及有关人员" for a major category, 全部 for none.
func occupationLabel(code string) string {
	if code == "" {
		return "全部"
	}
	if c, ok := refdata.LookupCategory(code); ok {
		return c.Code + " " + c.Name
	}
	return code
}

func channelLabel(ch registry.Channel) string {
	if ch == "" {
		return "全部"
	}
	return ch.Name()
}

// levelsOf returns every level that any of the per-level maps has,
// highest first, so that a longer ladder (特级技师, 学徒工) gets its columns
// without a change here.
func levelsOf(maps ...map[registry.Level]int64) []registry.Level {
	union := map[registry.Level]int64{}
	for _, m := range maps {
		for l := range m {
			union[l] = 0
		}
	}
	return sortedLevels(union)
}

// figuresHeader and figuresRecord are the columns the tiers and provinces
// exports share: the selection, the people per tier, the shares against
// the targets, and the certificates.
func figuresHeader(levels []registry.Level) []string {
	h := []string{
		col("省份代码", "province"), col("省份", "province_name"),
		col("职业大类", "occupation"), col("评价类型", "channel"),
		col("技能劳动者(人)", "skilled_workers"),
	}
	for _, l := range levels {
		h = append(h, col(l.Name()+"(人)", "level_"+strconv.Itoa(int(l))))
	}
	return append(h,
		col("技师和高级技师占比%", "technician_pct"), col("技师和高级技师目标%", "technician_target_pct"), col("技师和高级技师达标", "technician_met"),
		col("高级工占比%", "senior_worker_pct"), col("高级工目标%", "senior_worker_target_pct"), col("高级工达标", "senior_worker_met"),
		col("高技能人才占比%", "high_skilled_pct"), col("高技能人才目标%", "high_skilled_target_pct"), col("高技能人才达标", "high_skilled_met"),
		col("技能劳动者总量目标(人)", "skilled_workers_target"), col("总量完成%", "skilled_workers_progress_pct"),
		col("发证(人次)", "certificates"), col("其中已撤销(人次)", "revoked_certificates"),
		col("规划", "plan"),
	)
}

func figuresRecord(code, name string, q registry.StatsQuery, f registry.TierFigures, levels []registry.Level, t stats.PlanTargets, plan *stats.Plan) []string {
	r := []string{code, name, occupationLabel(q.Occupation), channelLabel(q.Channel), itoa(f.SkilledWorkers)}
	for _, l := range levels {
		r = append(r, itoa(f.ByLevel[l]))
	}
	p := f.Progress
	r = append(r,
		pct(f.Shares.Technician), pct(t.Technician), yesNo(p.Met.Technician),
		pct(f.Shares.SeniorWorker), pct(t.SeniorWorker), yesNo(p.Met.SeniorWorker),
		pct(f.Shares.HighSkilled), pct(t.HighSkilled), yesNo(p.Met.HighSkilled),
	)
	// The total is a national target: it is filled in only where the
	// registry measured it (the unfiltered national figures).
	if p.SkilledWorkers != nil {
		r = append(r, itoa(t.SkilledWorkers), pct(*p.SkilledWorkers))
	} else {
		r = append(r, "", "")
	}
	planName := ""
	if plan != nil {
		planName = textCell(plan.Name)
	}
	return append(r, itoa(f.Certificates), itoa(f.RevokedCertificates), planName)
}

// writeTiersCSV is the tiers export: the header and one row.
func writeTiersCSV(st *registry.TierStats) []byte {
	buf, w := newCSV()
	levels := levelsOf(st.ByLevel)
	_ = w.Write(figuresHeader(levels))
	code, name := st.Query.Province, "全国"
	if code != "" {
		name = provinceLabel(code)
	}
	_ = w.Write(figuresRecord(code, name, st.Query, st.TierFigures, levels, st.Targets, st.Plan))
	return finishCSV(buf, w)
}

// writeProvincesCSV is the provinces export: the header and one row per
// province, in the registry's order (by code).
func writeProvincesCSV(t *registry.ProvinceTable) []byte {
	buf, w := newCSV()
	var maps []map[registry.Level]int64
	for _, r := range t.Rows {
		maps = append(maps, r.ByLevel)
	}
	levels := levelsOf(maps...)
	_ = w.Write(figuresHeader(levels))
	for _, r := range t.Rows {
		_ = w.Write(figuresRecord(r.Province, r.Name, t.Query, r.TierFigures, levels, t.Targets, t.Plan))
	}
	return finishCSV(buf, w)
}

// writeTrendCSV is the trend export: one row per year with the
// certificates issued and the skilled workers added, per level.
func writeTrendCSV(q registry.StatsQuery, rows []registry.TrendRow) []byte {
	buf, w := newCSV()
	var maps []map[registry.Level]int64
	for _, r := range rows {
		maps = append(maps, r.Certificates, r.Workers)
	}
	levels := levelsOf(maps...)
	h := []string{col("年份", "year"), col("省份代码", "province"), col("省份", "province_name"), col("职业大类", "occupation"), col("评价类型", "channel"), col("发证合计(人次)", "certificates_total")}
	for _, l := range levels {
		h = append(h, col("发证·"+l.Name(), "certificates_level_"+strconv.Itoa(int(l))))
	}
	h = append(h, col("新增技能劳动者合计(人)", "workers_total"))
	for _, l := range levels {
		h = append(h, col("新增·"+l.Name(), "workers_level_"+strconv.Itoa(int(l))))
	}
	_ = w.Write(h)
	code, name := q.Province, "全国"
	if code != "" {
		name = provinceLabel(code)
	}
	for _, r := range rows {
		rec := []string{strconv.Itoa(r.Year), code, name, occupationLabel(q.Occupation), channelLabel(q.Channel), itoa(r.CertificatesTotal)}
		for _, l := range levels {
			rec = append(rec, itoa(r.Certificates[l]))
		}
		rec = append(rec, itoa(r.WorkersTotal))
		for _, l := range levels {
			rec = append(rec, itoa(r.Workers[l]))
		}
		_ = w.Write(rec)
	}
	return finishCSV(buf, w)
}

// writeTrainingCSV is the training export: the total first, then one row
// per value of each breakdown (target group, training type, province,
// start year) with its records (人次), completions and certifications.
// The pre-employment share and the plan's target are on the total row.
func writeTrainingCSV(st *stats.TrainingStats) []byte {
	buf, w := newCSV()
	_ = w.Write([]string{
		col("分组", "breakdown"), col("代码", "key"), col("名称", "name"),
		col("培训人次", "records"), col("结业人次", "completed"), col("取证人次", "certified"),
		col("结业率%", "completion_rate"), col("取证率%", "certification_rate"),
		col("就业前培训率%", "pre_employment_rate"), col("规划目标%", "pre_employment_target"), col("达标", "pre_employment_met"),
	})
	share := func(r stats.Rate) string {
		if r.Value == nil {
			return ""
		}
		return pct(*r.Value)
	}
	ratio := func(n, d int) string {
		if d == 0 {
			return ""
		}
		return pct(float64(n) / float64(d))
	}
	area, areaName := st.Province, "全国"
	if area != "" {
		areaName = provinceLabel(area)
	}
	_ = w.Write([]string{"total", area, areaName, strconv.Itoa(st.Records), strconv.Itoa(st.Completion.Numerator), strconv.Itoa(st.Certification.Numerator),
		share(st.Completion), share(st.Certification), share(st.PreEmployment), pct(st.Plan.PreEmploymentShare), yesNo(st.PreEmploymentMet)})
	for _, part := range []struct {
		name    string
		buckets []stats.TrainingBucket
	}{{"target_group", st.ByTargetGroup}, {"training_type", st.ByType}, {"province", st.ByProvince}, {"year", st.ByYear}} {
		for _, b := range part.buckets {
			_ = w.Write([]string{part.name, b.Key, textCell(b.Name), strconv.Itoa(b.Records), strconv.Itoa(b.Completed), strconv.Itoa(b.Certified),
				ratio(b.Completed, b.Records), ratio(b.Certified, b.Completed), "", "", ""})
		}
	}
	return finishCSV(buf, w)
}
