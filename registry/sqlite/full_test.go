package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// setMaxPageCount sets the page limit of the store's one write connection,
// which is how the tests fill the database without filling a disk.
func setMaxPageCount(t *testing.T, s *Store, n int) int {
	t.Helper()
	var got int
	if err := s.write.QueryRowContext(context.Background(), fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStorageFullOverHTTP: with the database at its size limit (SQLite's
// max_page_count standing in for a full disk), issuing answers 503
// storage_unavailable with a Retry-After and /readyz answers 503; once the
// limit is raised, with no restart, /readyz is ready and issuing answers
// 201 again. Through the real echo server over a real SQLite file.
func TestStorageFullOverHTTP(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "skillreg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	vault, err := registry.NewVault(bytes.Repeat([]byte{5}, registry.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	ks := verify.KeyStore{Store: st, Vault: vault}
	if _, err := ks.Ensure(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	tokens := verify.NewTokens(ks.Source())
	reg := registry.New(registry.Config{Store: st, Tokens: tokens, Vault: vault, Logger: logger})
	const adminPassword = "correct horse battery staple 7"
	if _, err := reg.EnsureAdmin(ctx, adminPassword); err != nil {
		t.Fatal(err)
	}
	var srv *handlers.Server
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { srv.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	srv = handlers.New(handlers.Config{Registry: reg, JWKS: ks.JWKS, QRPNG: verify.QRPNG, PublicURL: ts.URL,
		LoginKey: vault.LoginKey(), Logger: logger, SignJSON: tokens.SignJSON})

	do := func(method, path, bearer string, body any) (int, http.Header, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, ts.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, resp.Header, m
	}
	login := func(user, pw string) string {
		t.Helper()
		code, _, m := do("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": pw})
		if code != 200 {
			t.Fatalf("login %s: %d %v", user, code, m)
		}
		return m["token"].(string)
	}
	admin := login("admin", adminPassword)
	if code, _, m := do("POST", "/api/v1/issuers", admin, map[string]any{"name": "测试评价机构", "kind": "S", "org_code": "0001", "province": "11", "site": "000001",
		"scope": map[string]any{"occupations": []string{"6-18"}, "max_level": 2}}); code != 201 {
		t.Fatalf("issuer: %d %v", code, m)
	}
	if code, _, m := do("POST", "/api/v1/users", admin, map[string]any{"username": "center", "password": adminPassword, "role": "issuer", "issuer_id": "S000111000001"}); code != 201 {
		t.Fatalf("user: %d %v", code, m)
	}
	center := login("center", adminPassword)
	issue := func(i int) (int, http.Header, map[string]any) {
		return do("POST", "/api/v1/certificates", center, map[string]any{"holder_name": "张小三", "id_number": "11010519491231002X",
			"occupation_code": "6-18-01-01", "level": 2, "channel": "social", "external_ref": "full-" + strconv.Itoa(i)})
	}
	if code, _, m := issue(0); code != 201 {
		t.Fatalf("first issue: %d %v", code, m)
	}

	// Fill: the limit at today's size, then issue until a write is refused
	// (2,000 attempts is only a hang guard: a few dozen fill the pages).
	var pages int
	if err := st.write.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	setMaxPageCount(t, st, pages)
	full := false
	for i := 1; i <= 2000 && !full; i++ {
		code, h, m := issue(i)
		switch code {
		case 201:
		case http.StatusServiceUnavailable:
			full = true
			e, _ := m["error"].(map[string]any)
			if e["code"] != registry.EUNAVAILABLE {
				t.Fatalf("full database: 503 %v, want code %s", m, registry.EUNAVAILABLE)
			}
			if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("full database: Retry-After %q", h.Get("Retry-After"))
			}
		default:
			t.Fatalf("issue %d into a filling database: %d %v, want 201 or 503", i, code, m)
		}
	}
	if !full {
		t.Fatal("2,000 certificates fit under the page limit: the database never filled")
	}
	if code, _, m := do("GET", "/readyz", "", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while full: %d %v, want 503", code, m)
	}
	if code, _, _ := issue(9999); code != http.StatusServiceUnavailable {
		t.Fatalf("issue while still full: %d, want 503", code)
	}

	// Space returns: no restart needed.
	setMaxPageCount(t, st, 1<<30)
	if code, _, m := do("GET", "/readyz", "", nil); code != 200 {
		t.Fatalf("readyz after space returned: %d %v, want 200", code, m)
	}
	if code, _, m := issue(9999); code != 201 {
		t.Fatalf("issue after space returned: %d %v, want 201", code, m)
	}
}
