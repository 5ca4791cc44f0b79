package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/ratelimit"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

// benchServer is the real server over a real SQLite file with one
// certificate, served in process (no sockets), so that the figures are the
// server's own cost: routing, middleware, JSON, registry, store.
func benchServer(b *testing.B, limits ratelimit.Limits) (http.Handler, string, string) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "skillreg.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	vault, err := registry.NewVault(bytes.Repeat([]byte{7}, registry.MasterKeySize))
	if err != nil {
		b.Fatal(err)
	}
	ks := verify.KeyStore{Store: st, Vault: vault}
	if _, err := ks.Ensure(ctx, time.Now()); err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	tokens := verify.NewTokens(ks.Source())
	metrics := handlers.NewMetrics()
	reg := registry.New(registry.Config{Store: st, Tokens: tokens, Vault: vault, Logger: logger, Hooks: metrics.Hooks()})
	admin := &registry.User{Username: "admin", Role: registry.RoleAdmin}
	if _, err := reg.CreateIssuer(ctx, admin, registry.IssuerInput{
		Name: "北京市职业技能鉴定指导中心", Kind: "S", OrgCode: "0001", Province: "11", Site: "000001",
		Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 1},
	}); err != nil {
		b.Fatal(err)
	}
	c, _, err := reg.Issue(ctx, &registry.User{Username: "center", Role: registry.RoleIssuer, IssuerID: "S000111000001"}, registry.IssueInput{
		HolderName: "张小三", IDNumber: idNumber, OccupationCode: "6-18-01-01", Level: 2, Channel: registry.ChannelSocial,
	})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := reg.Token(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	srv := handlers.New(handlers.Config{
		Registry: reg, JWKS: ks.JWKS, QRPNG: verify.QRPNG, PublicURL: "http://127.0.0.1:8080",
		LoginKey: vault.LoginKey(), Logger: logger, Metrics: metrics, Limits: limits, SignJSON: tokens.SignJSON, SignCredential: tokens.SignJSONAs,
	})
	return srv, c.Number, tok
}

// benchLimits are the default limits with the per-client rates raised
// so high that the one benchmark client is never refused: the limiter's
// cost is measured, not its refusals.
func benchLimits() ratelimit.Limits {
	l := ratelimit.DefaultLimits()
	high := ratelimit.Rate{N: 1_000_000, Per: time.Second}
	l.Verify, l.Lookup, l.Public = high, high, high
	return l
}

func benchPost(b *testing.B, h http.Handler, body []byte, want string) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/verify", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			out, _ := io.ReadAll(rec.Body)
			b.Fatalf("%d %s", rec.Code, out)
		}
	}
}

// BenchmarkVerifyAPI is POST /api/v1/verify with a token, and with a
// number and name, rate limiting on (see benchLimits).
func BenchmarkVerifyAPI(b *testing.B) {
	h, number, tok := benchServer(b, benchLimits())
	token, _ := json.Marshal(map[string]string{"token": tok})
	match, _ := json.Marshal(map[string]string{"number": number, "name": "张小三"})
	miss, _ := json.Marshal(map[string]string{"number": number, "name": "张小四"})
	b.Run("token", func(b *testing.B) { benchPost(b, h, token, `"status":"valid"`) })
	b.Run("lookup_match", func(b *testing.B) { benchPost(b, h, match, `"status":"valid"`) })
	b.Run("lookup_not_found", func(b *testing.B) { benchPost(b, h, miss, `"status":"not_found"`) })
}

// BenchmarkHealthz is the trivial route of the same server: the cost of
// routing, middleware and a JSON answer alone, to compare the others with.
func BenchmarkHealthz(b *testing.B) {
	h, _, _ := benchServer(b, benchLimits())
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkVerifyPage is GET /v/<token>, the QR code's link, as JSON
// (what bench/verify.sh measures over sockets) and as the HTML page.
func BenchmarkVerifyPage(b *testing.B) {
	h, _, tok := benchServer(b, benchLimits())
	for _, c := range []struct{ name, accept string }{{"json", "application/json"}, {"html", "text/html"}} {
		accept := c.accept
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/v/"+tok, nil)
				req.Header.Set("Accept", accept)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 || !strings.Contains(rec.Body.String(), "valid") {
					b.Fatalf("%d %s", rec.Code, rec.Body.String())
				}
			}
		})
	}
}
