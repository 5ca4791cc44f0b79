package web

import (
	"bytes"
	"html/template"
)

// The account pages: the admin's user management (/portal/users) and
// everyone's own password (/account). Their labels are their own table,
// checked against these pages only (accounts_test.go); a label they share
// with the portal comes from the portal's table.
var accountMessages = map[string]Message{
	"users.title":            {"用户管理", "Users"},
	"users.create":           {"新建用户", "New user"},
	"users.username":         {"用户名（不区分大小写）", "Username (case does not matter)"},
	"users.username_hint":    {"3–64 位字母、数字、. _ -", "3-64 letters, digits, . _ -"},
	"users.password":         {"初始密码（至少 10 个字符）", "First password (at least 10 characters)"},
	"users.role":             {"角色", "Role"},
	"users.issuer":           {"所属发证机构", "Organisation"},
	"users.province":         {"所属省份", "Province"},
	"users.national":         {"全国", "National"},
	"users.submit":           {"创建", "Create"},
	"users.created":          {"已创建用户 {username}", "User {username} created"},
	"users.list":             {"全部用户", "All users"},
	"users.filter_role":      {"角色", "Role"},
	"users.filter_status":    {"状态", "Status"},
	"users.any":              {"全部", "Any"},
	"users.empty":            {"没有符合条件的用户", "No users match"},
	"users.col_username":     {"用户名", "Username"},
	"users.col_role":         {"角色", "Role"},
	"users.col_scope":        {"机构 / 省份", "Organisation / province"},
	"users.col_status":       {"状态", "Status"},
	"users.col_created":      {"创建时间", "Created"},
	"users.col_actions":      {"操作", "Actions"},
	"users.you":              {"（当前账号）", "(you)"},
	"role.admin":             {"管理员", "Admin"},
	"role.issuer":            {"发证机构用户", "Organisation staff"},
	"role.official":          {"人社部门", "Official"},
	"ustatus.active":         {"正常", "Active"},
	"ustatus.disabled":       {"已停用", "Disabled"},
	"action.disable":         {"停用", "Disable"},
	"action.enable":          {"启用", "Enable"},
	"action.reset":           {"重置密码", "Reset password"},
	"action.delete":          {"删除", "Delete"},
	"users.disabled":         {"已停用 {username}，其登录已全部失效", "{username} disabled; all their logins have ended"},
	"users.enabled":          {"已启用 {username}", "{username} enabled"},
	"users.deleted":          {"已删除 {username}", "{username} deleted"},
	"users.reset_done":       {"已重置 {username} 的密码，其登录已全部失效", "{username}'s password reset; all their logins have ended"},
	"reset.title":            {"重置密码：", "Reset the password of "},
	"reset.password":         {"新密码（至少 10 个字符）", "New password (at least 10 characters)"},
	"delete.title":           {"删除用户：", "Delete the user "},
	"delete.warning":         {"删除后该用户立即无法登录，此操作不能撤销。审计日志保留其操作记录。", "The user can no longer log in, at once; this cannot be undone. The audit log keeps what they did."},
	"dialog.cancel":          {"取消", "Cancel"},
	"account.title":          {"修改密码", "Change password"},
	"account.back":           {"返回", "Back"},
	"account.current":        {"当前密码", "Current password"},
	"account.new":            {"新密码（至少 10 个字符）", "New password (at least 10 characters)"},
	"account.repeat":         {"再次输入新密码", "New password again"},
	"account.mismatch":       {"两次输入的新密码不一致", "The two new passwords differ"},
	"account.submit":         {"修改密码", "Change password"},
	"account.done":           {"密码已修改。您在其他设备和浏览器上的登录已全部失效。", "Password changed. Your logins on other devices and browsers have ended."},
	"account.note":           {"修改密码后，除本页外，您所有的登录（其他浏览器、API 令牌）立即失效。", "Changing the password ends every other login you have (other browsers, API tokens) at once."},
	"account.user":           {"当前用户", "Signed in as"},
	"account.logout":         {"退出登录", "Log out"},
	"error.generic":          {"操作失败", "It did not work"},
	"error.network":          {"网络错误，请重试", "Network error; try again"},
	"users.nav_certificates": {"证书管理", "Certificates"},
}

// accountT returns the Chinese text of a label of the account pages.
func accountT(id string) string {
	if m, ok := accountMessages[id]; ok {
		return m.ZH
	}
	return id
}

func accountMessagesZH() map[string]string {
	out := make(map[string]string, len(accountMessages))
	for id, m := range accountMessages {
		out[id] = m.ZH
	}
	return out
}

// AccountView is the data of the account pages.
type AccountView struct {
	CSRF     string
	Username string
	UserID   string
	Home     string // where "back" goes: the portal or the dashboard
	Messages map[string]string
}

// NewAccountView fills an AccountView.
func NewAccountView(csrf, username, userID, home string) AccountView {
	return AccountView{CSRF: csrf, Username: username, UserID: userID, Home: home, Messages: accountMessagesZH()}
}

var accountPages = map[string]*template.Template{
	"users":   template.Must(template.New("users.html").Funcs(template.FuncMap{"t": accountT}).ParseFS(templateFS, "templates/users.html")),
	"account": template.Must(template.New("account.html").Funcs(template.FuncMap{"t": accountT}).ParseFS(templateFS, "templates/account.html")),
}

// RenderUsers renders the admin's user-management page.
func RenderUsers(v AccountView) ([]byte, error) { return renderAccountPage("users", v) }

// RenderAccount renders the page where a user changes their own password.
func RenderAccount(v AccountView) ([]byte, error) { return renderAccountPage("account", v) }

func renderAccountPage(name string, v AccountView) ([]byte, error) {
	var buf bytes.Buffer
	if err := accountPages[name].Execute(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
