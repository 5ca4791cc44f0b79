package web

import (
	"bytes"
	"encoding/base64"
	"html/template"
)

// PrintCertificate is one certificate as the printed page shows it. The
// page carries the holder's full name (the certificate is the holder's
// own) but only the masked ID number, as the national certificate does.
type PrintCertificate struct {
	Number         string
	HolderName     string
	HolderIDMasked string
	OccupationName string
	OccupationCode string
	LevelName      string
	ChannelName    string
	IssuerName     string
	IssuedOn       string       // in Chinese: 2026年1月5日
	QR             template.URL // a data:image/png URI (the CSP allows data: images)
}

// PrintView is the print page: one A4 sheet per certificate.
type PrintView struct {
	Title        string
	Certificates []PrintCertificate
	VerifySite   string // where to check by hand, e.g. https://example.gov.cn
}

// printPage stands alone, without the site's layout: it is paper, not a
// screen of the site.
var printPage = template.Must(template.New("print.html").ParseFS(templateFS, "templates/print.html"))

// RenderPrint renders the print page.
func RenderPrint(v PrintView) ([]byte, error) {
	var buf bytes.Buffer
	if err := printPage.Execute(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PNGDataURI returns png as a data: URI for an <img>. The bytes are our
// own QR code, so marking the URI safe for the template is sound.
func PNGDataURI(png []byte) template.URL {
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}
