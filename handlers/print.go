package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/refdata"
	"github.com/skillreg/skillreg/web"
)

// Printing is a browser opening a page, which cannot send a Bearer header.
// Rather than accept the 12-hour login token in a URL (where it lands in
// history, proxy logs and over a shoulder, and would open the whole API),
// the print pages accept a print ticket: a 10-minute token, minted by
// POST /api/v1/print-tickets for a logged-in user, good for printing just
// the certificates it names and nothing else (its own key and audience,
// so no ticket is a login token). The Bearer header works as well, for
// API clients.
const (
	printAudience  = "skillreg-print"
	printTicketTTL = 10 * time.Minute
	// maxPrint is the most certificates one page prints: a large class.
	maxPrint = 200
	// printQRSize is the QR image's width in pixels: 28 mm at about 290
	// dpi, so that each module is several printer dots wide.
	printQRSize = 320
)

type printClaims struct {
	Numbers string `json:"nums"` // hash of the numbers the ticket prints
	jwt.RegisteredClaims
}

// printKey is derived from the login key, so that a ticket never verifies
// as a login token, even if audiences were not checked.
func (s *Server) printKey() []byte {
	m := hmac.New(sha256.New, s.loginKey)
	m.Write([]byte("skillreg print ticket v1"))
	return m.Sum(nil)
}

func numbersHash(numbers []string) string {
	h := sha256.Sum256([]byte(strings.Join(numbers, ",")))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// parseNumbers reads a comma-separated list of certificate numbers,
// dropping blanks and repeats.
func parseNumbers(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		if len(n) > 32 {
			return nil, registry.FieldError("numbers", "%.32q… is not a certificate number", n)
		}
		seen[n] = true
		out = append(out, n)
	}
	switch {
	case len(out) == 0:
		return nil, registry.FieldError("numbers", "give the certificate numbers to print, separated by commas")
	case len(out) > maxPrint:
		return nil, registry.FieldError("numbers", "at most %d certificates per print", maxPrint)
	}
	return out, nil
}

type printTicketRequest struct {
	Numbers []string `json:"numbers"`
}

type printTicketResponse struct {
	Ticket    string    `json:"ticket"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createPrintTicket mints a print ticket for certificates the actor may
// print, checking each one now so that the page does not fail later.
func (s *Server) createPrintTicket(c echo.Context) error {
	u := actor(c)
	if err := printRole(u); err != nil {
		return err
	}
	var req printTicketRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	numbers, err := parseNumbers(strings.Join(req.Numbers, ","))
	if err != nil {
		return err
	}
	if _, err := s.printable(c, u, numbers); err != nil {
		return err
	}
	now := s.now()
	exp := now.Add(printTicketTTL)
	claims := printClaims{Numbers: numbersHash(numbers), RegisteredClaims: jwt.RegisteredClaims{
		Issuer: loginIssuer, Subject: u.ID, Audience: jwt.ClaimStrings{printAudience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.printKey())
	if err != nil {
		return err
	}
	path := "/certificates/" + numbers[0] + "/print"
	if len(numbers) > 1 {
		path = "/certificates/print?numbers=" + url.QueryEscape(strings.Join(numbers, ","))
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return c.JSON(http.StatusCreated, printTicketResponse{Ticket: tok, URL: path + sep + "ticket=" + url.QueryEscape(tok), ExpiresAt: exp.UTC()})
}

func printRole(u *registry.User) error {
	switch {
	case u == nil:
		return registry.Errorf(registry.EUNAUTHORIZED, "login required")
	case u.Role != registry.RoleIssuer && u.Role != registry.RoleAdmin:
		return registry.Errorf(registry.EFORBIDDEN, "only issuers and the admin print certificates")
	}
	return nil
}

// printActor is the Bearer user or, without one, the user of a valid print
// ticket for exactly these numbers.
func (s *Server) printActor(c echo.Context, numbers []string) (*registry.User, error) {
	if u := actor(c); u != nil {
		return u, printRole(u)
	}
	tok := c.QueryParam("ticket")
	if tok == "" {
		return nil, registry.Errorf(registry.EUNAUTHORIZED, "login required: open the print link from the portal (it carries a print ticket)")
	}
	bad := registry.Errorf(registry.EUNAUTHORIZED, "the print link has expired or is not valid; print again from the portal")
	if len(tok) > maxTokenLen {
		return nil, bad
	}
	var claims printClaims
	_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return s.printKey(), nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(loginIssuer), jwt.WithAudience(printAudience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(30*time.Second), jwt.WithTimeFunc(s.now))
	if err != nil || claims.Subject == "" || !hmac.Equal([]byte(claims.Numbers), []byte(numbersHash(numbers))) {
		return nil, bad
	}
	u, err := s.reg.UserByID(c.Request().Context(), claims.Subject)
	if registry.ErrorCode(err) == registry.ENOTFOUND {
		return nil, bad
	} else if err != nil {
		return nil, err
	}
	return u, printRole(u)
}

// printable reads each certificate the actor may print: another
// organisation's is ENOTFOUND, a revoked one ECONFLICT (a revoked
// certificate must not be printed again).
func (s *Server) printable(c echo.Context, u *registry.User, numbers []string) ([]*registry.Certificate, error) {
	ctx := c.Request().Context()
	certs := make([]*registry.Certificate, 0, len(numbers))
	for _, n := range numbers {
		cert, err := s.reg.Certificate(ctx, u, n)
		if err != nil {
			return nil, err
		}
		if cert.Status != registry.StatusValid {
			return nil, registry.Errorf(registry.ECONFLICT, "证书 %s 已撤销，不能打印 · certificate %s is revoked and cannot be printed", n, n)
		}
		certs = append(certs, cert)
	}
	return certs, nil
}

func (s *Server) printOne(c echo.Context) error {
	n := c.Param("number")
	if strings.Contains(n, ",") {
		return s.printPage(c, "", registry.FieldError("number", "print several certificates with /certificates/print?numbers=A,B"))
	}
	return s.printPage(c, n, nil)
}

func (s *Server) printMany(c echo.Context) error {
	return s.printPage(c, c.QueryParam("numbers"), nil)
}

// printPage renders the A4 print page, or err. Errors are a page in
// Chinese for a browser and JSON for an API client.
func (s *Server) printPage(c echo.Context, list string, err error) error {
	if err == nil {
		err = s.renderPrint(c, list)
	}
	if err == nil || wantsJSON(c.Request()) {
		return err
	}
	code := registry.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok || status >= 500 {
		return err
	}
	titles := map[string]string{registry.EUNAUTHORIZED: "请先登录", registry.EFORBIDDEN: "无权打印", registry.ENOTFOUND: "未找到证书", registry.ECONFLICT: "不能打印", registry.EINVALID: "无法打印"}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, status, "message", web.MessageView(titles[code], registry.ErrorMessage(err)))
}

func (s *Server) renderPrint(c echo.Context, list string) error {
	numbers, err := parseNumbers(list)
	if err != nil {
		return err
	}
	u, err := s.printActor(c, numbers)
	if err != nil {
		return err
	}
	certs, err := s.printable(c, u, numbers)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	issuers := map[string]string{}
	view := web.PrintView{Title: "职业技能等级证书", VerifySite: s.publicURL}
	if len(certs) == 1 {
		view.Title += " " + certs[0].Number
	}
	for _, cert := range certs {
		name, ok := issuers[cert.IssuerID]
		if !ok {
			is, err := s.reg.Issuer(ctx, cert.IssuerID)
			if err != nil {
				return err
			}
			name = is.Name
			issuers[cert.IssuerID] = name
		}
		tok, err := s.reg.Token(ctx, cert)
		if err != nil {
			return err
		}
		png, err := s.qrPNG(s.verifyURL(tok), printQRSize)
		if err != nil {
			return err
		}
		pc := web.PrintCertificate{
			Number: cert.Number, HolderName: cert.HolderName, HolderIDMasked: cert.HolderIDMasked,
			OccupationCode: cert.OccupationCode, LevelName: cert.Level.Name(), ChannelName: cert.Channel.Name(),
			IssuerName: name, IssuedOn: chineseDate(cert.IssuedOn), QR: web.PNGDataURI(png),
		}
		if o, ok := refdata.LookupOccupation(cert.OccupationCode); ok {
			pc.OccupationName = o.Name
		}
		view.Certificates = append(view.Certificates, pc)
	}
	b, err := web.RenderPrint(view)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(http.StatusOK, b)
}

// chineseDate writes 2026-01-05 as 2026年1月5日, as certificates do.
func chineseDate(d string) string {
	t, err := time.Parse("2006-01-02", d)
	if err != nil {
		return d
	}
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}
