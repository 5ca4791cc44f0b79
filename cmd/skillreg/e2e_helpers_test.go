package main

// End-to-end harness: TestMain builds the real binary once, and the tests
// run it as child processes (serve, keys, verify) and talk to it over real
// HTTP, so that flag parsing, signal handling, file modes and the process
// boundary are all exercised as an operator would meet them.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binPath is the skillreg binary that TestMain builds.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "skillreg-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "skillreg")
	// Built as the container image builds it (the Dockerfile's go build
	// line, environment and flags), so that the tests run that binary.
	buildEnv, buildFlags, err := dockerfileBuild("../../Dockerfile")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	build := exec.Command("go", append(append([]string{"build"}, buildFlags...), "-o", binPath, ".")...)
	build.Env = append(os.Environ(), buildEnv...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building skillreg:", err)
		return 1
	}
	return m.Run()
}

// childEnv is the test process's environment without any SKILLREG_*
// variable (so that a developer's settings cannot leak into a child),
// plus extra ("NAME=value").
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SKILLREG_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// lockedBuffer collects a child's output; the exec copier goroutine writes
// while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is one running `skillreg serve` child.
type server struct {
	t       *testing.T
	base    string // http://127.0.0.1:PORT, also its --public-url
	dataDir string
	stdout  *lockedBuffer
	stderr  *lockedBuffer
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
}

// freePort returns a port that was free a moment ago. The server needs to
// know its address before it starts (for --public-url), so --addr :0 will
// not do; startServer retries if another process grabs the port meanwhile.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs `skillreg serve` on dataDir and waits until /readyz
// answers 200. env adds variables to the child's environment. The child is
// killed when the test ends if it is still running.
func startServer(t *testing.T, dataDir string, env ...string) *server {
	t.Helper()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s := &server{
			t: t, base: "http://" + addr, dataDir: dataDir,
			stdout: stdout, stderr: stderr, done: make(chan struct{}),
		}
		s.cmd = exec.Command(binPath, "serve", "--data", dataDir, "--addr", addr, "--public-url", s.base)
		s.cmd.Env = childEnv(env...)
		s.cmd.Stdout, s.cmd.Stderr = stdout, stderr
		before := len(stderr.String())
		if err := s.cmd.Start(); err != nil {
			t.Fatalf("starting skillreg serve: %v", err)
		}
		go func() {
			_ = s.cmd.Wait()
			close(s.done)
		}()
		t.Cleanup(s.kill)
		err := s.waitReady(hangGuard)
		if err == nil {
			return s
		}
		if s.exited() && attempt < 3 && strings.Contains(stderr.String()[before:], "address already in use") {
			t.Logf("port %d was taken before the server bound it; retrying", port)
			continue
		}
		t.Fatalf("server on %s not ready: %v\nstderr:\n%s", addr, err, stderr.String())
	}
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *server) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.exited() {
			return fmt.Errorf("the process exited with code %d", s.cmd.ProcessState.ExitCode())
		}
		resp, err := client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			// Ready, and everything the server wrote before it started
			// serving (the one-time admin password, warnings) has been
			// copied from its stderr: the port is taken before start-up,
			// so /readyz can answer before that copy is done.
			if resp.StatusCode == http.StatusOK && strings.Contains(s.stderr.String(), servingLine) {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from /readyz within %v", timeout)
}

// servingLine is in the log line serve writes when it starts serving,
// after everything else it prints at start-up.
const servingLine = `"msg":"serving"`

// kill ends the child if it still runs; it is registered with t.Cleanup.
func (s *server) kill() {
	if s.exited() {
		return
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(hangGuard):
		s.t.Errorf("server pid %d did not die within %v of SIGKILL", s.cmd.Process.Pid, hangGuard)
	}
}

// hangGuard is the least time a helper waits for a child process before
// it calls the process hung: generous, because a loaded machine may be
// slow, and never a statement about speed (benchmarks measure that).
const hangGuard = 2 * time.Minute

// stop sends SIGTERM and waits for the exit; it returns the exit code and
// how long the exit took. It fails the test if the server outlives
// timeout, or hangGuard if that is longer: a hang guard, not a bound.
func (s *server) stop(timeout time.Duration) (int, time.Duration) {
	s.t.Helper()
	timeout = max(timeout, hangGuard)
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.t.Fatalf("server still running %v after SIGTERM\nstderr:\n%s", timeout, s.stderr.String())
	}
	return s.cmd.ProcessState.ExitCode(), time.Since(start)
}

// cliResult is what a finished skillreg command printed and returned.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary with args to completion. A command may take as
// long as the machine needs: it is killed only as a hang guard, a minute
// before the test binary's own -timeout would end the whole package, or
// after cliGuard when there is no such deadline.
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := cliContext(t, cliGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running skillreg %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("skillreg %v was still running at its hang guard; killed\nstdout:\n%s\nstderr:\n%s", args, stdout.String(), stderr.String())
	}
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// cliGuard is how long a command may run when the test binary has no
// deadline (go test -timeout 0).
const cliGuard = 30 * time.Minute

// cliContext returns a context that ends a minute before the test
// binary's deadline, so that a hung command is reported with its output
// instead of the package's timeout panic; or after fallback, at least
// hangGuard, when there is no deadline.
func cliContext(t *testing.T, fallback time.Duration) (context.Context, context.CancelFunc) {
	if d, ok := t.Deadline(); ok {
		return context.WithDeadline(context.Background(), d.Add(-time.Minute))
	}
	return context.WithTimeout(context.Background(), max(fallback, hangGuard))
}

// api is an HTTP client for one server that keeps every response (headers
// and body), so that a test can check afterwards what the server ever sent
// back.
type api struct {
	t      *testing.T
	base   string
	client *http.Client

	mu     sync.Mutex
	bodies [][]byte // each response's header block and body
}

func newAPI(t *testing.T, base string) *api {
	return &api{t: t, base: base, client: &http.Client{Timeout: hangGuard}}
}

// response is one HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; target is a path under the server or an absolute
// URL (such as a qr_url). body, when not nil, is sent as JSON. accept may
// be "".
func (a *api) do(method, target, bearer string, body any, accept string) response {
	a.t.Helper()
	if !strings.HasPrefix(target, "http://") {
		target = a.base + target
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatalf("encoding request: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		a.t.Fatalf("request %s %s: %v", method, target, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: reading body: %v", method, target, err)
	}
	var seen bytes.Buffer // headers too: an ID number must not hide there either
	_ = resp.Header.Write(&seen)
	seen.Write(b)
	a.mu.Lock()
	a.bodies = append(a.bodies, seen.Bytes())
	a.mu.Unlock()
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// call sends a JSON request, requires status want, and decodes the JSON
// answer into out (when out is not nil).
func (a *api) call(method, target, bearer string, body any, want int, out any) response {
	a.t.Helper()
	r := a.do(method, target, bearer, body, "application/json")
	if r.status != want {
		a.t.Fatalf("%s %s: status %d, want %d; body: %s", method, target, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			a.t.Fatalf("%s %s: decoding %s: %v", method, target, r.body, err)
		}
	}
	return r
}

// login returns a bearer token for username.
func (a *api) login(username, password string) string {
	a.t.Helper()
	var out struct {
		Token string `json:"token"`
		Role  string `json:"role"`
	}
	a.call(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": username, "password": password}, http.StatusOK, &out)
	if out.Token == "" {
		a.t.Fatalf("login %s: empty token", username)
	}
	return out.Token
}

// The walkthrough's fixtures.
const (
	adminPassword  = "admin-pass-e2e-123"
	issuerID       = "S000111000001"
	issuerUser     = "bj-center"
	issuerPassword = "center-pass-123"
	holderIDNumber = "11010519491231002X"
)

// setupIssuer logs in as admin, creates the Beijing issuer and its user,
// and returns that user's bearer token.
func setupIssuer(a *api) string {
	a.t.Helper()
	admin := a.login("admin", adminPassword)
	var is struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	a.call(http.MethodPost, "/api/v1/issuers", admin, map[string]any{
		"name": "北京市职业技能鉴定指导中心", "kind": "S", "org_code": "0001", "province": "11", "site": "000001",
		"scope": map[string]any{"occupations": []string{"6-18", "4-04-05"}, "max_level": 2},
	}, http.StatusCreated, &is)
	if is.ID != issuerID || is.Name != "北京市职业技能鉴定指导中心" {
		a.t.Fatalf("created issuer %+v, want id %s", is, issuerID)
	}
	a.call(http.MethodPost, "/api/v1/users", admin, map[string]any{
		"username": issuerUser, "password": issuerPassword, "role": "issuer", "issuer_id": issuerID,
	}, http.StatusCreated, nil)
	return a.login(issuerUser, issuerPassword)
}

// issued is the answer to POST /api/v1/certificates.
type issued struct {
	Number         string `json:"number"`
	Status         string `json:"status"`
	IssuerID       string `json:"issuer_id"`
	HolderName     string `json:"holder_name"`
	HolderIDMasked string `json:"holder_id_masked"`
	OccupationCode string `json:"occupation_code"`
	Level          int    `json:"level"`
	Channel        string `json:"channel"`
	ExternalRef    string `json:"external_ref"`
	Token          string `json:"token"`
	VerifyURL      string `json:"verify_url"`
	QRURL          string `json:"qr_url"`
}

// issue issues a level-2 车工 certificate to 张小三 under externalRef.
func issue(a *api, bearer, externalRef string, want int) issued {
	a.t.Helper()
	var c issued
	a.call(http.MethodPost, "/api/v1/certificates", bearer, map[string]any{
		"holder_name": "张小三", "id_number": holderIDNumber, "occupation_code": "6-18-01-01",
		"level": 2, "channel": "social", "external_ref": externalRef,
	}, want, &c)
	return c
}

// verifyResult is the answer of /v/<token> (as JSON) and /api/v1/verify.
type verifyResult struct {
	Status      string `json:"status"`
	Reason      string `json:"reason"`
	Certificate *struct {
		Number     string `json:"number"`
		HolderName string `json:"holder_name"`
		IssuerID   string `json:"issuer_id"`
		IssuerName string `json:"issuer_name"`
		Status     string `json:"status"`
	} `json:"certificate"`
}

// verifyToken asks POST /api/v1/verify about token.
func verifyToken(a *api, token string) verifyResult {
	a.t.Helper()
	var v verifyResult
	a.call(http.MethodPost, "/api/v1/verify", "", map[string]string{"token": token}, http.StatusOK, &v)
	return v
}

// tokenKID returns the kid in a JWT's header.
func tokenKID(t *testing.T, token string) string {
	t.Helper()
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		t.Fatalf("%q is not a JWT", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("JWT header %s: %v", b, err)
	}
	if h.Alg != "EdDSA" || h.Kid == "" {
		t.Fatalf("JWT header %s: want alg EdDSA and a kid", b)
	}
	return h.Kid
}

// jwksKIDs returns the kids the server publishes.
func jwksKIDs(a *api) []string {
	a.t.Helper()
	r := a.do(http.MethodGet, "/.well-known/jwks.json", "", nil, "")
	if r.status != http.StatusOK {
		a.t.Fatalf("GET jwks.json: status %d", r.status)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Kty string `json:"kty"`
			Crv string `json:"crv"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil {
		a.t.Fatalf("jwks.json %s: %v", r.body, err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.D != "" {
			a.t.Errorf("JWKS key %s: kty %q crv %q, private part present: %v", k.Kid, k.Kty, k.Crv, k.D != "")
		}
		kids = append(kids, k.Kid)
	}
	return kids
}
