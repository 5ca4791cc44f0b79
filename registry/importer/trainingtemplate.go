package importer

import "io"

// Sheet names of the training template.
const (
	TrainingTemplateSheet = "培训记录"
)

// trainingLists are the drop-down lists of the training template.
var trainingLists = map[string][]string{
	"sex":                      {"男", "女"},
	"target_group":             {"城镇登记失业人员", "农民工", "被征地农民", "高校毕业生", "新成长劳动力", "企业职工", "脱贫/低保人员"},
	"target_level":             {"一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工"},
	"training_type":            {"就业技能培训", "岗位技能提升培训", "创业培训"},
	"completed":                {"是", "否"},
	"exam_result":              {"合格", "不合格", "缺考"},
	"employed_within_6_months": {"是", "否"},
	"subsidy_payee":            {"个人", "培训机构", "企业"},
}

// trainingTemplate is the training-record import template.
var trainingTemplate = templateSpec{
	sheet: TrainingTemplateSheet, color: "E2EFDA", columns: TrainingColumns, sample: TrainingSampleRow,
	width:       16,
	text:        []string{"id_number", "phone", "occupation_code", "class_id", "certificate_number", "target_level"},
	dates:       []string{"start", "end"},
	lists:       trainingLists,
	sampleIntro: "示例行（请在“培训记录”表中从第 2 行起填写，每行一名学员；本表不会被导入）：",
	footer:      []string{"同一学员（身份证号）在同一班级只登记一次：重复上传同一文件不会重复登记。结业、考核、就业和补贴情况之后可在系统中补录。"},
}

// WriteTrainingTemplate writes the training-record import template (.xlsx)
// to w: a data sheet with the Chinese headers (text format where Excel
// would damage a value, date format for the dates, drop-down lists for the
// enumerations) and a notes sheet with every column and a sample row.
func WriteTrainingTemplate(w io.Writer) error { return writeTemplate(w, trainingTemplate) }
