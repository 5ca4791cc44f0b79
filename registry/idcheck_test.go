package registry_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// TestIDCheckConcurrentGuesses: guesses sent all at once get no more
// verdicts than guesses sent one by one: each check is charged before it
// is compared, so at most MaxWrongIDChecks wrong answers (and the right
// one, if it is among the first) come back; every other check is
// EIDCHECKLOCKED.
func TestIDCheckConcurrentGuesses(t *testing.T) {
	day := time.Now().In(registry.ChinaTime).Format(time.DateOnly)
	f := newLookupFixture(t)
	c := f.issue(t, "张小三", "11010519491231002X")
	guesses := []string{"11010519491231002X"} // the right one among 39 wrong ones
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	for d := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC); len(guesses) < 40; d = d.AddDate(0, 0, 1) {
		body := "110105" + d.Format("20060102") + "002"
		sum := 0
		for i, w := range weights {
			sum += int(body[i]-'0') * w
		}
		if "10X98765432"[sum%11] == 'X' {
			guesses = append(guesses, body+"X")
		}
	}
	var mu sync.Mutex
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	for _, id := range guesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.reg.Lookup(context.Background(), c.Number, "张小三", id)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case registry.ErrorCode(err) == registry.EIDCHECKLOCKED:
				outcomes["locked"]++
			case err != nil:
				t.Errorf("lookup: %v", err)
			case res.IDMatches == nil:
				t.Errorf("a match without id_matches: %+v", res)
			case *res.IDMatches:
				outcomes["match"]++
			default:
				outcomes["mismatch"]++
			}
		}()
	}
	wg.Wait()
	if time.Now().In(registry.ChinaTime).Format(time.DateOnly) != day {
		t.Skip("the day in China time changed during the test, and with it the count")
	}
	if outcomes["mismatch"] > registry.MaxWrongIDChecks || outcomes["match"]+outcomes["mismatch"] > registry.MaxWrongIDChecks+1 ||
		outcomes["locked"]+outcomes["match"]+outcomes["mismatch"] != len(guesses) {
		t.Fatalf("40 concurrent guesses: %v; want at most %d wrong verdicts and the rest locked", outcomes, registry.MaxWrongIDChecks)
	}
	t.Logf("40 concurrent guesses: %v", outcomes)
}
