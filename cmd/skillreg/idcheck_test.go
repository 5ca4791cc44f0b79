package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chinaDay is today's date in China time, the day the ID-check limit
// counts in.
func chinaDay() string { return time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly) }

// idGuesses returns n ID numbers a guesser reading 110105********002X on
// the certificate of holderIDNumber would try: other birth dates whose
// check character is also X.
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

// TestIDCheckLockAcrossServers: two `skillreg serve` processes on one
// data directory share the limit on wrong ID numbers. Five wrong guesses,
// alternating between the servers, answer false; then the right ID number
// answers 429 id_check_locked, without a verdict, on both.
func TestIDCheckLockAcrossServers(t *testing.T) {
	t.Parallel()
	day := chinaDay()
	data := filepath.Join(t.TempDir(), "data")
	sa := startServer(t, data, "SKILLREG_ADMIN_PASSWORD="+adminPassword)
	a := newAPI(t, sa.base)
	c := issue(a, setupIssuer(a), "idcheck-1", http.StatusCreated)
	sb := startServer(t, data, "SKILLREG_ADMIN_PASSWORD="+adminPassword)
	b := newAPI(t, sb.base)

	guesses := idGuesses(5)
	for i, id := range guesses[1:] {
		srv := []*api{a, b}[i%2]
		r := srv.do(http.MethodPost, "/api/v1/verify", "", map[string]string{"number": c.Number, "name": "张小三", "id_number": id}, "")
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"id_matches":false`) {
			t.Fatalf("wrong guess %d on server %d: %d %s", i+1, i%2+1, r.status, r.body)
		}
	}
	r := b.do(http.MethodPost, "/api/v1/verify", "", map[string]string{"number": c.Number, "name": "张小三", "id_number": guesses[0]}, "")
	if r.status != http.StatusOK {
		t.Fatalf("fifth wrong guess: %d %s", r.status, r.body)
	}
	for i, srv := range []*api{a, b} {
		r := srv.do(http.MethodPost, "/api/v1/verify", "", map[string]string{"number": c.Number, "name": "张小三", "id_number": holderIDNumber}, "")
		if r.status != http.StatusTooManyRequests || !strings.Contains(string(r.body), `"id_check_locked"`) || strings.Contains(string(r.body), "id_matches") || r.header.Get("Retry-After") == "" {
			if chinaDay() != day {
				t.Skip("the day in China time changed during the test, and with it the count")
			}
			t.Fatalf("the right ID number on server %d after 5 wrong ones: %d %s", i+1, r.status, r.body)
		}
	}
}
