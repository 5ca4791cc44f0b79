package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// TestMultiProcessMongo runs two `skillreg serve` processes on one MongoDB
// database, as two machines behind a load balancer would, each with its own
// (empty) data directory and the same SKILLREG_MASTER_KEY. It checks that
// they act as one service: users and issuers made through one log in and
// issue through the other; concurrent issuance through both gives distinct,
// gap-free numbers, and one external_ref sent to both at once gives one
// certificate; a revocation through one shows through the other within
// 5 s; both publish the same JWKS and verify each other's tokens; the
// audit chain both appended to at once verifies (`skillreg audit verify`).
func TestMultiProcessMongo(t *testing.T) {
	t.Parallel()
	uri := freshMongoURI(t)
	env := []string{
		"SKILLREG_MONGO_URI=" + uri,
		"SKILLREG_MASTER_KEY=" + randomHex(t, 32),
		"SKILLREG_ADMIN_PASSWORD=" + adminPassword,
	}
	// One after the other, so that the second finds the first's signing
	// key instead of racing it to make one.
	p1 := startServer(t, t.TempDir(), env...)
	p2 := startServer(t, t.TempDir(), env...)
	a1, a2 := newAPI(t, p1.base), newAPI(t, p2.base)

	bearer1 := setupIssuer(a1)
	bearer2 := a2.login(issuerUser, issuerPassword) // the user made through p1

	// Issue through both at once: per process, 6 with a ref of their own,
	// 6 without, and one ref that both processes are sent.
	type result struct {
		status int
		cert   issued
		err    error
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []result
		start   = make(chan struct{})
	)
	for p, srv := range []struct {
		base, bearer string
	}{{p1.base, bearer1}, {p2.base, bearer2}} {
		for i := range 13 {
			ref := ""
			switch {
			case i == 12:
				ref = "both-processes"
			case i%2 == 0:
				ref = fmt.Sprintf("p%d-%d", p+1, i)
			}
			wg.Go(func() {
				<-start
				status, cert, err := postIssue(srv.base, srv.bearer, ref)
				mu.Lock()
				results = append(results, result{status, cert, err})
				mu.Unlock()
			})
		}
	}
	close(start)
	wg.Wait()

	var numbers []string
	var shared []result
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("issuing: %v", r.err)
		}
		if r.cert.ExternalRef == "both-processes" {
			shared = append(shared, r)
			continue
		}
		if r.status != http.StatusCreated {
			t.Fatalf("issuing %q: status %d, want 201", r.cert.ExternalRef, r.status)
		}
		numbers = append(numbers, r.cert.Number)
	}
	if len(shared) != 2 || shared[0].cert.Number != shared[1].cert.Number ||
		shared[0].status+shared[1].status != http.StatusCreated+http.StatusOK {
		t.Errorf("one external_ref sent to both processes: got %+v; want one 201 and one 200 with the same number", shared)
	}
	numbers = append(numbers, shared[0].cert.Number)
	slices.Sort(numbers)
	prefix := numbers[0][:16]
	for i, n := range numbers {
		if want := registry.FormatNumber(prefix, i+1); n != want {
			t.Fatalf("numbers issued through two processes are not distinct and gap-free: [%d] = %s, want %s (all: %v)", i, n, want, numbers)
		}
	}

	// Both publish the same keys, and verify each other's tokens.
	j1 := a1.do(http.MethodGet, "/.well-known/jwks.json", "", nil, "")
	j2 := a2.do(http.MethodGet, "/.well-known/jwks.json", "", nil, "")
	if kids := jwksKIDs(a1); len(kids) != 1 || !bytes.Equal(j1.body, j2.body) {
		t.Errorf("JWKS differ or do not have one key:\n p1 %s\n p2 %s", j1.body, j2.body)
	}
	c := results[0].cert
	for _, a := range []*api{a1, a2} {
		if v := verifyToken(a, c.Token); v.Status != registry.VerifyValid {
			t.Errorf("verifying %s through %s: %s (%s), want valid", c.Number, a.base, v.Status, v.Reason)
		}
	}

	// Revoke through p1; p2 must say revoked (hangGuard is a hang guard
	// only: every verification reads the record).
	a1.call(http.MethodPost, "/api/v1/certificates/"+c.Number+"/revoke", bearer1, map[string]string{"reason": "录入错误"}, http.StatusOK, nil)
	revoked := time.Now()
	for {
		v := verifyToken(a2, c.Token)
		if v.Status == registry.VerifyRevoked {
			t.Logf("process 2 saw the revocation after %v", time.Since(revoked).Round(time.Millisecond))
			break
		}
		if time.Since(revoked) > hangGuard {
			t.Fatalf("process 2 still says %q %v after process 1 revoked %s", v.Status, hangGuard, c.Number)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The audit log: both processes appended to one chain at once;
	// it verifies from the command line, checkpoints and coverage too.
	for _, p := range []*server{p1, p2} {
		if code, _ := p.stop(30 * time.Second); code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	}
	r := runCLIEnv(t, env, "audit", "verify", "--data", t.TempDir(), "--grace", "0s")
	t.Logf("audit verify on MongoDB:\n%s", r.stdout)
	if r.code != 0 || !strings.Contains(r.stdout, "OK") {
		t.Fatalf("audit verify on MongoDB: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// postIssue issues a level-2 certificate; unlike api.call it reports
// failures as errors, because it runs outside the test goroutine.
func postIssue(base, bearer, ref string) (int, issued, error) {
	body, _ := json.Marshal(map[string]any{
		"holder_name": "张小三", "id_number": holderIDNumber, "occupation_code": "6-18-01-01",
		"level": 2, "channel": "social", "external_ref": ref,
	})
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/certificates", bytes.NewReader(body))
	if err != nil {
		return 0, issued{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := (&http.Client{Timeout: hangGuard}).Do(req)
	if err != nil {
		return 0, issued{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, issued{}, err
	}
	var c issued
	if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &c); err != nil {
			return 0, issued{}, fmt.Errorf("decoding %s: %w", b, err)
		}
		return resp.StatusCode, c, nil
	}
	return resp.StatusCode, c, fmt.Errorf("POST /api/v1/certificates (ref %q): status %d: %s", ref, resp.StatusCode, b)
}
