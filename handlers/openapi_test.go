package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/web"
)

var registerDecoders sync.Once

// openAPIChecker validates real requests and responses against
// web/openapi.yaml with kin-openapi, an implementation independent of the
// document's authors: an operation, status, content type or body the
// document does not describe fails the test.
type openAPIChecker struct {
	t      *testing.T
	h      *harness
	router routers.Router
	seen   map[string]bool // "METHOD /path status"
}

func newOpenAPIChecker(t *testing.T, h *harness) *openAPIChecker {
	t.Helper()
	registerDecoders.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/did+json", openapi3filter.JSONBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/jwk-set+json", openapi3filter.JSONBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/vc+jwt", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/jose", openapi3filter.PlainBodyDecoder)
	})
	doc, err := openapi3.NewLoader().LoadFromData(web.OpenAPI())
	if err != nil {
		t.Fatalf("web/openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("web/openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	ops := 0
	for _, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops++
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", method)
			}
		}
	}
	if ops == 0 {
		t.Fatal("no operations")
	}
	// The document's server is "/": here it is the test server.
	doc.Servers = openapi3.Servers{{URL: h.url}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &openAPIChecker{t: t, h: h, router: r, seen: map[string]bool{}}
}

// call sends a request to the live server, validates the request and the
// response against the document, and returns the response.
func (o *openAPIChecker) call(method, path, token string, body any, headers ...string) response {
	o.t.Helper()
	var raw []byte
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			o.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, o.h.url+path, bytes.NewReader(raw))
	if err != nil {
		o.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp := o.h.send(req)

	route, params, err := o.router.FindRoute(req)
	if err != nil {
		o.t.Fatalf("%s %s is not in the OpenAPI document: %v", method, path, err)
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if resp.status < 400 {
		// Requests the server accepted must be ones the document allows.
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			o.t.Errorf("%s %s: the document refuses a request the server accepted: %v", method, path, err)
		}
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.status, Header: resp.header,
		Body:    io.NopCloser(bytes.NewReader(resp.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		o.t.Errorf("%s %s answered %d, which the document does not describe: %v\nbody: %.300s", method, path, resp.status, err, resp.body)
	}
	o.seen[route.Method+" "+route.Path+" "+http.StatusText(resp.status)] = true
	return resp
}

// TestOpenAPIResponses walks through the README's walkthrough, the
// employers' and verifiers' routes and the usual errors against the live
// server, and validates every request and response against
// web/openapi.yaml with kin-openapi.
func TestOpenAPIResponses(t *testing.T) {
	h := newHarness(t)
	o := newOpenAPIChecker(t, h)
	J := func(r response) map[string]any { return r.json(t) }

	admin := J(h.expect(o.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": adminPassword}), 200))["token"].(string)
	h.expect(o.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "wrong-password"}), 401)
	h.expect(o.call("POST", "/api/v1/issuers", admin, map[string]any{
		"name": "北京市职业技能鉴定指导中心", "kind": "S", "org_code": "0001", "province": "11", "site": "000001",
		"scope": map[string]any{"occupations": []string{"6-18", "4-04-05"}, "max_level": 2}}), 201)
	h.expect(o.call("POST", "/api/v1/issuers", admin, map[string]any{"name": "x"}), 400)
	h.expect(o.call("GET", "/api/v1/issuers", admin, nil), 200)
	h.expect(o.call("POST", "/api/v1/users", admin, map[string]any{
		"username": "bj-center", "password": "center-pass-123", "role": "issuer", "issuer_id": "S000111000001"}), 201)
	issuer := J(h.expect(o.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "bj-center", "password": "center-pass-123"}), 200))["token"].(string)

	cert := J(h.expect(o.call("POST", "/api/v1/certificates", issuer, map[string]any{
		"holder_name": "张小三", "id_number": idNumber, "occupation_code": "6-18-01-01",
		"level": 2, "channel": "social", "external_ref": "class-7/12"}), 201))
	n, token := cert["number"].(string), cert["token"].(string)
	h.expect(o.call("POST", "/api/v1/certificates", issuer, map[string]any{
		"holder_name": "张小三", "id_number": idNumber, "occupation_code": "6-18-01-01",
		"level": 2, "channel": "social", "external_ref": "class-7/12"}), 200)
	h.expect(o.call("POST", "/api/v1/certificates", "", map[string]any{"holder_name": "张小三"}), 401)
	h.expect(o.call("GET", "/api/v1/certificates/"+n, issuer, nil), 200)
	h.expect(o.call("GET", "/api/v1/certificates/S000111000001269999999", issuer, nil), 404)
	h.expect(o.call("GET", "/api/v1/certificates/"+n+"/qr.png", issuer, nil), 200)
	h.expect(o.call("GET", "/api/v1/certificates/"+n+"/vc", issuer, nil), 200)
	h.expect(o.call("GET", "/v/"+token, "", nil, "Accept", "application/json"), 200)
	h.expect(o.call("POST", "/api/v1/verify", "", map[string]string{"token": token}), 200)
	h.expect(o.call("POST", "/api/v1/verify", "", map[string]string{"number": n, "name": "张小三"}), 200)
	h.expect(o.call("POST", "/api/v1/verify", "", map[string]any{"bogus": 1}), 400)

	// What a third party fetches to check a credential.
	h.expect(o.call("GET", "/.well-known/jwks.json", "", nil), 200)
	h.expect(o.call("GET", "/.well-known/did.json", "", nil), 200)
	h.expect(o.call("GET", "/ns/skillreg/v1", "", nil), 200)
	sl := h.expect(o.call("GET", "/api/v1/status-lists/revocation", "", nil), 200)
	h.expect(o.call("GET", "/api/v1/status-lists/revocation", "", nil, "If-None-Match", sl.header.Get("ETag")), 304)
	h.expect(o.call("GET", "/api/v1/trust-bundle", "", nil), 200)

	h.expect(o.call("POST", "/api/v1/certificates/"+n+"/revoke", issuer, map[string]string{"reason": "考核成绩录入错误"}), 200)
	h.expect(o.call("GET", "/api/v1/certificates/"+n+"/vc", issuer, nil), 409)
	if v := J(h.expect(o.call("POST", "/api/v1/verify", "", map[string]string{"token": token}), 200)); v["status"] != "revoked" {
		t.Fatalf("after revocation: %v", v)
	}
	h.expect(o.call("GET", "/api/v1/certificates?q="+url.QueryEscape("张")+"&status=revoked", issuer, nil), 200)

	// Employers.
	key := J(h.expect(o.call("POST", "/api/v1/api-keys", admin, map[string]string{"name": "某公司人力资源系统"}), 201))
	h.expect(o.call("GET", "/api/v1/api-keys", admin, nil), 200)
	h.expect(o.call("GET", "/api/v1/api-keys/current", "", nil, "X-API-Key", key["key"].(string)), 200)
	h.expect(o.call("POST", "/api/v1/verify/batch", "", map[string]any{"items": []any{map[string]string{"token": token}, map[string]string{"number": n, "name": "张小三"}}}, "X-API-Key", key["key"].(string)), 200)
	h.expect(o.call("DELETE", "/api/v1/api-keys/"+key["id"].(string), admin, nil), 200)

	// Reference data, statistics, health.
	h.expect(o.call("GET", "/api/v1/occupations?q=车工", "", nil), 200)
	h.expect(o.call("GET", "/api/v1/regions?level=province", "", nil), 200)
	h.expect(o.call("GET", "/api/v1/stats/tiers", admin, nil), 200)
	h.expect(o.call("GET", "/api/v1/stats/tiers?format=csv", admin, nil), 200)
	h.expect(o.call("GET", "/api/v1/stats/tiers?bogus=1", admin, nil), 400)
	h.expect(o.call("GET", "/api/v1/stats/training", admin, nil), 200)
	h.expect(o.call("GET", "/api/v1/stats/training?format=csv", admin, nil), 200)
	h.expect(o.call("GET", "/api/v1/stats/training?bogus=1", admin, nil), 400)
	h.expect(o.call("GET", "/api/v1/stats/training", issuer, nil), 403)
	// Accounts.
	users := J(h.expect(o.call("GET", "/api/v1/users?role=issuer", admin, nil), 200))["items"].([]any)
	if len(users) != 1 {
		t.Fatalf("issuer users %v", users)
	}
	uid := users[0].(map[string]any)["id"].(string)
	h.expect(o.call("POST", "/api/v1/users/"+uid+"/disable", admin, nil), 200)
	h.expect(o.call("POST", "/api/v1/users/"+uid+"/enable", admin, nil), 200)
	h.expect(o.call("POST", "/api/v1/users/no-such-user/disable", admin, nil), 404)
	h.expect(o.call("POST", "/api/v1/account/password", admin, map[string]string{"current_password": "wrong-password-0", "new_password": "another-password-1"}), 400)

	h.expect(o.call("GET", "/", "", nil), 200)
	h.expect(o.call("GET", "/static/app.css", "", nil), 200)
	h.expect(o.call("GET", "/static/nothing.css", "", nil), 404)
	h.expect(o.call("GET", "/api/openapi.yaml", "", nil), 200)
	h.expect(o.call("GET", "/login", "", nil), 200)
	h.expect(o.call("POST", "/logout", "", nil), 403)
	h.expect(o.call("GET", "/healthz", "", nil), 200)
	h.expect(o.call("GET", "/readyz", "", nil), 200)
	t.Logf("%d operation/status pairs validated", len(o.seen))
}

// TestOpenAPICoversRoutes: the document describes exactly the route table,
// each operation with an operationId, and public routes declare
// `security: []`.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(web.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[method+" "+path] = op
		}
	}
	srv := handlers.New(handlers.Config{Registry: registry.New(registry.Config{}), JWKS: func(context.Context) ([]byte, error) { return nil, nil }})
	param := regexp.MustCompile(`:(\w+)`)
	for _, r := range srv.Routes() {
		path := strings.Replace(param.ReplaceAllString(r.Path, "{$1}"), "*", "{path}", 1)
		key := r.Method + " " + path
		op, ok := ops[key]
		if !ok {
			t.Errorf("route %s %s is not in web/openapi.yaml", r.Method, r.Path)
			continue
		}
		delete(ops, key)
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", key)
		}
		if r.Access == "public" && (op.Security == nil || len(*op.Security) != 0) {
			t.Errorf("%s is public but does not say security: []", key)
		}
		if r.Access != "public" && (op.Security == nil || len(*op.Security) == 0) {
			t.Errorf("%s needs a login or key but names no security scheme", key)
		}
	}
	for key := range ops {
		t.Errorf("web/openapi.yaml describes %s, which is no route", key)
	}
}
