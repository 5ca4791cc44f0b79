package handlers_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// idGuesses returns n ID numbers a guesser would try against the holder
// of idNumber (11010519491231002X) after reading the masked form
// 110105********002X on a certificate: the same region, sequence and
// check character, other birth dates.
func idGuesses(n int) []string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	var out []string
	for d := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC); len(out) < n; d = d.AddDate(0, 0, 1) {
		body := "110105" + d.Format("20060102") + "002"
		sum := 0
		for i, w := range weights {
			sum += int(body[i]-'0') * w
		}
		if "10X98765432"[sum%11] == 'X' {
			out = append(out, body+"X")
		}
	}
	return out
}

// toNoonChinaTime advances the harness clock to the next noon in China
// time, so that the day the limit counts in cannot end during the test.
func toNoonChinaTime(h *harness) {
	now := h.clock.Now().In(registry.ChinaTime)
	noon := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, registry.ChinaTime)
	if noon.Before(now) {
		noon = noon.AddDate(0, 0, 1)
	}
	h.clock.Advance(noon.Sub(now))
}

// TestIDCheckLock: the id_matches check is no oracle for the full ID
// number. 20 wrong guesses (with the masked form's region, sequence and
// check character), then the right ID number: the first 5 wrong ones
// answer false, every later check of that holder answers 429
// id_check_locked with a Retry-After and no verdict, the right one
// included, through another of the holder's certificates and with an
// employer API key too. Every check is counted in the metrics and audited,
// never with the ID number; the certificate itself still verifies.
func TestIDCheckLock(t *testing.T) {
	h := newHarness(t)
	toNoonChinaTime(h)
	c := issueOne(h)
	other := h.expect(h.do("POST", "/api/v1/certificates", c.issuerToken, certBody(map[string]any{"issued_on": "2026-07-01", "level": 3})), 201).json(t)["number"].(string)
	key := h.apiKey("hr")

	ask := func(number, id, apiKey string) response {
		body := map[string]string{"number": number, "name": "张小三", "id_number": id}
		if apiKey != "" {
			return h.withKey(apiKey, "POST", "/api/v1/verify", body)
		}
		return h.do("POST", "/api/v1/verify", "", body)
	}
	for i, id := range idGuesses(20) {
		r := ask(c.number, id, "")
		if i < registry.MaxWrongIDChecks {
			if v := h.expect(r, 200).json(t); v["status"] != "valid" || v["id_matches"] != false {
				t.Fatalf("wrong guess %d: %s", i+1, r.body)
			}
			continue
		}
		checkLocked(t, r, fmt.Sprintf("wrong guess %d", i+1))
	}
	checkLocked(t, ask(c.number, idNumber, ""), "the right ID number after 20 wrong ones")
	checkLocked(t, ask(other, idNumber, ""), "the right ID number through the holder's other certificate")
	checkLocked(t, ask(c.number, idNumber, key), "the right ID number with an API key")

	// The certificate itself still verifies, by number and name.
	if v := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"number": c.number, "name": "张小三"}), 200).json(t); v["status"] != "valid" || v["id_matches"] != nil {
		t.Errorf("number and name after the lock: %v", v)
	}

	m := string(h.expect(h.do("GET", "/metrics", "", nil), 200).body)
	for _, want := range []string{
		`skillreg_id_checks_total{outcome="mismatch"} 5`,
		`skillreg_id_checks_total{outcome="locked"} 18`,
		`skillreg_id_checks_total{outcome="match"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	entries, err := h.store.AuditEntries(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	var all strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&all, "%s %v\n", e.Actor, e.Attrs)
		if e.Event == "certificate.id_checked" {
			outcomes[e.Attrs["outcome"]]++
			if e.Attrs["request_id"] == "" {
				t.Errorf("id check entry without a request id: %v", e.Attrs)
			}
		}
	}
	if outcomes["mismatch"] != 5 || outcomes["locked"] != 18 || len(outcomes) != 2 {
		t.Errorf("audited id checks %v, want 5 mismatch and 18 locked", outcomes)
	}
	if !strings.Contains(all.String(), "api_key:") {
		t.Error("the API key's check is not audited under the key")
	}
	for _, id := range idGuesses(20) {
		if strings.Contains(all.String()+h.logs.String()+h.bodies.String(), id[:17]) {
			t.Fatalf("a guessed ID number reached the audit log, the logs or a response")
		}
	}
	checkNoIDNumber(t, "audit entries, logs and responses", all.String()+h.logs.String()+h.bodies.String())
}

// checkLocked checks a 429 id_check_locked without a verdict and with a
// Retry-After of at most a day.
func checkLocked(t *testing.T, r response, what string) {
	t.Helper()
	if r.status != 429 || strings.Contains(string(r.body), "id_matches") {
		t.Fatalf("%s: %d %s, want 429 id_check_locked without a verdict", what, r.status, r.body)
	}
	if code, _ := r.errorCode(t); code != registry.EIDCHECKLOCKED {
		t.Fatalf("%s: code %s", what, code)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 24*3600 {
		t.Fatalf("%s: Retry-After %q", what, r.header.Get("Retry-After"))
	}
}

// TestIDCheckRightAnswersAreFree: an employer who types the right ID
// number is never locked out by its own checks: only wrong answers count.
func TestIDCheckRightAnswersAreFree(t *testing.T) {
	h := newHarness(t)
	toNoonChinaTime(h)
	c := issueOne(h)
	for i := 0; i < 2*registry.MaxWrongIDChecks; i++ {
		v := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"number": c.number, "name": "张小三", "id_number": idNumber}), 200).json(t)
		if v["id_matches"] != true {
			t.Fatalf("check %d: %v", i+1, v)
		}
	}
	for i, id := range idGuesses(registry.MaxWrongIDChecks) {
		v := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"number": c.number, "name": "张小三", "id_number": id}), 200).json(t)
		if v["id_matches"] != false {
			t.Fatalf("wrong guess %d: %v", i+1, v)
		}
	}
	checkLocked(t, h.do("POST", "/api/v1/verify", "", map[string]string{"number": c.number, "name": "张小三", "id_number": idNumber}), "after the day's wrong answers")
}
