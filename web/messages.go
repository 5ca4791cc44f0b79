package web

import "sort"

// Message is one label of the pages, in Chinese (shown) and English (kept
// for an English page later, and for the translators).
type Message struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Messages is the message table of the portal: templates read it through
// the "t" function, scripts through the JSON the page carries. Handlers
// hold no labels of their own.
var Messages = map[string]Message{
	"portal.title":             {"证书管理", "Certificates"},
	"portal.logout":            {"退出登录", "Log out"},
	"portal.user":              {"当前用户", "Signed in as"},
	"portal.all_issuers":       {"全部发证机构（管理员）", "All organisations (admin)"},
	"nav.list":                 {"证书查询", "Find certificates"},
	"nav.issue":                {"签发证书", "Issue a certificate"},
	"nav.import":               {"批量导入", "Batch import"},
	"list.title":               {"本机构证书", "Our certificates"},
	"list.title_all":           {"全部证书", "All certificates"},
	"list.q":                   {"证书编号或姓名", "Number or name"},
	"list.occupation":          {"职业编码（可只填前几段）", "Occupation code (or its start)"},
	"list.level":               {"等级", "Level"},
	"list.status":              {"状态", "Status"},
	"list.any":                 {"全部", "Any"},
	"list.search":              {"查询", "Search"},
	"list.empty":               {"没有符合条件的证书", "No certificates match"},
	"list.page":                {"第 {page} / {pages} 页，共 {total} 张", "Page {page} of {pages}, {total} in all"},
	"list.prev":                {"上一页", "Previous"},
	"list.next":                {"下一页", "Next"},
	"col.number":               {"证书编号", "Number"},
	"col.holder":               {"持证人", "Holder"},
	"col.occupation":           {"职业", "Occupation"},
	"col.level":                {"等级", "Level"},
	"col.status":               {"状态", "Status"},
	"col.issued_on":            {"发证日期", "Issued"},
	"col.actions":              {"操作", "Actions"},
	"status.valid":             {"有效", "Valid"},
	"status.revoked":           {"已撤销", "Revoked"},
	"action.print":             {"打印", "Print"},
	"action.revoke":            {"撤销", "Revoke"},
	"print.ready":              {"打印页已生成（10 分钟内有效）：", "The print page is ready (valid for 10 minutes): "},
	"print.open":               {"打开打印页", "Open the print page"},
	"revoke.title":             {"撤销证书", "Revoke a certificate"},
	"revoke.reason":            {"撤销原因（必填，将显示在查验结果中）", "Reason (required; shown to whoever verifies it)"},
	"revoke.confirm":           {"确认撤销", "Revoke"},
	"revoke.cancel":            {"取消", "Cancel"},
	"revoke.done":              {"已撤销证书 {number}", "Certificate {number} revoked"},
	"issue.title":              {"签发一张证书", "Issue one certificate"},
	"issue.holder_name":        {"持证人姓名", "Holder's name"},
	"issue.id_number":          {"身份证号", "ID number"},
	"issue.occupation":         {"职业（输入名称或编码搜索）", "Occupation (type a name or code)"},
	"issue.occupation_none":    {"请从列表中选择职业", "Pick an occupation from the list"},
	"issue.occupation_pick":    {"已选：", "Chosen: "},
	"issue.no_match":           {"没有匹配的职业", "No occupation matches"},
	"issue.level":              {"等级", "Level"},
	"issue.channel":            {"评价类型", "Evaluation channel"},
	"issue.issued_on":          {"发证日期（留空为今天）", "Issue date (empty: today)"},
	"issue.name_change_reason": {"更名原因（仅当该身份证号已以另一姓名持证、持证人确已更名时填写）", "Reason for a change of name (only if this ID number holds a certificate under another name and the holder changed it)"},
	"issue.submit":             {"签发", "Issue"},
	"issue.done":               {"已签发证书 {number}", "Issued certificate {number}"},
	"issue.exists":             {"该证书已存在：{number}", "Already issued: {number}"},
	"import.title":             {"从表格批量签发", "Issue from a spreadsheet"},
	"import.template":          {"下载导入模板（.xlsx）", "Download the template (.xlsx)"},
	"import.file":              {"选择 .xlsx 或 .csv 文件", "Choose a .xlsx or .csv file"},
	"import.all_or_nothing":    {"有任何错误行时一张也不签发", "Issue nothing if any row is bad"},
	"import.dry_run":           {"试运行检查", "Check (dry run)"},
	"import.run":               {"正式导入", "Import for real"},
	"import.running":           {"正在处理，请稍候……", "Working…"},
	"import.summary":           {"共 {total} 行：可签发 {valid}，已签发 {issued}，已存在 {skipped}，未签发 {not_issued}，错误 {errors}", "{total} rows: {valid} good, {issued} issued, {skipped} existing, {not_issued} withheld, {errors} bad"},
	"import.no_errors":         {"没有错误行", "No bad rows"},
	"import.report":            {"下载结果表（.xlsx）", "Download the report (.xlsx)"},
	"import.col_row":           {"行", "Row"},
	"import.col_column":        {"列", "Column"},
	"import.col_message":       {"问题", "Problem"},
	"issue.level_choose":       {"请选择等级", "Choose a level"},
	"issue.from_training":      {"按培训记录签发：{name}（班级 {class}）。请核对并填写身份证号。", "Issuing from the training record of {name} (class {class}); check it and enter the ID number."},
	"date.placeholder":         {"YYYY-MM-DD", "YYYY-MM-DD"},
	"date.format":              {"日期格式：YYYY-MM-DD，例如 2026-01-05", "Date as YYYY-MM-DD, e.g. 2026-01-05"},
	"form.choose":              {"请选择", "Choose"},
	"nav.training":             {"培训记录", "Training records"},
	"nav.training_new":         {"登记培训", "Register a trainee"},
	"nav.training_import":      {"培训批量导入", "Import a class"},
	"nav.plans":                {"规划目标", "Plans"},
	"training.title":           {"实名制培训记录", "Real-name training records"},
	"training.q":               {"姓名或班级编号", "Name or class"},
	"training.class_id":        {"班级编号", "Class"},
	"training.target_group":    {"培训对象", "Target group"},
	"training.training_type":   {"培训类型", "Training type"},
	"training.year":            {"开班年份", "Start year"},
	"training.empty":           {"没有符合条件的培训记录", "No training records match"},
	"training.page":            {"第 {page} / {pages} 页，共 {total} 条", "Page {page} of {pages}, {total} in all"},
	"training.new_title":       {"登记一名学员", "Register one trainee"},
	"training.name":            {"学员姓名", "Trainee's name"},
	"training.sex":             {"性别", "Sex"},
	"training.sex_from_id":     {"按身份证号", "From the ID number"},
	"training.male":            {"男", "Male"},
	"training.female":          {"女", "Female"},
	"training.education":       {"文化程度（可空）", "Education (optional)"},
	"training.phone":           {"联系电话（可空）", "Phone (optional)"},
	"training.target_level":    {"培训目标等级", "Target level"},
	"training.hours":           {"课时", "Hours"},
	"training.start":           {"开班日期", "Start date"},
	"training.end":             {"结业日期", "End date"},
	"training.submit":          {"登记", "Register"},
	"training.done":            {"已登记：{name}（班级 {class}）", "Registered {name} (class {class})"},
	"training.exists":          {"该学员已在此班级登记：{name}（班级 {class}）", "{name} is already registered in class {class}"},
	"tcol.trainee":             {"学员", "Trainee"},
	"tcol.class":               {"班级", "Class"},
	"tcol.course":              {"职业 / 目标等级", "Occupation / level"},
	"tcol.group":               {"对象 / 类型", "Group / type"},
	"tcol.dates":               {"起止日期", "Dates"},
	"tcol.outcome":             {"结果", "Outcome"},
	"tstate.open":              {"未结业", "Not completed"},
	"tstate.completed":         {"已结业", "Completed"},
	"tstate.employed":          {"6 个月内就业", "Employed within 6 months"},
	"tstate.certificate":       {"证书 {number}", "Certificate {number}"},
	"exam.pass":                {"考核合格", "Passed"},
	"exam.fail":                {"考核不合格", "Failed"},
	"exam.absent":              {"缺考", "Absent"},
	"action.outcome":           {"记录结果", "Record outcome"},
	"action.issue":             {"签发证书", "Issue a certificate"},
	"outcome.title":            {"记录培训结果", "Record the outcome"},
	"outcome.completed":        {"已结业", "Completed the course"},
	"outcome.exam":             {"考核结果", "Exam result"},
	"outcome.exam_none":        {"未考核", "Not examined"},
	"outcome.employed":         {"结业后 6 个月内就业", "Employed within 6 months"},
	"outcome.unknown":          {"尚不知道", "Not known yet"},
	"outcome.yes":              {"是", "Yes"},
	"outcome.no":               {"否", "No"},
	"outcome.certificate":      {"证书编号（可空）", "Certificate number (optional)"},
	"outcome.subsidy_category": {"补贴类别（可空）", "Subsidy category (optional)"},
	"outcome.subsidy_amount":   {"补贴金额（元）", "Subsidy (yuan)"},
	"outcome.payee":            {"补贴对象", "Subsidy paid to"},
	"outcome.payee_none":       {"无补贴", "No subsidy"},
	"outcome.save":             {"保存", "Save"},
	"outcome.done":             {"已保存 {name} 的培训结果", "Saved the outcome of {name}"},
	"outcome.bad_amount":       {"补贴金额应为元，最多两位小数", "The subsidy is in yuan, at most two decimals"},
	"payee.trainee":            {"个人", "The trainee"},
	"payee.institution":        {"培训机构", "The training centre"},
	"payee.employer":           {"企业", "The employer"},
	"timport.title":            {"从表格批量登记培训记录", "Register a class from a spreadsheet"},
	"timport.template":         {"下载培训记录导入模板（.xlsx）", "Download the training template (.xlsx)"},
	"timport.all_or_nothing":   {"有任何错误行时一条也不登记", "Register nothing if any row is bad"},
	"timport.run":              {"正式登记", "Register for real"},
	"timport.summary":          {"共 {total} 行：可登记 {valid}，已登记 {issued}，已存在 {skipped}，未登记 {not_issued}，错误 {errors}", "{total} rows: {valid} good, {issued} registered, {skipped} existing, {not_issued} withheld, {errors} bad"},
	"plans.title":              {"规划目标", "Plans and their targets"},
	"plans.hint":               {"统计页按默认规划衡量进度；内置的“十一五”规划不能修改或删除。", "The dashboard measures progress against the default plan; the built-in plan cannot be changed or deleted."},
	"pcol.name":                {"规划", "Plan"},
	"pcol.end":                 {"截止日期", "Due"},
	"pcol.workers":             {"技能劳动者总量目标", "Skilled workers"},
	"pcol.technician":          {"技师和高级技师占比", "Technicians"},
	"pcol.senior":              {"高级工占比", "Senior workers"},
	"pcol.high":                {"高技能人才占比", "High-skilled"},
	"plans.default":            {"默认", "Default"},
	"plans.built_in":           {"内置", "Built in"},
	"plans.new":                {"新增规划", "Add a plan"},
	"plans.edit_title":         {"修改规划 {id}", "Change plan {id}"},
	"plans.id":                 {"编号（小写字母、数字和 -）", "ID (a-z, 0-9, -)"},
	"plans.name":               {"名称", "Name"},
	"plans.end_date":           {"截止日期", "Due date"},
	"plans.workers":            {"技能劳动者总量目标（人）", "Skilled workers (people)"},
	"plans.technician":         {"技师和高级技师占比目标（%）", "Technicians (%)"},
	"plans.senior":             {"高级工占比目标（%）", "Senior workers (%)"},
	"plans.high":               {"高技能人才占比目标（%）", "High-skilled (%)"},
	"plans.make_default":       {"设为默认规划", "Make it the default"},
	"plans.save":               {"保存", "Save"},
	"plans.cancel":             {"取消修改", "Cancel"},
	"plans.edit":               {"修改", "Change"},
	"plans.delete":             {"删除", "Delete"},
	"plans.confirm_delete":     {"确认删除？", "Really delete?"},
	"plans.choose":             {"设为默认", "Make default"},
	"plans.created":            {"已新增规划 {id}", "Added plan {id}"},
	"plans.updated":            {"已修改规划 {id}", "Changed plan {id}"},
	"plans.deleted":            {"已删除规划 {id}", "Deleted plan {id}"},
	"plans.chosen":             {"默认规划已改为 {id}", "The default plan is now {id}"},
	"error.generic":            {"操作失败", "It did not work"},
	"error.network":            {"网络错误，请重试", "Network error; try again"},
	"import.encoding":          {"CSV 文件编码", "CSV text encoding"},
	"import.encoding_auto":     {"自动判断（无法判断时会提示）", "Decide from the file (asks when it cannot)"},
	"import.names":             {"按此编码读出的姓名（将原样签发）：{names}", "Names as read (and as they would be signed): {names}"},
	"nav.users":                {"用户管理", "Users"},
	"nav.account":              {"修改密码", "Change password"},
}

// T returns the Chinese text of a message id, or the id itself when the
// table has no such message (so that a missing label shows, not hides).
func T(id string) string {
	if m, ok := Messages[id]; ok {
		return m.ZH
	}
	return id
}

// MessagesZH returns every message in Chinese, for a page's scripts.
func MessagesZH() map[string]string {
	out := make(map[string]string, len(Messages))
	for id, m := range Messages {
		out[id] = m.ZH
	}
	return out
}

// MessageIDs returns the ids of the table, sorted.
func MessageIDs() []string {
	ids := make([]string, 0, len(Messages))
	for id := range Messages {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
