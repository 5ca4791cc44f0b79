package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/verify"
)

var passwordLine = regexp.MustCompile(`Created user "admin" with password: (\S+)`)

func TestFirstStart(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data") // the server must create it

	first := startServer(t, dataDir)
	stderr := first.stderr.String()
	m := passwordLine.FindAllStringSubmatch(stderr, -1)
	if len(m) != 1 {
		t.Fatalf("want the admin password announced once on stderr, found %d times:\n%s", len(m), stderr)
	}
	pw := m[0][1]
	if n := strings.Count(stderr, pw); n != 1 {
		t.Errorf("the generated password appears %d times on stderr, want exactly once (not in the JSON log too)", n)
	}
	if strings.Contains(first.stdout.String(), pw) {
		t.Error("the generated password is on stdout too")
	}
	a := newAPI(t, first.base)
	a.login("admin", pw)
	if r := a.do(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": pw + "x"}, ""); r.status != http.StatusUnauthorized {
		t.Errorf("login with a wrong password: status %d, want 401", r.status)
	}

	for _, f := range []struct {
		name string
		mode os.FileMode // 0 means any
	}{
		{".", os.ModeDir | 0o700},
		{"master.key", 0o600},
		{"skillreg.db", 0},
	} {
		fi, err := os.Stat(filepath.Join(dataDir, f.name))
		if err != nil {
			t.Errorf("data dir: %v", err)
			continue
		}
		if f.mode != 0 && fi.Mode() != f.mode {
			t.Errorf("%s has mode %v, want %v", f.name, fi.Mode(), f.mode)
		}
	}
	if code, _ := first.stop(10 * time.Second); code != 0 {
		t.Fatalf("first server exited %d", code)
	}

	// A restart on the same data keeps the admin and announces nothing.
	second := startServer(t, dataDir)
	if s := second.stderr.String(); strings.Contains(s, "password") || strings.Contains(s, pw) {
		t.Errorf("second start printed a password again:\n%s", s)
	}
	newAPI(t, second.base).login("admin", pw)
	if code, _ := second.stop(10 * time.Second); code != 0 {
		t.Fatalf("second server exited %d", code)
	}

	// With SKILLREG_ADMIN_PASSWORD, that is the password, and it is not echoed.
	const chosen = "chosen-admin-pw-456"
	third := startServer(t, filepath.Join(t.TempDir(), "data"), "SKILLREG_ADMIN_PASSWORD="+chosen)
	if s := third.stderr.String(); passwordLine.MatchString(s) || strings.Contains(s, chosen) {
		t.Errorf("server with SKILLREG_ADMIN_PASSWORD printed a password:\n%s", s)
	}
	newAPI(t, third.base).login("admin", chosen)
}

// walkIssue runs the walkthrough up to the first certificate: issuer, its
// user, the certificate (and an idempotent replay), its QR code and a
// verification that says valid. It returns the issuer's bearer token, the
// certificate and the QR PNG.
func walkIssue(t *testing.T, s *server, a *api) (string, issued, []byte) {
	t.Helper()
	bearer := setupIssuer(a)
	c := issue(a, bearer, "class-7/12", http.StatusCreated)
	if !regexp.MustCompile(`^` + issuerID + `\d{2}2\d{6}$`).MatchString(c.Number) {
		t.Errorf("number %q: want %s + year + level 2 + serial", c.Number, issuerID)
	}
	for _, f := range []struct{ name, got, want string }{
		{"status", c.Status, "valid"},
		{"issuer_id", c.IssuerID, issuerID},
		{"holder_name", c.HolderName, "张小三"},
		{"holder_id_masked", c.HolderIDMasked, "110105********002X"},
		{"occupation_code", c.OccupationCode, "6-18-01-01"},
		{"channel", c.Channel, "social"},
		{"external_ref", c.ExternalRef, "class-7/12"},
		{"verify_url", c.VerifyURL, s.base + "/v/" + c.Token},
		{"qr_url", c.QRURL, s.base + "/api/v1/certificates/" + c.Number + "/qr.png"},
	} {
		if f.got != f.want {
			t.Errorf("issued certificate %s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if c.Level != 2 || c.Token == "" {
		t.Errorf("issued certificate level %d token %q", c.Level, c.Token)
	}
	// The same external_ref again is the same certificate, 200 not 201.
	if again := issue(a, bearer, "class-7/12", http.StatusOK); again.Number != c.Number || again.Token != c.Token {
		t.Errorf("replayed issue gave %s/%s, want %s/%s", again.Number, again.Token, c.Number, c.Token)
	}

	if r := a.do(http.MethodGet, c.QRURL, "", nil, ""); r.status != http.StatusUnauthorized {
		t.Errorf("QR without login: status %d, want 401", r.status)
	}
	qr := a.do(http.MethodGet, c.QRURL, bearer, nil, "")
	if qr.status != http.StatusOK || qr.header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET qr_url: status %d, type %q", qr.status, qr.header.Get("Content-Type"))
	}
	text, err := verify.DecodeQR(bytes.NewReader(qr.body))
	if err != nil {
		// gozxing misreads about 1 in 300 codes with 4-pixel modules
		// (see verify.DecodeQR); the same code at 640 px must decode, and
		// the CLI below then reads that one.
		t.Logf("decoding the 320 px QR PNG: %v; trying 640 px", err)
		qr = a.do(http.MethodGet, c.QRURL+"?size=640", bearer, nil, "")
		if text, err = verify.DecodeQR(bytes.NewReader(qr.body)); err != nil {
			t.Fatalf("decoding the QR PNG: %v", err)
		}
	}
	if text != c.VerifyURL {
		t.Errorf("QR holds %q, want verify_url %q", text, c.VerifyURL)
	}

	var v verifyResult
	a.call(http.MethodGet, "/v/"+c.Token, "", nil, http.StatusOK, &v)
	if v.Status != "valid" || v.Certificate == nil || v.Certificate.Number != c.Number ||
		v.Certificate.HolderName != "张*三" || v.Certificate.IssuerName != "北京市职业技能鉴定指导中心" {
		t.Errorf("GET /v/<token> as JSON = %+v (certificate %+v), want valid %s for 张*三", v, v.Certificate, c.Number)
	}
	page := a.do(http.MethodGet, "/v/"+c.Token, "", nil, "text/html")
	if page.status != http.StatusOK || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page.body), c.Number) {
		t.Errorf("verify page: status %d, type %q, mentions the number: %v", page.status, page.header.Get("Content-Type"), strings.Contains(string(page.body), c.Number))
	}
	return bearer, c, qr.body
}

// walkRevoke revokes c and checks that verification then says revoked.
func walkRevoke(t *testing.T, a *api, bearer string, c issued) {
	t.Helper()
	var rev issued
	a.call(http.MethodPost, "/api/v1/certificates/"+c.Number+"/revoke", bearer,
		map[string]string{"reason": "考评员违规，成绩作废"}, http.StatusOK, &rev)
	if rev.Status != "revoked" {
		t.Errorf("revoke answered status %q", rev.Status)
	}
	a.call(http.MethodPost, "/api/v1/certificates/"+c.Number+"/revoke", bearer,
		map[string]string{"reason": "again"}, http.StatusConflict, nil)
	if v := verifyToken(a, c.Token); v.Status != "revoked" || v.Certificate == nil || v.Certificate.Number != c.Number {
		t.Errorf("POST /api/v1/verify after revoke = %+v, want revoked", v)
	}
	var v verifyResult
	a.call(http.MethodGet, "/v/"+c.Token, "", nil, http.StatusOK, &v)
	if v.Status != "revoked" {
		t.Errorf("GET /v/<token> after revoke: status %q", v.Status)
	}
}

// tamper flips one character in the middle of a JWT's signature, so that
// the token stays well-formed but the signature is wrong.
func tamper(token string) string {
	i := strings.LastIndex(token, ".") + (len(token)-strings.LastIndex(token, "."))/2
	b := []byte(token)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestWalkthrough(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir, "SKILLREG_ADMIN_PASSWORD="+adminPassword)
	a := newAPI(t, s.base)
	bearer, c, png := walkIssue(t, s, a)

	qrPath := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(qrPath, png, 0o600); err != nil {
		t.Fatal(err)
	}
	jwks := s.base + "/.well-known/jwks.json"
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"QR PNG with JWKS URL", []string{"verify", "--jwks", jwks, qrPath}, 0, []string{"signature valid", "number: " + c.Number, "holder: 张*三"}},
		{"verify URL with JWKS URL", []string{"verify", "--jwks", jwks, c.VerifyURL}, 0, []string{"number: " + c.Number}},
		{"bare token with JWKS URL", []string{"verify", "--jwks", jwks, c.Token}, 0, []string{"number: " + c.Number}},
		{"bare token with data dir", []string{"verify", "--data", dataDir, c.Token}, 0, []string{"number: " + c.Number}},
		{"QR PNG with data dir", []string{"verify", "--data", dataDir, qrPath}, 0, []string{"number: " + c.Number}},
		{"tampered signature", []string{"verify", "--jwks", jwks, tamper(c.Token)}, 1, []string{"forged"}},
		{"tampered verify URL", []string{"verify", "--jwks", jwks, s.base + "/v/" + tamper(c.Token)}, 1, []string{"forged"}},
		{"garbage", []string{"verify", "--jwks", jwks, "garbage"}, 1, []string{"malformed"}},
		{"no argument", []string{"verify", "--jwks", jwks}, 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if tc.wantCode != 0 && strings.Contains(r.stdout, c.Number) {
				t.Errorf("a failed check printed the number:\n%s", r.stdout)
			}
		})
	}

	// A real scanner reads our QR code, and the URL it reads works.
	if zbar, err := exec.LookPath("zbarimg"); err != nil {
		t.Log("zbarimg not on PATH; skipping the independent QR decode")
	} else {
		out, err := exec.Command(zbar, "--raw", "-q", qrPath).Output()
		if err != nil {
			t.Fatalf("zbarimg: %v", err)
		}
		url := strings.TrimSpace(string(out))
		if url != c.VerifyURL {
			t.Errorf("zbarimg read %q, want %q", url, c.VerifyURL)
		}
		var v verifyResult
		a.call(http.MethodGet, url, "", nil, http.StatusOK, &v)
		if v.Status != "valid" {
			t.Errorf("the URL zbarimg read verifies as %q, want valid", v.Status)
		}
		t.Logf("zbarimg read the verify URL, which verifies as %s", v.Status)
	}

	walkRevoke(t, a, bearer, c)
	// Offline checks know only the signature: still exit 0, with the caveat.
	r := runCLI(t, "verify", "--jwks", jwks, c.Token)
	if r.code != 0 || !strings.Contains(r.stdout, "revocation is known only to the registry") {
		t.Errorf("offline verify after revoke: exit %d\n%s", r.code, r.stdout)
	}
}

func TestKeyRotationWhileServing(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir, "SKILLREG_ADMIN_PASSWORD="+adminPassword)
	a := newAPI(t, s.base)
	bearer := setupIssuer(a)
	certA := issue(a, bearer, "A", http.StatusCreated)
	kidA := tokenKID(t, certA.Token)

	rot := runCLI(t, "keys", "rotate", "--data", dataDir)
	if rot.code != 0 {
		t.Fatalf("keys rotate: exit %d\n%s%s", rot.code, rot.stdout, rot.stderr)
	}
	rotated := time.Now()
	m := regexp.MustCompile(`new active signing key (\S+);`).FindStringSubmatch(rot.stdout)
	if m == nil {
		t.Fatalf("keys rotate printed %q", rot.stdout)
	}
	kidNew := m[1]
	if kidNew == kidA {
		t.Fatalf("rotate made kid %s, the same as the old one", kidNew)
	}

	list := runCLI(t, "keys", "list", "--data", dataDir)
	if list.code != 0 {
		t.Fatalf("keys list: exit %d\n%s", list.code, list.stderr)
	}
	state := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(list.stdout), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[1] != "EdDSA" {
			t.Fatalf("keys list line %q: want kid, EdDSA, state, time", line)
		}
		state[f[0]] = f[2]
	}
	if want := map[string]string{kidA: "retired", kidNew: "active"}; len(state) != 2 || state[kidA] != want[kidA] || state[kidNew] != want[kidNew] {
		t.Fatalf("keys list = %v, want %v", state, want)
	}

	// The server reloads keys at least every 5 s: poll by issuing.
	// hangGuard is a hang guard for a loaded machine, not the reload's
	// bound (verify's tests pin that with a clock).
	var certB issued
	for i := 0; ; i++ {
		certB = issue(a, bearer, fmt.Sprintf("B-%d", i), http.StatusCreated)
		if tokenKID(t, certB.Token) != kidA {
			break
		}
		if time.Since(rotated) > hangGuard {
			t.Fatalf("%v after the rotation the server still signs with %s", hangGuard, kidA)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("the server signed with the new key %v after the rotation", time.Since(rotated).Round(10*time.Millisecond))
	if kidB := tokenKID(t, certB.Token); kidB != kidNew {
		t.Errorf("certificate B signed by %s, want the rotated key %s", kidB, kidNew)
	}

	kids := jwksKIDs(a)
	slices.Sort(kids)
	want := []string{kidA, kidNew}
	slices.Sort(want)
	if !slices.Equal(kids, want) {
		t.Errorf("JWKS kids = %v, want %v", kids, want)
	}
	for _, c := range []issued{certA, certB} {
		if v := verifyToken(a, c.Token); v.Status != "valid" {
			t.Errorf("certificate %s (kid %s) verifies as %q: %s", c.Number, tokenKID(t, c.Token), v.Status, v.Reason)
		}
		if r := runCLI(t, "verify", "--jwks", s.base+"/.well-known/jwks.json", c.Token); r.code != 0 {
			t.Errorf("offline verify of %s: exit %d\n%s", c.Number, r.code, r.stdout)
		}
	}
	// A keeps the token made by its own key: re-reading it does not re-sign.
	var again issued
	a.call(http.MethodGet, "/api/v1/certificates/"+certA.Number, bearer, nil, http.StatusOK, &again)
	if again.Token != certA.Token {
		t.Errorf("certificate A's token changed after the rotation")
	}
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	s := startServer(t, filepath.Join(t.TempDir(), "data"), "SKILLREG_ADMIN_PASSWORD="+adminPassword)

	// A login costs a bcrypt comparison (about a third of a second), long
	// enough to still be running when SIGTERM arrives.
	type result struct {
		status int
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		client := &http.Client{Timeout: hangGuard}
		resp, err := client.Post(s.base+"/api/v1/auth/login", "application/json",
			strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`))
		if err != nil {
			inflight <- result{err: err}
			return
		}
		resp.Body.Close()
		inflight <- result{status: resp.StatusCode}
	}()
	time.Sleep(100 * time.Millisecond)

	code, took := s.stop(5 * time.Second)
	t.Logf("exited %d, %v after SIGTERM", code, took.Round(time.Millisecond))
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0\nstderr:\n%s", code, s.stderr.String())
	}
	logs := s.stderr.String()
	if !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf(`no "stopped" in the log:\n%s`, logs)
	}
	r := <-inflight
	if r.err != nil || r.status != http.StatusOK {
		t.Fatalf("in-flight login: status %d, err %v; want 200", r.status, r.err)
	}
	shutdownAt := strings.Index(logs, "shutting down")
	loginAt := strings.Index(logs, `"route":"/api/v1/auth/login"`)
	if shutdownAt < 0 || loginAt < 0 {
		t.Fatalf("log lacks the shutdown or the login line:\n%s", logs)
	}
	if loginAt < shutdownAt {
		t.Log("the login finished before SIGTERM arrived; the in-flight case was not exercised this time")
	}
	if _, err := http.Get(s.base + "/healthz"); err == nil {
		t.Error("the server still answers after it exited")
	}
}

func TestServeFlagValidation(t *testing.T) {
	t.Parallel()
	longURL := "https://zs.example.gov.cn/"
	longURL += strings.Repeat("a", 200-len(longURL))
	for _, tc := range []struct {
		name       string
		args       []string // "DATA" is replaced by a data dir that must stay absent
		wantCode   int
		wantStderr string
	}{
		{"ftp public URL", []string{"serve", "--data", "DATA", "--public-url", "ftp://x"}, 1, "--public-url must be an http(s) URL"},
		{"200-character public URL", []string{"serve", "--data", "DATA", "--public-url", longURL}, 1, "too long"},
		{"public URL with query", []string{"serve", "--data", "DATA", "--public-url", "https://zs.example.gov.cn/?a=b"}, 1, "--public-url"},
		{"public URL without host", []string{"serve", "--data", "DATA", "--public-url", "https://"}, 1, "--public-url"},
		{"nonsense addr", []string{"serve", "--data", "DATA", "--addr", "nonsense"}, 1, "--addr must be host:port"},
		{"bad log level", []string{"serve", "--data", "DATA", "--log-level", "loud"}, 1, "--log-level"},
		{"stray argument", []string{"serve", "--data", "DATA", "now"}, 1, "unexpected arguments"},
		{"undefined flag", []string{"serve", "--data", "DATA", "--port", "80"}, 1, "flag provided but not defined"},
		{"keys on a missing data dir", []string{"keys", "list", "--data", "DATA"}, 1, "no data directory"},
		{"verify on a missing data dir", []string{"verify", "--data", "DATA", "x.y.z"}, 2, "no data directory"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"no command", nil, 2, "Usage:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := filepath.Join(t.TempDir(), "data")
			args := slices.Clone(tc.args)
			for i, a := range args {
				if a == "DATA" {
					args[i] = dataDir
				}
			}
			r := runCLI(t, args...)
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstderr:\n%s", r.code, tc.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, r.stderr)
			}
			if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
				t.Errorf("the data dir was created (stat: %v)", err)
			}
		})
	}
}

func TestNoPlaintextIDNumber(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dataDir, "SKILLREG_ADMIN_PASSWORD="+adminPassword, "SKILLREG_LOG_LEVEL=debug")
	a := newAPI(t, s.base)
	bearer, c, _ := walkIssue(t, s, a)
	admin := a.login("admin", adminPassword)
	a.call(http.MethodGet, "/api/v1/certificates/"+c.Number, bearer, nil, http.StatusOK, nil)
	a.call(http.MethodGet, "/api/v1/certificates?q=11010519491231002X", bearer, nil, http.StatusOK, nil)
	a.call(http.MethodGet, "/api/v1/certificates", admin, nil, http.StatusOK, nil)
	a.call(http.MethodGet, "/api/v1/issuers", admin, nil, http.StatusOK, nil)
	// A mistyped ID number is rejected; the error must not echo it either.
	a.call(http.MethodPost, "/api/v1/certificates", bearer, map[string]any{
		"holder_name": "张小三", "id_number": "110105194912310021", "occupation_code": "6-18-01-01",
		"level": 2, "channel": "social", "external_ref": "typo",
	}, http.StatusBadRequest, nil)
	walkRevoke(t, a, bearer, c)
	// Training records: one of the same person, and a bad one.
	training := map[string]any{"name": "张小三", "id_number": holderIDNumber, "target_group": "new_labour", "occupation_code": "6-18-01-01",
		"target_level": 4, "training_type": "employment", "hours": 80, "start": "2026-01-05", "end": "2026-01-20", "class_id": "e2e"}
	var rec struct{ ID string }
	a.call(http.MethodPost, "/api/v1/training-records", bearer, training, http.StatusCreated, &rec)
	a.call(http.MethodGet, "/api/v1/training-records/"+rec.ID, bearer, nil, http.StatusOK, nil)
	a.call(http.MethodGet, "/api/v1/training-records?q=张", admin, nil, http.StatusOK, nil)
	training["id_number"] = "110105194912310021"
	a.call(http.MethodPost, "/api/v1/training-records/batch", bearer, []any{training}, http.StatusOK, nil)
	a.do(http.MethodGet, "/metrics", "", nil, "")
	cli := runCLI(t, "verify", "--data", dataDir, c.Token)

	forbidden := []string{
		holderIDNumber,
		holderIDNumber[:17],
		"110105194912310021"[:17], // the rejected typo shares the prefix
		hex.EncodeToString([]byte(holderIDNumber[:17])),
	}
	check := func(what string, b []byte) {
		t.Helper()
		for _, f := range forbidden {
			if bytes.Contains(b, []byte(f)) {
				t.Errorf("%s contains %q", what, f)
			}
		}
	}
	scanDataDir := func(when string) {
		t.Helper()
		entries, err := os.ReadDir(dataDir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dataDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, e.Name())
			check(when+" "+e.Name(), b)
		}
		if !slices.Contains(names, "skillreg.db") {
			t.Errorf("%s: no skillreg.db among %v", when, names)
		}
		t.Logf("%s, scanned %v", when, names)
	}

	scanDataDir("while serving")
	if code, _ := s.stop(10 * time.Second); code != 0 {
		t.Errorf("server exited %d", code)
	}
	scanDataDir("after shutdown")
	check("server stdout", []byte(s.stdout.String()))
	check("server stderr", []byte(s.stderr.String()))
	check("verify stdout+stderr", []byte(cli.stdout+cli.stderr))
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, b := range a.bodies {
		check(fmt.Sprintf("HTTP response #%d", i), b)
	}
	if len(a.bodies) < 15 {
		t.Errorf("only %d responses collected; the walkthrough did not run", len(a.bodies))
	}
}
