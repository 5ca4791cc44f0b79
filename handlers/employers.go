package handlers

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillreg/skillreg/ratelimit"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/signedcache"
	"github.com/skillreg/skillreg/verify"
)

// EmployerConfig configures what employers use: API keys, batch
// verification and the trust bundle.
type EmployerConfig struct {
	// APIKeyRate is each API key's (and each logged-in user's batch)
	// token bucket, unless the key sets its own rate; a number+name item
	// costs ratelimit.LookupCost tokens, a token item one. The zero Rate
	// means ratelimit.DefaultAPIKeyRate.
	APIKeyRate ratelimit.Rate
	// BundleTTL is the time-to-live written into the trust bundle: how
	// long an offline verifier may rely on it. Zero means DefaultBundleTTL.
	BundleTTL time.Duration
	// SignBundle signs a trust bundle (verify.Tokens.SignTrustBundle);
	// without it the trust-bundle route is an internal error.
	SignBundle func(ctx context.Context, b *verify.TrustBundle) (string, error)
}

// DefaultBundleTTL is EmployerConfig.BundleTTL's default.
var DefaultBundleTTL = 24 * time.Hour

// apiKeyRoutes are the routes an API key may call: verification only.
var apiKeyRoutes = map[string]bool{
	"GET /v/:token":                       true,
	"POST /api/v1/verify":                 true,
	"POST /api/v1/verify/batch":           true,
	"GET /api/v1/trust-bundle":            true,
	"GET /.well-known/jwks.json":          true,
	"GET /.well-known/did.json":           true,
	"GET /did.json":                       true,
	"GET /ns/skillreg/v1":                 true,
	"GET /api/v1/status-lists/revocation": true,
	"GET /api/v1/api-keys/current":        true,
}

// employers is the server's state for this feature.
type employers struct {
	cfg     EmployerConfig
	buckets *ratelimit.Keyed // per API key ID, or "user:"+user ID for batches
	items   *prometheus.CounterVec
	bundle  *signedcache.Cache
}

func newEmployers(cfg EmployerConfig, m *Metrics) *employers {
	if cfg.BundleTTL <= 0 {
		cfg.BundleTTL = DefaultBundleTTL
	}
	e := &employers{cfg: cfg, buckets: ratelimit.NewKeyed(cfg.APIKeyRate), bundle: signedcache.New(bundleRefresh)}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skillreg_api_key_items_total", Help: "Verification items checked with an API key, by key ID and kind (token or lookup).",
	}, []string{"key", "kind"})
	if err := m.reg.Register(c); err != nil {
		are, ok := err.(prometheus.AlreadyRegisteredError)
		if !ok {
			panic(err)
		}
		c = are.ExistingCollector.(*prometheus.CounterVec)
	}
	e.items = c
	return e
}

type apiKeyCtx struct{}

// apiKeyOf returns the API key the request authenticated with, or nil.
func apiKeyOf(c echo.Context) *registry.APIKey {
	k, _ := c.Request().Context().Value(apiKeyCtx{}).(*registry.APIKey)
	return k
}

// authenticateAPIKey turns an X-API-Key header into the request's API
// key: 401 for a bad or revoked key, 403 on any route outside
// verification (a key is not a user), 400 with a login token as well.
func (s *Server) authenticateAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		secret := c.Request().Header.Get("X-API-Key")
		if secret == "" {
			return next(c)
		}
		if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
			return registry.Errorf(registry.EINVALID, "send either X-API-Key or Authorization, not both")
		}
		k, err := s.reg.AuthenticateAPIKey(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			return err
		}
		if !apiKeyRoutes[c.Request().Method+" "+c.Path()] {
			return registry.Errorf(registry.EFORBIDDEN, "an API key may only verify certificates (GET /v/{token}, POST /api/v1/verify, POST /api/v1/verify/batch, GET /api/v1/trust-bundle)")
		}
		c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), apiKeyCtx{}, k)))
		return next(c)
	}
}

// takeCost charges cost to the bucket of the request's API key, or of the
// logged-in user when there is no key: 429 with Retry-After when the
// bucket is short, 400 when cost exceeds what the bucket ever holds.
func (s *Server) takeCost(c echo.Context, cost int) error {
	id, perMinute := "", 0
	if k := apiKeyOf(c); k != nil {
		id, perMinute = k.ID, k.RatePerMinute
	} else if u := actor(c); u != nil {
		id = "user:" + u.ID
	} else {
		return registry.Errorf(registry.EUNAUTHORIZED, "send an API key (X-API-Key) or log in")
	}
	l := s.emp.buckets.For(id, perMinute)
	ok, wait, fits := l.TakeN(id, cost, s.now())
	if !fits {
		return registry.Errorf(registry.EINVALID, "this request costs %d of your limit (a token 1, a number and name %d), more than the %d it ever allows at once: split it", cost, ratelimit.LookupCost, l.Rate().N)
	}
	if !ok {
		return s.limits.refuse(c, ratelimit.NameAPIKey, wait)
	}
	return nil
}

// countItems records checked items of an API key in the metrics.
func (s *Server) countItems(c echo.Context, tokens, lookups int) {
	k := apiKeyOf(c)
	if k == nil {
		return
	}
	if tokens > 0 {
		s.emp.items.WithLabelValues(k.ID, "token").Add(float64(tokens))
	}
	if lookups > 0 {
		s.emp.items.WithLabelValues(k.ID, "lookup").Add(float64(lookups))
	}
}

// apiKeyTake replaces the per-client limit for requests made with an API
// key: they draw on the key's bucket (ok is false when there is no key).
func (s *Server) apiKeyTake(c echo.Context, limit string) (handled bool, err error) {
	if apiKeyOf(c) == nil {
		return false, nil
	}
	cost, tokens, lookups := ratelimit.Cost(limit)
	if err := s.takeCost(c, cost); err != nil {
		return true, err
	}
	s.countItems(c, tokens, lookups)
	return true, nil
}

// apiKeyJSON is an API key as the admin API shows it: the hint, never the
// secret's hash.
type apiKeyJSON struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Hint          string     `json:"hint"`
	RatePerMinute int        `json:"rate_per_minute,omitempty"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
}

func toAPIKeyJSON(k *registry.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, Hint: k.Hint, RatePerMinute: k.RatePerMinute,
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

// newAPIKeyJSON is a key just made: the key and, this once, its secret.
type newAPIKeyJSON struct {
	apiKeyJSON
	Key  string `json:"key"`
	Note string `json:"note"`
}

func (s *Server) createAPIKey(c echo.Context) error {
	var in registry.APIKeyInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	k, secret, err := s.reg.CreateAPIKey(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, newAPIKeyJSON{toAPIKeyJSON(k), secret, "the key is shown only now: store it in the HR system's secret store; send it as X-API-Key"})
}

func (s *Server) listAPIKeys(c echo.Context) error {
	if err := checkQuery(c); err != nil {
		return err
	}
	list, err := s.reg.APIKeys(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toListJSON(list, toAPIKeyJSON))
}

func (s *Server) revokeAPIKey(c echo.Context) error {
	k, err := s.reg.RevokeAPIKey(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIKeyJSON(k))
}

// currentAPIKey tells an HR system which key it is using and its limit,
// without the secret: a cheap way to test a key.
func (s *Server) currentAPIKey(c echo.Context) error {
	k := apiKeyOf(c)
	if k == nil {
		return registry.Errorf(registry.EUNAUTHORIZED, "send an API key (X-API-Key)")
	}
	rate := s.emp.buckets.RateOf(k.RatePerMinute)
	return c.JSON(http.StatusOK, map[string]any{"id": k.ID, "name": k.Name, "hint": k.Hint, "rate": rate.String(), "lookup_cost": ratelimit.LookupCost})
}

// batchJSON is the answer to a batch verification: one result per item,
// in input order.
type batchJSON struct {
	Count int                `json:"count"`
	Items []lookupResultJSON `json:"items"`
}

// maxBatchBody bounds a batch upload: 1,000 tokens of a few hundred bytes.
const maxBatchBody = 2 << 20

// verifyBatch answers POST /api/v1/verify/batch: JSON or CSV in, one
// result per item in input order out. It needs an API key or a login.
func (s *Server) verifyBatch(c echo.Context) error {
	if apiKeyOf(c) == nil && actor(c) == nil {
		return registry.Errorf(registry.EUNAUTHORIZED, "batch verification needs an API key (X-API-Key) or a login")
	}
	req := c.Request()
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBatchBody+1))
	if err != nil {
		return registry.Errorf(registry.EINVALID, "the body could not be read")
	}
	if len(body) > maxBatchBody {
		return registry.Errorf(registry.ETOOLARGE, "a batch body may have at most %d bytes", maxBatchBody)
	}
	mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	var items []registry.BatchItem
	switch mt {
	case echo.MIMEApplicationJSON:
		if err := checkJSONKeys(body); err != nil {
			return err
		}
		items, err = registry.ParseBatchJSON(body)
	case "text/csv":
		items, err = registry.ParseBatchCSV(body)
	default:
		return registry.FieldError("content_type", "send application/json {\"items\":[...]} or text/csv with a header row (token, or number,name)")
	}
	if err != nil {
		return err
	}
	tokens, lookups := 0, 0
	for _, it := range items {
		if it.ByNumber() {
			lookups++
		} else {
			tokens++
		}
	}
	if err := s.takeCost(c, tokens+ratelimit.LookupCost*lookups); err != nil {
		return err
	}
	res, err := s.reg.VerifyBatch(req.Context(), items)
	if err != nil {
		return err
	}
	s.countItems(c, tokens, lookups)
	c.Response().Header().Set("Cache-Control", "no-store")
	out := batchJSON{Count: len(res), Items: make([]lookupResultJSON, len(res))}
	for i := range res {
		out.Items[i] = toLookupResultJSON(res[i])
	}
	return c.JSON(http.StatusOK, out)
}

// bundleRefresh bounds how long a signed bundle whose status list has not
// changed is served again, so that new issuers and keys reach it.
const bundleRefresh = time.Minute

// trustBundle answers GET /api/v1/trust-bundle with the signed bundle.
// The built bundle is reused until the status list's bits change (a
// revocation through this process: at once; through another: within
// registry.StatusListRefresh) or bundleRefresh passes (new issuers or
// keys), so a flood of downloads costs no signatures.
func (s *Server) trustBundle(c echo.Context) error {
	b, err := s.currentBundle(c.Request().Context())
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("ETag", b.ETag)
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(registry.StatusListRefresh/time.Second)))
	h.Set("Last-Modified", b.Signed.UTC().Format(http.TimeFormat))
	if match := c.Request().Header.Get("If-None-Match"); match != "" {
		for _, m := range strings.Split(match, ",") {
			if m = strings.TrimSpace(m); m == b.ETag || m == "W/"+b.ETag || m == "*" {
				return c.NoContent(http.StatusNotModified)
			}
		}
	}
	return c.Blob(http.StatusOK, "application/jose", b.Body)
}

func (s *Server) currentBundle(ctx context.Context) (*signedcache.Doc, error) {
	list, err := s.reg.StatusList(ctx)
	if err != nil {
		return nil, err
	}
	return s.emp.bundle.Get(ctx, list.EncodedList, s.now, func(ctx context.Context, now time.Time) (string, time.Time, error) {
		jws, err := s.signBundle(ctx, now, list.EncodedList)
		return jws, now, err
	})
}

// signBundle builds the trust bundle of now (the keys, the public issuers
// and the status list's bits) and signs it.
func (s *Server) signBundle(ctx context.Context, now time.Time, encodedList string) (string, error) {
	e := s.emp
	if e.cfg.SignBundle == nil {
		return "", errNoBundleSigner
	}
	jwks, err := s.jwks(ctx)
	if err != nil {
		return "", err
	}
	issuers, err := s.reg.PublicIssuers(ctx)
	if err != nil {
		return "", err
	}
	bis := make([]verify.BundleIssuer, 0, len(issuers))
	for _, is := range issuers {
		bis = append(bis, verify.BundleIssuer{ID: is.ID, Name: is.Name, Province: is.Province, Scope: is.Scope})
	}
	tb := verify.NewTrustBundle(s.publicURL, now, e.cfg.BundleTTL, jwks, bis, encodedList)
	return e.cfg.SignBundle(ctx, tb)
}

type bundleError string

func (e bundleError) Error() string { return string(e) }

const errNoBundleSigner = bundleError("handlers: no trust-bundle signer configured")
