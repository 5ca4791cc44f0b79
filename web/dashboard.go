package web

import (
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/refdata"
)

// Option is one entry of a filter's list.
type Option struct {
	Value string
	Label string
}

// dashboardView is what the dashboard page is rendered with: who is
// looking, the filters' choices and the logout form's CSRF token. The
// figures are not here: the page's script reads them from the API.
type dashboardView struct {
	Username  string
	RoleLabel string
	// Province is the 2-digit code a provincial official is fixed to; ""
	// for national officials and the admin, who may choose.
	Province     string
	ProvinceName string
	Provinces    []Option
	Categories   []Option
	Channels     []Option
	CSRF         string
}

// dashboardChannels are the four evaluation channels in the plan's order.
var dashboardChannels = []registry.Channel{registry.ChannelSocial, registry.ChannelEnterprise, registry.ChannelSchool, registry.ChannelSpecial}

// DashboardView is the data of the officials' dashboard for user u.
func DashboardView(u *registry.User, csrf string) any {
	v := dashboardView{Username: u.Username, CSRF: csrf}
	switch {
	case u.Role == registry.RoleAdmin:
		v.RoleLabel = "系统管理员"
	case u.Province != "":
		v.Province = u.Province
		v.ProvinceName = u.Province
		if n, ok := refdata.ProvinceName(u.Province); ok {
			v.ProvinceName = n
		}
		v.RoleLabel = v.ProvinceName + "人力资源社会保障部门"
	default:
		v.RoleLabel = "全国人力资源社会保障部门"
	}
	for _, p := range refdata.Provinces() {
		v.Provinces = append(v.Provinces, Option{Value: p.Code[:2], Label: p.Name})
	}
	for _, c := range refdata.Categories() {
		if c.Level == refdata.LevelMajor {
			v.Categories = append(v.Categories, Option{Value: c.Code, Label: c.Code + " " + c.Name})
		}
	}
	for _, ch := range dashboardChannels {
		v.Channels = append(v.Channels, Option{Value: string(ch), Label: ch.Name()})
	}
	return v
}
