// Package web holds the pages' templates and static assets, embedded in
// the binary (no CDN: these systems run on government intranets). It has no
// data access: handlers give it what to show.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"mime"
	"path"
	"time"

	"github.com/skillreg/skillreg/registry"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Pages renders the HTML pages.
type Pages struct {
	pages map[string]*template.Template
}

// New parses every page with the shared layout. It panics on a template
// error, which is a programming error caught by any test.
func New() *Pages {
	p := &Pages{pages: map[string]*template.Template{}}
	for _, name := range []string{"home", "verify", "scan", "message", "login", "dashboard"} {
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
		p.pages[name] = t
	}
	return p
}

var funcs = template.FuncMap{
	"date": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(registry.ChinaTime).Format("2006-01-02")
	},
}

// Render executes the named page with data.
func (p *Pages) Render(name string, data any) ([]byte, error) {
	t, ok := p.pages[name]
	if !ok {
		return nil, registry.Errorf(registry.EINTERNAL, "no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Static returns an embedded asset under static/ and its content type.
func Static(name string) ([]byte, string, bool) {
	clean := path.Clean("/" + name)[1:]
	b, err := staticFS.ReadFile("static/" + clean)
	if err != nil {
		return nil, "", false
	}
	ct := mime.TypeByExtension(path.Ext(clean))
	if ct == "" {
		ct = "application/octet-stream"
	}
	return b, ct, true
}

// verifyView is what the verify page shows.
type verifyView struct {
	Status   string
	Title    string // 有效, 已撤销, ...
	Headline string // one sentence for the employer
	Class    string // CSS class for the colour of the answer
	Cert     *registry.PublicCertificate
	Reason   string
	Hint     string // what to do next: for a revoked certificate, or an answer without one
	// Compare says whether to ask the employer to compare the holder's
	// name with the person in front of them: only for a valid
	// certificate, since a revoked one is not to be relied on whoever
	// holds it.
	Compare bool
	// CheckedAt is when the answer was given, in China time, so that a
	// screenshot of the page says how old it is.
	CheckedAt, CheckedISO string
}

var verdicts = map[string]struct{ title, headline, class, hint string }{
	registry.VerifyValid: {"有效", "证书真实有效 · This certificate is genuine and valid.", "ok", ""},
	registry.VerifyRevoked: {"已撤销", "证书已被发证机构撤销 · This certificate has been revoked.", "warn",
		"该证书已失效，不能作为技能等级凭证；如有疑问请联系发证机构。It no longer attests a skill level; ask the issuing organisation if in doubt."},
	registry.VerifyForged:    {"伪造", "签名无效，证书系伪造或被篡改 · The signature is not ours: forged or altered.", "bad", ""},
	registry.VerifyUnknown:   {"未登记", "签名有效，但本系统没有该证书的登记记录 · Signed, but not in this registry.", "bad", ""},
	registry.VerifyMalformed: {"无法识别", "这不是有效的证书二维码 · This is not a certificate code.", "bad", ""},
	registry.VerifyNotFound: {"未查到", "没有与该编号和姓名相符的证书 · No certificate matches this number and name.", "bad",
		"请核对证书编号（22 位，以 S 或 Y 开头）和持证人姓名是否与纸质证书完全一致。Check the number and the full name against the paper certificate."},
}

// VerifyView turns a verification result, given at checked, into the
// verify page's data.
func VerifyView(res registry.VerifyResult, checked time.Time) any {
	v := verdicts[res.Status]
	cn := checked.In(registry.ChinaTime)
	return verifyView{Status: res.Status, Title: v.title, Headline: v.headline, Class: v.class, Cert: res.Certificate, Reason: res.Reason, Hint: v.hint,
		Compare: res.Status == registry.VerifyValid, CheckedAt: cn.Format("2006-01-02 15:04:05"), CheckedISO: cn.Format(time.RFC3339)}
}

// messageView is what the message page shows: an error a person can act on.
type messageView struct {
	Title   string
	Message string
}

// MessageView is the data of the message page, which answers a browser's
// failed form (no QR code in the photo, too many requests, ...) in words.
func MessageView(title, message string) any {
	return messageView{Title: title, Message: message}
}

type loginView struct {
	CSRF, Next, Username, Error string
}

// LoginView is the data of the login page: the form's CSRF token, where to
// go after logging in, the username to fill in again and an error to show.
func LoginView(csrf, next, username, errMsg string) any {
	return loginView{CSRF: csrf, Next: next, Username: username, Error: errMsg}
}

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the OpenAPI 3 description of the HTTP API.
func OpenAPI() []byte { return openAPI }

// ContextPath is where the server publishes the JSON-LD context of
// skillreg's credential terms, version 1. The document at a version's
// path never changes: a new term or meaning gets a new version and path,
// so that credentials already issued keep their meaning.
const ContextPath = "/ns/skillreg/v1"

//go:embed contexts/skillreg-v1.jsonld
var contextV1 []byte

// Context returns the JSON-LD context served at ContextPath.
func Context() []byte { return contextV1 }
