package handlers_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/sqlite"
)

// loginToken logs in through the API without the harness's token cache
// and returns the token, or "" with the status when the login fails.
func (h *harness) loginToken(username, password string) (string, int) {
	h.t.Helper()
	r := h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": password})
	if r.status != http.StatusOK {
		return "", r.status
	}
	return r.json(h.t)["token"].(string), r.status
}

// createUser makes a user through the API and returns its id.
func (h *harness) createUser(body map[string]any) string {
	h.t.Helper()
	return h.expect(h.do("POST", "/api/v1/users", h.admin(), body), 201).json(h.t)["id"].(string)
}

// TestDuplicateJSONKeys: a JSON body in which any object, at any depth,
// repeats a key (exactly or up to case) is refused 400 naming the key's
// path, on every kind of JSON endpoint, and nothing is written.
func TestDuplicateJSONKeys(t *testing.T) {
	h := newHarness(t)
	issuer := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	admin := h.admin()
	for _, tc := range []struct {
		name, path, token, body, field string
	}{
		{"login", "/api/v1/auth/login", "", `{"username":"admin","password":"wrong-password-0","password":"` + adminPassword + `"}`, "password"},
		{"create user", "/api/v1/users", admin, `{"username":"dup-a","password":"` + userPassword + `","role":"official","role":"admin"}`, "role"},
		{"keys differing in case", "/api/v1/users", admin, `{"username":"dup-b","password":"` + userPassword + `","role":"official","ROLE":"admin"}`, "ROLE"},
		{"issue", "/api/v1/certificates", issuer, `{"holder_name":"张三","id_number":"` + idNumber + `","occupation_code":"6-18-01-01","level":5,"channel":"social","level":2}`, "level"},
		{"nested object", "/api/v1/issuers", admin, `{"name":"机构","kind":"S","org_code":"0009","province":"11","site":"000777","scope":{"occupations":["6-18"],"max_level":3,"max_level":1}}`, "scope.max_level"},
		{"object in an array", "/api/v1/verify/batch", issuer, `{"items":[{"number":"S00011100000126100001","name":"a"},{"number":"x","number":"y","name":"b"}]}`, "items[1].number"},
		{"training batch array", "/api/v1/training-records/batch?dry_run=true", issuer, `[{"class_id":"c","class_id":"d"}]`, "[0].class_id"},
		{"change password", "/api/v1/account/password", admin, `{"current_password":"` + adminPassword + `","new_password":"new-password-123","new_password":"other-password-1"}`, "new_password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", tc.path, tc.token, tc.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			if code, field := r.errorCode(t); code != "invalid" || field != tc.field {
				t.Fatalf("error %s on %q, want invalid on %q: %s", code, field, tc.field, r.body)
			}
			if !strings.Contains(string(r.body), "duplicate key") {
				t.Fatalf("the message does not say what is wrong: %s", r.body)
			}
		})
	}
	list := h.expect(h.do("GET", "/api/v1/users", admin, nil), 200).json(t)["items"].([]any)
	for _, u := range list {
		if name := u.(map[string]any)["username"].(string); strings.HasPrefix(name, "dup-") {
			t.Errorf("a refused body created user %s", name)
		}
	}
	if n := h.certificateCount(issuer); n != 0 {
		t.Errorf("a refused body issued %d certificates", n)
	}
	// The admin's password did not change.
	if _, status := h.loginToken("admin", adminPassword); status != 200 {
		t.Errorf("admin login after a refused password change: %d", status)
	}
}

// TestUsernamesIgnoreCase: Admin and admin are one name: a second user
// under another case is 409, and the login finds the user under any case.
func TestUsernamesIgnoreCase(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	for _, name := range []string{"Admin", "ADMIN"} {
		r := h.do("POST", "/api/v1/users", admin, map[string]any{"username": name, "password": userPassword, "role": "admin"})
		if r.status != http.StatusConflict {
			t.Fatalf("creating %s beside admin: %d, want 409: %s", name, r.status, r.body)
		}
	}
	h.createUser(map[string]any{"username": "Clerk.Wang", "password": userPassword, "role": "official"})
	if r := h.do("POST", "/api/v1/users", admin, map[string]any{"username": "clerk.wang", "password": userPassword, "role": "official"}); r.status != http.StatusConflict {
		t.Fatalf("creating clerk.wang beside Clerk.Wang: %d, want 409", r.status)
	}
	for _, name := range []string{"Clerk.Wang", "clerk.wang", "CLERK.WANG"} {
		if _, status := h.loginToken(name, userPassword); status != 200 {
			t.Errorf("login as %s: %d, want 200", name, status)
		}
	}
	// Only ASCII case folds: the Kelvin sign is not a K.
	if _, status := h.loginToken("admin\u212a", adminPassword); status != 401 {
		t.Errorf("login with a Kelvin sign: %d, want 401", status)
	}
}

// TestOfficialProvince: an official's province is checked as an issuer's
// is: real province codes only.
func TestOfficialProvince(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	for _, p := range []string{"99", "00", "10", "4", "4a"} {
		r := h.do("POST", "/api/v1/users", admin, map[string]any{"username": "official-" + p, "password": userPassword, "role": "official", "province": p})
		if r.status != http.StatusBadRequest {
			t.Fatalf("official of province %q: %d, want 400: %s", p, r.status, r.body)
		}
		if _, field := r.errorCode(t); field != "province" {
			t.Fatalf("official of province %q: error on %q, want province", p, field)
		}
	}
	h.createUser(map[string]any{"username": "official-44", "password": userPassword, "role": "official", "province": "44"})
	tok, _ := h.loginToken("official-44", userPassword)
	h.expect(h.do("GET", "/api/v1/stats/tiers", tok, nil), 200)
}

// TestListQueryStrict: every list endpoint refuses a query parameter it
// does not take, one given twice, and an invalid value, 400 naming it.
func TestListQueryStrict(t *testing.T) {
	h := newHarness(t)
	issuer := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	admin := h.admin()
	job := h.importFile(issuer, "&dry_run=true", "class.csv", []byte("姓名,身份证号,职业编码,等级,评价类型\n张三,"+idNumber+",6-18-01-01,3,社会化职业技能鉴定\n"), 200)
	jobPath := "/api/v1/imports/" + job["id"].(string)
	for _, tc := range []struct {
		path, token, field string
	}{
		{"/api/v1/certificates?status=%25", issuer, "status"},
		{"/api/v1/certificates?stauts=revoked", issuer, "stauts"},
		{"/api/v1/certificates?per_page=500", issuer, "per_page"},
		{"/api/v1/certificates?page=0", issuer, "page"},
		{"/api/v1/certificates?status=valid&status=revoked", issuer, "status"},
		{"/api/v1/certificates?limit=5", admin, "limit"},
		{"/api/v1/training-records?per_page=0", issuer, "per_page"},
		{"/api/v1/training-records?province=44", issuer, "province"},
		{"/api/v1/training-records?target_group=%25", issuer, "target_group"},
		{"/api/v1/users?role=root", admin, "role"},
		{"/api/v1/users?status=%25", admin, "status"},
		{"/api/v1/users?q=admin", admin, "q"},
		{"/api/v1/issuers?province=11", admin, "province"},
		{"/api/v1/api-keys?status=revoked", admin, "status"},
		{"/api/v1/plans?per_page=5", admin, "per_page"},
		{jobPath + "?per_page=5000", issuer, "per_page"},
		{jobPath + "?only=warnings", issuer, "only"},
		{jobPath + "?errors_only=true", issuer, "errors_only"},
		{"/api/v1/stats/training?provnce=44", admin, "provnce"},
		{"/api/v1/occupations?query=车工", "", "query"},
		{"/api/v1/regions?level=county", "", "level"},
	} {
		r := h.do("GET", tc.path, tc.token, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400: %.200s", tc.path, r.status, r.body)
			continue
		}
		if _, field := r.errorCode(t); field != tc.field {
			t.Errorf("GET %s: error on %q, want %q", tc.path, field, tc.field)
		}
	}
	// What the endpoints do take still works.
	for _, path := range []string{
		"/api/v1/certificates?status=valid&level=3&occupation=6-18&q=张&page=1&per_page=100",
		"/api/v1/training-records?year=2026&page=2&per_page=1",
		"/api/v1/users?role=official&status=active",
		jobPath + "?only=errors&page=1&per_page=1000",
		"/api/v1/regions?level=province",
	} {
		token := issuer
		if strings.HasPrefix(path, "/api/v1/users") {
			token = admin
		}
		h.expect(h.do("GET", path, token, nil), 200)
	}
}

// TestAccountLifecycle: the admin disables, re-enables, resets the
// password of and deletes a user, and a user changes their own password;
// each of these ends the user's login tokens and browser sessions at
// once, on this server and on another sharing the database, and each is
// an audit entry.
func TestAccountLifecycle(t *testing.T) {
	h := newHarness(t)
	h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	user := "user-s000111000001"
	admin := h.admin()
	id := h.expect(h.do("GET", "/api/v1/users?role=issuer", admin, nil), 200).json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	other := secondServer(t, h)

	// alive reports whether a login token still works here and on the
	// other server.
	alive := func(tok string) (bool, bool) {
		t.Helper()
		a := h.do("GET", "/api/v1/certificates", tok, nil).status
		b := h.send(bearer(t, "GET", other+"/api/v1/certificates", tok)).status
		return a == 200, b == 200
	}
	browser := newCookieClient(t, h)
	sessionAlive := func() bool {
		t.Helper()
		r := browser.req("GET", "/portal", "", "")
		return r.status == 200 // an ended session is sent to the login form
	}
	login := func(password string) string {
		t.Helper()
		tok, status := h.loginToken(user, password)
		if status != 200 {
			t.Fatalf("login as %s: %d", user, status)
		}
		return tok
	}

	// Disable: the token and the session end at once, everywhere, and
	// the login is refused as a wrong password is.
	tok := login(userPassword)
	must(t, browser.loginForm(user, userPassword, ""), http.StatusSeeOther)
	if a, b := alive(tok); !a || !b || !sessionAlive() {
		t.Fatalf("before: token %v/%v, session %v", a, b, sessionAlive())
	}
	d := h.expect(h.do("POST", "/api/v1/users/"+id+"/disable", admin, nil), 200).json(t)
	if d["disabled"] != true {
		t.Fatalf("disable answered %v", d)
	}
	if a, b := alive(tok); a || b {
		t.Fatalf("a disabled user's token still works: here %v, on the other server %v", a, b)
	}
	if sessionAlive() {
		t.Fatal("a disabled user's browser session still works")
	}
	if _, status := h.loginToken(user, userPassword); status != 401 {
		t.Fatalf("a disabled user logs in: %d", status)
	}
	listed := h.expect(h.do("GET", "/api/v1/users?status=disabled", admin, nil), 200).json(t)["items"].([]any)
	if len(listed) != 1 || listed[0].(map[string]any)["username"] != user {
		t.Fatalf("disabled users: %v", listed)
	}

	// Enable: a new login works; the old token stays ended.
	h.expect(h.do("POST", "/api/v1/users/"+id+"/enable", admin, nil), 200)
	if a, b := alive(tok); a || b {
		t.Fatal("re-enabling brought an old token back")
	}
	tok = login(userPassword)

	// Reset: the old password and every old token and session end.
	must(t, browser.loginForm(user, userPassword, ""), http.StatusSeeOther)
	h.expect(h.do("POST", "/api/v1/users/"+id+"/password", admin, map[string]string{"password": "reset-password-1"}), 200)
	if a, b := alive(tok); a || b || sessionAlive() {
		t.Fatal("a token or session outlived a password reset")
	}
	if _, status := h.loginToken(user, userPassword); status != 401 {
		t.Fatal("the old password still works after a reset")
	}
	tok = login("reset-password-1")

	// Change one's own password: a wrong current password changes
	// nothing; the right one ends every other token, and the answer
	// carries a new one.
	r := h.do("POST", "/api/v1/account/password", tok, map[string]string{"current_password": "wrong-password-0", "new_password": "own-password-12"})
	if code, field := r.errorCode(t); r.status != 400 || code != "invalid" || field != "current_password" {
		t.Fatalf("wrong current password: %d %s", r.status, r.body)
	}
	if a, _ := alive(tok); !a {
		t.Fatal("a refused password change ended the token")
	}
	second := login("reset-password-1")
	changed := h.expect(h.do("POST", "/api/v1/account/password", tok, map[string]string{"current_password": "reset-password-1", "new_password": "own-password-12"}), 200).json(t)
	for _, old := range []string{tok, second} {
		if a, b := alive(old); a || b {
			t.Fatal("a token outlived its user's password change")
		}
	}
	if a, b := alive(changed["token"].(string)); !a || !b {
		t.Fatal("the token the password change answered with does not work")
	}
	tok = login("own-password-12")

	// The admin cannot disable or delete their own account.
	adminID := h.expect(h.do("GET", "/api/v1/users?role=admin", admin, nil), 200).json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	for _, p := range []string{"/disable", "/password"} {
		if r := h.do("POST", "/api/v1/users/"+adminID+p, admin, map[string]string{"password": "another-password-1"}); r.status != 400 {
			t.Errorf("the admin on their own account %s: %d", p, r.status)
		}
	}
	if r := h.do("DELETE", "/api/v1/users/"+adminID, admin, nil); r.status != 400 {
		t.Errorf("the admin deleting their own account: %d", r.status)
	}

	// Delete: the token ends, the login is refused, the name is free.
	must(t, browser.loginForm(user, "own-password-12", ""), http.StatusSeeOther)
	if r := h.do("DELETE", "/api/v1/users/"+id, admin, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if a, b := alive(tok); a || b || sessionAlive() {
		t.Fatal("a deleted user's token or session still works")
	}
	if _, status := h.loginToken(user, "own-password-12"); status != 401 {
		t.Fatal("a deleted user logs in")
	}
	if r := h.do("DELETE", "/api/v1/users/"+id, admin, nil); r.status != 404 {
		t.Fatalf("deleting twice: %d", r.status)
	}

	// The audit log has each event, with the actor and the user's name.
	entries, err := h.store.AuditEntries(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"user.disabled admin", "user.enabled admin", "user.password_reset admin", "user.password_changed " + user, "user.deleted admin"}
	var got []string
	for _, e := range entries {
		if strings.HasPrefix(e.Event, "user.") && e.Event != "user.created" && e.Attrs["user"] == user {
			got = append(got, e.Event+" "+e.Actor)
		}
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("audit entries %q, want %q", got, want)
	}
}

// secondServer starts another server over the same database file, as a
// second process would, and returns its URL.
func secondServer(t *testing.T, h *harness) string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, h.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	vault, err := registry.NewVault(bytes.Repeat([]byte{7}, registry.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Config{Store: st, Vault: vault, Clock: h.clock.Now})
	srv := handlers.New(handlers.Config{Registry: reg, LoginKey: vault.LoginKey(), Clock: h.clock.Now,
		JWKS: func(context.Context) ([]byte, error) { return nil, nil }})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

func bearer(t *testing.T, method, rawURL, tok string) *http.Request {
	t.Helper()
	if _, err := url.Parse(rawURL); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return req
}
