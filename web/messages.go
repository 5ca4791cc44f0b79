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
	"import.encoding":          {"CSV 文件编码", "CSV text encoding"},
	"import.encoding_auto":     {"自动判断（无法判断时会提示）", "Decide from the file (asks when it cannot)"},
	"import.names":             {"按此编码读出的姓名（将原样签发）：{names}", "Names as read (and as they would be signed): {names}"},
	"import.dry_run":           {"试运行检查", "Check (dry run)"},
	"import.run":               {"正式导入", "Import for real"},
	"import.running":           {"正在处理，请稍候……", "Working…"},
	"import.summary":           {"共 {total} 行：可签发 {valid}，已签发 {issued}，已存在 {skipped}，未签发 {not_issued}，错误 {errors}", "{total} rows: {valid} good, {issued} issued, {skipped} existing, {not_issued} withheld, {errors} bad"},
	"import.no_errors":         {"没有错误行", "No bad rows"},
	"import.report":            {"下载结果表（.xlsx）", "Download the report (.xlsx)"},
	"import.col_row":           {"行", "Row"},
	"import.col_column":        {"列", "Column"},
	"import.col_message":       {"问题", "Problem"},
	"error.generic":            {"操作失败", "It did not work"},
	"error.network":            {"网络错误，请重试", "Network error; try again"},
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
