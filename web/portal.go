package web

import (
	"bytes"
	"html/template"

	"github.com/skillreg/skillreg/registry"
)

// PortalView is the portal page of an issuer's staff (or the admin).
type PortalView struct {
	CSRF       string
	Username   string
	IssuerName string // "" for the admin
	CanIssue   bool   // issuer users issue and import; the admin only lists, prints and revokes
	// IsAdmin shows the plans screen (the portal has two kinds of users:
	// issuer users and the admin).
	IsAdmin       bool
	Levels        []registry.NamedCode
	Channels      []registry.NamedCode
	TargetGroups  []registry.NamedCode
	TrainingTypes []registry.NamedCode
	Messages      map[string]string // the message table in Chinese, for portal.js
}

// NewPortalView fills the lists the forms offer.
func NewPortalView(csrf, username, issuerName string, canIssue bool) PortalView {
	v := PortalView{CSRF: csrf, Username: username, IssuerName: issuerName, CanIssue: canIssue, IsAdmin: !canIssue, Messages: MessagesZH(),
		TargetGroups: registry.TargetGroups, TrainingTypes: registry.TrainingTypes}
	for l := registry.Level1; l <= registry.Level5; l++ {
		v.Levels = append(v.Levels, registry.NamedCode{Code: string(rune('0' + l)), Name: l.Name()})
	}
	for _, ch := range []registry.Channel{registry.ChannelSocial, registry.ChannelEnterprise, registry.ChannelSchool, registry.ChannelSpecial} {
		v.Channels = append(v.Channels, registry.NamedCode{Code: string(ch), Name: ch.Name()})
	}
	return v
}

// The portal page stands alone (its own head: its stylesheet and script),
// so that the shared layout stays as the public pages need it.
var portalPage = template.Must(template.New("portal.html").Funcs(template.FuncMap{"t": T}).ParseFS(templateFS, "templates/portal.html"))

// RenderPortal renders the portal page.
func RenderPortal(v PortalView) ([]byte, error) {
	var buf bytes.Buffer
	if err := portalPage.Execute(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
