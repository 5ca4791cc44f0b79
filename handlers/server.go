// Package handlers is the HTTP face of skillreg: one route table, thin
// handlers that bind, make one call into registry or verify, and render,
// one error table, and the middleware. It is the only package besides cmd
// that knows echo.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/skillreg/skillreg/ratelimit"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
	"github.com/skillreg/skillreg/signedcache"
	"github.com/skillreg/skillreg/verify"
	"github.com/skillreg/skillreg/web"
)

// Config wires a Server.
type Config struct {
	Registry  *registry.Registry
	JWKS      func(ctx context.Context) ([]byte, error) // the public keys as RFC 7517 JSON
	QRPNG     func(content string, size int) ([]byte, error)
	PublicURL string // base of verify URLs put into QR codes, without a trailing slash
	LoginKey  []byte // HMAC key for login tokens
	Logger    *slog.Logger
	Metrics   *Metrics
	Clock     func() time.Time
	// Limits are the per-client rate limits of the public routes and the
	// proxies trusted for client addresses; the zero value limits nothing.
	Limits ratelimit.Limits
	// SignJSON signs other documents with the certificate key (a VC-JWT);
	// verify.Tokens.SignJSON. Without it the /vc route is an internal error.
	SignJSON func(ctx context.Context, header map[string]any, payload any) (string, string, error)
	// SignCredential signs the VC-JWTs that the registry's DID issues (the
	// certificates' credentials and the revocation list) with the header's
	// kid written as keyRef plus the key ID; verify.Tokens.SignJSONAs.
	// Without it those routes are internal errors.
	SignCredential func(ctx context.Context, keyRef string, header map[string]any, payload any) (string, string, error)
	// Imports runs spreadsheet imports; nil makes one that keeps its files
	// in the system's temporary directory.
	Imports *importer.Manager
	// Employers configures API keys, batch verification and the trust
	// bundle (employers.go).
	Employers EmployerConfig
}

// Server is the HTTP API and pages.
type Server struct {
	reg       *registry.Registry
	jwks      func(ctx context.Context) ([]byte, error)
	qrPNG     func(content string, size int) ([]byte, error)
	publicURL string
	loginKey  []byte
	log       *slog.Logger
	metrics   *Metrics
	now       func() time.Time
	pages     *web.Pages
	echo      *echo.Echo
	limits    *limiters
	signJSON  func(ctx context.Context, header map[string]any, payload any) (string, string, error)
	// signCredential and did: the VC-JWTs of the registry's did:web
	// (credentials.go); did is empty when the public URL makes none.
	signCredential func(ctx context.Context, keyRef string, header map[string]any, payload any) (string, string, error)
	did            string
	statusList     *signedcache.Cache // the signed revocation list (credentials.go)
	imports        *importer.Manager
	access         map[string]string // "METHOD /path" → Route.Access
	emp            *employers
	// storageDown is set when a write failed with EUNAVAILABLE and
	// cleared when readyz's probe write passes again.
	storageDown atomic.Bool
}

// maxBody is the largest request body accepted.
const maxBody = 1 << 20

// New builds the server and its route table.
func New(cfg Config) *Server {
	s := &Server{
		reg: cfg.Registry, jwks: cfg.JWKS, qrPNG: cfg.QRPNG,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"), loginKey: cfg.LoginKey,
		log: cfg.Logger, metrics: cfg.Metrics, now: cfg.Clock,
		pages: web.New(), signJSON: cfg.SignJSON, signCredential: cfg.SignCredential,
		statusList: signedcache.New(StatusListLifetime / 2),
	}
	if did, err := verify.DIDWeb(s.publicURL); err == nil {
		s.did = did
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	s.limits = newLimiters(cfg.Limits, s.metrics)
	s.emp = newEmployers(cfg.Employers, s.metrics)
	s.imports = cfg.Imports
	if s.imports == nil {
		s.imports = importer.NewManager(cfg.Registry, importer.ManagerConfig{Logger: s.log, Clock: s.now})
	}
	e := echo.New()
	e.IPExtractor = ipExtractor(cfg.Limits.Trusted)
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.RequestID())
	e.Use(s.observe)
	e.Use(middleware.Recover())
	e.Use(securityHeaders)
	e.Use(s.authenticate)
	e.Use(s.authenticateAPIKey)
	s.access = map[string]string{}
	for _, r := range s.routes() {
		s.access[r.Method+" "+r.Path] = r.Access
	}
	for _, r := range s.routes() {
		e.Add(r.Method, r.Path, s.limited(r))
	}
	s.echo = e
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Shutdown stops the server's background work once its last request has
// been answered: running imports are cancelled (the rows they finished
// stay) and every import's files, uploads included, are deleted.
func (s *Server) Shutdown() { s.imports.Shutdown() }

// Route is one entry of the route table. Access says who may call it, for
// documentation and the authorization tests.
type Route struct {
	Method  string
	Path    string
	Access  string // "public", "login", "admin", "issuer", "issuer,admin", "official,admin", "apikey", "apikey,login"
	Handler echo.HandlerFunc
}

// Routes returns the route table.
func (s *Server) Routes() []Route { return s.routes() }

func (s *Server) routes() []Route {
	return []Route{
		{http.MethodGet, "/", "public", s.home},
		{http.MethodGet, "/static/*", "public", s.static},
		{http.MethodGet, "/healthz", "public", s.healthz},
		{http.MethodGet, "/readyz", "public", s.readyz},
		{http.MethodGet, "/metrics", "public", s.metrics.handler},
		{http.MethodGet, "/api/openapi.yaml", "public", s.openAPIDoc},
		{http.MethodGet, "/.well-known/jwks.json", "public", s.jwksDoc},
		{http.MethodGet, "/.well-known/did.json", "public", s.didDoc},
		{http.MethodGet, "/did.json", "public", s.didDoc}, // where did:web looks when the public URL has a path
		{http.MethodGet, web.ContextPath, "public", s.contextDoc},
		{http.MethodGet, verify.StatusListPath, "public", s.statusListCredential},
		{http.MethodGet, "/v/:token", "public", s.verifyPage},
		{http.MethodGet, "/scan", "public", s.scanPage},
		{http.MethodPost, "/scan/upload", "public", s.scanUpload},
		{http.MethodPost, "/lookup", "public", s.lookupPage},
		{http.MethodPost, "/api/v1/verify", "public", s.verifyAPI},
		{http.MethodGet, "/api/v1/occupations", "public", s.occupations},
		{http.MethodGet, "/api/v1/regions", "public", s.regions},
		{http.MethodPost, "/api/v1/auth/login", "public", s.login},
		{http.MethodGet, "/login", "public", s.loginPage},
		{http.MethodPost, "/login", "public", s.loginForm},
		{http.MethodPost, "/logout", "public", s.logout},
		{http.MethodGet, "/api/v1/issuers", "login", s.listIssuers},
		{http.MethodPost, "/api/v1/issuers", "admin", s.createIssuer},
		{http.MethodPost, "/api/v1/users", "admin", s.createUser},
		// accounts: listing, disabling, re-enabling, deleting and resetting
		// the password of users (admin), one's own password (anyone logged
		// in), and their pages.
		{http.MethodGet, "/api/v1/users", "admin", s.listUsers},
		{http.MethodPost, "/api/v1/users/:id/disable", "admin", s.disableUser},
		{http.MethodPost, "/api/v1/users/:id/enable", "admin", s.enableUser},
		{http.MethodDelete, "/api/v1/users/:id", "admin", s.deleteUser},
		{http.MethodPost, "/api/v1/users/:id/password", "admin", s.resetPassword},
		{http.MethodPost, "/api/v1/account/password", "login", s.changePassword},
		{http.MethodGet, "/portal/users", "admin", s.usersPage},
		{http.MethodGet, "/account", "login", s.accountPage},
		{http.MethodPost, "/api/v1/certificates", "issuer", s.issueCertificate},
		{http.MethodGet, "/api/v1/certificates", "issuer,admin", s.listCertificates},
		{http.MethodGet, "/api/v1/certificates/:number", "login", s.getCertificate},
		{http.MethodGet, "/api/v1/certificates/:number/qr.png", "login", s.certificateQR},
		{http.MethodGet, "/api/v1/certificates/:number/vc", "login", s.certificateVC},
		{http.MethodPost, "/api/v1/certificates/:number/revoke", "issuer,admin", s.revokeCertificate},
		{http.MethodGet, "/api/v1/imports/template.xlsx", "public", s.importTemplate},
		{http.MethodPost, "/api/v1/imports", "issuer", s.createImport},
		{http.MethodGet, "/api/v1/imports/:id", "issuer", s.getImport},
		{http.MethodGet, "/api/v1/imports/:id/report.xlsx", "issuer", s.importReport},
		{http.MethodPost, "/api/v1/print-tickets", "issuer,admin", s.createPrintTicket},
		{http.MethodGet, "/certificates/print", "issuer,admin", s.printMany},
		{http.MethodGet, "/certificates/:number/print", "issuer,admin", s.printOne},
		// Employer access: API keys, batch verification, trust bundle
		{http.MethodPost, "/api/v1/api-keys", "admin", s.createAPIKey},
		{http.MethodGet, "/api/v1/api-keys", "admin", s.listAPIKeys},
		{http.MethodGet, "/api/v1/api-keys/current", "apikey", s.currentAPIKey},
		{http.MethodDelete, "/api/v1/api-keys/:id", "admin", s.revokeAPIKey},
		{http.MethodPost, "/api/v1/verify/batch", "apikey,login", s.verifyBatch},
		{http.MethodGet, "/api/v1/trust-bundle", "public", s.trustBundle},
		// Training records, their statistics, and the training portal page.
		{http.MethodPost, "/api/v1/training-records", "issuer", s.createTrainingRecord},
		{http.MethodPost, "/api/v1/training-records/batch", "issuer", s.createTrainingBatch},
		{http.MethodGet, "/api/v1/training-records", "login", s.listTrainingRecords},
		{http.MethodGet, "/api/v1/training-records/:id", "login", s.getTrainingRecord},
		{http.MethodPatch, "/api/v1/training-records/:id/outcome", "issuer", s.recordTrainingOutcome},
		{http.MethodPost, "/api/v1/training-records/:id/outcome", "issuer", s.recordTrainingOutcome},
		{http.MethodGet, "/api/v1/stats/training", "official,admin", s.trainingStats},
		{http.MethodGet, "/portal", "issuer,admin", s.portalPage},
		{http.MethodGet, "/api/v1/audit/checkpoint", "public", s.auditCheckpoint}, // the audit log's signed checkpoints
		// Skill-tier statistics: officials and the admin; a
		// provincial official reads their own province only.
		{http.MethodGet, "/api/v1/stats/tiers", "official,admin", s.statsTiers},
		{http.MethodGet, "/api/v1/stats/provinces", "official,admin", s.statsProvinces},
		{http.MethodGet, "/api/v1/stats/trend", "official,admin", s.statsTrend},
		{http.MethodGet, "/api/v1/plans", "official,admin", s.listPlans},
		{http.MethodPost, "/api/v1/plans", "admin", s.createPlan},
		{http.MethodPut, "/api/v1/plans/:id", "admin", s.updatePlan},
		{http.MethodDelete, "/api/v1/plans/:id", "admin", s.deletePlan},
		{http.MethodPost, "/api/v1/plans/:id/default", "admin", s.setDefaultPlan},
		{http.MethodGet, "/dashboard", "official,admin", s.dashboardPage},
	}
}
