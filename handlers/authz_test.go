package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
)

// TestAuthorizationMatrix sends every route in the route table as every
// kind of caller and checks the status. The table of expectations is keyed
// by the route, so a new route without an entry here fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	h := newHarness(t)
	tokens := map[string]string{
		"anonymous": "",
		"issuerA":   h.issuer("S000111000001", "11", []string{"6-18"}, 2),
		"issuerB":   h.issuer("S000244000001", "44", []string{"6-18"}, 2),
		"admin":     h.admin(),
	}
	for name, province := range map[string]string{"officialOther": "44", "officialNational": ""} {
		h.expect(h.do("POST", "/api/v1/users", h.admin(), map[string]any{"username": strings.ToLower(name), "password": userPassword, "role": "official", "province": province}), 201)
		tokens[name] = h.login(strings.ToLower(name), userPassword)
	}
	actors := []string{"anonymous", "issuerA", "issuerB", "officialOther", "officialNational", "admin"}

	// Certificates of issuer A (province 11): one to read, one per actor
	// that may revoke.
	issue := func(name string, id string) (number, token string) {
		c := h.expect(h.do("POST", "/api/v1/certificates", tokens["issuerA"], certBody(map[string]any{"holder_name": name, "id_number": id})), 201).json(t)
		return c["number"].(string), c["token"].(string)
	}
	readNumber, certToken := issue("张三", testID(4000))
	revocable := map[string]string{}
	for i, a := range actors {
		revocable[a], _ = issue(registry.DemoName(i), testID(4001+i))
	}
	jobID := matrixImport(t, h, tokens["issuerA"]) // an import of issuer A
	// Employer access: an API key for the "employer API key" column,
	// and one key per actor that may try to revoke it.
	apiKey := h.apiKey("matrix")
	revocableKeys := map[string]string{}
	for _, a := range actors {
		revocableKeys[a] = h.expect(h.do("POST", "/api/v1/api-keys", h.admin(), map[string]string{"name": "revoke " + a}), 201).json(t)["id"].(string)
	}
	// accounts: one user per actor and action to act on.
	victims := map[string]string{}
	for _, action := range []string{"disable", "enable", "delete", "password"} {
		for _, a := range actors {
			name := fmt.Sprintf("victim-%s-%s", action, strings.ToLower(a))
			victims[action+" "+a] = h.expect(h.do("POST", "/api/v1/users", h.admin(), map[string]any{"username": name, "password": userPassword, "role": "official"}), 201).json(t)["id"].(string)
		}
	}
	victim := func(action string, body any) func(string) (string, any) {
		return func(actor string) (string, any) {
			path := "/api/v1/users/" + victims[action+" "+actor]
			if action != "delete" {
				path += "/" + action
			}
			return path, body
		}
	}
	trainingID := h.expect(h.do("POST", "/api/v1/training-records", tokens["issuerA"], trainingBody(map[string]any{"class_id": "matrix"})), 201).json(t)["id"].(string)
	n := 0
	unique := func() int { n++; return n }

	type fixture struct {
		req  func(actor string) (path string, body any)
		want map[string]int // status per actor
	}
	static := func(path string, body any) func(string) (string, any) {
		return func(string) (string, any) { return path, body }
	}
	all := func(status int) map[string]int {
		m := map[string]int{}
		for _, a := range actors {
			m[a] = status
		}
		return m
	}
	with := func(base map[string]int, overrides map[string]int) map[string]int {
		m := map[string]int{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range overrides {
			m[k] = v
		}
		return m
	}
	loggedIn := with(all(200), map[string]int{"anonymous": 401})
	// matrixPlan adds a plan for one caller to change, choose or delete.
	matrixPlan := func() string {
		id := fmt.Sprintf("matrix-%d", unique())
		h.expect(h.do("POST", "/api/v1/plans", tokens["admin"], map[string]any{"id": id, "name": "矩阵测试规划", "end_date": "2030-12-31",
			"targets": map[string]any{"skilled_workers": 1000, "technician": 0.05, "senior_worker": 0.2, "high_skilled": 0.25}}), 201)
		return id
	}
	adminOnly := func(status int) map[string]int {
		return with(all(403), map[string]int{"anonymous": 401, "admin": status})
	}
	fixtures := map[string]fixture{
		"GET /":                      {static("/", nil), all(200)},
		"GET /static/*":              {static("/static/app.css", nil), all(200)},
		"GET /healthz":               {static("/healthz", nil), all(200)},
		"GET /readyz":                {static("/readyz", nil), all(200)},
		"GET /metrics":               {static("/metrics", nil), all(200)},
		"GET /api/openapi.yaml":      {static("/api/openapi.yaml", nil), all(200)},
		"GET /.well-known/jwks.json": {static("/.well-known/jwks.json", nil), all(200)},
		"GET /v/:token":              {static("/v/"+certToken, nil), all(200)},
		"POST /api/v1/verify":        {static("/api/v1/verify", map[string]string{"token": certToken}), all(200)},
		"GET /api/v1/occupations":    {static("/api/v1/occupations?q=车工", nil), all(200)},
		"GET /scan":                  {static("/scan", nil), all(200)},
		// The page forms take form bodies; the matrix sends JSON, which
		// every caller gets the same 400 page for.
		"POST /scan/upload":   {static("/scan/upload", map[string]string{}), all(400)},
		"POST /lookup":        {static("/lookup", map[string]string{}), all(400)},
		"GET /api/v1/regions": {static("/api/v1/regions", nil), all(200)},
		// What standard verifiers fetch: public, like the JWKS.
		"GET /.well-known/did.json":           {static("/.well-known/did.json", nil), all(200)},
		"GET /did.json":                       {static("/did.json", nil), all(200)},
		"GET /ns/skillreg/v1":                 {static("/ns/skillreg/v1", nil), all(200)},
		"GET /api/v1/status-lists/revocation": {static("/api/v1/status-lists/revocation", nil), all(200)},
		"POST /api/v1/auth/login":             {static("/api/v1/auth/login", map[string]string{"username": "admin", "password": adminPassword}), all(200)},
		"GET /api/v1/issuers":                 {static("/api/v1/issuers", nil), loggedIn},
		// The browser login: the page (a logged-in caller is sent on to
		// next); the form and logout refuse anything without the CSRF
		// cookie and field, which no API caller has.
		"GET /login":   {static("/login?next=/healthz", nil), all(200)},
		"POST /login":  {static("/login", map[string]string{"username": "admin", "password": adminPassword}), all(403)},
		"POST /logout": {static("/logout", nil), all(403)},
		"POST /api/v1/issuers": {func(string) (string, any) {
			return "/api/v1/issuers", map[string]any{"name": "机构", "kind": "S", "org_code": "0009", "province": "11", "site": fmt.Sprintf("%06d", unique()), "scope": map[string]any{"occupations": []string{"6-18"}, "max_level": 3}}
		}, with(all(403), map[string]int{"anonymous": 401, "admin": 201})},
		"POST /api/v1/users": {func(string) (string, any) {
			return "/api/v1/users", map[string]any{"username": fmt.Sprintf("matrix-%d", unique()), "password": userPassword, "role": "official"}
		}, with(all(403), map[string]int{"anonymous": 401, "admin": 201})},
		"POST /api/v1/certificates": {func(string) (string, any) {
			n := unique()
			return "/api/v1/certificates", certBody(map[string]any{"holder_name": registry.DemoName(n), "id_number": testID(5000 + n)})
		}, with(all(403), map[string]int{"anonymous": 401, "issuerA": 201, "issuerB": 201})},
		"GET /api/v1/certificates": {static("/api/v1/certificates", nil), with(all(403), map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 200, "admin": 200})},
		"GET /api/v1/certificates/:number": {static("/api/v1/certificates/"+readNumber, nil),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 404, "officialNational": 200, "admin": 200}},
		"GET /api/v1/certificates/:number/qr.png": {static("/api/v1/certificates/"+readNumber+"/qr.png", nil),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 404, "officialNational": 200, "admin": 200}},
		"GET /api/v1/certificates/:number/vc": {static("/api/v1/certificates/"+readNumber+"/vc", nil),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 404, "officialNational": 200, "admin": 200}},
		"POST /api/v1/certificates/:number/revoke": {func(actor string) (string, any) {
			return "/api/v1/certificates/" + revocable[actor] + "/revoke", map[string]string{"reason": "matrix"}
		}, map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 403, "officialNational": 403, "admin": 200}},
		"GET /api/v1/imports/template.xlsx": {static("/api/v1/imports/template.xlsx", nil), all(200)},
		"POST /api/v1/imports": {static("/api/v1/imports?dry_run=true&wait=true", matrixUpload(t)),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 200, "officialOther": 403, "officialNational": 403, "admin": 403}},
		"GET /api/v1/imports/:id": {static("/api/v1/imports/"+jobID, nil),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 403, "officialNational": 403, "admin": 403}},
		"GET /api/v1/imports/:id/report.xlsx": {static("/api/v1/imports/"+jobID+"/report.xlsx", nil),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 403, "officialNational": 403, "admin": 403}},
		"POST /api/v1/print-tickets": {static("/api/v1/print-tickets", map[string]any{"numbers": []string{readNumber}}),
			map[string]int{"anonymous": 401, "issuerA": 201, "issuerB": 404, "officialOther": 403, "officialNational": 403, "admin": 201}},
		"GET /certificates/print": {static("/certificates/print?numbers="+readNumber, nil),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 403, "officialNational": 403, "admin": 200}},
		"GET /certificates/:number/print": {static("/certificates/"+readNumber+"/print", nil),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 403, "officialNational": 403, "admin": 200}},
		// Employer access: API keys, batch verification, the trust bundle.
		"POST /api/v1/api-keys": {func(string) (string, any) {
			return "/api/v1/api-keys", map[string]string{"name": fmt.Sprintf("HR %d", unique())}
		}, with(all(403), map[string]int{"anonymous": 401, "admin": 201})},
		"GET /api/v1/api-keys":         {static("/api/v1/api-keys", nil), with(all(403), map[string]int{"anonymous": 401, "admin": 200})},
		"GET /api/v1/api-keys/current": {static("/api/v1/api-keys/current", nil), all(401)},
		"DELETE /api/v1/api-keys/:id": {func(actor string) (string, any) {
			return "/api/v1/api-keys/" + revocableKeys[actor], nil
		}, with(all(403), map[string]int{"anonymous": 401, "admin": 200})},
		"POST /api/v1/verify/batch": {static("/api/v1/verify/batch", map[string]any{"items": []map[string]string{{"token": certToken}}}), loggedIn},
		"GET /api/v1/trust-bundle":  {static("/api/v1/trust-bundle", nil), all(200)},
		// The audit log: checkpoints are public.
		"GET /api/v1/audit/checkpoint": {func(string) (string, any) {
			if _, _, err := (&registry.Checkpointer{Store: h.store, Sign: h.tokens.SignJSON}).Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
			return "/api/v1/audit/checkpoint", nil
		}, all(200)},
		// Skill-tier statistics: officials and the admin. officialOther
		// (province 44) reads its own province and is refused 11.
		"GET /api/v1/stats/tiers": {static("/api/v1/stats/tiers?province=11", nil),
			map[string]int{"anonymous": 401, "issuerA": 403, "issuerB": 403, "officialOther": 403, "officialNational": 200, "admin": 200}},
		"GET /api/v1/stats/provinces": {static("/api/v1/stats/provinces?format=csv", nil),
			map[string]int{"anonymous": 401, "issuerA": 403, "issuerB": 403, "officialOther": 200, "officialNational": 200, "admin": 200}},
		"GET /api/v1/stats/trend": {static("/api/v1/stats/trend?by=year&province=11", nil),
			map[string]int{"anonymous": 401, "issuerA": 403, "issuerB": 403, "officialOther": 403, "officialNational": 200, "admin": 200}},
		"GET /api/v1/plans": {static("/api/v1/plans", nil),
			map[string]int{"anonymous": 401, "issuerA": 403, "issuerB": 403, "officialOther": 200, "officialNational": 200, "admin": 200}},
		"POST /api/v1/plans": {func(string) (string, any) {
			return "/api/v1/plans", map[string]any{"id": fmt.Sprintf("matrix-%d", unique()), "name": "矩阵测试规划", "end_date": "2030-12-31",
				"targets": map[string]any{"skilled_workers": 1000, "technician": 0.05, "senior_worker": 0.2, "high_skilled": 0.25}}
		}, with(all(403), map[string]int{"anonymous": 401, "admin": 201})},
		"PUT /api/v1/plans/:id": {func(string) (string, any) {
			return "/api/v1/plans/" + matrixPlan(), map[string]any{"name": "矩阵测试规划（修订）", "end_date": "2031-12-31",
				"targets": map[string]any{"skilled_workers": 2000, "technician": 0.05, "senior_worker": 0.2, "high_skilled": 0.25}}
		}, with(all(403), map[string]int{"anonymous": 401, "admin": 200})},
		"DELETE /api/v1/plans/:id": {func(string) (string, any) {
			return "/api/v1/plans/" + matrixPlan(), nil
		}, with(all(403), map[string]int{"anonymous": 401, "admin": 204})},
		"POST /api/v1/plans/:id/default": {func(string) (string, any) {
			return "/api/v1/plans/" + matrixPlan() + "/default", nil
		}, with(all(403), map[string]int{"anonymous": 401, "admin": 200})},
		// The dashboard page: the client follows the anonymous caller's
		// redirect to the login form (200); an issuer gets the 403 page.
		"GET /dashboard": {static("/dashboard", nil),
			map[string]int{"anonymous": 200, "issuerA": 403, "issuerB": 403, "officialOther": 200, "officialNational": 200, "admin": 200}},
	}
	// The "employer API key" column: a key is not a user and may only
	// verify, so every route of the table answers it 403 except these.
	apiKeyAllowed := map[string]int{
		"GET /v/:token": 200, "POST /api/v1/verify": 200, "POST /api/v1/verify/batch": 200,
		"GET /api/v1/trust-bundle": 200, "GET /.well-known/jwks.json": 200, "GET /api/v1/api-keys/current": 200,
		"GET /.well-known/did.json": 200, "GET /did.json": 200, "GET /ns/skillreg/v1": 200, "GET /api/v1/status-lists/revocation": 200,
	}

	// Training records, their statistics, the training portal page.
	for key, f := range map[string]fixture{
		"POST /api/v1/training-records": {func(string) (string, any) {
			return "/api/v1/training-records", trainingBody(map[string]any{"class_id": fmt.Sprintf("m-%d", unique())})
		}, with(all(403), map[string]int{"anonymous": 401, "issuerA": 201, "issuerB": 201})},
		"POST /api/v1/training-records/batch": {func(string) (string, any) {
			return "/api/v1/training-records/batch?dry_run=true", []any{trainingBody(map[string]any{"class_id": fmt.Sprintf("m-%d", unique())})}
		}, with(all(403), map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 200})},
		"GET /api/v1/training-records": {static("/api/v1/training-records", nil), loggedIn},
		"GET /api/v1/training-records/:id": {static("/api/v1/training-records/"+trainingID, nil),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 404, "officialNational": 200, "admin": 200}},
		"PATCH /api/v1/training-records/:id/outcome": {static("/api/v1/training-records/"+trainingID+"/outcome", map[string]any{"completed": true}),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 403, "officialNational": 403, "admin": 403}},
		"POST /api/v1/training-records/:id/outcome": {static("/api/v1/training-records/"+trainingID+"/outcome", map[string]any{"exam_result": "pass"}),
			map[string]int{"anonymous": 401, "issuerA": 200, "issuerB": 404, "officialOther": 403, "officialNational": 403, "admin": 403}},
		"GET /api/v1/stats/training": {static("/api/v1/stats/training", nil), with(all(403), map[string]int{"anonymous": 401, "officialOther": 200, "officialNational": 200, "admin": 200})},
		// A page: the anonymous browser is sent to the login form (the
		// client follows the redirect to it).
		"GET /portal": {static("/portal", nil), with(all(200), map[string]int{"officialOther": 403, "officialNational": 403})},
		// accounts: the admin manages users; anyone logged in changes
		// their own password (a wrong current password here: 400 once
		// past the access check, so that no actor's token ends).
		"GET /api/v1/users":               {static("/api/v1/users", nil), adminOnly(200)},
		"POST /api/v1/users/:id/disable":  {victim("disable", nil), adminOnly(200)},
		"POST /api/v1/users/:id/enable":   {victim("enable", nil), adminOnly(200)},
		"DELETE /api/v1/users/:id":        {victim("delete", nil), adminOnly(204)},
		"POST /api/v1/users/:id/password": {victim("password", map[string]string{"password": "another-password-1"}), adminOnly(200)},
		"POST /api/v1/account/password":   {static("/api/v1/account/password", map[string]string{"current_password": "wrong-password-0", "new_password": "another-password-1"}), with(all(400), map[string]int{"anonymous": 401})},
		"GET /portal/users":               {static("/portal/users", nil), with(all(403), map[string]int{"anonymous": 200, "admin": 200})},
		"GET /account":                    {static("/account", nil), all(200)},
	} {
		fixtures[key] = f
	}

	srv := handlers.New(handlers.Config{Registry: registry.New(registry.Config{}), JWKS: func(context.Context) ([]byte, error) { return nil, nil }})
	seen := map[string]bool{}
	for _, r := range srv.Routes() {
		key := r.Method + " " + r.Path
		seen[key] = true
		f, ok := fixtures[key]
		if !ok {
			t.Errorf("route %s has no entry in the authorization matrix: add one", key)
			continue
		}
		for _, a := range actors {
			want, ok := f.want[a]
			if !ok {
				t.Errorf("%s: no expectation for %s", key, a)
				continue
			}
			path, body := f.req(a)
			got := h.do(r.Method, path, tokens[a], body)
			if got.status != want {
				t.Errorf("%s as %s: status %d, want %d: %.200s", key, a, got.status, want, got.body)
			}
			if got.status >= 400 && got.status != http.StatusNotFound || got.status == http.StatusNotFound && strings.HasPrefix(path, "/api/") {
				// Refusals never show the record they refuse.
				if strings.Contains(string(got.body), "张三") || strings.Contains(string(got.body), "holder_id_masked") {
					t.Errorf("%s as %s: a refusal leaks the record: %s", key, a, got.body)
				}
			}
		}
		want, ok := apiKeyAllowed[key]
		if !ok {
			want = http.StatusForbidden
		}
		path, body := f.req("anonymous")
		if got := h.do(r.Method, path, "", body, "X-API-Key", apiKey); got.status != want {
			t.Errorf("%s with an employer API key: status %d, want %d: %.200s", key, got.status, want, got.body)
		} else if got.status == http.StatusForbidden && strings.Contains(string(got.body), "张三") {
			t.Errorf("%s with an employer API key: the refusal leaks the record: %s", key, got.body)
		}
	}
	for key := range fixtures {
		if !seen[key] {
			t.Errorf("the matrix has %s, which is not a route", key)
		}
	}
}
